"""The FastAPI application behind ``inkread serve``.

Endpoints (OpenAPI at ``/docs`` and ``/openapi.json``):

``POST /connect/token``
    OAuth 2 client-credentials grant. Form fields ``grant_type=client_credentials``,
    ``client_id``, ``client_secret`` -> ``{"access_token", "token_type": "Bearer", "expires_in"}``.
    Bad credentials or a revoked client: 401 ``{"error": "invalid_client", ...}``.

``POST /v1/recognize``  (Bearer)
    Recognise one image or PDF now; answers the result JSON (``OcrResult.to_dict()``).

``POST /v1/tasks``  (Bearer)
    Queue the same work; answers 202 with the task (``id``, ``status``) and a ``Location``.

``GET /v1/tasks/{id}`` / ``DELETE /v1/tasks/{id}``  (Bearer)
    A task's status, result or error / cancel a queued or running task. Another client's task,
    or one whose result has expired, is 404.

``/v5.0/ocr/...``  (Bearer)
    The Aspose OCR Cloud v5 compatible API (see :mod:`.aspose`).

``GET /``  the web page; ``GET /healthz``; ``GET /v1/languages``.

Both ``/v1/recognize`` and ``/v1/tasks`` take either

* ``multipart/form-data`` with the file in ``file`` (or ``image``) and optional fields, or
* ``application/json`` ``{"image": "<base64>", ...}`` (``data`` is accepted for ``image``),

with these options: ``mode`` (auto, printed, handwritten), ``language`` (``en``, ``french``, ...),
``pages`` (1-based, ``"1-3,5"`` or ``[1, 2, 3]``), ``upscale``/``contrast``/``denoise``/``binarize``/
``deskew`` (auto, on, off; true/false too), ``dpi`` (PDF render resolution, up to 600),
``detect_checkboxes``, ``lexicon`` and any other boolean ``RecognitionOptions`` field,
``max_pixels``, ``filename``, and ``options``: a whole
``RecognitionOptions.to_dict()`` object (0-based ``pages``) that the single fields then override.

Errors are ``application/problem+json``: ``{"type", "title", "status", "detail", "error", "hint"?}``
where ``error`` names the exception (``UnsupportedFormatError``, ``ImageTooLargeError``, ...) and
``status`` is its ``http_status``. Bad input is always a 4xx: 400/415 for unusable files, 413 for
uploads over the size limit, 422 for malformed requests; a full queue is 503 (429 when one
client has too much queued) with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import logging
import math
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..exceptions import EmptyInputError, OcrException, UnsupportedFormatError
from ..options import MAX_PAGES_DEFAULT, RecognitionOptions
from .auth import TokenError, TokenIssuer, authenticate_client
from .store import ClientRecord, Store, TaskRecord, open_store, default_db
from .worker import QueueFull, WorkerPool, recognize_bytes

__all__ = ["ServiceSettings", "create_app", "serve", "ApiError", "ServiceState"]

log = logging.getLogger("inkread.service")

WEB_DIR = Path(__file__).resolve().parent / "web"
PROBLEM = "application/problem+json"
MAX_PDF_DPI = 600


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
    max_pixels: int = 120_000_000
    preload_models: bool = True
    max_pages: int = MAX_PAGES_DEFAULT  # pages read per request or task; more: 413
    task_seconds: float | None = 1800.0  # a task's time budget: it stops between pages past it
    header_timeout: float = 10.0  # a connection whose request headers take longer is dropped
    body_timeout: float = 30.0  # a connection whose request body stops arriving this long is dropped
    token_failures_per_client: int = 10  # failed /connect/token attempts per address and client id ...
    token_failures_per_address: int = 50  # ... and per address, in token_failure_window seconds: then 429
    token_failure_window: float = 60.0
    token_checks_at_once: int = 2  # scrypt checks running at once; more: 503 Retry-After 1

    @property
    def max_body_bytes(self) -> int:
        """Largest request body: the file as base64 in JSON, plus room for the other fields."""
        return math.ceil(self.max_upload_bytes * 4 / 3) + 64 * 1024


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


class ApiError(StarletteHTTPException):
    """An error answered as a problem JSON body.

    An ``HTTPException`` so that FastAPI passes it through untouched when it is raised while a
    request body is read (the body size limit)."""

    def __init__(self, status: int, error: str, detail: str, *, hint: str | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(status, detail, headers)
        self.status = status
        self.error = error
        self.detail = detail
        self.hint = hint
        self.headers = headers or {}
        self.extra = extra or {}

    @classmethod
    def from_exception(cls, exc: OcrException, *, status: int | None = None) -> "ApiError":
        return cls(status or int(exc.http_status), type(exc).__name__, exc.message, hint=exc.hint)


def problem(status: int, error: str, detail: str, *, hint: str | None = None,
            headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
            media_type: str = PROBLEM) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": error, "status": status, "detail": detail,
                            "error": error}
    if hint:
        body["hint"] = hint
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=media_type)


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "AuthenticationError", detail, headers={"WWW-Authenticate": 'Bearer realm="inkread"'},
                    hint="get a token from POST /connect/token and send 'Authorization: Bearer <token>'")


def _basic_credentials(header: str) -> tuple[str, str] | None:
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


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def task_json(task: TaskRecord) -> dict[str, Any]:
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
        "input": {"name": task.input_name, "size": task.input_size},
        "options": task.options.get("recognition", {}),
        "result": task.result,
        "error": task.error,
    }


# ----------------------------------------------------------------------------------------------
# Request size limit


class BodyLimitMiddleware:
    """413 for a request body over the limit: at once from ``Content-Length``, else while reading."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        too_large = ApiError(413, "RequestTooLarge", f"the request body is over the limit of {self.limit:,} bytes",
                             hint="send a smaller file (the server's --max-upload-mb)")
        if length is not None:
            try:
                if int(length) > self.limit:
                    await _send_problem(send, too_large)
                    return
            except ValueError:
                pass
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise too_large
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except ApiError as exc:
            if started or exc is not too_large:
                raise
            await _send_problem(send, exc)


