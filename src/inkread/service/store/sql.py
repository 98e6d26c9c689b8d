"""The store in SQL, once for both databases (:class:`_SqlStore`); each dialect fills in its connection
handling and the few statements that differ."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .base import CANCELLED, DONE, FAILED, QUEUED, RUNNING, SCHEMA_VERSION, ClaimedTask, ClientRecord, Store, TaskRecord

_TASK_COLUMNS = (
    "id, client_id, kind, status, options, input_name, input_size, result, error, attempts, "
    "worker, created_at, updated_at, started_at, finished_at, expires_at"
)
_CLIENT_COLUMNS = "id, name, secret_hash, revoked, created_at, revoked_at"


def _loads(text: Any) -> Any:
    return None if text is None else json.loads(text)


def _task(row: Sequence[Any]) -> TaskRecord:
    return TaskRecord(
        id=row[0],
        client_id=row[1],
        kind=row[2],
        status=row[3],
        options=_loads(row[4]) or {},
        input_name=row[5],
        input_size=int(row[6] or 0),
        result=_loads(row[7]),
        error=_loads(row[8]),
        attempts=int(row[9] or 0),
        worker=row[10],
        created_at=float(row[11]),
        updated_at=float(row[12]),
        started_at=row[13],
        finished_at=row[14],
        expires_at=row[15],
    )


def _client(row: Sequence[Any]) -> ClientRecord:
    return ClientRecord(
        id=row[0], name=row[1], secret_hash=row[2], revoked=bool(row[3]), created_at=float(row[4]), revoked_at=row[5]
    )


class _SqlStore(Store):
    """Everything in portable SQL; subclasses provide connections, placeholders and types."""

    blob_type = "BLOB"
    skip_locked = ""  # appended to the claim's inner SELECT

    # -- to implement
    @contextmanager
    def _connection(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    @contextmanager
    def _transaction(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def _sql(self, sql: str) -> str:
        return sql

    # -- helpers
    def _exec(self, sql: str, params: Sequence[Any] = (), *, conn: Any = None) -> Any:
        if conn is not None:
            return conn.execute(self._sql(sql), tuple(params))
        with self._connection() as c:
            return c.execute(self._sql(sql), tuple(params))

    def _one(self, sql: str, params: Sequence[Any] = (), *, conn: Any = None) -> Any:
        if conn is not None:
            return conn.execute(self._sql(sql), tuple(params)).fetchone()
        with self._connection() as c:
            return c.execute(self._sql(sql), tuple(params)).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._connection() as c:
            return list(c.execute(self._sql(sql), tuple(params)).fetchall())

    def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._connection() as c:
            return int(c.execute(self._sql(sql), tuple(params)).rowcount or 0)

    # -- schema
    def _schema(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """CREATE TABLE IF NOT EXISTS clients (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                secret_hash TEXT NOT NULL,
                revoked INTEGER NOT NULL DEFAULT 0,
                created_at DOUBLE PRECISION NOT NULL,
                revoked_at DOUBLE PRECISION)""",
            f"""CREATE TABLE IF NOT EXISTS tasks (
                id TEXT PRIMARY KEY,
                client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                options TEXT NOT NULL,
                input {self.blob_type},
                input_name TEXT,
                input_size INTEGER NOT NULL DEFAULT 0,
                result TEXT,
                error TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                worker TEXT,
                lease_until DOUBLE PRECISION,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                started_at DOUBLE PRECISION,
                finished_at DOUBLE PRECISION,
                expires_at DOUBLE PRECISION)""",
            "CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, created_at)",
            "CREATE INDEX IF NOT EXISTS tasks_by_client ON tasks (client_id, status)",
            "CREATE INDEX IF NOT EXISTS tasks_by_expiry ON tasks (expires_at)",
        ]

    def init_schema(self) -> None:
        with self._transaction() as conn:
            for statement in self._schema():
                self._exec(statement, conn=conn)
            self._exec(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                ("schema_version", SCHEMA_VERSION),
                conn=conn,
            )

    # -- settings
    def get_or_create_setting(self, key: str, factory: Callable[[], str]) -> str:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        if row is not None:
            return str(row[0])
        self._exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, factory()))
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self._exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- clients
    def add_client(self, name: str, secret_hash: str) -> ClientRecord:
        record = ClientRecord(
            id=str(uuid.uuid4()), name=name, secret_hash=secret_hash, revoked=False, created_at=time.time()
        )
        self._exec(
            "INSERT INTO clients (id, name, secret_hash, revoked, created_at) VALUES (?, ?, ?, 0, ?)",
            (record.id, record.name, record.secret_hash, record.created_at),
        )
        return record

    def get_client(self, client_id: str) -> ClientRecord | None:
        row = self._one(f"SELECT {_CLIENT_COLUMNS} FROM clients WHERE id = ?", (client_id,))
        return _client(row) if row else None

    def list_clients(self) -> list[ClientRecord]:
        return [_client(r) for r in self._all(f"SELECT {_CLIENT_COLUMNS} FROM clients ORDER BY created_at, id")]

    def revoke_client(self, client_id: str) -> bool:
        now = time.time()
        self._exec("UPDATE clients SET revoked = 1, revoked_at = ? WHERE id = ? AND revoked = 0", (now, client_id))
        return self.get_client(client_id) is not None

    # -- tasks
    def create_task(
        self, *, client_id: str, kind: str, options: dict[str, Any], data: bytes, input_name: str | None = None
    ) -> TaskRecord:
        now = time.time()
        task_id = str(uuid.uuid4())
        self._exec(
            "INSERT INTO tasks (id, client_id, kind, status, options, input, input_name, input_size, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (task_id, client_id, kind, QUEUED, json.dumps(options), bytes(data), input_name, len(data), now, now),
        )
        task = self.get_task(task_id)
        assert task is not None
        return task

    def get_task(self, task_id: str, client_id: str | None = None) -> TaskRecord | None:
        sql = f"SELECT {_TASK_COLUMNS} FROM tasks WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)"
        params: list[Any] = [task_id, time.time()]
        if client_id is not None:
            sql += " AND client_id = ?"
            params.append(client_id)
        row = self._one(sql, params)
        return _task(row) if row else None

    def cancel_task(self, task_id: str, client_id: str, *, result_ttl: float) -> TaskRecord | None:
        now = time.time()
        self._exec(
            "UPDATE tasks SET status = ?, input = NULL, worker = NULL, lease_until = NULL, "
            "error = ?, updated_at = ?, finished_at = ?, expires_at = ? "
            "WHERE id = ? AND client_id = ? AND status IN (?, ?)",
            (
                CANCELLED,
                json.dumps({"error": "Cancelled", "status": 409, "message": "the task was cancelled"}),
                now,
                now,
                now + result_ttl,
                task_id,
                client_id,
                QUEUED,
                RUNNING,
            ),
        )
        return self.get_task(task_id, client_id)

    def claim_task(self, worker: str, lease_seconds: float) -> ClaimedTask | None:
        now = time.time()
        row = self._one(
            "UPDATE tasks SET status = ?, worker = ?, lease_until = ?, attempts = attempts + 1, "
            "started_at = ?, updated_at = ? "
            "WHERE id = (SELECT id FROM tasks WHERE status = ? OR (status = ? AND lease_until < ?) "
            f"ORDER BY created_at, id LIMIT 1{self.skip_locked}) "
            "RETURNING id, client_id, kind, options, input, attempts",
            (RUNNING, worker, now + lease_seconds, now, now, QUEUED, RUNNING, now),
        )
        if row is None:
            return None
        return ClaimedTask(
            id=row[0],
            client_id=row[1],
            kind=row[2],
            options=_loads(row[3]) or {},
            data=bytes(row[4] or b""),
            attempts=int(row[5]),
        )

    def renew_leases(self, worker: str, lease_seconds: float) -> int:
        now = time.time()
        return self._count(
            "UPDATE tasks SET lease_until = ? WHERE worker = ? AND status = ?", (now + lease_seconds, worker, RUNNING)
        )

    def finish_task(
        self,
        task_id: str,
        worker: str,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        result_ttl: float,
    ) -> bool:
        now = time.time()
        status = FAILED if error is not None else DONE
        return (
            self._count(
                "UPDATE tasks SET status = ?, result = ?, error = ?, input = NULL, lease_until = NULL, "
                "updated_at = ?, finished_at = ?, expires_at = ? WHERE id = ? AND worker = ? AND status = ?",
                (
                    status,
                    None if result is None else json.dumps(result),
                    None if error is None else json.dumps(error),
                    now,
                    now,
                    now + result_ttl,
                    task_id,
                    worker,
                    RUNNING,
                ),
            )
            == 1
        )

    def release_worker_tasks(self, worker: str) -> int:
        return self._count(
            "UPDATE tasks SET status = ?, worker = NULL, lease_until = NULL, attempts = attempts - 1, "
            "updated_at = ? WHERE worker = ? AND status = ?",
            (QUEUED, time.time(), worker, RUNNING),
        )

    def count_tasks(self, status: str = QUEUED, client_id: str | None = None) -> int:
        if client_id is None:
            row = self._one("SELECT COUNT(*) FROM tasks WHERE status = ?", (status,))
        else:
            row = self._one("SELECT COUNT(*) FROM tasks WHERE status = ? AND client_id = ?", (status, client_id))
        return int(row[0])

    def purge_expired(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        return self._count("DELETE FROM tasks WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,))
