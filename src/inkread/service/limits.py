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

import collections
import contextlib
import math
import threading
import time
from collections.abc import Iterator

__all__ = ["FailureLimiter", "CheckGate"]


class FailureLimiter:
    def __init__(self, per_client: int = 10, per_address: int = 50, window: float = 60.0) -> None:
        self.per_client = per_client
        self.per_address = per_address
        self.window = window
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, ...], collections.deque[float]] = {}

    def _recent(self, key: tuple[str, ...], now: float) -> collections.deque[float]:
        times = self._failures.get(key)
        if times is None:
            return collections.deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, address: str, client_id: str) -> int | None:
        """Seconds to wait before trying again, or ``None`` when an attempt may go ahead."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in (((address, client_id), self.per_client), ((address,), self.per_address)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window - now)
            return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, address: str, client_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:  # an address flood: forget the stalest keys first
                for key in list(self._failures)[:50_000]:
                    del self._failures[key]
            for key in ((address, client_id), (address,)):
                self._failures.setdefault(key, collections.deque()).append(now)


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