async def _send_problem(send: Any, exc: ApiError) -> None:
    response = problem(exc.status, exc.error, exc.detail, hint=exc.hint, headers={"Connection": "close"})
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]})
    await send({"type": "http.response.body", "body": response.body})


# ----------------------------------------------------------------------------------------------
# Reading uploads and options

_TOGGLES = ("upscale", "contrast", "denoise", "binarize", "deskew")
_BOOL_TEXT = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False,
              "off": False}


def _option_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, OcrException):
        status = exc.http_status if 400 <= exc.http_status < 500 else 400
        return ApiError(status, type(exc).__name__, exc.message, hint=exc.hint)
    return ApiError(422, "InvalidOption", str(exc) or type(exc).__name__)


def _as_int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool):
        raise ApiError(422, "InvalidOption", f"{name} must be a whole number")
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise ApiError(422, "InvalidOption", f"{name} must be a whole number, not {value!r}") from None
    if not lo <= number <= hi:
        raise ApiError(422, "InvalidOption", f"{name} must be between {lo} and {hi}, not {number}")
    return number


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:
        return _BOOL_TEXT[value.strip().lower()]
    raise ApiError(422, "InvalidOption", f"{name} must be true or false, not {value!r}")


def _as_text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ApiError(422, "InvalidOption", f"{name} must be a string, not {type(value).__name__}")
    return value


def _pages_1based(value: Any) -> tuple[int, ...]:
    from ..io import parse_page_range

    if isinstance(value, str):
        return tuple(parse_page_range(value))
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, list) and value and all(isinstance(p, int) and not isinstance(p, bool) for p in value):
        if any(p < 1 or p > 1_000_000 for p in value):
            raise ApiError(400, "PageSelectionError", "pages are numbered from 1",
                           hint="use 1-based page numbers, e.g. '1-3,5' or [1, 2, 3]")
        return tuple(sorted({p - 1 for p in value}))
    raise ApiError(400, "PageSelectionError", f"bad pages value {value!r}",
                   hint="use 1-based page numbers, e.g. '1-3,5' or [1, 2, 3]")


