"""Aspose OCR Cloud v5 compatible endpoints: the official ``aspose-ocr-cloud`` SDK (24.11) works
against this server with only its host and access token changed::

    config = aspose_ocr_cloud.Configuration(host="http://127.0.0.1:8080", access_token=token)
    api = aspose_ocr_cloud.RecognizeImageApi(aspose_ocr_cloud.ApiClient(config))
    task_id = api.post_recognize_image(OCRRecognizeImageBody(image=b64, settings=settings))
    response = api.get_recognize_image(task_id)        # OCRResponse

(the token comes from ``POST /connect/token`` with ``grant_type=client_credentials``, as on the
Aspose cloud). Paths, JSON field names and enum values follow the SDK's models exactly:

``POST /v5.0/ocr/RecognizeImage`` / ``POST /v5.0/ocr/RecognizePdf``
    JSON ``{"image": "<base64>", "settings": {...}}`` -> the task id as ``text/plain``.
``GET /v5.0/ocr/RecognizeImage?id=`` / ``GET /v5.0/ocr/RecognizePdf?id=``
    -> ``OCRResponse`` ``{"id", "taskStatus", "responseStatusCode", "results": [{"type", "data"}],
    "error": {"messages", "warnings"}}``; ``data`` is base64 of the UTF-8 output.
``DELETE`` on the same paths cancels the task.
``GET /v5.0/ocr/Utilities/GetTaskStatus?id=``
    -> ``OCRResponse`` without ``results``.

``taskStatus`` is ``Pending`` (queued), ``Processing``, ``Completed``, ``Error`` (failed or
cancelled) or ``NotExist`` (unknown id, another client's task, or an expired result: answered 200
with ``responseStatusCode: "TaskNotFound"``, as the SDK expects a 200 body).

Settings honoured (``OCRSettingsRecognizeImage`` / ``OCRSettingsRecognizePdf``):

* ``language``: every Aspose language inkread reads (``English``, ``German``, ``French``,
  ``Netherlands``, ``Slovene``, ...); ``HWT_ENG`` is handwritten English (mode handwritten).
  Others get 400 ``UnsupportedLanguageError``.
* ``makeSkewCorrect`` -> deskew, ``makeBinarization`` -> binarize, ``makeContrastCorrection`` ->
  contrast, ``makeUpsampling`` -> upscale: ``true`` is on, ``false`` is off, absent is inkread's
  default (auto; binarize off).
* ``Rotate``: degrees clockwise, applied to an image before recognition (PDF pages: ignored).
* ``resultType``: ``Text`` (default), ``JSON`` (inkread's result JSON: pages, lines, words, boxes,
  confidences), ``Hocr`` (hOCR 1.2 HTML), ``TextAndHocr``. Types with ``Pdf`` and ``ImagePNG`` are
  not produced: the text parts are, and ``error.warnings`` says what was left out.

Accepted and ignored: ``makeSpellCheck`` (no spell checking: the text is what was read),
``dsrMode`` and ``dsrConfidence`` (inkread's own text detector always runs), ``regions`` (the whole
image is read), ``resultTypeTable``.
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..exceptions import UnsupportedLanguageError
from ..languages import Language
from ..options import RecognitionMode, RecognitionOptions
from ..result import PAGE_SEPARATOR
from .deps import ServiceState, current_client, queue_check, state
from .problems import ApiError
from .store import ClientRecord, TaskRecord
from .uploads import check_upload, decode_base64

__all__ = ["router", "options_from_settings", "render_results", "to_hocr"]

router = APIRouter(prefix="/v5.0/ocr", tags=["aspose-compatible"])

# Aspose language names that are not inkread's own names for the language
_ASPOSE_LANGUAGES = {
    "netherlands": "nl",
    "slovene": "sl",
    "serbian": "sr-latn",
    "serbo_croatian": "hr",
    "hwt_eng": "en",
    "malay": "ms",
    "uzbek": "uz",
}
_RESULT_TYPES = (
    "Text",
    "Pdf",
    "TextAndPdf",
    "Hocr",
    "TextAndHocr",
    "PdfAndHocr",
    "TextAndPdfAndHocr",
    "ImagePNG",
    "JSON",
)
_STATUS = {"queued": "Pending", "running": "Processing", "done": "Completed", "failed": "Error", "cancelled": "Error"}
_CODE = {"queued": "NotReady", "running": "NotReady", "done": "Ok", "failed": "Error", "cancelled": "Error"}


class AsposeSettings(BaseModel):
    """``OCRSettingsRecognizeImage`` / ``OCRSettingsRecognizePdf`` (unknown fields are ignored)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    language: str | None = None
    makeSkewCorrect: bool | None = None
    makeBinarization: bool | None = None
    makeSpellCheck: bool | None = None
    makeContrastCorrection: bool | None = None
    makeUpsampling: bool | None = None
    dsrMode: str | None = None
    dsrConfidence: str | None = None
    resultType: str | None = None
    Rotate: int | None = Field(default=None, ge=-3600, le=3600)
    resultTypeTable: str | None = None
    regions: list[Any] | None = None


