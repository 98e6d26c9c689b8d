"""What ``inkread serve`` can be told: limits, time-outs, the database, the workers (one dataclass,
filled from the command line by :mod:`.commands` or built directly by tests and embedders)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..exceptions import InvalidOptionError
from ..options import MAX_PAGES_DEFAULT, MAX_PIXELS_DEFAULT, RecognitionOptions

__all__ = ["ServiceSettings", "MAX_PDF_DPI", "with_model_file"]

MAX_PDF_DPI = 600  # the highest PDF render resolution a request may ask for


@dataclass
class ServiceSettings:
    db: str | None = None  # SQLite path or postgresql:// URL; None: $INKREAD_DB or the default file
    workers: int = 1  # recognitions at once (2 or more: that many processes); 0: an API-only replica
    max_upload_bytes: int = 20 * 1024 * 1024
    max_queue: int = 1000
    max_queue_per_client: int = 200
    max_sync_pending: int | None = None  # default: 4 per worker
    result_ttl: float = 24 * 3600
    token_ttl: int = 3600
    lease_seconds: float = 30.0
    poll_interval: float = 0.5
    purge_interval: float = 60.0
    max_attempts: int = 3
    sync_timeout: float = 300.0
    max_pixels: int = MAX_PIXELS_DEFAULT
    preload_models: bool = True
    max_pages: int = MAX_PAGES_DEFAULT  # pages read per request or task; more: 413
    task_seconds: float | None = 1800.0  # a task's time budget: it stops between pages past it
    header_timeout: float = 10.0  # a connection whose request headers take longer is dropped
    body_timeout: float = 30.0  # a connection whose request body stops arriving this long is dropped
    token_failures_per_client: int = 10  # failed /connect/token attempts per address and client id ...
    token_failures_per_address: int = 50  # ... and per address, in token_failure_window seconds: then 429
    token_failure_window: float = 60.0
    token_checks_at_once: int = 2  # scrypt checks running at once; more: 503 Retry-After 1
    # handwriting models requests may choose by name (``model``; serve --model NAME=FILE): name -> file
    models: dict[str, str] = field(default_factory=dict)

    @property
    def max_body_bytes(self) -> int:
        """Largest request body: the file as base64 in JSON, plus room for the other fields."""
        return math.ceil(self.max_upload_bytes * 4 / 3) + 64 * 1024


def with_model_file(options: RecognitionOptions, models: Mapping[str, str]) -> RecognitionOptions:
    """``options`` with the file of the registered model they name (``model``, a name on the service)
    in its place; an unknown name is an :class:`InvalidOptionError` (422)."""
    if options.model is None:
        return options
    if options.model not in models:
        known = ", ".join(sorted(models)) or "none: the service was started without --model"
        raise InvalidOptionError(f"unknown model {options.model!r}", hint=f"models this service has: {known}")
    return options.updated(model=models[options.model])