# every RecognitionOptions field; those not handled one by one (detect_checkboxes, lexicon, ...)
# are "simple": booleans, numbers or strings checked by type of their default
_OPTION_DEFAULTS: dict[str, Any] = {f.name: getattr(RecognitionOptions(), f.name)
                                    for f in dataclasses.fields(RecognitionOptions)}
_SIMPLE_OPTIONS = tuple(k for k in _OPTION_DEFAULTS
                        if k not in ("mode", "language", "pages", "preprocess", "pdf_dpi", "max_pixels", "max_pages",
                                     "time_limit"))


def _as_seconds(value: Any, key: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ApiError(422, "InvalidOption", f"{key} must be a number of seconds, not {value!r}") from None
    if not 0 < number < math.inf:
        raise ApiError(422, "InvalidOption", f"{key} must be above 0 and finite")
    return number


def _simple_option(key: str, value: Any) -> Any:
    default = _OPTION_DEFAULTS[key]
    if isinstance(default, bool):
        return _as_bool(value, key)
    if isinstance(default, int):
        return _as_int(value, key, -(2**31), 2**31 - 1)
    if isinstance(default, float):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ApiError(422, "InvalidOption", f"{key} must be a number, not {value!r}") from None
        if not math.isfinite(number):
            raise ApiError(422, "InvalidOption", f"{key} must be finite")
        return number
    if isinstance(value, (str, int, float, bool)):
        return value
    raise ApiError(422, "InvalidOption", f"{key} must be a plain value, not {type(value).__name__}")


def build_options(fields_: dict[str, Any], settings: ServiceSettings) -> RecognitionOptions:
    """RecognitionOptions from request fields (form strings or JSON values); 4xx on anything bad."""
    try:
        base = fields_.get("options")
        if isinstance(base, str):
            try:
                base = json.loads(base) if base.strip() else None
            except (ValueError, RecursionError):
                raise ApiError(422, "InvalidOption", "options is not valid JSON (or nested too deep)") from None
        options = RecognitionOptions()
        changes: dict[str, Any] = {}
        if base is not None:
            if not isinstance(base, dict):
                raise ApiError(422, "InvalidOption", "options must be a JSON object")
            unknown = set(base) - set(_OPTION_DEFAULTS)
            if unknown:
                raise ApiError(422, "InvalidOption", f"unknown option(s): {', '.join(sorted(map(str, unknown)))}")
            for key in ("mode", "language"):
                if base.get(key) is not None:
                    changes[key] = _as_text(base[key], key)
            if base.get("pages") is not None:
                pages = base["pages"]
                if not (isinstance(pages, list) and all(isinstance(p, int) and not isinstance(p, bool)
                                                        and 0 <= p < 1_000_000 for p in pages)):
                    raise ApiError(400, "PageSelectionError", "options.pages must be a list of 0-based page indices")
                changes["pages"] = tuple(pages)
            pre = base.get("preprocess") or {}
            if not isinstance(pre, dict) or set(pre) - set(_TOGGLES):
                raise ApiError(422, "InvalidOption", f"options.preprocess takes {', '.join(_TOGGLES)}")
            for key, value in pre.items():
                if value is not None:
                    changes[key] = value if isinstance(value, bool) else _as_text(value, key)
            for key in _SIMPLE_OPTIONS:
                if base.get(key) is not None:
                    changes[key] = _simple_option(key, base[key])
            if base.get("pdf_dpi") is not None:
                changes["pdf_dpi"] = _as_int(base["pdf_dpi"], "pdf_dpi", 1, MAX_PDF_DPI)
            if base.get("max_pixels") is not None:
                changes["max_pixels"] = _as_int(base["max_pixels"], "max_pixels", 1, settings.max_pixels)
        for key in ("mode", "language"):
            if fields_.get(key) not in (None, ""):
                changes[key] = _as_text(fields_[key], key)
        if fields_.get("lang") not in (None, "") and fields_.get("language") in (None, ""):
            changes["language"] = _as_text(fields_["lang"], "lang")
        if fields_.get("pages") not in (None, ""):
            changes["pages"] = _pages_1based(fields_["pages"])
        for key in _TOGGLES:
            value = fields_.get(key)
            if value not in (None, ""):
                changes[key] = value if isinstance(value, bool) else _as_text(value, key)
        for key in _SIMPLE_OPTIONS:
            if fields_.get(key) not in (None, ""):
                changes[key] = _simple_option(key, fields_[key])
        for key in ("dpi", "pdf_dpi"):
            if fields_.get(key) not in (None, ""):
                changes["pdf_dpi"] = _as_int(fields_[key], key, 1, MAX_PDF_DPI)
        if fields_.get("max_pixels") not in (None, ""):
            changes["max_pixels"] = _as_int(fields_["max_pixels"], "max_pixels", 1, settings.max_pixels)
        for given in (base or {}, fields_):  # a request may lower the service's limits, not raise them
            if given.get("max_pages") not in (None, ""):
                changes["max_pages"] = min(_as_int(given["max_pages"], "max_pages", 1, 2**31 - 1), settings.max_pages)
            if given.get("time_limit") not in (None, ""):
                changes["time_limit"] = _as_seconds(given["time_limit"], "time_limit")
        changes.setdefault("max_pages", settings.max_pages)
        if settings.task_seconds is not None and changes.get("time_limit", math.inf) > settings.task_seconds:
            changes.pop("time_limit", None)  # the task's own budget is the tighter one
        options = options.updated(**changes)
        if options.max_pixels > settings.max_pixels:
            options = options.updated(max_pixels=settings.max_pixels)
        return options
    except Exception as exc:  # noqa: BLE001 - every option problem is the caller's: 4xx
        raise _option_error(exc) from None


def check_upload(data: bytes, settings: ServiceSettings) -> None:
    """Size and format checks that need no decoding (the rest surfaces when recognising)."""
    from ..io import SUPPORTED_FORMATS, detect_format

    if len(data) > settings.max_upload_bytes:
        raise ApiError(413, "RequestTooLarge",
                       f"the file is {len(data):,} bytes, over the limit of {settings.max_upload_bytes:,}",
                       hint="send a smaller file (the server's --max-upload-mb)")
    if not data:
        raise ApiError.from_exception(EmptyInputError("the uploaded file is empty (0 bytes)"))
    if detect_format(data[:4096]) is None:
        raise ApiError.from_exception(UnsupportedFormatError(
            "the upload is not an image or PDF inkread can read",
            hint="supported formats: " + ", ".join(SUPPORTED_FORMATS)))


def decode_base64(text: Any, name: str = "image") -> bytes:
    if not isinstance(text, str):
        raise ApiError(422, "InvalidRequest", f"{name} must be a base64 string")
    text = text.strip()
    if text.startswith("data:") and "," in text:  # a data: URL
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "InvalidRequest", f"{name} is not valid base64") from None


