#!/usr/bin/env python3
"""Limits under abuse (issue 14): what crafted inputs cost in memory and time, and what the service
does with floods, slow clients and forged tokens. One run, baselines beside inkread.

    .venv/bin/python bench/bench_limits.py                  # everything (about 10 minutes)
    .venv/bin/python bench/bench_limits.py --skip-service --pages 1,20,80

Files (made here, in a temporary folder):
- blank Letter PDFs of 1, 20, 80 and 1,000 pages (read with ``--max-pages 2000``, at ``--dpi``);
- a GIF of 2,000 frames (about 60 KB), read with the default limits;
- a JPEG whose header says 10000 x 10000 around the data of a 100 x 100 one (458 bytes), and a real
  10000 x 10000 white JPEG (1.2 MB);
each read by ``inkread FILE`` in its own process (peak RSS of the process tree, sampled every 0.1 s;
wall seconds with model loading), and the images also by raw RapidOCR and Tesseract.

Service (``inkread serve`` on loopback, a fresh SQLite database, ``--service-workers`` workers: 1 is a
thread, 2 or more are processes): a 150-page PDF upload;
every worker busy with a 400-page task and one more task queued, one of them cancelled (seconds
until the queued task starts); 300 connections that send
half a request and stall (how long they are held, ``/healthz`` latency meanwhile); 200 wrong secrets
(how many answered 429, and whether the right client still gets a token, from another address
and from the flooding one); a token signed with the
right key but living 100 years; the database file's mode.

Output: ``bench/out/<run>/limits.json`` and ``limits.md`` (also printed).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import run_tree  # noqa: E402 - the same process-tree RSS sampler

REPO = Path(__file__).resolve().parents[1]
INKREAD = Path(sys.executable).with_name("inkread")

BASELINE = r"""
import sys
from inkread.evaluate import make_runner
make_runner(sys.argv[1]).recognize(sys.argv[2])
"""


def blank_pdf(pages: int) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(612, 792))
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def many_frames_gif(frames: int) -> bytes:
    from PIL import Image

    images = [Image.new("L", (64, 48), 255 - (i % 2)) for i in range(frames)]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=10)
    return buf.getvalue()


def declared_jpeg(width: int, height: int) -> bytes:
    """A 100 x 100 white JPEG whose frame header says ``width`` x ``height``."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (100, 100), 255).save(buf, format="JPEG", quality=50)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5: sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def white_jpeg(width: int, height: int) -> bytes:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    buf = io.BytesIO()
    Image.new("L", (width, height), 255).save(buf, format="JPEG", quality=30)
    return buf.getvalue()


def _row(case: str, system: str, path: Path, r: dict) -> dict:
    err = [ln for ln in r["stderr"].splitlines() if ln.startswith("inkread:") or "Error" in ln]
    return {"case": case, "system": system, "bytes": path.stat().st_size, "seconds": round(r["seconds"], 1),
            "peak_rss_mb": round(r["peak_rss_mb"]), "code": r["code"], "said": (err[-1] if err else "")[:160]}


def files_section(args, work: Path) -> list[dict]:
    rows = []
    for n in args.pages:
        path = work / f"blank-{n}.pdf"
        path.write_bytes(blank_pdf(n))
        r = run_tree([str(INKREAD), str(path), "--max-pages", "2000", "--dpi", str(args.dpi), "--rotate", "0",
                      "--jobs", "1"])
        rows.append(_row(f"blank PDF, {n} pages ({args.dpi} dpi)", "inkread", path, r))
        print(rows[-1], flush=True)
    images = {"GIF, 2,000 frames": ("frames.gif", many_frames_gif(2000)),
              "JPEG declaring 10000x10000 (458 bytes)": ("declared.jpg", declared_jpeg(10000, 10000)),
              "white 10000x10000 JPEG": ("white.jpg", white_jpeg(10000, 10000))}
    for case, (name, data) in images.items():
        path = work / name
        path.write_bytes(data)
        r = run_tree([str(INKREAD), str(path), "--jobs", "1"])
        rows.append(_row(case, "inkread", path, r))
        print(rows[-1], flush=True)
        if name.endswith(".jpg"):
            for system in ("rapidocr", "tesseract"):
                r = run_tree([sys.executable, "-c", BASELINE, system, str(path)])
                rows.append(_row(case, system, path, r))
                print(rows[-1], flush=True)
    return rows


