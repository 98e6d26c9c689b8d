#!/usr/bin/env python3
"""Load test of ``inkread serve``: many clients, many small tasks, nothing lost or duplicated.

Starts a real ``inkread serve`` subprocess on 127.0.0.1 (free port, temporary SQLite DB), creates
``--clients`` API clients with ``inkread clients add``, then one thread per client (httpx) submits
its share of ``--tasks`` tasks (POST /v1/tasks) and polls them (GET /v1/tasks/{id}) until done,
all bounded by ``--timeout``. The images are small real ones: single-line crops of
``examples/handwritten_note.jpg`` and a downscaled ``examples/printed_page.png``.

Checks: every accepted task reaches ``done`` (none lost), task ids are unique and each ran once
(``attempts == 1``), a client cannot see another client's tasks (404), and each result's text
equals the text the in-process local engine gives for the same image. 429/503 answers are retried
after their ``Retry-After`` and counted.

Reports p50/p95 submit->done latency (client's submit start to the server's ``finished_at``; same
machine clock), throughput, the same images recognised in-process sequentially, and the server's
RSS (VmRSS, VmHWM from /proc/<pid>/status) before and after the load. Prints a Markdown table and
writes ``bench/out/load/summary.md`` (+ ``summary.json``, ``server.log``).

    .venv/bin/python bench/load_service.py --tasks 200 --clients 8 --workers 2
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
NOTE = REPO / "examples" / "handwritten_note.jpg"
PRINTED = REPO / "examples" / "printed_page.png"
DEFAULT_OUT = REPO / "bench" / "out" / "load"


# ----------------------------------------------------------------------------------------------
# images


def _png(im: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _jpeg(im: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def line_boxes(gray: Any, *, dark: int = 128, min_ink: int = 20, min_gap: int = 4, min_height: int = 15,
               pad: int = 10) -> list[tuple[int, int]]:
    """(top, bottom) rows of the text lines of a grayscale page, from its horizontal ink profile."""
    import numpy as np

    ink = (np.asarray(gray) < dark).sum(axis=1)
    rows = ink >= min_ink
    spans: list[list[int]] = []
    for y, on in enumerate(rows):
        if not on:
            continue
        if spans and y - spans[-1][1] <= min_gap:
            spans[-1][1] = y
        else:
            spans.append([y, y])
    h = len(rows)
    return [(max(0, a - pad), min(h, b + pad + 1)) for a, b in spans if b - a + 1 >= min_height]


def build_images() -> list[tuple[str, bytes]]:
    """(name, bytes): each handwritten line as a JPEG, and the printed page's first paragraph at half
    size as a PNG (the whole page takes ~2 s; this keeps every task under ~1 s)."""
    from PIL import Image

    images: list[tuple[str, bytes]] = []
    with Image.open(NOTE) as im:
        rgb = im.convert("RGB")
        for i, (top, bottom) in enumerate(line_boxes(rgb.convert("L"))):
            images.append((f"note-line-{i + 1:02d}.jpg", _jpeg(rgb.crop((0, top, rgb.width, bottom)))))
    with Image.open(PRINTED) as im:
        page = im.convert("L")
        top = page.crop((0, 0, page.width, page.height * 2 // 5))  # the first paragraph
        half = top.resize((top.width // 2, top.height // 2), Image.LANCZOS)
        images.append(("printed-para1-half.png", _png(half)))
    return images


def local_baseline(images: list[tuple[str, bytes]]) -> tuple[list[str], list[float]]:
    """Text and seconds of each image through the in-process engine (the server's own code path),
    one after another, after one warm-up call."""
    from inkread.engine import OcrEngine
    from inkread.options import RecognitionOptions
    from inkread.service.worker import recognize_bytes

    engine = OcrEngine()
    engine.url = None  # always local, whatever INKREAD_URL says
    recognize_bytes(engine, images[0][1], RecognitionOptions())  # load the models
    texts, secs = [], []
    for name, data in images:
        t0 = time.perf_counter()
        result = recognize_bytes(engine, data, RecognitionOptions(), name=name)
        secs.append(time.perf_counter() - t0)
        texts.append(result.text)
    return texts, secs


# ----------------------------------------------------------------------------------------------
# server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in kB (empty when the process is gone)."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def mib(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.0f} MiB"


def inkread_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "inkread", *args]


def add_client(db: str, name: str) -> tuple[str, str]:
    out = subprocess.run(inkread_cmd("clients", "add", name, "--json", "--db", db), check=True,
                         capture_output=True, text=True, timeout=120)
    body = json.loads(out.stdout)
    return body["client_id"], body["client_secret"]


def start_server(db: str, port: int, workers: int, log_path: Path, extra: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ}
    env.pop("INKREAD_URL", None)
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(
            inkread_cmd("serve", "--host", "127.0.0.1", "--port", str(port), "--db", db, "--workers", str(workers),
                        "--log-level", "warning", *extra),
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


def wait_healthy(proc: subprocess.Popen[bytes], url: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"inkread serve exited with {proc.returncode} (see server.log)")
        try:
            r = httpx.get(url + "/healthz", timeout=2)
            if r.status_code == 200:
                return r.json()
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"inkread serve did not answer /healthz within {timeout:.0f} s")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server we started (by its pid), SIGKILL if it has not gone in 20 s."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


# ----------------------------------------------------------------------------------------------
# clients


class ClientRun:
    """One API client: submits its tasks, then polls them until done or the deadline."""

    def __init__(self, index: int, url: str, creds: tuple[str, str], jobs: list[int],
                 images: list[tuple[str, bytes]], deadline: float, max_retries: int) -> None:
        self.index = index
        self.url = url
        self.client_id, self.secret = creds
        self.jobs = jobs  # image indices, one per task
        self.images = images
        self.deadline = deadline
        self.max_retries = max_retries
        self.submitted: list[dict[str, Any]] = []  # id, image, t_submit
        self.final: dict[str, dict[str, Any]] = {}  # task id -> last task JSON
        self.retried = {429: 0, 503: 0}
        self.retry_wait = 0.0
        self.rejected: list[str] = []  # submissions given up on (not accepted)
        self.errors: list[str] = []
        self.polls = 0
        self.wrong_id = 0

    def run(self) -> None:
        try:
            r = httpx.post(self.url + "/connect/token", timeout=30,
                           data={"grant_type": "client_credentials", "client_id": self.client_id,
                                 "client_secret": self.secret})
            r.raise_for_status()
            token = r.json()["access_token"]
            with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"},
                              timeout=60) as http:
                self.token = token
                for n, image in enumerate(self.jobs):
                    self._submit(http, n, image)
                self._poll(http)
        except Exception as exc:  # noqa: BLE001 - reported, never hangs the run
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _submit(self, http: httpx.Client, n: int, image: int) -> None:
        name, data = self.images[image]
        files = {"file": (name, data, "image/png" if name.endswith(".png") else "image/jpeg")}
        for _ in range(self.max_retries + 1):
            if time.monotonic() > self.deadline:
                self.rejected.append(f"{name}: deadline before submission")
                return
            t_submit = time.time()
            r = http.post("/v1/tasks", files=files, data={"filename": name})
            if r.status_code == 202:
                self.submitted.append({"id": r.json()["id"], "image": image, "t_submit": t_submit})
                return
            if r.status_code in (429, 503):
                self.retried[r.status_code] += 1
                wait = min(float(r.headers.get("Retry-After", "1")), 30.0)
                self.retry_wait += wait
                time.sleep(wait)
                continue
            self.rejected.append(f"{name}: HTTP {r.status_code} {r.text[:200]}")
            return
        self.rejected.append(f"{name}: still refused after {self.max_retries} retries")

    def _poll(self, http: httpx.Client) -> None:
        """Poll pending tasks oldest first, stopping a round at the first unfinished one (tasks are
        claimed oldest first), so polling costs the 2-core server little."""
        pending = [s["id"] for s in self.submitted]
        while pending and time.monotonic() < self.deadline:
            still: list[str] = []
            for i, task_id in enumerate(pending):
                r = http.get(f"/v1/tasks/{task_id}")
                self.polls += 1
                if r.status_code != 200:
                    self.errors.append(f"GET {task_id}: HTTP {r.status_code} {r.text[:200]}")
                    still.append(task_id)
                    continue
                body = r.json()
                if body.get("id") != task_id:
                    self.wrong_id += 1
                if body["status"] in ("done", "failed", "cancelled"):
                    self.final[task_id] = body
                else:
                    still.extend(pending[i:])
                    break
            pending = still
            if pending:
                time.sleep(0.5)


def cross_client_check(url: str, runs: list[ClientRun]) -> tuple[int, int]:
    """Each client asks for the next client's tasks: (requests, answers other than 404)."""
    asked = leaked = 0
    for k, run in enumerate(runs):
        other = runs[(k + 1) % len(runs)]
        if other is run:
            break
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {run.token}"}, timeout=30) as http:
            for s in other.submitted:
                asked += 1
                if http.get(f"/v1/tasks/{s['id']}").status_code != 404:
                    leaked += 1
    return asked, leaked


# ----------------------------------------------------------------------------------------------
# report


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def ts(iso: str | None) -> float | None:
    return None if not iso else datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2, help="the server's --workers")
    ap.add_argument("--timeout", type=float, default=900.0, help="global limit on the load phase, seconds")
    ap.add_argument("--max-retries", type=int, default=50, help="429/503 retries per submission")
    ap.add_argument("--max-queue-per-client", type=int, default=None,
                    help="pass to the server (a small value exercises the 429 path)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if args.tasks < 1 or args.clients < 1:
        ap.error("--tasks and --clients must be 1 or more")
    wall0 = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)

    images = build_images()
    print(f"{len(images)} images; local in-process baseline ...", flush=True)
    local_texts, local_secs = local_baseline(images)

    # task n uses image n % len(images); client c gets tasks c, c + clients, ...
    all_jobs = [n % len(images) for n in range(args.tasks)]
    shares = [all_jobs[c::args.clients] for c in range(args.clients)]

    tmp = tempfile.TemporaryDirectory(prefix="inkread-load-")
    db = str(Path(tmp.name) / "service.db")
    log_path = args.out / "server.log"
    log_path.write_bytes(b"")
    creds = [add_client(db, f"load-{c}") for c in range(args.clients)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    extra = ["--max-queue-per-client", str(args.max_queue_per_client)] if args.max_queue_per_client else []
    proc = start_server(db, port, args.workers, log_path, extra)
    try:
        health0 = wait_healthy(proc, url, 180)
        mem_before = proc_memory(proc.pid)
        print(f"server pid {proc.pid} on {url}, RSS {mib(mem_before.get('VmRSS'))}; "
              f"{args.tasks} tasks from {args.clients} clients ...", flush=True)

        deadline = time.monotonic() + args.timeout
        runs = [ClientRun(c, url, creds[c], shares[c], images, deadline, args.max_retries)
                for c in range(args.clients)]
        threads = [threading.Thread(target=r.run, name=f"client-{r.index}", daemon=True) for r in runs]
        t_load0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, deadline - time.monotonic() + 30))
        t_load1 = time.time()
        hung = sum(t.is_alive() for t in threads)
        mem_after = proc_memory(proc.pid)
        health1 = httpx.get(url + "/healthz", timeout=10).json()
        asked, leaked = cross_client_check(url, runs) if not hung else (0, 0)
    finally:
        stop_server(proc)
        tmp.cleanup()

    # ---- checks
    submitted = [s for r in runs for s in r.submitted]
    ids = [s["id"] for s in submitted]
    finals = {tid: body for r in runs for tid, body in r.final.items()}
    done = [s for s in submitted if finals.get(s["id"], {}).get("status") == "done"]
    not_done = [s for s in submitted if finals.get(s["id"], {}).get("status") != "done"]
    duplicate_ids = len(ids) - len(set(ids))
    multi_attempts = sum(1 for s in done if finals[s["id"]].get("attempts") != 1)
    mismatches = []
    for s in done:
        text = (finals[s["id"]].get("result") or {}).get("text")
        if text != local_texts[s["image"]]:
            mismatches.append((images[s["image"]][0], text, local_texts[s["image"]]))
    latencies = []
    for s in done:
        finished = ts(finals[s["id"]].get("finished_at"))
        if finished is not None:
            latencies.append(finished - s["t_submit"])
    first_submit = min((s["t_submit"] for s in submitted), default=t_load0)
    last_done = max((ts(finals[s["id"]]["finished_at"]) or 0 for s in done), default=t_load1)
    span = max(1e-9, last_done - first_submit)
    retried = {code: sum(r.retried[code] for r in runs) for code in (429, 503)}
    rejected = [m for r in runs for m in r.rejected]
    errors = [m for r in runs for m in r.errors]
    wrong_id = sum(r.wrong_id for r in runs)
    polls = sum(r.polls for r in runs)
    local_task_secs = sum(local_secs[j] for j in all_jobs)
    server_tasks = (health1.get("tasks_done") or 0) - (health0.get("tasks_done") or 0)

    ok = (not not_done and not duplicate_ids and not multi_attempts and not mismatches and not leaked
          and not rejected and not errors and not hung and not wrong_id and len(submitted) == args.tasks
          and server_tasks == len(done))
    wall = time.monotonic() - wall0

    rows = [
        ("verdict", "PASS" if ok else "FAIL"),
        ("tasks accepted / asked", f"{len(submitted)} / {args.tasks}"),
        ("lost (accepted, not done)", str(len(not_done))),
        ("duplicate task ids", str(duplicate_ids)),
        ("tasks run more than once (attempts != 1)", str(multi_attempts)),
        ("server tasks_done (healthz delta)", str(server_tasks)),
        ("results differing from local engine text", f"{len(mismatches)} of {len(done)}"),
        ("other client's task visible (of GETs)", f"{leaked} of {asked}"),
        ("429 retried after Retry-After", str(retried[429])),
        ("503 retried after Retry-After", str(retried[503])),
        ("seconds slept on Retry-After (all clients)", f"{sum(r.retry_wait for r in runs):.1f}"),
        ("submissions given up / client errors", f"{len(rejected)} / {len(errors)}"),
        ("submit->done latency p50", f"{pct(latencies, 0.5):.2f} s"),
        ("submit->done latency p95", f"{pct(latencies, 0.95):.2f} s"),
        ("submit->done latency max", f"{max(latencies, default=float('nan')):.2f} s"),
        (f"service throughput ({args.workers} workers)", f"{len(done) / span:.2f} tasks/s ({len(done)} in {span:.1f} s)"),
        ("local in-process, sequential, same task mix",
         f"{args.tasks / local_task_secs:.2f} tasks/s ({local_task_secs:.1f} s for {args.tasks})"),
        ("local per-image seconds (mean / min / max)",
         f"{statistics.mean(local_secs):.3f} / {min(local_secs):.3f} / {max(local_secs):.3f}"),
        ("server VmRSS before -> after load", f"{mib(mem_before.get('VmRSS'))} -> {mib(mem_after.get('VmRSS'))}"),
        ("server VmHWM (peak RSS) after load", mib(mem_after.get("VmHWM"))),
        ("GET polls (all clients)", str(polls)),
        ("bench wall time (incl. baseline, startup)", f"{wall:.1f} s"),
    ]
    cpu = os.cpu_count()
    md = [f"## inkread serve load test: {args.tasks} tasks, {args.clients} clients, --workers {args.workers}",
          "",
          f"{datetime.now().strftime('%Y-%m-%d %H:%M:%S')}, {cpu} CPU cores, SQLite, loopback; "
          f"{len(images)} distinct images (handwritten line crops + printed page's first paragraph at half size), "
          "task n uses image n mod count.",
          "",
          "| metric | value |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in rows]
    md += ["", "| image | bytes | local s | local text |", "|---|---:|---:|---|"]
    for (name, data), sec, text in zip(images, local_secs, local_texts):
        shown = text.replace("\n", " / ").replace("|", "\\|")
        md.append(f"| {name} | {len(data):,} | {sec:.3f} | {shown[:70]}{'...' if len(shown) > 70 else ''} |")
    if mismatches or rejected or errors or not_done:
        md += ["", "### problems", ""]
        md += [f"- mismatch {n}: server {a!r} vs local {b!r}" for n, a, b in mismatches[:10]]
        md += [f"- not done: {s['id']} ({finals.get(s['id'], {}).get('status', 'never seen finished')})"
               for s in not_done[:10]]
        md += [f"- rejected: {m}" for m in rejected[:10]]
        md += [f"- error: {m}" for m in errors[:10]]
    text = "\n".join(md) + "\n"
    print(text)
    (args.out / "summary.md").write_text(text)
    (args.out / "summary.json").write_text(json.dumps({
        "ok": ok, "args": {k: str(v) for k, v in vars(args).items()}, "rows": dict(rows),
        "latencies": sorted(latencies), "local_secs": dict(zip([n for n, _ in images], local_secs)),
        "mem_before_kb": mem_before, "mem_after_kb": mem_after}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