class AsposeBody(BaseModel):
    """``OCRRecognizeImageBody`` / ``OCRRecognizePdfBody``."""

    image: str = Field(description="the image or PDF, base64")
    settings: AsposeSettings = Field(default_factory=AsposeSettings)


def _language(name: str | None) -> tuple[Language, RecognitionMode]:
    if name is None or not name.strip():
        return Language.ENGLISH, RecognitionMode.AUTO
    key = name.strip().lower()
    mode = RecognitionMode.HANDWRITTEN if key == "hwt_eng" else RecognitionMode.AUTO
    try:
        return Language.parse(_ASPOSE_LANGUAGES.get(key, key)), mode
    except UnsupportedLanguageError as exc:
        raise ApiError(
            400, "UnsupportedLanguageError", f"language {name!r} is not supported by this server", hint=exc.hint
        ) from None


def options_from_settings(settings: AsposeSettings, *, pdf: bool = False) -> tuple[RecognitionOptions, dict[str, Any]]:
    """RecognitionOptions and the extra task options (rotation, result type, warnings)."""
    language, mode = _language(settings.language)
    changes: dict[str, Any] = {"language": language, "mode": mode}
    for flag, toggle in (
        ("makeSkewCorrect", "deskew"),
        ("makeBinarization", "binarize"),
        ("makeContrastCorrection", "contrast"),
        ("makeUpsampling", "upscale"),
    ):
        value = getattr(settings, flag)
        if value is not None:
            changes[toggle] = "on" if value else "off"
    result_type = settings.resultType or "Text"
    if result_type not in _RESULT_TYPES:
        raise ApiError(
            422, "InvalidOption", f"unknown resultType {result_type!r}", hint="one of: " + ", ".join(_RESULT_TYPES)
        )
    warnings: list[str] = []
    kinds = [k for k in ("Text", "Hocr", "JSON") if k in result_type]
    for missing in ("Pdf", "ImagePNG"):
        if missing in result_type:
            warnings.append(
                f"resultType {missing} is not supported by this server; "
                f"{'text' if not kinds else ', '.join(kinds)} returned instead"
            )
    if not kinds:
        kinds = ["Text"]
    if settings.makeSpellCheck:
        warnings.append("makeSpellCheck is not supported: the text is returned as read")
    if settings.regions:
        warnings.append("regions are not supported: the whole image was read")
    rotate = int(settings.Rotate or 0)
    if rotate % 360 and pdf:
        warnings.append("Rotate is applied to images only, not to PDF pages")
    extra = {"rotate": 0 if pdf else rotate, "aspose": {"result_types": kinds, "warnings": warnings}}
    return RecognitionOptions.from_fields(changes), extra


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _text(result: dict[str, Any]) -> str:
    pages = result.get("pages") or []
    if len(pages) > 1:
        return PAGE_SEPARATOR.join(p.get("text", "") for p in pages)
    return result.get("text", "")


def _bbox(poly: list[list[float]]) -> str:
    if not poly:
        return "0 0 0 0"
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    return f"{int(min(xs))} {int(min(ys))} {int(round(max(xs)))} {int(round(max(ys)))}"


