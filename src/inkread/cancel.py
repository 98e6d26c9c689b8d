"""Stopping work that is no longer wanted: a cancelled task, a request that timed out, a budget spent.

Recognition runs one page at a time (:func:`inkread.engine.recognize_local`) and calls
:func:`check` before each page. Whoever runs it (the service's worker, a time-limited request) sets a
:class:`CancelToken` for the call with :func:`running`; cancelling the token, or passing its
deadline, makes the next :func:`check` raise, so the work stops within one page instead of running
on for minutes after nobody wants it::

    token = CancelToken(deadline=time.monotonic() + 300)
    with running(token):
        engine.recognize(path)       # raises OcrCancelledError / OcrTimeoutError between pages
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Iterator

from .exceptions import OcrCancelledError, OcrTimeoutError

__all__ = ["CancelToken", "running", "check", "current", "time_limited", "page_done"]


class CancelToken:
    def __init__(self, *, deadline: float | None = None, budget: str = "", parent: CancelToken | None = None) -> None:
        self.deadline = deadline  # time.monotonic() after which the work stops
        self.budget = budget  # how the deadline is described in the error ("the task's 600 s")
        self.parent = parent  # an outer token (a task's) that stops this work too
        self._cancelled = threading.Event()
        self.reason = ""
        self.pages_done = 0  # pages read under this token so far (a task's progress)

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set() or (self.parent is not None and self.parent.cancelled)

    def seconds_left(self) -> float | None:
        """Seconds until the nearest deadline (this token's or an outer one's); None: no deadline."""
        left = [t.deadline - time.monotonic() for t in self._chain() if t.deadline is not None]
        return min(left) if left else None

    def _chain(self) -> Iterator[CancelToken]:
        token: CancelToken | None = self
        while token is not None:
            yield token
            token = token.parent

    def check(self) -> None:
        if self.parent is not None:
            self.parent.check()
        if self._cancelled.is_set():
            raise OcrCancelledError(f"recognition stopped: {self.reason}")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OcrTimeoutError(
                f"recognition stopped: it ran past {self.budget or 'its time limit'}",
                hint="ask for fewer pages, or split the document",
            )


_current: contextvars.ContextVar[CancelToken | None] = contextvars.ContextVar("inkread_cancel", default=None)


@contextlib.contextmanager
def running(token: CancelToken | None) -> Iterator[CancelToken | None]:
    """Make ``token`` the one :func:`check` looks at, in this thread, for the ``with`` block."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)


def current() -> CancelToken | None:
    """The token :func:`check` looks at in this thread, if any."""
    return _current.get()


def check() -> None:
    """Raise if the work of this thread was cancelled or ran past its deadline."""
    token = _current.get()
    if token is not None:
        token.check()


def page_done() -> None:
    """Count one page read on the work of this thread (its token and the ones it runs under): what a
    task's status shows as its progress."""
    token: object | None = _current.get()
    while token is not None:  # a worker process's stand-in token (process_engine) counts nothing
        if isinstance(token, CancelToken):
            token.pages_done += 1
        token = getattr(token, "parent", None)


@contextlib.contextmanager
def time_limited(seconds: float | None, what: str = "document") -> Iterator[None]:
    """Stop the work inside past ``seconds`` (None: no limit of its own), between pages; a token
    already running (a task's) still stops it too."""
    if seconds is None:
        yield
        return
    token = CancelToken(
        deadline=time.monotonic() + seconds, budget=f"the {what}'s {seconds:g} s (time_limit)", parent=_current.get()
    )
    with running(token):
        yield
