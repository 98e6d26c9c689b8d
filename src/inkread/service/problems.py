"""Errors as problem JSON (RFC 9457): :class:`ApiError`, :func:`problem`, the request body size
limit, and the app's exception handlers (every error is a JSON body; the Aspose routes get
``application/json`` because the Aspose SDK parses only that)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..exceptions import OcrException

__all__ = ["PROBLEM", "ApiError", "problem", "unauthorized", "BodyLimitMiddleware", "install_error_handlers"]

log = logging.getLogger("inkread.service")

PROBLEM = "application/problem+json"


class ApiError(StarletteHTTPException):
    """An error answered as a problem JSON body.

    An ``HTTPException`` so that FastAPI passes it through untouched when it is raised while a
    request body is read (the body size limit)."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        *,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(status, detail, headers)
        self.status = status
        self.error = error
        self.detail = detail
        self.hint = hint
        self.headers = headers or {}
        self.extra = extra or {}

    @classmethod
    def from_exception(cls, exc: OcrException, *, status: int | None = None) -> ApiError:
        return cls(status or int(exc.http_status), type(exc).__name__, exc.message, hint=exc.hint)


def problem(
    status: int,
    error: str,
    detail: str,
    *,
    hint: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    media_type: str = PROBLEM,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": error, "status": status, "detail": detail, "error": error}
    if hint:
        body["hint"] = hint
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=media_type)


def unauthorized(detail: str) -> ApiError:
    return ApiError(
        401,
        "AuthenticationError",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="inkread"'},
        hint="get a token from POST /connect/token and send 'Authorization: Bearer <token>'",
    )


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
        too_large = ApiError(
            413,
            "RequestTooLarge",
            f"the request body is over the limit of {self.limit:,} bytes",
            hint="send a smaller file (the server's --max-upload-mb)",
        )
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
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


def _media_type(request: Request) -> str:
    # the Aspose SDK only parses error bodies sent as application/json
    return "application/json" if request.url.path.startswith("/v5.0/") else PROBLEM


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem(
            exc.status,
            exc.error,
            exc.detail,
            hint=exc.hint,
            headers=exc.headers,
            extra=exc.extra,
            media_type=_media_type(request),
        )

    @app.exception_handler(OcrException)
    async def _ocr_error(request: Request, exc: OcrException) -> JSONResponse:
        return problem(
            int(exc.http_status), type(exc).__name__, exc.message, hint=exc.hint, media_type=_media_type(request)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors[:5])
        return problem(
            422,
            "InvalidRequest",
            detail or "invalid request",
            extra={"errors": json.loads(json.dumps(errors, default=str))},
            media_type=_media_type(request),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "NotFound", 405: "MethodNotAllowed", 400: "InvalidRequest", 413: "RequestTooLarge"}
        return problem(
            exc.status_code,
            names.get(exc.status_code, "HTTPError"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
            media_type=_media_type(request),
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("inkread: internal error on %s %s", request.method, request.url.path)
        return problem(
            500, "InternalError", "internal server error; see the server log", media_type=_media_type(request)
        )
