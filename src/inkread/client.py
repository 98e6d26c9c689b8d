"""The remote engine: ``OcrEngine(client_id=..., client_secret=..., url=...)`` sends the work to an
``inkread serve`` service and returns the same :class:`~inkread.result.OcrResult` as local runs.

>>> import inkread as ocr
>>> engine = ocr.OcrEngine(client_id="...", client_secret="...", url="http://ocr.local:8080")  # doctest: +SKIP
>>> engine.recognize("note.jpg", mode="handwritten").text  # doctest: +SKIP

The URL may also come from ``$INKREAD_URL``, the credentials from ``$INKREAD_CLIENT_ID`` /
``$INKREAD_CLIENT_SECRET``. Behaviour:

* the access token (``POST /connect/token``, client credentials) is fetched once, cached (shared
  by every engine with the same URL and credentials) and fetched again shortly before it
  expires, or once when the service answers 401;
* connection errors, timeouts, 429 and 5xx answers are retried ``retries`` times (default 3)
  with exponential back-off and jitter; a ``Retry-After`` header is respected (up to
  ``max_retry_after`` seconds);
* each request may take ``timeout`` seconds (default 120);
* every failure is an :class:`~inkread.exceptions.OcrException`: the service's problem body names
  the error (``UnsupportedFormatError``, ``PageSelectionError`` ...) and the same class is raised
  here; bad credentials are :class:`~inkread.exceptions.AuthenticationError`, an unreachable or
  overloaded service :class:`~inkread.exceptions.ServiceUnavailableError`, timeouts
  :class:`~inkread.exceptions.OcrTimeoutError`. A missing local file is ``FileNotFoundError``, as
  with the local engine.

Tuning per engine: set ``engine.timeout`` / ``engine.retries`` (or ``$INKREAD_TIMEOUT`` /
``$INKREAD_RETRIES``), or build a :class:`RemoteBackend` yourself.
"""

from __future__ import annotations

import atexit
import email.utils
import io
import json
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from . import exceptions as exc_mod
from .exceptions import (
    AuthenticationError,
    ImageTooLargeError,
    InputError,
    OcrException,
    OcrTimeoutError,
    ServiceUnavailableError,
)
from .options import RecognitionOptions
from .result import OcrResult

__all__ = ["RemoteBackend", "CLIENT_ID_ENV", "CLIENT_SECRET_ENV", "TIMEOUT_ENV", "RETRIES_ENV"]

CLIENT_ID_ENV = "INKREAD_CLIENT_ID"
CLIENT_SECRET_ENV = "INKREAD_CLIENT_SECRET"
TIMEOUT_ENV = "INKREAD_TIMEOUT"
RETRIES_ENV = "INKREAD_RETRIES"

DEFAULT_TIMEOUT = 120.0
DEFAULT_RETRIES = 3

_RETRY_STATUSES = {429, 500, 502, 503, 504}

# one backend (HTTP connection pool + token) per service and credentials, shared by engines; the
# least recently used is closed past MAX_BACKENDS, the rest when the interpreter exits
_backends: dict[tuple[Any, ...], RemoteBackend] = {}
_backends_lock = threading.Lock()
MAX_BACKENDS = 16


def _close_backends() -> None:
    with _backends_lock:
        while _backends:
            _backends.popitem()[1].close()


atexit.register(_close_backends)


class _Retry(Exception):
    """One attempt failed in a way worth another try."""

    def __init__(self, final: OcrException, retry_after: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after


def _env_number(name: str, kind: Callable[[str], Any], default: Any) -> Any:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return kind(text)
    except ValueError:
        raise OcrException(f"${name} must be a number, not {text!r}") from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:500].strip() or response.reason_phrase}
    return body if isinstance(body, dict) else {"detail": str(body)[:500]}


