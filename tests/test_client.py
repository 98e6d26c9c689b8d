"""The remote engine: ``OcrEngine(client_id=..., client_secret=..., url=...)`` against a real
``inkread serve`` app, and :class:`RemoteBackend`'s retries and token handling against a scripted
server (real uvicorn, real HTTP)."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from PIL import Image
from service_helpers import ServerThread, env_var, free_port, handwritten_title, printed_lines, words_of

import inkread
from inkread import exceptions as exc
from inkread.client import RemoteBackend
from inkread.options import RecognitionOptions
from inkread.service.app import ServiceSettings, create_app
from inkread.service.auth import create_client
from inkread.service.store import open_store


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("client") / "service.db")
    store = open_store(db)
    record, secret = create_client(store, "client-tests")
    with ServerThread(create_app(ServiceSettings(db=db, workers=1, poll_interval=0.1, preload_models=False), store=store)) as server:
        server.store = store
        server.creds = (record.id, secret)
        yield server
    store.close()


def _strip(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in ("timings", "source")}


def test_remote_engine_returns_the_same_result_as_local(service, tmp_path):
    path = tmp_path / "title.jpg"
    path.write_bytes(handwritten_title())
    remote = inkread.OcrEngine(*service.creds, url=service.url).recognize(path, mode="handwritten")
    local = inkread.OcrEngine().recognize(path, mode="handwritten")
    assert isinstance(remote, inkread.OcrResult)
    assert _strip(remote.to_dict()) == _strip(local.to_dict())
    assert remote.source == str(path) and words_of(remote.text) == {"saturday", "errands"}


def test_url_from_the_environment_and_the_cloud_sdk_style(service):
    with env_var("INKREAD_URL", service.url):
        engine = inkread.OcrEngine(*service.creds)
        assert engine.url == service.url
        engine.load_image(io.BytesIO(printed_lines()))
        engine.set_recognition_mode(inkread.RecognitionMode.PRINTED)
        result = engine.recognize()
    assert "community library" in result.text and result.mode == "printed"


def test_every_kind_of_source(service):
    engine = inkread.OcrEngine(*service.creds, url=service.url)
    pil = Image.open(io.BytesIO(handwritten_title()))
    for source in (handwritten_title(), pil, np.asarray(pil.convert("RGB"))):
        assert words_of(engine.recognize(source, mode="handwritten").text) == {"saturday", "errands"}


def test_errors_arrive_as_the_same_exceptions(service, tmp_path):
    engine = inkread.OcrEngine(*service.creds, url=service.url)
    with pytest.raises(exc.UnsupportedFormatError):
        engine.recognize(b"this is text, not an image")
    with pytest.raises(exc.CorruptInputError):
        engine.recognize(printed_lines()[:300])
    with pytest.raises(exc.EmptyInputError):
        engine.recognize(b"")
    with pytest.raises(exc.PageSelectionError):
        engine.recognize(printed_lines(), pages=[3])
    with pytest.raises(FileNotFoundError):
        engine.recognize(tmp_path / "missing.png")
    with pytest.raises(exc.InputError):
        engine.recognize(tmp_path)  # a directory
    bad = inkread.OcrEngine(service.creds[0], "wrong secret", url=service.url)
    with pytest.raises(exc.AuthenticationError) as info:
        bad.recognize(printed_lines())
    assert info.value.exit_code == 12
    with env_var("INKREAD_CLIENT_ID", None), env_var("INKREAD_CLIENT_SECRET", None):
        with pytest.raises(exc.AuthenticationError, match="no client credentials"):
            inkread.OcrEngine(url=service.url).recognize(printed_lines())


def test_credentials_from_the_environment(service):
    with env_var("INKREAD_CLIENT_ID", service.creds[0]), env_var("INKREAD_CLIENT_SECRET", service.creds[1]):
        result = inkread.OcrEngine(url=service.url).recognize(handwritten_title(), mode="handwritten")
    assert "errands" in result.text


def test_the_token_is_cached_and_renewed(service):
    backend = RemoteBackend(service.url, *service.creds, retries=0)
    opts = RecognitionOptions(mode="handwritten")
    backend.recognize(handwritten_title(), opts)
    backend.recognize(handwritten_title(), opts)
    assert backend.token_fetches == 1
    backend._token = "expired-or-rotated"  # the service answers 401: one fresh token, then success
    backend.recognize(handwritten_title(), opts)
    assert backend.token_fetches == 2
    backend._token_expires = time.time() - 1  # about to expire: fetched before the call
    backend.recognize(handwritten_title(), opts)
    assert backend.token_fetches == 3
    # revoking the client ends it: the fresh token is refused too
    record, secret = create_client(service.store, "to-revoke")
    revoked = RemoteBackend(service.url, record.id, secret, retries=0)
    revoked.token()
    service.store.revoke_client(record.id)
    with pytest.raises(exc.AuthenticationError):
        revoked.recognize(handwritten_title(), opts)


def test_engines_share_one_backend_and_its_token(service):
    a = inkread.OcrEngine(*service.creds, url=service.url)
    b = inkread.OcrEngine(*service.creds, url=service.url)
    assert RemoteBackend.for_engine(a) is RemoteBackend.for_engine(b)
    b.retries, b.timeout = 0, 5.0
    tuned = RemoteBackend.for_engine(b)
    assert tuned is not RemoteBackend.for_engine(a) and tuned.retries == 0 and tuned.timeout == 5.0


# ----------------------------------------------------------------------------------------------
# retries, against a scripted server

RESULT = {"source": "", "language": "en", "mode": "printed", "text": "hello", "confidence": 0.9, "timings": {},
          "pages": [{"index": 0, "width": 10, "height": 10, "mode": "printed", "angle": 0, "text": "hello",
                     "confidence": 0.9, "lines": [{"text": "hello", "bbox": [[0, 0], [9, 0], [9, 9], [0, 9]],
                                                   "confidence": 0.9, "paragraph": 0, "column": 0,
                                                   "words": []}]}]}


class Script:
    """What the fake service answers, one entry per request; then the plain result."""

    def __init__(self) -> None:
        self.recognize: list[Any] = []
        self.token: list[Any] = []
        self.calls = {"recognize": 0, "token": 0}
        self.auth_headers: list[str] = []
        self.options: list[Any] = []


def scripted_app(script: Script) -> FastAPI:
    app = FastAPI()

    async def answer(entries: list[Any], ok: Any) -> Any:
        if not entries:
            return ok
        entry = entries.pop(0)
        if isinstance(entry, (int, float)) and not isinstance(entry, bool) and entry < 100:
            await asyncio.sleep(entry)  # a slow answer
            return ok
        status, headers, body = entry
        return JSONResponse(body, status_code=status, headers=headers)

    @app.post("/connect/token")
    async def token() -> Any:
        script.calls["token"] += 1
        n = script.calls["token"]
        return await answer(script.token, JSONResponse({"access_token": f"token-{n}", "token_type": "Bearer",
                                                        "expires_in": 3600}))

    @app.post("/v1/recognize")
    async def recognize(request: Request) -> Any:
        form = await request.form()
        script.options.append(json.loads(form.get("options") or "null"))
        script.calls["recognize"] += 1
        script.auth_headers.append(request.headers.get("authorization", ""))
        return await answer(script.recognize, JSONResponse(RESULT))

    return app


@pytest.fixture(scope="module")
def fake():
    script = Script()
    with ServerThread(scripted_app(script)) as server:
        server.script = script
        yield server


@pytest.fixture()
def script(fake):
    fake.script.__init__()
    return fake.script


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.02))


def _backend(fake, **kwargs) -> tuple[RemoteBackend, Sleeps]:
    sleeps = Sleeps()
    kwargs.setdefault("retries", 3)
    return RemoteBackend(fake.url, "id", "secret", backoff=0.1, sleep=sleeps, **kwargs), sleeps


def _problem(status: int, error: str = "ServiceUnavailableError", retry_after: str | None = None) -> tuple:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return status, headers, {"status": status, "error": error, "detail": f"scripted {status}"}


def test_retries_429_and_5xx_then_succeeds(fake, script):
    script.recognize = [_problem(503, retry_after="2"), _problem(429, "TooManyRequests", "1"),
                        _problem(500, "InternalError"), _problem(502, "BadGateway")]
    backend, sleeps = _backend(fake, retries=4)
    result = backend.recognize(b"img", RecognitionOptions())
    assert result.text == "hello" and isinstance(result, inkread.OcrResult)
    assert script.calls == {"recognize": 5, "token": 1}
    assert sleeps[:2] == [2.0, 1.0]  # Retry-After respected
    assert 0.2 <= sleeps[2] <= 0.4 and 0.4 <= sleeps[3] <= 0.8  # exponential back-off (0.1 * 2**n) with jitter


def test_gives_up_after_the_retries(fake, script):
    script.recognize = [_problem(503)] * 10
    backend, sleeps = _backend(fake, retries=2)
    with pytest.raises(exc.ServiceUnavailableError, match="scripted 503"):
        backend.recognize(b"img", RecognitionOptions())
    assert script.calls["recognize"] == 3 and len(sleeps) == 2


def test_retry_after_as_a_date_and_capped(fake, script):
    from email.utils import formatdate

    script.recognize = [_problem(503, retry_after=formatdate(time.time() + 30, usegmt=True)),
                        _problem(429, "TooManyRequests", "999")]
    backend, sleeps = _backend(fake, max_retry_after=10)
    backend.recognize(b"img", RecognitionOptions())
    assert sleeps[0] == 10  # 30 s away, capped at max_retry_after
    assert sleeps[1] == 10


def test_client_errors_are_not_retried(fake, script):
    script.recognize = [_problem(400, "CorruptInputError")]
    backend, sleeps = _backend(fake)
    with pytest.raises(exc.CorruptInputError, match="scripted 400"):
        backend.recognize(b"img", RecognitionOptions())
    assert script.calls["recognize"] == 1 and sleeps == []
    script.recognize = [_problem(418, "Teapot")]
    with pytest.raises(exc.OcrException, match="418"):
        backend.recognize(b"img", RecognitionOptions())


def test_401_refreshes_the_token_once(fake, script):
    script.recognize = [_problem(401, "AuthenticationError")]
    backend, _ = _backend(fake)
    assert backend.recognize(b"img", RecognitionOptions()).text == "hello"
    assert script.calls == {"recognize": 2, "token": 2}
    assert script.auth_headers == ["Bearer token-1", "Bearer token-2"]
    script.recognize = [_problem(401, "AuthenticationError")] * 2
    with pytest.raises(exc.AuthenticationError):
        backend.recognize(b"img", RecognitionOptions())
    assert script.calls["token"] == 3  # one refresh, not a loop


def test_token_endpoint_failures(fake, script):
    script.token = [_problem(503, retry_after="0"), (401, {}, {"error": "invalid_client",
                                                              "error_description": "bad secret"})]
    backend, sleeps = _backend(fake)
    with pytest.raises(exc.AuthenticationError, match="bad secret"):
        backend.recognize(b"img", RecognitionOptions())
    assert script.calls == {"recognize": 0, "token": 2} and sleeps == [0.0]


def test_timeouts_are_retried_then_raised(fake, script):
    script.recognize = [1.0, 1.0]
    backend, sleeps = _backend(fake, retries=1, timeout=0.3)
    with pytest.raises(exc.OcrTimeoutError):
        backend.recognize(b"img", RecognitionOptions())
    assert script.calls["recognize"] == 2 and len(sleeps) == 1
    script.recognize = [1.0]
    assert backend.recognize(b"img", RecognitionOptions()).text == "hello"  # the retry gets through


def test_connection_errors_are_retried_then_service_unavailable():
    sleeps = Sleeps()
    backend = RemoteBackend(f"http://127.0.0.1:{free_port()}", "id", "secret", retries=2, backoff=0.05, sleep=sleeps)
    with pytest.raises(exc.ServiceUnavailableError, match="cannot reach") as info:
        backend.recognize(b"img", RecognitionOptions())
    assert len(sleeps) == 2 and info.value.exit_code == 13


def test_garbage_answers_are_service_errors(fake, script):
    script.recognize = [(200, {}, {"pages": "not a list"})]
    backend, _ = _backend(fake)
    with pytest.raises(exc.OcrException):
        backend.recognize(b"img", RecognitionOptions())


def test_only_changed_options_are_sent(fake, script):
    backend, _ = _backend(fake)
    backend.recognize(b"img", RecognitionOptions())
    backend.recognize(b"img", RecognitionOptions(mode="handwritten", pages=(0, 2)).updated(binarize=True))
    assert script.options == [{}, {"mode": "handwritten", "pages": [0, 2], "preprocess": {"binarize": "on"}}]


def test_remote_backends_are_shared_and_bounded(monkeypatch):
    """One backend (connection pool, token) per service and credentials, shared by engines; the
    cache of them was never closed nor bounded (issue 15): past MAX_BACKENDS the least recently used
    is closed."""
    from inkread import client as client_mod

    monkeypatch.setattr(client_mod, "_backends", {})
    monkeypatch.setattr(client_mod, "MAX_BACKENDS", 3)
    engines = [inkread.OcrEngine(client_id=f"id{i}", client_secret="s", url="http://127.0.0.1:9") for i in range(4)]
    first = client_mod.RemoteBackend.for_engine(engines[0])
    assert client_mod.RemoteBackend.for_engine(inkread.OcrEngine(client_id="id0", client_secret="s",
                                                                  url="http://127.0.0.1:9")) is first
    second, _third = (client_mod.RemoteBackend.for_engine(e) for e in engines[1:3])
    client_mod.RemoteBackend.for_engine(engines[0])  # used again: id1 is now the oldest
    client_mod.RemoteBackend.for_engine(engines[3])
    assert len(client_mod._backends) == 3 and not first._http.is_closed and second._http.is_closed
    assert {k[1] for k in client_mod._backends} == {"id0", "id2", "id3"}