# ----------------------------------------------------------------------------------------------
# The service


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_section(args, work: Path) -> dict:
    import httpx
    import jwt

    db = work / "data" / "service.db"
    env = {**os.environ, "INKREAD_DB": str(db)}
    added = json.loads(subprocess.run([str(INKREAD), "clients", "add", "bench", "--json"], env=env, check=True,
                                      capture_output=True, text=True).stdout)
    cid, secret = added["client_id"], added["client_secret"]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(INKREAD), "serve", "--port", str(port), "--workers", str(args.service_workers),
                               "--max-pages", "1000", "--log-level", "warning"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    out: dict = {}
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)

        def token(source: str = "127.0.0.1") -> str:
            with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as h:
                r = h.post(url + "/connect/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                         "client_secret": secret})
            r.raise_for_status()
            return r.json()["access_token"]

        out["database mode"] = oct(stat.S_IMODE(db.stat().st_mode))
        out["data folder mode"] = oct(stat.S_IMODE(db.parent.stat().st_mode))
        c = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token()}"}, timeout=60)
        # 150 blank pages: over a 100-page limit the request asks for, or bounded by the service's own
        big150 = blank_pdf(150)
        r = c.post("/v1/tasks", data={"max_pages": "100"}, files={"file": ("b.pdf", big150)})
        out["150-page PDF, max_pages 100"] = f"{r.status_code} {r.json().get('error', '')}"
        # every worker busy with a 400-page task; cancel one: how soon does the next task start?
        big400 = blank_pdf(400)
        busy = [c.post("/v1/tasks", data={"dpi": "150"}, files={"file": ("big.pdf", big400)}).json()["id"]
                for _ in range(args.service_workers)]
        while any(c.get(f"/v1/tasks/{t}").json()["status"] != "running" for t in busy):
            time.sleep(0.1)
        time.sleep(2)
        r = c.post("/v1/tasks", files={"file": ("one.pdf", blank_pdf(1))})
        small = r.json()["id"]
        time.sleep(1)
        waiting = c.get(f"/v1/tasks/{small}").json()["status"]
        t0 = time.monotonic()
        c.delete(f"/v1/tasks/{busy[0]}")
        while c.get(f"/v1/tasks/{small}").json()["status"] not in ("running", "done", "failed"):
            time.sleep(0.05)
        out[f"all {args.service_workers} worker(s) busy, one task cancelled: the waiting task ({waiting}) "
            "started after (s)"] = round(time.monotonic() - t0, 2)
        for t in busy[1:]:
            c.delete(f"/v1/tasks/{t}")
        # 300 slow connections
        socks = []
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        worst = 0.0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 14:
            t1 = time.monotonic()
            httpx.get(url + "/healthz", timeout=10)
            worst = max(worst, time.monotonic() - t1)
            time.sleep(0.5)
        closed = 0
        for s in socks:
            s.settimeout(0.5)
            try:
                closed += s.recv(1) == b""
            except (socket.timeout, OSError):
                pass
            s.close()
        out["300 half-sent requests: closed by the server within 14 s"] = closed
        out["/healthz slowest answer meanwhile (s)"] = round(worst, 3)
        # 200 wrong secrets, then the right one
        codes: dict[int, int] = {}
        for _ in range(200):
            r = httpx.post(url + "/connect/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                         "client_secret": "wrong"}, timeout=30)
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
        out["200 wrong secrets: answers"] = {str(k): v for k, v in sorted(codes.items())}
        for source, who in (("127.0.0.2", "from another address"), ("127.0.0.1", "from the flooding address")):
            try:
                token(source)
                out[f"right secret after the flood, {who}"] = "token issued"
            except httpx.HTTPStatusError as exc:
                out[f"right secret after the flood, {who}"] = f"refused {exc.response.status_code}"
        import sqlite3

        key = sqlite3.connect(db).execute("SELECT value FROM meta WHERE key = 'jwt_signing_key'").fetchone()[0]
        now = int(time.time())
        forged = jwt.encode({"sub": cid, "iat": now, "exp": now + 100 * 365 * 86400, "iss": "inkread"}, key,
                            algorithm="HS256")
        r = httpx.get(url + "/v1/tasks/x", headers={"Authorization": f"Bearer {forged}"})
        out["token living 100 years, signed with the key"] = f"{r.status_code} {r.json().get('error', '')}"
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", default="1,20,80,1000", help="blank PDF page counts")
    ap.add_argument("--dpi", type=int, default=150, help="PDF render resolution")
    ap.add_argument("--skip-service", action="store_true")
    ap.add_argument("--service-workers", type=int, default=1, help="inkread serve --workers (2+: processes)")
    ap.add_argument("--skip-files", action="store_true")
    ap.add_argument("--run", default=datetime.now().strftime("limits-%Y%m%d-%H%M%S"))
    args = ap.parse_args()
    args.pages = [int(p) for p in args.pages.split(",") if p]
    out_dir = REPO / "bench" / "out" / args.run
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = [] if args.skip_files else files_section(args, work)
        service = {} if args.skip_service else service_section(args, work)
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    meta = {"when": datetime.now().isoformat(timespec="seconds"), "git": git, "python": platform.python_version(),
            "cpus": os.cpu_count(), "command": " ".join(sys.argv)}
    (out_dir / "limits.json").write_text(json.dumps({"meta": meta, "files": rows, "service": service}, indent=2))
    md = [f"Run {args.run} (git {git}, {meta['when']}): `{meta['command']}`", "",
          "| case | system | bytes | seconds | peak RSS MB | exit | what it said |", "|---|---|---:|---:|---:|---:|---|"]
    md += [f"| {r['case']} | {r['system']} | {r['bytes']:,} | {r['seconds']} | {r['peak_rss_mb']} | {r['code']} | "
           f"{r['said'].replace('|', '/')} |" for r in rows]
    if service:
        md += ["", "| service check | result |", "|---|---|"]
        md += [f"| {k} | {v} |" for k, v in service.items()]
    text = "\n".join(md) + "\n"
    (out_dir / "limits.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