async def read_upload(request: Request, settings: ServiceSettings) -> tuple[bytes, str | None, RecognitionOptions]:
    """The file, its name and the options of a multipart or JSON request."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data" or ctype == "application/x-www-form-urlencoded":
        try:
            form = await request.form(max_files=2, max_fields=64)
        except ApiError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken multipart body
            raise ApiError(400, "InvalidRequest", f"cannot read the form: {exc}") from None
        upload = form.get("file") or form.get("image")
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "InvalidRequest", "no file: send it in the multipart field 'file'")
        data = await upload.read()
        name = upload.filename or None
        values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        await form.close()
    elif ctype in ("application/json", "") or ctype.endswith("+json"):
        try:
            body = json.loads(await request.body())
        except ApiError:
            raise
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            raise ApiError(400, "InvalidRequest", "the body is not valid JSON (or is nested too deep)") from None
        if not isinstance(body, dict):
            raise ApiError(422, "InvalidRequest", "the JSON body must be an object")
        image = body.get("image", body.get("data"))
        if image is None:
            raise ApiError(422, "InvalidRequest", "no image: send it base64-encoded in 'image'")
        data = decode_base64(image)
        name = body.get("filename") if isinstance(body.get("filename"), str) else None
        values = body
    else:
        raise ApiError(415, "UnsupportedMediaType", f"cannot read a {ctype} body",
                       hint="send multipart/form-data with a 'file' field, or JSON with base64 'image'")
    check_upload(data, settings)
    if isinstance(values.get("filename"), str) and values["filename"]:
        name = values["filename"]
    options = build_options(values, settings)
    await run_in_threadpool(check_pages, data, options, settings)
    return data, (name[:255] if name else None), options


def check_pages(data: bytes, options: RecognitionOptions, settings: ServiceSettings) -> None:
    """Refuse now, with a 4xx, pages the document does not have and more pages than
    ``settings.max_pages`` (a 19 KB PDF of 150 blank pages held a worker for minutes; 20 MB of PDF
    can hold 100,000 pages). A file that cannot be opened is left to the recognition to report."""
    from ..io import count_pages

    try:
        count = count_pages(data)
    except Exception:  # noqa: BLE001 - reported with its own error when it is read
        return
    if options.pages is not None:
        missing = [p + 1 for p in options.pages if p >= count]
        if missing:
            shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
            raise ApiError(400, "PageSelectionError",
                           f"the document has {count} page{'s' if count != 1 else ''}; page(s) {shown} do not exist",
                           hint=f"pages are numbered 1..{count}")
    selected = len(options.pages) if options.pages is not None else count
    limit = min(options.max_pages, settings.max_pages)
    if selected > limit:
        raise ApiError(413, "TooManyPages", f"{selected:,} pages asked for; this service reads at most "
                       f"{limit:,} per request", hint="split the document or choose pages")


# ----------------------------------------------------------------------------------------------
# The app

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "the image or PDF"},
                "mode": {"type": "string", "enum": ["auto", "printed", "handwritten"]},
                "language": {"type": "string", "example": "en"},
                "pages": {"type": "string", "example": "1-3,5", "description": "1-based pages"},
                **{t: {"type": "string", "enum": ["auto", "on", "off"]} for t in _TOGGLES},
                "dpi": {"type": "integer", "minimum": 1, "maximum": MAX_PDF_DPI},
                **{k: {"type": "boolean"} for k in _SIMPLE_OPTIONS if isinstance(_OPTION_DEFAULTS[k], bool)},
                "options": {"type": "string", "description": "RecognitionOptions.to_dict() as JSON"},
            },
        }},
        "application/json": {"schema": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {"type": "string", "format": "byte", "description": "the file, base64"},
                "filename": {"type": "string"},
                "mode": {"type": "string", "enum": ["auto", "printed", "handwritten"]},
                "language": {"type": "string", "example": "en"},
                "pages": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "integer"}}]},
                **{t: {"type": "string", "enum": ["auto", "on", "off"]} for t in _TOGGLES},
                "dpi": {"type": "integer", "minimum": 1, "maximum": MAX_PDF_DPI},
                **{k: {"type": "boolean"} for k in _SIMPLE_OPTIONS if isinstance(_OPTION_DEFAULTS[k], bool)},
                "options": {"type": "object"},
            },
        }},
    },
}

_PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, malformed, tampered, expired or revoked token"},
    413: {"description": "upload over the size limit"},
    415: {"description": "not a supported image or PDF"},
    422: {"description": "malformed request"},
}


def create_app(settings: ServiceSettings | None = None, *, store: Store | None = None,
               engine: Any = None) -> FastAPI:
    """Build the app. The store is opened (and the worker threads started) at startup; pass
    ``store``/``engine`` to share them (tests, several apps in one process)."""
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        own_store = store is None
        the_store = store or await run_in_threadpool(open_store, settings.db or default_db())
        issuer = await run_in_threadpool(TokenIssuer, the_store, settings.token_ttl)
        the_engine = engine
        processes = None
        if the_engine is None and settings.workers >= 2:
            from ..runner import ProcessEngine  # N recognitions at once: N processes, not N threads

            the_engine = processes = ProcessEngine(settings.workers)
        elif the_engine is None:
            from ..engine import OcrEngine

            the_engine = OcrEngine()
            the_engine.url = None  # the server recognises locally, whatever INKREAD_URL says
        if settings.preload_models and processes is not None:
            await run_in_threadpool(processes.warm)
        elif settings.preload_models:
            from ..models import get_models

            await run_in_threadpool(get_models)
        pool = WorkerPool(the_store, the_engine, workers=settings.workers, lease_seconds=settings.lease_seconds,
                          task_seconds=settings.task_seconds,
                          poll_interval=settings.poll_interval, result_ttl=settings.result_ttl,
                          max_sync_pending=settings.max_sync_pending, max_attempts=settings.max_attempts,
                          purge_interval=settings.purge_interval)
        pool.start()
        from .limits import CheckGate, FailureLimiter

        app.state.service = ServiceState(
            settings, the_store, issuer, pool, the_engine,
            failures=FailureLimiter(settings.token_failures_per_client, settings.token_failures_per_address,
                                    settings.token_failure_window),
            checks=CheckGate(settings.token_checks_at_once))
        log.info("inkread service ready: %s, %d worker(s), worker id %s", the_store, pool.workers, pool.worker_id)
        try:
            yield
        finally:
            await run_in_threadpool(pool.stop)
            if processes is not None:
                await run_in_threadpool(processes.close)
            if own_store:
                the_store.close()

    app = FastAPI(
        title="inkread OCR service",
        version=__version__,
        description="Offline OCR for handwritten notes and printed pages. Get a token at `/connect/token` "
                    "(client credentials), then call `/v1/recognize`, `/v1/tasks` or the Aspose OCR Cloud v5 "
                    "compatible `/v5.0/ocr/*` endpoints with `Authorization: Bearer <token>`.",
        lifespan=lifespan,
        docs_url=None,  # served below from the package's own Swagger UI copy, not a CDN: works offline
        redoc_url=None,
    )
    _add_offline_docs(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    _install_error_handlers(app)
    _add_routes(app)
    from .aspose import router as aspose_router

    app.include_router(aspose_router)
    if WEB_DIR.is_dir():
        app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")
    return app


def _add_offline_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the ``fastapi-offline`` package's copy of its assets (served at
    ``/docs-assets``; version 5, which reads FastAPI's OpenAPI 3.1 documents)."""
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html

    assets = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Any:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - API docs",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png",
                                   oauth2_redirect_url="/docs/oauth2-redirect")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def docs_redirect() -> Any:
        return get_swagger_ui_oauth2_redirect_html()


