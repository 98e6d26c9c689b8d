"""Reading a request: the uploaded file (multipart or base64 JSON), its size and page count checked
before any work, and the recognition options from form fields or an ``options`` object (one parser
for the native and the Aspose routes' shared fields; every problem is a 4xx)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ..exceptions import EmptyInputError, InvalidOptionError, OcrException, UnsupportedFormatError
from ..options import EXISTING_TEXT, OPTION_NAMES, PreprocessOptions, RecognitionOptions
from .problems import ApiError
from .settings import MAX_PDF_DPI, ServiceSettings, with_model_file

__all__ = ["UPLOAD_BODY", "build_options", "check_upload", "decode_base64", "read_upload", "check_pages"]


def _option_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, InvalidOptionError):
        return ApiError(422, "InvalidOption", exc.message, hint=exc.hint)
    if isinstance(exc, OcrException):
        status = exc.http_status if 400 <= exc.http_status < 500 else 400
        return ApiError(status, type(exc).__name__, exc.message, hint=exc.hint)
    return ApiError(422, "InvalidOption", str(exc) or type(exc).__name__)


def build_options(fields_: dict[str, Any], settings: ServiceSettings) -> RecognitionOptions:
    """RecognitionOptions from request fields (form strings or JSON values) and an ``options`` object
    (``RecognitionOptions.to_dict()``, pages 0-based), parsed by ``RecognitionOptions.from_fields``;
    the service's own caps on top (a request may lower its limits, never raise them); 4xx on anything
    bad."""
    try:
        base = fields_.get("options")
        if isinstance(base, str):
            try:
                base = json.loads(base) if base.strip() else None
            except (ValueError, RecursionError):
                raise ApiError(422, "InvalidOption", "options is not valid JSON (or nested too deep)") from None
        if base is not None and not isinstance(base, dict):
            raise ApiError(422, "InvalidOption", "options must be a JSON object")
        base = base or {}
        given = {k: v for k, v in fields_.items() if k in OPTION_NAMES}
        most = {"pdf_dpi": MAX_PDF_DPI, "max_pixels": settings.max_pixels}
        options = RecognitionOptions.from_fields(base, first_page=0, most=most, where="options.")
        options = RecognitionOptions.from_fields(given, base=options, most=most)
        changes: dict[str, Any] = {}
        asked_pages = any(g.get("max_pages") not in (None, "") for g in (base, given))
        changes["max_pages"] = min(options.max_pages, settings.max_pages) if asked_pages else settings.max_pages
        if options.max_pixels > settings.max_pixels:
            changes["max_pixels"] = settings.max_pixels
        options = dataclasses.replace(options, **changes)
        if settings.task_seconds is not None and (options.time_limit or math.inf) > settings.task_seconds:
            options = dataclasses.replace(options, time_limit=None)  # the task's own budget is the tighter one
        with_model_file(options, settings.models)  # a model the service has (kept by name: the worker's)
        return options
    except Exception as exc:  # noqa: BLE001 - every option problem is the caller's: 4xx
        raise _option_error(exc) from None


def check_upload(data: bytes, settings: ServiceSettings) -> None:
    """Size and format checks that need no decoding (the rest surfaces when recognising)."""
    from ..io import SUPPORTED_FORMATS, detect_format

    if len(data) > settings.max_upload_bytes:
        raise ApiError(
            413,
            "RequestTooLarge",
            f"the file is {len(data):,} bytes, over the limit of {settings.max_upload_bytes:,}",
            hint="send a smaller file (the server's --max-upload-mb)",
        )
    if not data:
        raise ApiError.from_exception(EmptyInputError("the uploaded file is empty (0 bytes)"))
    if detect_format(data[:4096]) is None:
        raise ApiError.from_exception(
            UnsupportedFormatError(
                "the upload is not an image or PDF inkread can read",
                hint="supported formats: " + ", ".join(SUPPORTED_FORMATS),
            )
        )


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
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"cannot read a {ctype} body",
            hint="send multipart/form-data with a 'file' field, or JSON with base64 'image'",
        )
    check_upload(data, settings)
    if isinstance(values.get("filename"), str) and values["filename"]:
        name = values["filename"]
    if "model" not in values and "model" in request.query_params:  # ?model=NAME
        values = {**values, "model": request.query_params["model"]}
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
            raise ApiError(
                400,
                "PageSelectionError",
                f"the document has {count} page{'s' if count != 1 else ''}; page(s) {shown} do not exist",
                hint=f"pages are numbered 1..{count}",
            )
    selected = len(options.pages) if options.pages is not None else count
    limit = min(options.max_pages, settings.max_pages)
    if selected > limit:
        raise ApiError(
            413,
            "TooManyPages",
            f"{selected:,} pages asked for; this service reads at most {limit:,} per request",
            hint="split the document or choose pages",
        )


_TOGGLES = tuple(f.name for f in dataclasses.fields(PreprocessOptions))
_BOOL_OPTIONS = tuple(f.name for f in dataclasses.fields(RecognitionOptions) if isinstance(f.default, bool))

_EXISTING_TEXT = {
    "type": "string",
    "enum": list(EXISTING_TEXT),
    "description": "a PDF page with text of its own: skip (keep its text, do not read it; the default), "
    "force (read it, replacing its text), redo (read it again if its text is an invisible OCR layer)",
}

_MODEL = {
    "type": "string",
    "description": "handwriting: the name of a model the service registered (serve --model NAME=FILE; "
    "GET /v1/models lists them; also ?model=NAME); default: the shipped one",
}

# the request body both upload routes take, for the OpenAPI document
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "the image or PDF"},
                    "mode": {"type": "string", "enum": ["auto", "printed", "handwritten"]},
                    "language": {"type": "string", "default": "auto", "example": "fr"},
                    "pages": {"type": "string", "example": "1-3,5", "description": "1-based pages"},
                    **{t: {"type": "string", "enum": ["auto", "on", "off"]} for t in _TOGGLES},
                    "dpi": {"type": "integer", "minimum": 1, "maximum": MAX_PDF_DPI},
                    **{k: {"type": "boolean"} for k in _BOOL_OPTIONS},
                    "existing_text": _EXISTING_TEXT,
                    "model": _MODEL,
                    "options": {"type": "string", "description": "RecognitionOptions.to_dict() as JSON"},
                },
            }
        },
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["image"],
                "properties": {
                    "image": {"type": "string", "format": "byte", "description": "the file, base64"},
                    "filename": {"type": "string"},
                    "mode": {"type": "string", "enum": ["auto", "printed", "handwritten"]},
                    "language": {"type": "string", "default": "auto", "example": "fr"},
                    "pages": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "integer"}}]},
                    **{t: {"type": "string", "enum": ["auto", "on", "off"]} for t in _TOGGLES},
                    "dpi": {"type": "integer", "minimum": 1, "maximum": MAX_PDF_DPI},
                    **{k: {"type": "boolean"} for k in _BOOL_OPTIONS},
                    "existing_text": _EXISTING_TEXT,
                    "model": _MODEL,
                    "options": {"type": "object"},
                },
            }
        },
    },
}