def _exception_for(status: int, body: dict[str, Any]) -> OcrException:
    """The exception a problem body names (the same class the service caught), else one by status."""
    name = body.get("error") if isinstance(body.get("error"), str) else None
    detail = body.get("detail") or body.get("error_description") or body.get("message") or f"HTTP {status}"
    hint = body.get("hint") if isinstance(body.get("hint"), str) else None
    cls = getattr(exc_mod, name, None) if name else None
    if isinstance(cls, type) and issubclass(cls, OcrException):
        return cls(str(detail), hint=hint)
    if status == 401:
        return AuthenticationError(str(detail), hint=hint or "check the client id and secret")
    if status == 413:
        return ImageTooLargeError(str(detail), hint=hint)
    if status in (400, 415, 422):
        return InputError(f"the OCR service refused the request: {detail}", hint=hint)
    if status == 504:
        return OcrTimeoutError(f"the OCR service timed out: {detail}", hint=hint)
    if status == 429 or status >= 500:
        return ServiceUnavailableError(f"the OCR service is unavailable (HTTP {status}): {detail}", hint=hint)
    return OcrException(f"the OCR service answered HTTP {status}: {detail}", hint=hint)


class RemoteBackend:
    """Talks to one ``inkread serve`` service with one set of client credentials."""

    def __init__(
        self,
        url: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url:
            raise OcrException("no OCR service URL", hint="pass url=... or set $INKREAD_URL")
        if "://" not in url:
            url = "http://" + url
        self.url = url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.max_retry_after = float(max_retry_after)
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.url, timeout=self.timeout, follow_redirects=False, headers={"User-Agent": "inkread-client"}
        )
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()
        self.token_fetches = 0  # how many tokens this backend has asked for (tests, diagnostics)

    def __repr__(self) -> str:
        return f"RemoteBackend({self.url!r}, client_id={self.client_id!r})"

    # ---- construction from an engine
    @classmethod
    def for_engine(cls, engine: Any) -> RemoteBackend:
        """The backend for ``engine``'s URL and credentials (one per distinct set, so the token is
        shared); ``engine.timeout`` / ``engine.retries`` override the defaults."""
        url = engine.url
        client_id = engine.client_id or os.environ.get(CLIENT_ID_ENV) or None
        secret = getattr(engine, "_client_secret", None) or os.environ.get(CLIENT_SECRET_ENV) or None
        timeout = getattr(engine, "timeout", None) or _env_number(TIMEOUT_ENV, float, DEFAULT_TIMEOUT)
        retries = getattr(engine, "retries", None)
        if retries is None:
            retries = _env_number(RETRIES_ENV, int, DEFAULT_RETRIES)
        key = (url, client_id, secret, float(timeout), int(retries))
        with _backends_lock:
            backend = _backends.pop(key, None)  # re-inserted last: the most recently used
            if backend is None:
                if len(_backends) >= MAX_BACKENDS:  # the least recently used set of credentials goes
                    _backends.pop(next(iter(_backends))).close()
                backend = cls(url, client_id, secret, timeout=timeout, retries=retries)
            _backends[key] = backend
            return backend

    def close(self) -> None:
        self._http.close()

    # ---- recognition
    def recognize(self, source: Any, options: RecognitionOptions) -> OcrResult:
        """Recognise ``source`` (path, bytes, file object, PIL image, numpy array) on the service."""
        data, name, local_source = _encode(source, options)

        def send() -> httpx.Response:
            return self._http.post(
                "/v1/recognize",
                files={"file": (name, data, "application/octet-stream")},
                data={"options": json.dumps(_changed_options(options))},
                headers={"Authorization": f"Bearer {self.token()}"},
            )

        response = self._call(send, authenticated=True)
        try:
            result = OcrResult.from_dict(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceUnavailableError(f"the OCR service sent an unreadable result: {exc}") from None
        if local_source is not None:
            result.source = local_source
        return result

    # ---- tokens
    def token(self) -> str:
        """A valid access token, fetched when there is none or it is about to expire."""
        with self._lock:
            if self._token is None or time.time() >= self._token_expires:
                self._fetch_token()
            assert self._token is not None
            return self._token

    def invalidate_token(self, token: str | None = None) -> None:
        with self._lock:
            if token is None or token == self._token:
                self._token = None

    def _fetch_token(self) -> None:
        if not self.client_id or not self._client_secret:
            raise AuthenticationError(
                "no client credentials for the OCR service",
                hint=f"pass client_id= and client_secret=, or set ${CLIENT_ID_ENV} and ${CLIENT_SECRET_ENV}",
            )
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._client_secret}
        response = self._call(lambda: self._http.post("/connect/token", data=form), authenticated=False)
        try:
            body = response.json()
            token = body["access_token"]
            expires_in = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise ServiceUnavailableError("the OCR service sent an unreadable token answer") from None
        self.token_fetches += 1
        self._token = str(token)
        self._token_expires = time.time() + expires_in - min(30.0, expires_in / 10)

    # ---- the retry loop
    def _call(self, send: Callable[[], httpx.Response], *, authenticated: bool) -> httpx.Response:
        refreshed = False
        attempt = 0
        while True:
            try:
                try:
                    response = send()
                except httpx.TimeoutException as exc:
                    raise _Retry(
                        OcrTimeoutError(
                            f"the OCR service at {self.url} did not answer within "
                            f"{self.timeout:g} s ({type(exc).__name__})"
                        )
                    ) from None
                except httpx.TransportError as exc:
                    raise _Retry(
                        ServiceUnavailableError(
                            f"cannot reach the OCR service at {self.url}: {exc}",
                            hint="is 'inkread serve' running there?",
                        )
                    ) from None
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    raise OcrException(
                        f"cannot send the request to {self.url}: {exc}", hint="check the service URL"
                    ) from None
                if response.status_code < 400:
                    return response
                body = _problem(response)
                if response.status_code == 401:
                    if authenticated and not refreshed:
                        refreshed = True  # the token may have expired or been rotated: one fresh try
                        self.invalidate_token()
                        continue
                    error = _exception_for(401, body)
                    if not isinstance(error, AuthenticationError):
                        error = AuthenticationError(error.message, hint=error.hint)
                    raise error
                if response.status_code in _RETRY_STATUSES:
                    raise _Retry(_exception_for(response.status_code, body), _retry_after(response))
                raise _exception_for(response.status_code, body)
            except _Retry as retry:
                if attempt >= self.retries:
                    raise retry.final from None
                self._sleep(self._delay(attempt, retry.retry_after))
                attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        ceiling = min(self.max_backoff, self.backoff * 2**attempt)
        jittered = ceiling / 2 + random.uniform(0, ceiling / 2)  # "equal jitter"
        if retry_after is not None:
            return min(self.max_retry_after, max(retry_after, 0.0))
        return jittered


