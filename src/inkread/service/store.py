"""Persistence for the OCR service: API clients, recognition tasks and server-wide settings.

Two implementations share one interface (:class:`Store`) and, as far as possible, the same SQL:

* :class:`SQLiteStore` (the default): one file, WAL mode, one connection per thread. Fine for one
  server process (and for several processes on one machine).
* :class:`PostgresStore` (psycopg 3): for several replicas sharing one database. Tasks are claimed
  with ``SELECT ... FOR UPDATE SKIP LOCKED`` so each queued task runs on exactly one replica.

:func:`open_store` picks one from a URL or path: ``postgresql://...`` / ``postgres://...`` gives
PostgreSQL, ``sqlite:///path`` or a plain path gives SQLite. The default is ``$INKREAD_DB`` or
``$XDG_DATA_HOME/inkread/service.db``.

Schema (identical on both, types aside)::

    meta     key, value                                   server secret, schema version
    clients  id, name, secret_hash, revoked, created_at, revoked_at
    tasks    id, client_id, kind, status, options (JSON), input (blob), input_name, input_size,
             result (JSON), error (JSON), attempts, worker, lease_until,
             created_at, updated_at, started_at, finished_at, expires_at

Task life cycle: ``queued -> running -> done | failed``; ``queued | running -> cancelled``.
A running task holds a *lease* (``worker``, ``lease_until``) that its server renews while it works;
a task whose lease ran out (the server died) is claimed again by any server, so accepted work
survives crashes and restarts. Finished tasks lose their input at once and are deleted when
``expires_at`` passes (24 h by default).

Times are seconds since the epoch (floats); JSON columns hold text.
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ClientRecord",
    "TaskRecord",
    "ClaimedTask",
    "Store",
    "SQLiteStore",
    "PostgresStore",
    "open_store",
    "default_db",
    "TASK_STATUSES",
    "FINISHED",
    "DB_ENV",
]

DB_ENV = "INKREAD_DB"
SCHEMA_VERSION = "1"

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
TASK_STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
FINISHED = (DONE, FAILED, CANCELLED)


@dataclass(frozen=True)
class ClientRecord:
    id: str
    name: str
    secret_hash: str
    revoked: bool
    created_at: float
    revoked_at: float | None = None

    def public(self) -> dict[str, Any]:
        """What ``inkread clients list --json`` shows (never the hash)."""
        return {"id": self.id, "name": self.name, "revoked": self.revoked,
                "created_at": self.created_at, "revoked_at": self.revoked_at}


@dataclass(frozen=True)
class TaskRecord:
    """A task as the API shows it (without its input bytes)."""

    id: str
    client_id: str
    kind: str
    status: str
    options: dict[str, Any]
    input_name: str | None
    input_size: int
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    attempts: int
    worker: str | None
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None
    expires_at: float | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass(frozen=True)
class ClaimedTask:
    """A task a worker has just claimed: what it needs to run it."""

    id: str
    client_id: str
    kind: str
    options: dict[str, Any]
    data: bytes
    attempts: int


def default_db() -> str:
    """``$INKREAD_DB``, else ``$XDG_DATA_HOME/inkread/service.db`` (``~/.local/share/...``)."""
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "inkread", "service.db")


def open_store(db: str | os.PathLike[str] | None = None) -> "Store":
    """Open (and create the schema of) the store at ``db``: a PostgreSQL URL or an SQLite path."""
    target = os.fspath(db) if db is not None else default_db()
    if target.startswith(("postgresql://", "postgres://")):
        store: Store = PostgresStore(target)
    else:
        if target.startswith("sqlite:///"):
            target = target[len("sqlite:///"):]
        store = SQLiteStore(target)
    store.init_schema()
    return store


_TASK_COLUMNS = ("id, client_id, kind, status, options, input_name, input_size, result, error, attempts, "
                 "worker, created_at, updated_at, started_at, finished_at, expires_at")
_CLIENT_COLUMNS = "id, name, secret_hash, revoked, created_at, revoked_at"


def _loads(text: Any) -> Any:
    return None if text is None else json.loads(text)


def _task(row: Sequence[Any]) -> TaskRecord:
    return TaskRecord(
        id=row[0], client_id=row[1], kind=row[2], status=row[3], options=_loads(row[4]) or {},
        input_name=row[5], input_size=int(row[6] or 0), result=_loads(row[7]), error=_loads(row[8]),
        attempts=int(row[9] or 0), worker=row[10], created_at=float(row[11]), updated_at=float(row[12]),
        started_at=row[13], finished_at=row[14], expires_at=row[15],
    )


def _client(row: Sequence[Any]) -> ClientRecord:
    return ClientRecord(id=row[0], name=row[1], secret_hash=row[2], revoked=bool(row[3]),
                        created_at=float(row[4]), revoked_at=row[5])


class Store(ABC):
    """The store interface; :class:`_SqlStore` implements it once in SQL for both databases."""

    #: ``"sqlite"`` or ``"postgresql"``
    dialect: str = ""

    @abstractmethod
    def init_schema(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    # ---- settings shared by every replica
    @abstractmethod
    def get_or_create_setting(self, key: str, factory: Callable[[], str]) -> str:
        """The value of ``key``; the first caller (of any replica) stores ``factory()``."""

    @abstractmethod
    def set_setting(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` for every replica, replacing what was there."""

    # ---- clients
    @abstractmethod
    def add_client(self, name: str, secret_hash: str) -> ClientRecord: ...

    @abstractmethod
    def get_client(self, client_id: str) -> ClientRecord | None: ...

    @abstractmethod
    def list_clients(self) -> list[ClientRecord]: ...

    @abstractmethod
    def revoke_client(self, client_id: str) -> bool:
        """Revoke; False when there is no such client. Revoking twice is fine."""

    # ---- tasks
    @abstractmethod
    def create_task(self, *, client_id: str, kind: str, options: dict[str, Any], data: bytes,
                    input_name: str | None = None) -> TaskRecord: ...

    @abstractmethod
    def get_task(self, task_id: str, client_id: str | None = None) -> TaskRecord | None:
        """The task, or None when it does not exist, has expired or belongs to another client."""

    @abstractmethod
    def cancel_task(self, task_id: str, client_id: str, *, result_ttl: float) -> TaskRecord | None:
        """Cancel a queued or running task of ``client_id``; return the task as it is now."""

    @abstractmethod
    def claim_task(self, worker: str, lease_seconds: float) -> ClaimedTask | None:
        """Atomically take the oldest queued task (or one whose lease ran out) for ``worker``."""

    @abstractmethod
    def renew_leases(self, worker: str, lease_seconds: float) -> int: ...

    @abstractmethod
    def finish_task(self, task_id: str, worker: str, *, result: dict[str, Any] | None = None,
                    error: dict[str, Any] | None = None, result_ttl: float) -> bool:
        """Record the outcome; False when the task is no longer ours (cancelled, or reclaimed)."""

    @abstractmethod
    def release_worker_tasks(self, worker: str) -> int:
        """Put ``worker``'s running tasks back in the queue (a clean shutdown)."""

    @abstractmethod
    def count_tasks(self, status: str = QUEUED, client_id: str | None = None) -> int: ...

    @abstractmethod
    def purge_expired(self, now: float | None = None) -> int:
        """Delete finished tasks whose ``expires_at`` has passed; return how many."""


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
            self._exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                       ("schema_version", SCHEMA_VERSION), conn=conn)

    # -- settings
    def get_or_create_setting(self, key: str, factory: Callable[[], str]) -> str:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        if row is not None:
            return str(row[0])
        self._exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, factory()))
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self._exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   (key, value))

    # -- clients
    def add_client(self, name: str, secret_hash: str) -> ClientRecord:
        record = ClientRecord(id=str(uuid.uuid4()), name=name, secret_hash=secret_hash, revoked=False,
                              created_at=time.time())
        self._exec("INSERT INTO clients (id, name, secret_hash, revoked, created_at) VALUES (?, ?, ?, 0, ?)",
                   (record.id, record.name, record.secret_hash, record.created_at))
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
    def create_task(self, *, client_id: str, kind: str, options: dict[str, Any], data: bytes,
                    input_name: str | None = None) -> TaskRecord:
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
            (CANCELLED, json.dumps({"error": "Cancelled", "status": 409, "message": "the task was cancelled"}),
             now, now, now + result_ttl, task_id, client_id, QUEUED, RUNNING),
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
        return ClaimedTask(id=row[0], client_id=row[1], kind=row[2], options=_loads(row[3]) or {},
                           data=bytes(row[4] or b""), attempts=int(row[5]))

    def renew_leases(self, worker: str, lease_seconds: float) -> int:
        now = time.time()
        return self._count("UPDATE tasks SET lease_until = ? WHERE worker = ? AND status = ?",
                           (now + lease_seconds, worker, RUNNING))

    def finish_task(self, task_id: str, worker: str, *, result: dict[str, Any] | None = None,
                    error: dict[str, Any] | None = None, result_ttl: float) -> bool:
        now = time.time()
        status = FAILED if error is not None else DONE
        return self._count(
            "UPDATE tasks SET status = ?, result = ?, error = ?, input = NULL, lease_until = NULL, "
            "updated_at = ?, finished_at = ?, expires_at = ? WHERE id = ? AND worker = ? AND status = ?",
            (status, None if result is None else json.dumps(result), None if error is None else json.dumps(error),
             now, now, now + result_ttl, task_id, worker, RUNNING),
        ) == 1

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


