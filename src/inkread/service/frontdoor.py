"""The service's front door: connections that never finish their request headers, or stall while
sending a body, are dropped.

uvicorn waits for a request's headers without a time limit: 300 connections that sent half a
request and stopped were held for as long as they stayed open, and at the process's file limit
they made ``/healthz`` and ``/connect/token`` time out and logged ``Too many open files`` 104,338
times in 30 s (issue 14). :class:`HeaderTimeoutH11Protocol` closes a connection whose request line
and headers have not all arrived ``header_timeout`` seconds after its first byte (or after it
opened), and one whose request body stops arriving for ``body_timeout`` seconds (the app's
``await request.body()`` would otherwise wait for ever on a client that announced 20 MB and sent
ten bytes). :func:`raise_file_limit` lifts the soft limit on open files to the hard one, and
:func:`connection_cap` keeps uvicorn's concurrency cap below it, so that excess connections are
answered 503 instead of failing ``accept``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HeaderTimeoutH11Protocol", "raise_file_limit", "connection_cap", "HEADER_TIMEOUT", "BODY_TIMEOUT"]

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0  # seconds without a byte of a request body that is still due


class HeaderTimeoutH11Protocol(H11Protocol):
    header_timeout = HEADER_TIMEOUT
    body_timeout = BODY_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: Any = None
        self._arm()

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:  # the next request's headers are coming
            self._arm()
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.IDLE:  # still in the headers: their deadline keeps running
            return
        self._disarm()
        if state is h11.SEND_BODY:  # headers in, body due: each chunk restarts the wait for the next
            self._header_timer = self.loop.call_later(self.body_timeout, self._body_too_slow)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()  # no response: a client this slow is not listening for one

    def _body_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is not h11.SEND_BODY or self.transport.is_closing():
            return
        if self.flow.read_paused:  # we stopped reading (the app has not taken the body yet): not the client
            self._header_timer = self.loop.call_later(self.body_timeout, self._body_too_slow)
            return
        self.transport.close()  # the app sees a disconnect and drops the request

    def on_response_complete(self) -> None:
        self._disarm()  # idle between requests: uvicorn's keep-alive timeout applies
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def raise_file_limit() -> int:
    """Lift this process's soft limit on open files to its hard limit; returns the new soft limit."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if want > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            pass
    return soft


def connection_cap(file_limit: int) -> int:
    """Concurrent connections uvicorn takes before answering 503: room left for the database,
    the models and the worker processes' pipes."""
    return max(64, min(4096, file_limit - 256))
