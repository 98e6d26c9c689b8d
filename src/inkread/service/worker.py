"""The recognition threads: one shared :class:`~inkread.OcrEngine`, work kept off the event loop.

A :class:`WorkerPool` runs ``workers`` threads. Each thread takes, in this order:

1. a synchronous job (``POST /v1/recognize``) from a bounded in-memory queue; a full queue makes
   :meth:`WorkerPool.submit` raise :class:`QueueFull` (the API answers 503 with Retry-After);
2. a stored task, claimed atomically from the store (any replica may claim any task).

A housekeeping thread renews the leases of the tasks this pool is running (so other replicas do
not take them over), and deletes expired results. A task whose server died mid-way is claimed
again once its lease runs out; after ``max_attempts`` tries it is failed instead (a poison input
must not take every server down in turn).
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from ..exceptions import OcrCancelledError, OcrException, ServiceUnavailableError
from ..options import RecognitionOptions
from ..result import OcrResult
from .settings import with_model_file
from .store import ClaimedTask, Store

__all__ = ["WorkerPool", "QueueFull", "recognize_bytes", "error_body", "options_from_dict"]

log = logging.getLogger("inkread.service")
REVOKED = "the client that queued this task has been revoked"


class QueueFull(Exception):
    """No room for more work now; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def options_from_dict(data: dict[str, Any]) -> RecognitionOptions:
    """Rebuild options stored with :meth:`RecognitionOptions.to_dict` (fields this version does not
    know, from a task queued by another version, are left out)."""
    known = {f.name for f in fields(RecognitionOptions)}
    return RecognitionOptions(**{k: v for k, v in data.items() if k in known})


def recognize_bytes(
    engine: Any,
    data: bytes,
    options: RecognitionOptions,
    *,
    rotate: int = 0,
    name: str | None = None,
    models: Mapping[str, str] | None = None,
) -> OcrResult:
    """Recognise an uploaded file with the shared engine. ``rotate``: degrees clockwise, applied
    to images first (PDF pages are not rotated). ``models``: the handwriting models the options may
    name (``ServiceSettings.models``), read with from their files."""
    options = with_model_file(options, models or {})
    source: Any = data
    if rotate % 360:
        from ..io import detect_format

        if detect_format(data[:4096]) not in (None, "pdf"):
            source = _rotated(data, rotate % 360, options.max_pixels)
    result = engine.recognize(source, **options.as_kwargs())
    result.source = name or ""
    return result


def _rotated(data: bytes, degrees: int, max_pixels: int) -> Any:
    from ..io import load_pages

    page = load_pages(data, pages=[0], max_pixels=max_pixels)[0]  # decoding checks and EXIF handled there
    from PIL import Image

    image = Image.fromarray(page.image)
    return image.rotate(-degrees, expand=True, fillcolor=(255, 255, 255))


def error_body(error: BaseException) -> dict[str, Any]:
    """The JSON stored for a failed task (and sent in problem responses)."""
    if isinstance(error, OcrException):
        body: dict[str, Any] = {
            "error": type(error).__name__,
            "status": int(error.http_status),
            "message": error.message,
        }
        if error.hint:
            body["hint"] = error.hint
        return body
    return {
        "error": "InternalError",
        "status": 500,
        "message": f"internal error while recognising ({type(error).__name__}); see the server log",
    }