def to_hocr(result: dict[str, Any]) -> str:
    """hOCR 1.2 of a result dict (``OcrResult.to_dict()``): pages, paragraphs, lines, words."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
        '<head><title></title><meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
        '<meta name="ocr-system" content="inkread"/>',
        '<meta name="ocr-capabilities" content="ocr_page ocr_par ocr_line ocrx_word"/></head>',
        "<body>",
    ]
    for p_index, page in enumerate(result.get("pages") or [], 1):
        out.append(
            f'<div class="ocr_page" id="page_{p_index}" title="bbox 0 0 {page.get("width", 0)} '
            f'{page.get("height", 0)}; ppageno {p_index - 1}">'
        )
        paragraphs: dict[int, list[dict[str, Any]]] = {}
        for line in page.get("lines") or []:
            paragraphs.setdefault(int(line.get("paragraph", 0)), []).append(line)
        line_no = 0
        for par_no, key in enumerate(sorted(paragraphs), 1):
            lines = paragraphs[key]
            boxes = [pt for line in lines for pt in line.get("bbox", [])]
            out.append(f'<p class="ocr_par" id="par_{p_index}_{par_no}" title="bbox {_bbox(boxes)}">')
            for line in lines:
                line_no += 1
                out.append(
                    f'<span class="ocr_line" id="line_{p_index}_{line_no}" title="bbox {_bbox(line.get("bbox", []))}">'
                )
                words = line.get("words") or []
                if not words:
                    words = [
                        {
                            "text": line.get("text", ""),
                            "bbox": line.get("bbox", []),
                            "confidence": line.get("confidence", 0),
                        }
                    ]
                for w_no, word in enumerate(words, 1):
                    conf = int(round(float(word.get("confidence", 0)) * 100))
                    out.append(
                        f'<span class="ocrx_word" id="word_{p_index}_{line_no}_{w_no}" '
                        f'title="bbox {_bbox(word.get("bbox", []))}; x_wconf {conf}">'
                        f"{html.escape(word.get('text', ''))}</span>"
                    )
                out.append("</span>")
            out.append("</p>")
        out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render_results(result: dict[str, Any], kinds: list[str]) -> list[dict[str, str]]:
    rendered = []
    for kind in kinds:
        if kind == "Text":
            rendered.append({"type": "Text", "data": _b64(_text(result))})
        elif kind == "Hocr":
            rendered.append({"type": "Hocr", "data": _b64(to_hocr(result))})
        elif kind == "JSON":
            rendered.append({"type": "JSON", "data": _b64(json.dumps(result, ensure_ascii=False))})
    return rendered


def ocr_response(task_id: str, task: TaskRecord | None, *, with_results: bool = True) -> dict[str, Any]:
    if task is None:
        return {
            "id": task_id,
            "taskStatus": "NotExist",
            "responseStatusCode": "TaskNotFound",
            "results": None,
            "error": {"messages": [f"no task {task_id} (unknown, another client's, or expired)"], "warnings": []},
        }
    aspose = task.options.get("aspose") or {}
    warnings = list(aspose.get("warnings") or [])
    body: dict[str, Any] = {
        "id": task.id,
        "taskStatus": _STATUS[task.status],
        "responseStatusCode": _CODE[task.status],
        "results": None,
        "error": None,
    }
    if task.status == "done" and task.result is not None:
        if with_results:
            body["results"] = render_results(task.result, aspose.get("result_types") or ["Text"])
        if warnings:
            body["error"] = {"messages": [], "warnings": warnings}
    elif task.status in ("failed", "cancelled"):
        err = task.error or {}
        message = err.get("message") or task.status
        name = err.get("error")
        body["error"] = {"messages": [f"{name}: {message}" if name else message], "warnings": warnings}
    return body


async def _submit(request: Request, body: AsposeBody, client: ClientRecord, *, pdf: bool) -> PlainTextResponse:
    st: ServiceState = state(request)
    data = decode_base64(body.image, "image")
    check_upload(data, st.settings)
    options, extra = options_from_settings(body.settings, pdf=pdf)

    def submit() -> TaskRecord:
        queue_check(st, client.id)
        return st.store.create_task(
            client_id=client.id,
            kind="aspose-pdf" if pdf else "aspose-image",
            data=data,
            options={"recognition": options.to_dict(), **extra},
        )

    task = await run_in_threadpool(submit)
    st.pool.notify()
    return PlainTextResponse(task.id)


def _get(request: Request, task_id: str, client: ClientRecord, *, with_results: bool = True) -> JSONResponse:
    task = state(request).store.get_task(task_id, client.id)
    return JSONResponse(ocr_response(task_id, task, with_results=with_results))


def _cancel(request: Request, task_id: str, client: ClientRecord) -> Response:
    st = state(request)
    st.store.cancel_task(task_id, client.id, result_ttl=st.settings.result_ttl)
    return Response(status_code=200)


_POST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the task id", "content": {"text/plain": {"schema": {"type": "string"}}}},
    401: {"description": "missing or bad token"},
}


@router.post(
    "/RecognizeImage",
    summary="PostRecognizeImage: queue an image",
    response_class=PlainTextResponse,
    responses=_POST_RESPONSES,
)
async def post_recognize_image(
    request: Request, body: AsposeBody, client: ClientRecord = Depends(current_client)
) -> PlainTextResponse:
    return await _submit(request, body, client, pdf=False)


@router.get("/RecognizeImage", summary="GetRecognizeImage: a task's OCRResponse")
def get_recognize_image(
    request: Request, id: str = Query(..., description="Task id"), client: ClientRecord = Depends(current_client)
) -> JSONResponse:
    return _get(request, id, client)


@router.delete("/RecognizeImage", summary="CancelRecognizeImage")
def cancel_recognize_image(
    request: Request, id: str = Query(...), client: ClientRecord = Depends(current_client)
) -> Response:
    return _cancel(request, id, client)


@router.post(
    "/RecognizePdf",
    summary="PostRecognizePdf: queue a PDF (or image)",
    response_class=PlainTextResponse,
    responses=_POST_RESPONSES,
)
async def post_recognize_pdf(
    request: Request, body: AsposeBody, client: ClientRecord = Depends(current_client)
) -> PlainTextResponse:
    return await _submit(request, body, client, pdf=True)


@router.get("/RecognizePdf", summary="GetRecognizePdf: a task's OCRResponse")
def get_recognize_pdf(
    request: Request, id: str = Query(..., description="Task id"), client: ClientRecord = Depends(current_client)
) -> JSONResponse:
    return _get(request, id, client)


@router.delete("/RecognizePdf", summary="CancelRecognizePdf")
def cancel_recognize_pdf(
    request: Request, id: str = Query(...), client: ClientRecord = Depends(current_client)
) -> Response:
    return _cancel(request, id, client)


@router.get("/Utilities/GetTaskStatus", summary="GetTaskStatus: status without results")
def get_task_status(
    request: Request, id: str = Query(..., description="Task id"), client: ClientRecord = Depends(current_client)
) -> JSONResponse:
    return _get(request, id, client, with_results=False)