def _private_file(path: Path) -> None:
    """Create the database file (and a missing data folder) readable by the service user only: it
    holds the token signing key, client secret hashes, queued images and results. An existing
    file or folder that others can read is tightened where we own it, or logged as a warning."""
    import logging
    import stat

    log = logging.getLogger("inkread.service")
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    # SQLite's side files hold the same data; ones left by an older version may be looser
    sides = [side for side in (Path(f"{path}-wal"), Path(f"{path}-shm")) if side.exists()]
    for target, private in ((path, 0o600), (folder, 0o700), *((side, 0o600) for side in sides)):
        mode = stat.S_IMODE(os.stat(target).st_mode)
        if mode & 0o077 == 0:
            continue
        if target != folder or folder.name == "inkread":  # ours: tighten; a shared folder: only warn
            try:
                os.chmod(target, private)
                continue
            except OSError:
                pass
        log.warning("%s is readable by other users (mode %o); it holds the service's secrets: chmod %o %s",
                    target, mode, private, target)


class SQLiteStore(_SqlStore):
    """SQLite in WAL mode; one connection per thread (sqlite3 connections are not shareable)."""

    dialect = "sqlite"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.expanduser(os.fspath(path))
        if self.path == ":memory:" or not self.path:
            raise ValueError("the service needs a database file (each thread would get its own in-memory one)")
        _private_file(Path(self.path).resolve())
        self._local = threading.local()
        self._all_conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def _get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("store is closed")
            # SQLite gives the -wal and -shm files it creates the database file's mode (0600)
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._lock:
                self._all_conns.append(conn)
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        yield self._get()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._get()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _one(self, sql: str, params: Sequence[Any] = (), *, conn: Any = None) -> Any:
        # fetchall: an UPDATE ... RETURNING must run to completion before its row is used
        cur = (conn or self._get()).execute(sql, tuple(params))
        rows = cur.fetchall()
        return rows[0] if rows else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._all_conns = self._all_conns, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover - another thread is using it
                pass