def state(request: Request) -> ServiceState:
    return request.app.state.service


def current_client(request: Request) -> ClientRecord:
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


def _media_type(request: Request) -> str:
    # the Aspose SDK only parses error bodies sent as application/json
    return "application/json" if request.url.path.startswith("/v5.0/") else PROBLEM


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.error, exc.detail, hint=exc.hint, headers=exc.headers, extra=exc.extra,
                       media_type=_media_type(request))

    @app.exception_handler(OcrException)
    async def _ocr_error(request: Request, exc: OcrException) -> JSONResponse:
        return problem(int(exc.http_status), type(exc).__name__, exc.message, hint=exc.hint,
                       media_type=_media_type(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors[:5])
        return problem(422, "InvalidRequest", detail or "invalid request",
                       extra={"errors": json.loads(json.dumps(errors, default=str))}, media_type=_media_type(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "NotFound", 405: "MethodNotAllowed", 400: "InvalidRequest", 413: "RequestTooLarge"}
        return problem(exc.status_code, names.get(exc.status_code, "HTTPError"), str(exc.detail),
                       headers=getattr(exc, "headers", None), media_type=_media_type(request))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("inkread: internal error on %s %s", request.method, request.url.path)
        return problem(500, "InternalError", "internal server error; see the server log",
                       media_type=_media_type(request))


def _queue_check(st: ServiceState, client_id: str) -> None:
    queued = st.store.count_tasks("queued")
    if queued >= st.settings.max_queue:
        retry = st.pool.retry_after(queued)
        raise ApiError(503, "ServiceUnavailableError", "the task queue is full", hint="try again later",
                       headers={"Retry-After": str(retry)})
    mine = st.store.count_tasks("queued", client_id)
    if mine >= st.settings.max_queue_per_client:
        retry = st.pool.retry_after(min(queued, mine))
        raise ApiError(429, "TooManyRequests", f"you have {mine} tasks queued, the most one client may have",
                       hint="wait for some to finish", headers={"Retry-After": str(retry)})


def _add_routes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        page = WEB_DIR / "index.html"
        if not page.is_file():
            return Response("inkread OCR service: see /docs", media_type="text/plain")
        return FileResponse(page, media_type="text/html")

    @app.get("/healthz", tags=["service"], summary="liveness and queue length")
    def healthz(request: Request) -> dict[str, Any]:
        st = state(request)
        return {"status": "ok", "version": __version__, "queued": st.store.count_tasks("queued"),
                "running": st.store.count_tasks("running"), **st.pool.stats()}

    @app.get("/v1/languages", tags=["service"], summary="languages the engine reads")
    def languages() -> list[dict[str, str]]:
        from ..languages import supported_languages

        return [{"code": i.code, "name": i.name} for i in supported_languages()]

    @app.post("/connect/token", tags=["auth"], summary="trade client credentials for an access token",
              responses={400: {"description": "unsupported grant type"}, 401: {"description": "invalid client"}})
    def token(request: Request, grant_type: str = Form(""), client_id: str = Form(""),
              client_secret: str = Form("")) -> JSONResponse:
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", "") and \
                "multipart/form-data" not in request.headers.get("content-type", "") and \
                request.headers.get("content-length", "0") not in ("", "0"):
            return JSONResponse({"error": "invalid_request",
                                 "error_description": "send the fields as application/x-www-form-urlencoded "
                                                      "(RFC 6749 section 4.4.2)"}, status_code=400)
        if grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": "only grant_type=client_credentials is supported"},
                                status_code=400)
        basic = _basic_credentials(request.headers.get("authorization", ""))
        if basic is not None:  # RFC 6749 section 2.3.1: HTTP Basic, each part form-urlencoded
            if client_id and client_id != basic[0] or client_secret:
                return JSONResponse({"error": "invalid_request",
                                     "error_description": "client credentials given both in the Authorization "
                                                          "header and in the body"}, status_code=400)
            client_id, client_secret = basic
        st = state(request)
        address = request.client.host if request.client else ""
        wait = st.failures.retry_after(address, client_id)
        if wait is not None:
            return JSONResponse({"error": "slow_down", "error_description": "too many failed attempts: "
                                 f"try again in {wait} s"}, status_code=429, headers={"Retry-After": str(wait)})
        with st.checks.gate() as admitted:
            if not admitted:
                return JSONResponse({"error": "temporarily_unavailable",
                                     "error_description": "too many token requests at once"},
                                    status_code=503, headers={"Retry-After": "1"})
            record = authenticate_client(st.store, client_id, client_secret)
        if record is None:
            st.failures.failed(address, client_id)
            return JSONResponse({"error": "invalid_client",
                                 "error_description": "unknown client, wrong secret, or revoked client"},
                                status_code=401)  # no WWW-Authenticate: Basic, or browsers would prompt
        issued = state(request).issuer.issue(record.id)
        return JSONResponse({"access_token": issued.access_token, "token_type": issued.token_type,
                             "expires_in": issued.expires_in},
                            headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    @app.post("/v1/recognize", tags=["ocr"], summary="recognise an image or PDF now",
              openapi_extra={"requestBody": _UPLOAD_BODY}, responses=_PROBLEM_RESPONSES)
    async def recognize(request: Request, client: ClientRecord = Depends(current_client)) -> JSONResponse:
        st = state(request)
        data, name, options = await read_upload(request, st.settings)
        from ..cancel import CancelToken, running

        token = CancelToken()

        def work() -> Any:
            with running(token):
                return recognize_bytes(st.engine, data, options, name=name)

        try:
            fut = st.pool.submit(work)
        except QueueFull as exc:
            raise ApiError(503, "ServiceUnavailableError", str(exc), hint="try again later",
                           headers={"Retry-After": str(exc.retry_after)}) from None
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(fut), timeout=st.settings.sync_timeout)
        except asyncio.TimeoutError:
            token.cancel("the request timed out")  # the worker stops before its next page
            raise ApiError(504, "OcrTimeoutError", f"recognition took longer than {st.settings.sync_timeout:g} s",
                           hint="use POST /v1/tasks for long documents") from None
        return JSONResponse(result.to_dict())

    @app.post("/v1/tasks", tags=["ocr"], status_code=202, summary="queue an image or PDF for recognition",
              openapi_extra={"requestBody": _UPLOAD_BODY},
              responses={**_PROBLEM_RESPONSES, 429: {"description": "too many queued tasks for this client"},
                         503: {"description": "queue full"}})
    async def create_task(request: Request, client: ClientRecord = Depends(current_client)) -> JSONResponse:
        st = state(request)
        data, name, options = await read_upload(request, st.settings)

        def submit() -> TaskRecord:
            _queue_check(st, client.id)
            return st.store.create_task(client_id=client.id, kind="native", data=data, input_name=name,
                                        options={"recognition": options.to_dict(), "input_name": name})

        task = await run_in_threadpool(submit)
        st.pool.notify()
        return JSONResponse(task_json(task), status_code=202, headers={"Location": f"/v1/tasks/{task.id}"})

    @app.get("/v1/tasks/{task_id}", tags=["ocr"], summary="a task's status, result or error",
             responses={404: {"description": "no such task (or another client's, or expired)"}})
    def get_task(task_id: str, request: Request, client: ClientRecord = Depends(current_client)) -> JSONResponse:
        task = state(request).store.get_task(task_id, client.id)
        if task is None:
            raise ApiError(404, "NotFound", f"no task {task_id}")
        return JSONResponse(task_json(task))

    @app.delete("/v1/tasks/{task_id}", tags=["ocr"], summary="cancel a queued or running task",
                responses={404: {"description": "no such task"}, 409: {"description": "already finished"}})
    def cancel_task(task_id: str, request: Request, client: ClientRecord = Depends(current_client)) -> JSONResponse:
        st = state(request)
        before = st.store.get_task(task_id, client.id)
        if before is None:
            raise ApiError(404, "NotFound", f"no task {task_id}")
        if before.finished:
            raise ApiError(409, "TaskFinished", f"task {task_id} has already finished ({before.status})",
                           extra={"task_status": before.status})
        task = st.store.cancel_task(task_id, client.id, result_ttl=st.settings.result_ttl)
        if task is None:
            raise ApiError(404, "NotFound", f"no task {task_id}")
        if task.status == "cancelled":  # read here: stop it now (another replica notices it itself)
            st.pool.cancel_running(task_id)
        if task.status != "cancelled":
            raise ApiError(409, "TaskFinished", f"task {task_id} has already finished ({task.status})",
                           extra={"task_status": task.status})
        return JSONResponse(task_json(task))


def serve(settings: ServiceSettings, *, host: str = "127.0.0.1", port: int = 8080, log_level: str = "info") -> int:
    """Run the service until interrupted (``inkread serve``)."""
    import uvicorn

    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db = settings.db or default_db()
    settings.db = db
    display = db if not db.startswith(("postgres://", "postgresql://")) else db.split("@")[-1]
    log.info("inkread %s serving on http://%s:%d (db: %s, %d worker thread(s), pid %d)", __version__, host, port,
             display, settings.workers, os.getpid())
    from .frontdoor import HeaderTimeoutH11Protocol, connection_cap, raise_file_limit

    HeaderTimeoutH11Protocol.header_timeout = settings.header_timeout
    HeaderTimeoutH11Protocol.body_timeout = settings.body_timeout
    files = raise_file_limit()
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, timeout_graceful_shutdown=10,
                http=HeaderTimeoutH11Protocol, limit_concurrency=connection_cap(files))
    return 0
