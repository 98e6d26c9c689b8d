"""What the routes share: the service's state, the calling client (bearer token or HTTP Basic), the
queue check, and a task as JSON. Used by the native routes (:mod:`.app`) and the Aspose ones
(:mod:`.aspose`) alike."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from .auth import TokenError, TokenIssuer
from .problems import ApiError, unauthorized
from .settings import ServiceSettings
from .store import ClientRecord, Store, TaskRecord
from .store.base import DONE, QUEUED
from .worker import WorkerPool

__all__ = ["ServiceState", "state", "current_client", "basic_credentials", "queue_check", "task_json", "iso"]


@dataclass
class ServiceState:
    settings: ServiceSettings
    store: Store
    issuer: TokenIssuer
    pool: WorkerPool
    engine: Any
    extra: dict[str, Any] = field(default_factory=dict)
    failures: Any = None  # limits.FailureLimiter: failed token attempts
    checks: Any = None  # limits.CheckGate: secret checks at once


def state(request: Request) -> ServiceState:
    return request.app.state.service


#: the bearer scheme in the OpenAPI document (``/docs`` gets its Authorize button); the header is
#: checked below, with the service's own 401 answers
BEARER = HTTPBearer(
    scheme_name="bearerAuth",
    description="an access token from POST /connect/token (client credentials)",
    auto_error=False,
)


def current_client(request: Request, _token: Any = Depends(BEARER)) -> ClientRecord:
    """The client whose bearer token came with the request; 401 otherwise."""
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized("no access token: the Authorization header is missing")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise unauthorized("malformed Authorization header: expected 'Bearer <token>'")
    try:
        return state(request).issuer.verify(token.strip())
    except TokenError as exc:
        raise unauthorized(str(exc)) from None


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(client id, secret) from ``Authorization: Basic ...`` (RFC 6749 section 2.3.1), else None."""
    from urllib.parse import unquote_plus

    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")  # malformed: authenticates nobody (401)
    user, sep, password = decoded.partition(":")
    return (unquote_plus(user), unquote_plus(password)) if sep else ("", "")


def queue_check(st: ServiceState, client_id: str) -> None:
    queued = st.store.count_tasks("queued")
    if queued >= st.settings.max_queue:
        retry = st.pool.retry_after(queued)
        raise ApiError(
            503,
            "ServiceUnavailableError",
            "the task queue is full",
            hint="try again later",
            headers={"Retry-After": str(retry)},
        )
    mine = st.store.count_tasks("queued", client_id)
    if mine >= st.settings.max_queue_per_client:
        retry = st.pool.retry_after(min(queued, mine))
        raise ApiError(
            429,
            "TooManyRequests",
            f"you have {mine} tasks queued, the most one client may have",
            hint="wait for some to finish",
            headers={"Retry-After": str(retry)},
        )


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def task_progress(task: TaskRecord, pages_done: int | None = None) -> dict[str, Any]:
    """``{"pages_done", "pages_total"}``: the pages to read (counted when the task was queued; None
    for a file that could not be counted) and those read: all of them once it is done, the count
    so far while this replica reads it (``pages_done``), else None while it runs elsewhere."""
    total = task.options.get("pages_total")
    if task.status == DONE and task.result is not None:
        done: int | None = len(task.result.get("pages", []))
        total = total if total is not None else done
    elif task.status == QUEUED:
        done = 0
    else:
        done = pages_done
    return {"pages_done": done, "pages_total": total}


def pages_to_read(data: bytes, options: Any) -> int | None:
    """The pages a task will read (its selection of the document's), or None if it cannot be
    opened (the task then fails with the reason)."""
    from ..io import count_pages

    try:
        count = count_pages(data)
    except Exception:  # noqa: BLE001 - reported when it is read
        return None
    return len([p for p in options.pages if p < count]) if options.pages is not None else count


def task_json(task: TaskRecord, pages_done: int | None = None) -> dict[str, Any]:
    return {
        "id": task.id,
        "status": task.status,
        "kind": task.kind,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "started_at": iso(task.started_at),
        "finished_at": iso(task.finished_at),
        "expires_at": iso(task.expires_at),
        "attempts": task.attempts,
        "progress": task_progress(task, pages_done),
        "input": {"name": task.input_name, "size": task.input_size},
        "options": task.options.get("recognition", {}),
        "result": task.result,
        "error": task.error,
    }
