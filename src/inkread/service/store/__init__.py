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

import os

from .base import (  # noqa: F401
    CANCELLED,
    DB_ENV,
    DONE,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    SCHEMA_VERSION,
    TASK_STATUSES,
    ClaimedTask,
    ClientRecord,
    Store,
    TaskRecord,
)
from .postgres import PostgresStore  # noqa: F401
from .sqlite import SQLiteStore  # noqa: F401

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


def default_db() -> str:
    """``$INKREAD_DB``, else ``$XDG_DATA_HOME/inkread/service.db`` (``~/.local/share/...``)."""
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "inkread", "service.db")


def open_store(db: str | os.PathLike[str] | None = None) -> Store:
    """Open (and create the schema of) the store at ``db``: a PostgreSQL URL or an SQLite path."""
    target = os.fspath(db) if db is not None else default_db()
    if target.startswith(("postgresql://", "postgres://")):
        store: Store = PostgresStore(target)
    else:
        if target.startswith("sqlite:///"):
            target = target[len("sqlite:///") :]
        store = SQLiteStore(target)
    store.init_schema()
    return store