class PostgresStore(_SqlStore):
    """PostgreSQL through psycopg 3: a small connection pool, the same SQL with ``%s`` placeholders,
    ``BYTEA`` for inputs and ``FOR UPDATE SKIP LOCKED`` when claiming tasks."""

    dialect = "postgresql"
    blob_type = "BYTEA"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, pool_size: int = 16) -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:  # pragma: no cover - psycopg is a dependency
            from ..exceptions import MissingDependencyError

            raise MissingDependencyError("PostgreSQL needs psycopg", hint="pip install 'psycopg[binary]'") from exc
        self.url = url
        self._pool: queue.LifoQueue[Any] = queue.LifoQueue()
        self._size = pool_size
        self._opened = 0
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return "PostgresStore(<url>)"

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _acquire(self) -> Any:
        import psycopg

        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            with self._lock:
                can_open = self._opened < self._size
                if can_open:
                    self._opened += 1
            if not can_open:
                conn = self._pool.get(timeout=60)
            else:
                try:
                    conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
                except Exception:
                    with self._lock:
                        self._opened -= 1
                    raise
        if conn.closed or conn.broken:
            with self._lock:
                self._opened -= 1
            return self._acquire()
        return conn

    def _release(self, conn: Any) -> None:
        if self._closed or conn.closed or conn.broken:
            with self._lock:
                self._opened -= 1
            if not conn.closed:
                conn.close()
            return
        self._pool.put(conn)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        conn = self._acquire()
        try:
            yield conn
        finally:
            self._release(conn)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._connection() as conn, conn.transaction():
            # schema creation from several replicas at once must not race
            conn.execute("SELECT pg_advisory_xact_lock(74650001)")
            yield conn

    def _exec(self, sql: str, params: Sequence[Any] = (), *, conn: Any = None) -> Any:
        if conn is not None:
            return conn.execute(self._sql(sql), tuple(params))
        with self._connection() as c:
            cur = c.execute(self._sql(sql), tuple(params))
            return cur

    def _one(self, sql: str, params: Sequence[Any] = (), *, conn: Any = None) -> Any:
        if conn is not None:
            return conn.execute(self._sql(sql), tuple(params)).fetchone()
        with self._connection() as c:
            return c.execute(self._sql(sql), tuple(params)).fetchone()

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                conn = self._pool.get_nowait()
            except queue.Empty:
                break
            conn.close()
