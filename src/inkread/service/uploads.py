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

from ..exceptions import EmptyInputError, OcrException, UnsupportedFormatError
from ..options import RecognitionOptions
from .problems import ApiError
from .settings import MAX_PDF_DPI, ServiceSettings

__all__ = ["UPLOAD_BODY", "build_options", "check_upload", "decode_base64", "read_upload", "check_pages"]


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


# the request body both upload routes take, for the OpenAPI document
UPLOAD_BODY = {
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