class WorkerPool:
    def __init__(
        self,
        store: Store,
        engine: Any,
        *,
        workers: int = 1,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.5,
        result_ttl: float = 24 * 3600,
        max_sync_pending: int | None = None,
        max_attempts: int = 3,
        purge_interval: float = 60.0,
        task_seconds: float | None = None,
        models: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.engine = engine
        self.models = dict(models or {})  # the handwriting models tasks may name: name -> file
        self.workers = max(0, int(workers))  # 0: queue only, recognise nothing here
        self.lease_seconds = float(lease_seconds)
        self.poll_interval = float(poll_interval)
        self.result_ttl = float(result_ttl)
        self.max_sync_pending = max_sync_pending if max_sync_pending is not None else 4 * self.workers
        self.max_attempts = int(max_attempts)
        self.purge_interval = float(purge_interval)
        self.task_seconds = task_seconds  # a task's time budget (None: no limit); it stops between pages
        self._running: dict[str, Any] = {}  # task id -> its CancelToken, while this pool reads it
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._cond = threading.Condition()
        self._signal = False
        self._sync: collections.deque[tuple[concurrent.futures.Future[Any], Callable[[], Any]]] = collections.deque()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._busy = 0
        self._durations: collections.deque[float] = collections.deque(maxlen=50)
        self.tasks_done = 0

    # ---- public
    def start(self) -> None:
        for i in range(self.workers):
            t = threading.Thread(target=self._run, name=f"inkread-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._housekeeping, name="inkread-housekeeping", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
            pending = list(self._sync)
            self._sync.clear()
        for fut, _ in pending:
            if fut.set_running_or_notify_cancel():
                fut.set_exception(ServiceUnavailableError("the service is shutting down"))
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        try:  # tasks still running here go back to the queue for another server (or the next start)
            released = self.store.release_worker_tasks(self.worker_id)
            if released:
                log.info("inkread: %d running task(s) put back in the queue", released)
        except Exception:  # noqa: BLE001
            log.exception("inkread: could not release running tasks")

    def notify(self) -> None:
        """Wake a thread: a task was just queued."""
        with self._cond:
            self._signal = True
            self._cond.notify()

    def submit(self, fn: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        """Run ``fn`` on a worker thread before any stored task; raise :class:`QueueFull` when
        ``max_sync_pending`` jobs are already waiting."""
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._cond:
            if self._stopping.is_set():
                raise QueueFull("the service is shutting down", retry_after=5)
            if self.workers == 0:
                raise QueueFull("this server only queues tasks (--workers 0): use POST /v1/tasks", retry_after=60)
            if len(self._sync) >= self.max_sync_pending:
                raise QueueFull("too many recognitions are waiting", retry_after=self.retry_after(len(self._sync)))
            self._sync.append((fut, fn))
            self._signal = True
            self._cond.notify()
        return fut

    def retry_after(self, waiting: int) -> int:
        """Seconds until about ``waiting`` jobs ahead have run (at least 1, at most 300)."""
        avg = sum(self._durations) / len(self._durations) if self._durations else 2.0
        return int(min(300, max(1, math.ceil(avg * (waiting + 1) / max(1, self.workers)))))

    def cancel_running(self, task_id: str, reason: str = "the task was cancelled") -> bool:
        """Stop a task this pool is reading (it stops before its next page); False if not here."""
        token = self._running.get(task_id)
        if token is not None:
            token.cancel(reason)
        return token is not None

    def pages_done(self, task_id: str) -> int | None:
        """How many pages of a task this pool is reading it has read so far; None if not here."""
        token = self._running.get(task_id)
        return token.pages_done if token is not None else None

    def stats(self) -> dict[str, Any]:
        return {
            "worker_id": self.worker_id,
            "workers": self.workers,
            "busy": self._busy,
            "sync_waiting": len(self._sync),
            "tasks_done": self.tasks_done,
        }

    # ---- threads
    def _next_sync(self) -> tuple[concurrent.futures.Future[Any], Callable[[], Any]] | None:
        with self._cond:
            return self._sync.popleft() if self._sync else None

    def _wait(self) -> None:
        with self._cond:
            if not self._signal and not self._sync and not self._stopping.is_set():
                self._cond.wait(self.poll_interval)
            self._signal = False

    def _run(self) -> None:
        while not self._stopping.is_set():
            job = self._next_sync()
            if job is not None:
                self._run_sync(*job)
                continue
            try:
                task = self.store.claim_task(self.worker_id, self.lease_seconds)
            except Exception:  # noqa: BLE001 - the database is away: wait and try again
                log.exception("inkread: cannot claim tasks")
                self._stopping.wait(min(5.0, self.poll_interval * 4))
                continue
            if task is None:
                self._wait()
                continue
            self._run_task(task)

    def _timed(self, fn: Callable[[], Any]) -> Any:
        with self._cond:
            self._busy += 1
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            with self._cond:
                self._durations.append(time.perf_counter() - t0)
                self._busy -= 1

    def _run_sync(self, fut: concurrent.futures.Future[Any], fn: Callable[[], Any]) -> None:
        if not fut.set_running_or_notify_cancel():
            return  # the caller gave up (timeout, disconnect) before we started
        try:
            fut.set_result(self._timed(fn))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
            fut.set_exception(exc)

    def _run_task(self, task: ClaimedTask) -> None:
        if task.attempts > self.max_attempts:
            error = {
                "error": "InternalError",
                "status": 500,
                "message": f"gave up after {self.max_attempts} attempts: the server stopped each time "
                "while recognising this input",
            }
            self._finish(task, error=error)
            return
        client = self.store.get_client(task.client_id)
        if client is None or client.revoked:  # revoked after queueing: its work is not done
            self._finish(task, error={"error": "AuthenticationError", "status": 401, "message": REVOKED})
            return
        options = task.options
        from ..cancel import CancelToken, running

        token = CancelToken(
            deadline=time.monotonic() + self.task_seconds if self.task_seconds else None,
            budget=f"the task time limit ({self.task_seconds:g} s)" if self.task_seconds else "",
        )
        self._running[task.id] = token
        try:
            recognition = options_from_dict(options.get("recognition", {}))

            def work() -> OcrResult:
                with running(token):
                    return recognize_bytes(
                        self.engine,
                        task.data,
                        recognition,
                        rotate=int(options.get("rotate") or 0),
                        name=options.get("input_name"),
                        models=self.models,
                    )

            result = self._timed(work)
        except OcrCancelledError:
            log.info("inkread: task %s stopped: %s", task.id, token.reason)
            if token.reason == REVOKED:
                self._finish(task, error={"error": "AuthenticationError", "status": 401, "message": REVOKED})
            return  # else its status is 'cancelled' already; the worker moves on
        except OcrException as exc:
            self._finish(task, error=error_body(exc))
        except Exception as exc:  # noqa: BLE001 - a bug: fail this task, keep the thread
            log.exception("inkread: task %s failed", task.id)
            self._finish(task, error=error_body(exc))
        else:
            self._finish(task, result=result.to_dict())
        finally:
            self._running.pop(task.id, None)

    def _finish(
        self, task: ClaimedTask, *, result: dict[str, Any] | None = None, error: dict[str, Any] | None = None
    ) -> None:
        for attempt in range(5):
            try:
                ours = self.store.finish_task(
                    task.id, self.worker_id, result=result, error=error, result_ttl=self.result_ttl
                )
                break
            except Exception:  # noqa: BLE001
                log.exception("inkread: cannot store the outcome of task %s", task.id)
                if self._stopping.wait(0.5 * 2**attempt):
                    return
        else:
            return
        if ours:
            self.tasks_done += 1
        else:
            log.info("inkread: task %s was cancelled or taken over; its outcome is dropped", task.id)

    def _housekeeping(self) -> None:
        renew_every = max(0.05, self.lease_seconds / 3)
        next_purge = 0.0
        while not self._stopping.wait(renew_every if next_purge else 0):
            try:
                for task_id in list(self._running):
                    record = self.store.get_task(task_id)
                    if record is not None and record.status == "cancelled":
                        self.cancel_running(task_id)
                    elif record is not None:  # a client revoked while its task runs: stop it too
                        client = self.store.get_client(record.client_id)
                        if client is None or client.revoked:
                            self.cancel_running(task_id, REVOKED)
                self.store.renew_leases(self.worker_id, self.lease_seconds)
                now = time.monotonic()
                if now >= next_purge:
                    purged = self.store.purge_expired()
                    if purged:
                        log.info("inkread: deleted %d expired task(s)", purged)
                    next_purge = now + self.purge_interval
            except Exception:  # noqa: BLE001
                log.exception("inkread: housekeeping failed")
