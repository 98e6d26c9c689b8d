"""One engine, several processes: ``inkread serve --workers N`` reads N inputs at once in N worker
processes (not N threads under the GIL), each with its own models (:class:`ProcessEngine`). The
caller's cancel token reaches the worker (its deadline travels with the call; cancelling sets a byte
in shared memory checked between pages)."""

from __future__ import annotations

import threading
import time
from typing import Any

from .options import RecognitionOptions
from .result import OcrResult
from .workers import _WORKER, _init_worker, threads_per_worker

__all__ = ["ProcessEngine"]


class _SharedFlagToken:
    """A worker process's view of the driver's cancel token: a byte in shared memory (set: stop
    at the next page) and the seconds its deadline had left when the task was sent."""

    def __init__(self, flags: Any, slot: int, seconds_left: float | None, budget: str) -> None:
        from .cancel import CancelToken

        self.flags, self.slot = flags, slot
        deadline = time.monotonic() + seconds_left if seconds_left is not None else None
        self.local = CancelToken(deadline=deadline, budget=budget)

    def check(self) -> None:
        from .exceptions import OcrCancelledError

        if self.slot >= 0 and self.flags[self.slot]:
            raise OcrCancelledError("recognition stopped: the task was cancelled")
        self.local.check()


def _worker_recognize(
    source: Any, options: dict[str, Any], slot: int = -1, seconds_left: float | None = None, budget: str = ""
) -> OcrResult:
    from .cancel import running

    token = _SharedFlagToken(_WORKER["flags"], slot, seconds_left, budget)
    with running(token):  # type: ignore[arg-type]  # it has the one method check() calls
        return _WORKER["engine"].recognize(source, **options)


def _init_engine_worker(threads: int, flags: Any) -> None:
    _init_worker(RecognitionOptions(), threads)
    _WORKER["flags"] = flags


def _worker_warm() -> None:
    _WORKER["engine"].warmup()


class ProcessEngine:
    """An engine whose ``recognize`` runs in one of ``processes`` worker processes (each with its own
    models): ``inkread serve --workers N`` recognises N inputs at once, not N threads under the GIL.
    Exceptions come back as raised (inkread's keep their hint).

    The calling thread's cancel token (:mod:`inkread.cancel`: a deleted task, a 504, a time budget)
    reaches the worker: its deadline travels with the call, and cancelling sets a byte in shared
    memory that the worker checks between pages, so the worker is free for the next task within a
    page instead of reading on."""

    url = None
    SLOTS = 256  # calls in flight (running or queued) that can be cancelled; more run uncancellable

    def __init__(self, processes: int, *, threads: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.processes = processes
        threads = threads or threads_per_worker(processes)
        context = multiprocessing.get_context("spawn")
        self._flags = context.RawArray("b", self.SLOTS)
        self._free = list(range(self.SLOTS))
        self._lock = threading.Lock()
        self.pool = ProcessPoolExecutor(
            max_workers=processes, mp_context=context, initializer=_init_engine_worker, initargs=(threads, self._flags)
        )

    def recognize(self, source: Any, **options: Any) -> OcrResult:
        from concurrent.futures import TimeoutError as FutureTimeout

        from .cancel import current

        token = current()
        if token is None:
            return self.pool.submit(_worker_recognize, source, options).result()
        with self._lock:
            slot = self._free.pop() if self._free else -1
        try:
            if slot >= 0:
                self._flags[slot] = 0
            left = token.seconds_left()
            future = self.pool.submit(_worker_recognize, source, options, slot, left, token.budget)
            while True:
                try:
                    return future.result(timeout=0.1)
                except FutureTimeout:
                    if token.cancelled and slot >= 0 and not self._flags[slot]:
                        self._flags[slot] = 1  # the worker stops at its next page
                        if future.cancel():  # not started yet: it never will
                            token.check()
        finally:
            if slot >= 0:
                with self._lock:
                    self._free.append(slot)

    def warmup(self) -> None:
        """Load the models in every process now (not on the first requests)."""
        for future in [self.pool.submit(_worker_warm) for _ in range(self.processes)]:
            future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
