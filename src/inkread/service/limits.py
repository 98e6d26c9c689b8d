"""Limits on ``/connect/token``: failed attempts per address and client, and scrypt checks at once.

Every token request checks a secret with scrypt (tens of milliseconds of CPU, by design). Without a
limit, 200 wrong secrets were answered 401 one after the other (a guessing attack has all the time
it wants) and a 40-way flood of them, run in the thread pool the other endpoints share, took
``/healthz`` from 0.46 s to 15.8 s. So:

* :class:`FailureLimiter`: after ``per_client`` failed attempts for one client id from one address
  within ``window`` seconds (or ``per_address`` for all client ids from one address), more attempts
  are refused with 429 and ``Retry-After`` (until the oldest failure leaves the window), without
  checking the secret. A failure from one address never locks the client out elsewhere.
* :class:`CheckGate`: at most ``concurrent`` secret checks at once; one more is refused with 503 and
  ``Retry-After: 1`` instead of queueing behind them.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator

__all__ = ["FailureLimiter", "CheckGate"]


class FailureLimiter:
    """Failed attempts counted in a moving window by the ``limits`` library (in this process's
    memory: each replica counts its own; ``limits`` also speaks Redis and Memcached should replicas
    need to share the count)."""

    def __init__(self, per_client: int = 10, per_address: int = 50, window: float = 60.0) -> None:
        from limits import RateLimitItemPerSecond
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        seconds = max(1, math.ceil(window))
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_client = RateLimitItemPerSecond(per_client, seconds)
        self._per_address = RateLimitItemPerSecond(per_address, seconds)

    def _keys(self, address: str, client_id: str):
        return (
            (self._per_client, ("token-failures", address, client_id)),
            (self._per_address, ("token-failures", address)),
        )

    def retry_after(self, address: str, client_id: str) -> int | None:
        """Seconds to wait before trying again, or ``None`` when an attempt may go ahead."""
        waits = []
        for item, key in self._keys(address, client_id):
            if not self._limiter.test(item, *key):
                reset = self._limiter.get_window_stats(item, *key).reset_time
                waits.append(reset - time.time())
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, address: str, client_id: str) -> None:
        for item, key in self._keys(address, client_id):
            self._limiter.hit(item, *key)


class CheckGate:
    def __init__(self, concurrent: int = 2) -> None:
        self._slots = threading.BoundedSemaphore(max(1, concurrent))

    @contextlib.contextmanager
    def gate(self) -> Iterator[bool]:
        """``with gate.gate() as admitted:``: a slot if one is free now (``admitted``), else none."""
        admitted = self._slots.acquire(blocking=False)
        try:
            yield admitted
        finally:
            if admitted:
                self._slots.release()
