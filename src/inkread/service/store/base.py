"""The store's records (clients, tasks) and its interface (:class:`Store`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
        return {
            "id": self.id,
            "name": self.name,
            "revoked": self.revoked,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


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
    def create_task(
        self, *, client_id: str, kind: str, options: dict[str, Any], data: bytes, input_name: str | None = None
    ) -> TaskRecord: ...

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
    def finish_task(
        self,
        task_id: str,
        worker: str,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        result_ttl: float,
    ) -> bool:
        """Record the outcome; False when the task is no longer ours (cancelled, or reclaimed)."""

    @abstractmethod
    def release_worker_tasks(self, worker: str) -> int:
        """Put ``worker``'s running tasks back in the queue (a clean shutdown)."""

    @abstractmethod
    def count_tasks(self, status: str = QUEUED, client_id: str | None = None) -> int: ...

    @abstractmethod
    def purge_expired(self, now: float | None = None) -> int:
        """Delete finished tasks whose ``expires_at`` has passed; return how many."""
