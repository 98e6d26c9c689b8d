"""The FastAPI application behind ``inkread serve``.

Endpoints (OpenAPI at ``/docs`` and ``/openapi.json``):

``POST /connect/token``  (:mod:`.oauth`)
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

``GET /``  the web page; ``GET /healthz``; ``GET /v1/languages``; ``GET /v1/models``.

Both ``/v1/recognize`` and ``/v1/tasks`` take either

* ``multipart/form-data`` with the file in ``file`` (or ``image``) and optional fields, or
* ``application/json`` ``{"image": "<base64>", ...}`` (``data`` is accepted for ``image``),

with these options: ``mode`` (auto, printed, handwritten), ``language`` (``auto``, the default: each
page's own; ``en``, ``french``, ``en+fr``, ...),
``pages`` (1-based, ``"1-3,5"`` or ``[1, 2, 3]``), ``upscale``/``contrast``/``denoise``/``binarize``/
``deskew`` (auto, on, off; true/false too), ``dpi`` (PDF render resolution, up to 600),
``detect_checkboxes``, ``lexicon`` and any other boolean ``RecognitionOptions`` field,
``max_pixels``, ``filename``, ``model`` (the name of a handwriting model the service registered with
``serve --model NAME=FILE``, also ``?model=NAME``; ``GET /v1/models`` lists them), and ``options``: a whole
``RecognitionOptions.to_dict()`` object (0-based ``pages``) that the single fields then override.

Errors are ``application/problem+json``: ``{"type", "title", "status", "detail", "error", "hint"?}``
where ``error`` names the exception (``UnsupportedFormatError``, ``ImageTooLargeError``, ...) and
``status`` is its ``http_status``. Bad input is always a 4xx: 400/415 for unusable files, 413 for
uploads over the size limit, 422 for malformed requests; a full queue is 503 (429 when one
client has too much queued) with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from .._version import __version__
from .auth import TokenIssuer
from .deps import ServiceState, current_client, pages_to_read, queue_check, state, task_json
from .problems import ApiError, BodyLimitMiddleware, install_error_handlers
from .settings import ServiceSettings
from .store import ClientRecord, Store, TaskRecord, default_db, open_store
from .uploads import UPLOAD_BODY, read_upload
from .worker import QueueFull, WorkerPool, recognize_bytes

__all__ = ["ServiceSettings", "create_app", "serve", "ApiError", "ServiceState"]

log = logging.getLogger("inkread.service")

WEB_DIR = Path(__file__).resolve().parent / "web"


# ----------------------------------------------------------------------------------------------
# The app

_PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, malformed, tampered, expired or revoked token"},
    413: {"description": "upload over the size limit"},
    415: {"description": "not a supported image or PDF"},
    422: {"description": "malformed request"},
}


def create_app(settings: ServiceSettings | None = None, *, store: Store | None = None, engine: Any = None) -> FastAPI:
    """Build the app. The store is opened (and the worker threads started) at startup; pass
    ``store``/``engine`` to share them (tests, several apps in one process)."""
    settings = settings or ServiceSettings()
    if settings.models:  # each registered handwriting model checked now, its file made absolute
        from ..backends import check_handwriting_model

        settings.models = {name: check_handwriting_model(path) for name, path in settings.models.items()}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        own_store = store is None
        the_store = store if store is not None else await run_in_threadpool(open_store, settings.db or default_db())
        issuer = await run_in_threadpool(TokenIssuer, the_store, settings.token_ttl)
        the_engine = engine
        processes = None
        if the_engine is None and settings.workers >= 2:
            from ..process_engine import ProcessEngine  # N recognitions at once: N processes, not N threads

            the_engine = processes = ProcessEngine(settings.workers)
        elif the_engine is None:
            from ..engine import OcrEngine

            the_engine = OcrEngine()
            the_engine.url = None  # the server recognises locally, whatever INKREAD_URL says
        if settings.preload_models and hasattr(the_engine, "warmup"):
            await run_in_threadpool(the_engine.warmup)
        pool = WorkerPool(
            the_store,
            the_engine,
            workers=settings.workers,
            lease_seconds=settings.lease_seconds,
            task_seconds=settings.task_seconds,
            poll_interval=settings.poll_interval,
            result_ttl=settings.result_ttl,
            max_sync_pending=settings.max_sync_pending,
            max_attempts=settings.max_attempts,
            purge_interval=settings.purge_interval,
            models=settings.models,
        )
        pool.start()
        from .limits import CheckGate, FailureLimiter

        app.state.service = ServiceState(
            settings,
            the_store,
            issuer,
            pool,
            the_engine,
            failures=FailureLimiter(
                settings.token_failures_per_client, settings.token_failures_per_address, settings.token_failure_window
            ),
            checks=CheckGate(settings.token_checks_at_once),
        )
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
    install_error_handlers(app)
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
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def docs_redirect() -> Any:
        return get_swagger_ui_oauth2_redirect_html()


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
        return {
            "status": "ok",
            "version": __version__,
            "queued": st.store.count_tasks("queued"),
            "running": st.store.count_tasks("running"),
            **st.pool.stats(),
        }

    @app.get("/v1/languages", tags=["service"], summary="languages the engine reads")
    def languages() -> list[dict[str, str]]:
        from ..languages import supported_languages

        return [{"code": i.code, "name": i.name} for i in supported_languages()]

    @app.get("/v1/models", tags=["service"], summary="handwriting models requests may name (model=NAME)")
    def models(request: Request) -> list[dict[str, str]]:
        return [{"name": name} for name in sorted(state(request).settings.models)]

    from .oauth import router as token_router  # POST /connect/token

    app.include_router(token_router)

    @app.post(
        "/v1/recognize",
        tags=["ocr"],
        summary="recognise an image or PDF now",
        openapi_extra={"requestBody": UPLOAD_BODY},
        responses=_PROBLEM_RESPONSES,
    )
    async def recognize(request: Request, client: ClientRecord = Depends(current_client)) -> JSONResponse:
        st = state(request)
        data, name, options = await read_upload(request, st.settings)
        from ..cancel import CancelToken, running

        token = CancelToken()

        def work() -> Any:
            with running(token):
                return recognize_bytes(st.engine, data, options, name=name, models=st.settings.models)

        try:
            fut = st.pool.submit(work)
        except QueueFull as exc:
            raise ApiError(
                503,
                "ServiceUnavailableError",
                str(exc),
                hint="try again later",
                headers={"Retry-After": str(exc.retry_after)},
            ) from None
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(fut), timeout=st.settings.sync_timeout)
        except TimeoutError:
            token.cancel("the request timed out")  # the worker stops before its next page
            raise ApiError(
                504,
                "OcrTimeoutError",
                f"recognition took longer than {st.settings.sync_timeout:g} s",
                hint="use POST /v1/tasks for long documents",
            ) from None
        return JSONResponse(result.to_dict())

    @app.post(
        "/v1/tasks",
        tags=["ocr"],
        status_code=202,
        summary="queue an image or PDF for recognition",
        openapi_extra={"requestBody": UPLOAD_BODY},
        responses={
            **_PROBLEM_RESPONSES,
            429: {"description": "too many queued tasks for this client"},
            503: {"description": "queue full"},
        },
    )
    async def create_task(request: Request, client: ClientRecord = Depends(current_client)) -> JSONResponse:
        st = state(request)
        data, name, options = await read_upload(request, st.settings)

        def submit() -> TaskRecord:
            queue_check(st, client.id)
            return st.store.create_task(
                client_id=client.id,
                kind="native",
                data=data,
                input_name=name,
                options={
                    "recognition": options.to_dict(),
                    "input_name": name,
                    "pages_total": pages_to_read(data, options),
                },
            )

        task = await run_in_threadpool(submit)
        st.pool.notify()
        return JSONResponse(task_json(task), status_code=202, headers={"Location": f"/v1/tasks/{task.id}"})

    @app.get(
        "/v1/tasks/{task_id}",
        tags=["ocr"],
        summary="a task's status, result or error",
        responses={404: {"description": "no such task (or another client's, or expired)"}},
    )
    def get_task(task_id: str, request: Request, client: ClientRecord = Depends(current_client)) -> JSONResponse:
        st = state(request)
        task = st.store.get_task(task_id, client.id)
        if task is None:
            raise ApiError(404, "NotFound", f"no task {task_id}")
        return JSONResponse(task_json(task, st.pool.pages_done(task_id)))

    @app.delete(
        "/v1/tasks/{task_id}",
        tags=["ocr"],
        summary="cancel a queued or running task",
        responses={404: {"description": "no such task"}, 409: {"description": "already finished"}},
    )
    def cancel_task(task_id: str, request: Request, client: ClientRecord = Depends(current_client)) -> JSONResponse:
        st = state(request)
        before = st.store.get_task(task_id, client.id)
        if before is None:
            raise ApiError(404, "NotFound", f"no task {task_id}")
        if before.finished:
            raise ApiError(
                409,
                "TaskFinished",
                f"task {task_id} has already finished ({before.status})",
                extra={"task_status": before.status},
            )
        task = st.store.cancel_task(task_id, client.id, result_ttl=st.settings.result_ttl)
        if task is None:
            raise ApiError(404, "NotFound", f"no task {task_id}")
        if task.status == "cancelled":  # read here: stop it now (another replica notices it itself)
            st.pool.cancel_running(task_id)
        if task.status != "cancelled":
            raise ApiError(
                409,
                "TaskFinished",
                f"task {task_id} has already finished ({task.status})",
                extra={"task_status": task.status},
            )
        return JSONResponse(task_json(task))


def serve(settings: ServiceSettings, *, host: str = "127.0.0.1", port: int = 8080, log_level: str = "info") -> int:
    """Run the service until interrupted (``inkread serve``)."""
    import uvicorn

    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    db = settings.db or default_db()
    settings.db = db
    display = db if not db.startswith(("postgres://", "postgresql://")) else db.split("@")[-1]
    log.info(
        "inkread %s serving on http://%s:%d (db: %s, %d worker thread(s), pid %d)",
        __version__,
        host,
        port,
        display,
        settings.workers,
        os.getpid(),
    )
    from .frontdoor import HeaderTimeoutH11Protocol, connection_cap, raise_file_limit

    HeaderTimeoutH11Protocol.header_timeout = settings.header_timeout
    HeaderTimeoutH11Protocol.body_timeout = settings.body_timeout
    files = raise_file_limit()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=10,
        http=HeaderTimeoutH11Protocol,
        limit_concurrency=connection_cap(files),
    )
    return 0
