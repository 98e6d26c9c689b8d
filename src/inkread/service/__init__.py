"""The self-hosted OCR service: ``inkread serve``.

* :mod:`.store` - clients and tasks in SQLite (default) or PostgreSQL;
* :mod:`.auth` - client secrets (scrypt) and signed, expiring access tokens;
* :mod:`.worker` - the recognition threads (one shared engine), task leases, result expiry;
* :mod:`.app` - the FastAPI application: ``/connect/token``, the native ``/v1`` API, the
  Aspose OCR Cloud v5 compatible ``/v5.0/ocr`` API (:mod:`.aspose`) and the web page at ``/``;
* :mod:`.commands` - the ``inkread serve`` / ``inkread clients`` subcommands.

Importing this package is cheap; FastAPI and the models load only when an app is built.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "ServiceSettings"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(name)