def _changed_options(options: RecognitionOptions) -> dict[str, Any]:
    """The options that differ from the defaults (so a service of another version understands the
    request as long as the options used are ones it knows)."""
    defaults = RecognitionOptions().to_dict()
    changed: dict[str, Any] = {}
    for key, value in options.to_dict().items():
        if key == "preprocess":
            pre = {k: v for k, v in value.items() if defaults["preprocess"].get(k) != v}
            if pre:
                changed[key] = pre
        elif defaults.get(key) != value:
            changed[key] = value
    return changed


def _encode(source: Any, options: RecognitionOptions) -> tuple[bytes, str, str | None]:
    """The bytes to upload, a file name, and the local source name for the result."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            with open(path, "rb") as fh:
                return fh.read(), os.path.basename(path) or "upload", path
        except FileNotFoundError:
            raise FileNotFoundError(f"no such file: {path}") from None
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "upload", None
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            raise InputError("the file object is open in text mode", hint="open it with 'rb'")
        name = os.path.basename(str(getattr(source, "name", "") or "")) or "upload"
        return bytes(data), name, None
    return _encode_pixels(source, options), "upload.png", None


def _encode_pixels(source: Any, options: RecognitionOptions) -> bytes:
    """A PIL image or numpy array as PNG (several frames: a multi-page TIFF)."""
    from PIL import Image

    from .io import load_pages

    pages = load_pages(source, max_pixels=options.max_pixels)  # the local rules for arrays and images
    images = [Image.fromarray(p.image) for p in pages]
    buf = io.BytesIO()
    if len(images) == 1:
        images[0].save(buf, "PNG")
    else:
        images[0].save(buf, "TIFF", save_all=True, append_images=images[1:], compression="tiff_deflate")
    return buf.getvalue()
