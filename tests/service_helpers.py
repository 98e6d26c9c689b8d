"""Helpers for the service and client tests: real uvicorn servers on loopback, small test images,
a PostgreSQL server in a temporary data directory."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTE = EXAMPLES / "handwritten_note.jpg"
PRINTED = EXAMPLES / "printed_page.png"
PG_BIN = Path(os.environ.get("INKREAD_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------------------------------
# small real images (cut from the examples, so recognition takes well under a second)

_cache: dict[str, bytes] = {}


def _crop(path: Path, box: tuple[int, int, int, int], fmt: str) -> bytes:
    key = f"{path}:{box}:{fmt}"
    if key not in _cache:
        from PIL import Image

        with Image.open(path) as im:
            buf = io.BytesIO()
            im.convert("RGB").crop(box).save(buf, fmt)
        _cache[key] = buf.getvalue()
    return _cache[key]


def handwritten_title() -> bytes:
    """The note's first line, 'Saturday errands' (JPEG, about 24 kB)."""
    return _crop(NOTE, (0, 0, 900, 250), "JPEG")


def printed_lines() -> bytes:
    """The printed page's first two lines (PNG, about 7 kB)."""
    return _crop(PRINTED, (0, 0, 1240, 180), "PNG")


PRINTED_LINE_1 = "The community library will be closed for repairs from"


def words_of(text: str) -> set[str]:
    return {w.strip(".,:;").lower() for w in text.split() if w.strip(".,:;")}


# ----------------------------------------------------------------------------------------------
# servers


class ServerThread:
    """A uvicorn server for ``app`` on 127.0.0.1:<free port>, in a thread of this process."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        import uvicorn

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=f"uvicorn-{self.port}")

    def start(self, timeout: float = 60.0) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server thread died while starting")
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class ServerProcess:
    """``inkread serve`` in a subprocess (for kill -9 and restart)."""

    def __init__(self, db: str, *, port: int | None = None, extra: list[str] | None = None,
                 env: dict[str, str] | None = None, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        self.extra = extra or []
        self.env = {**os.environ, **(env or {})}
        self.env.pop("INKREAD_URL", None)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> "ServerProcess":
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inkread", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--db", self.db, "--log-level", "warning", *self.extra],
            env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"inkread serve exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError("inkread serve did not come up")
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9: no clean shutdown at all."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def get_token(url: str, client_id: str, secret: str) -> str:
    r = httpx.post(url + "/connect/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                  "client_secret": secret}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


def wait_task(client: httpx.Client, task_id: str, *, timeout: float = 60.0,
              done: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    """Poll ``GET /v1/tasks/{id}`` until the task has finished."""
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/v1/tasks/{task_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        if (done or (lambda b: b["status"] in ("done", "failed", "cancelled")))(body):
            return body
        if time.monotonic() > deadline:
            raise TimeoutError(f"task {task_id} still {body['status']}")
        time.sleep(0.1)


# ----------------------------------------------------------------------------------------------
# PostgreSQL in a temporary data directory


class PostgresServer:
    """initdb + pg_ctl from ``PG_BIN`` on a free loopback port; run as the ``postgres`` user when
    we are root (postgres refuses to run as root)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="inkread-pg-"))
        self.data = self.tmp / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"

    @staticmethod
    def unavailable() -> str | None:
        """Why no server can be started here, or None."""
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not (PG_BIN / tool).exists():
                return f"PostgreSQL binaries not found in {PG_BIN} (apt-get install postgresql)"
        if os.geteuid() == 0:
            import pwd

            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no 'postgres' user to run PostgreSQL as"
        return None

    def _run(self, *args: str, timeout: float = 120) -> None:
        kwargs: dict[str, Any] = {}
        if self.user:
            kwargs["user"] = self.user
        subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                       cwd=self.tmp, **kwargs)

    def start(self) -> "PostgresServer":
        if self.user:
            shutil.chown(self.tmp, self.user)
            os.chmod(self.tmp, 0o700)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "inkread", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.tmp / "log"),
                  "-o", f"-h 127.0.0.1 -p {self.port} -k {self.tmp} -c fsync=off -c max_connections=200",
                  "start")
        return self

    @property
    def url(self) -> str:
        return f"postgresql://inkread@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def env_var(name: str, value: str | None) -> Iterator[None]:
    old = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old
