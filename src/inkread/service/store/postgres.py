"""PostgreSQL (psycopg 3): several replicas sharing one database; tasks claimed with ``SKIP LOCKED``."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .sql import _SqlStore


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
            from ...exceptions import MissingDependencyError

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
