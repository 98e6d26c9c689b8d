"""SQLite (the default): one file, private to the service's user, WAL mode, a connection per thread."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .sql import _SqlStore


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
        log.warning(
            "%s is readable by other users (mode %o); it holds the service's secrets: chmod %o %s",
            target,
            mode,
            private,
            target,
        )


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
