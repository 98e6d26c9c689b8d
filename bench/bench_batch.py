#!/usr/bin/env python3
"""Batch throughput: ``inkread DIR -o OUT`` serial vs ``--jobs N`` vs Ray local, beside the raw
baselines (RapidOCR and Tesseract, one page after the other), in one run; then a 200-file batch with
10 bad files, killed with SIGKILL halfway and resumed.

    .venv/bin/python bench/bench_batch.py                      # dev hw-page + print-page, all of it
    .venv/bin/python bench/bench_batch.py --limit 6 --skip-crash

Every system runs as its own process tree (a new session); its peak RSS is the peak of the sum of
the RSS of every process in that session (driver, pool workers, Ray's raylet and actors), sampled
every 0.1 s from /proc. Pages/s counts wall time from start to exit, model loading included, as a
user waits for it. Output: ``bench/out/<run>/batch.json`` and ``batch.md`` (also printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INKREAD = Path(sys.executable).with_name("inkread")
DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"

BASELINE = r"""
import sys, time
from inkread.evaluate import make_runner
runner = make_runner(sys.argv[1])
for path in sys.argv[2:]:
    runner.recognize(path)
"""


def _session_rss(sid: int) -> int:
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid:  # field 6 (session) is index 3 after the name
                continue
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_tree(argv: list[str], env: dict[str, str] | None = None, kill_when=None) -> dict:
    """Run ``argv`` in a new session; wall seconds, exit code, peak summed RSS (MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    peak = 0
    stderr: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)
    reader.start()
    killed = False
    while proc.poll() is None:
        peak = max(peak, _session_rss(proc.pid))
        if kill_when is not None and not killed and kill_when():
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.1)
    reader.join()
    if not killed:  # leftovers of the session (Ray's processes exit on their own)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return {"seconds": time.perf_counter() - t0, "code": proc.returncode, "peak_rss_mb": peak / 2**20,
            "stderr": b"".join(stderr).decode(errors="replace")[-2000:], "killed": killed}


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.txt"))}


def throughput(args, work: Path) -> list[dict]:
    from inkread import evalset

    samples = [s for s in evalset.load_manifest(args.eval, kinds=args.kinds.split(","))]
    if args.limit:
        samples = samples[: args.limit]
    src = work / "pages"
    src.mkdir(parents=True)
    for s in samples:
        shutil.copyfile(s.image_path, src / f"{s.set}-{s.id}{s.image_path.suffix}")
    files = sorted(str(p) for p in src.iterdir())
    pages = len(files)
    rows = []
    systems = [("rapidocr (raw, serial)", [sys.executable, "-c", BASELINE, "rapidocr", *files], {}),
               ("tesseract (raw, serial)", [sys.executable, "-c", BASELINE, "tesseract", *files], {})]
    reference = None
    # serial as it always was (one process, onnxruntime's threads on every core), serial on one
    # core, the pool, Ray
    for name, extra, env in [("inkread --jobs 1", ["--jobs", "1"], {}),
                             ("inkread --jobs 1 (INKREAD_THREADS=1)", ["--jobs", "1"], {"INKREAD_THREADS": "1"}),
                             (f"inkread --jobs {args.jobs}", ["--jobs", str(args.jobs)], {}),
                             (f"inkread --ray --jobs {args.jobs}", ["--ray", "--jobs", str(args.jobs)], {})]:
        folder = work / "".join(c if c.isalnum() else "_" for c in name)
        systems.append((name, [str(INKREAD), str(src), "-o", str(folder), "--quiet", *extra], env))
    for name, argv, env in systems:
        print(f"running {name} on {pages} pages ...", file=sys.stderr, flush=True)
        r = run_tree(argv, env)
        row = {"system": name, "pages": pages, "seconds": round(r["seconds"], 1),
               "pages_per_s": round(pages / r["seconds"], 3), "peak_rss_mb": round(r["peak_rss_mb"]), "code": r["code"]}
        if name.startswith("inkread"):
            got = outputs(work / "".join(c if c.isalnum() else "_" for c in name))
            reference = reference or got
            row["outputs_same_as_serial"] = got == reference
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    serial = next(r for r in rows if r["system"] == "inkread --jobs 1")["pages_per_s"]
    for r in rows:
        r["vs_serial"] = round(r["pages_per_s"] / serial, 2)
    return rows


def crash(args, work: Path) -> dict:
    """200 files (10 bad), serial reference, --jobs run, a --jobs run SIGKILLed halfway + --resume."""
    from inkread import evalset

    lines = [s for s in evalset.load_manifest(args.eval, kinds=["hw-line", "print-line"])]
    src = work / "crash-in"
    src.mkdir(parents=True)
    for i in range(190):
        s = lines[i % len(lines)]
        shutil.copyfile(s.image_path, src / f"f{i:03d}{s.image_path.suffix}")
    for i in range(10):  # text named .png, a cut JPEG, an empty file, ...
        bad = src / f"f{190 + i:03d}-bad.{'png' if i % 2 else 'jpg'}"
        if i % 3 == 0:
            bad.write_text("not an image\n")
        elif i % 3 == 1:
            data = lines[i].image_path.read_bytes()
            bad.write_bytes(data[: len(data) // 4])
        else:
            bad.write_bytes(b"")
    jobs = str(args.jobs)
    res = {}
    ref = work / "crash-serial"
    r = run_tree([str(INKREAD), str(src), "-o", str(ref), "--jobs", "1", "--quiet"])
    res["serial"] = {"seconds": round(r["seconds"], 1), "code": r["code"], "outputs": len(outputs(ref))}
    full = work / "crash-jobs"
    r = run_tree([str(INKREAD), str(src), "-o", str(full), "--jobs", jobs, "--quiet", "--report", str(work / "full.jsonl")])
    rows = [json.loads(x) for x in (work / "full.jsonl").read_text().splitlines()]
    res["jobs"] = {"seconds": round(r["seconds"], 1), "code": r["code"], "outputs": len(outputs(full)),
                   "identical_to_serial": outputs(full) == outputs(ref),
                   "error_rows": sum(x["status"] == "failed" for x in rows)}
    out = work / "crash-killed"
    r = run_tree([str(INKREAD), str(src), "-o", str(out), "--jobs", jobs, "--quiet", "--report", str(work / "k.jsonl")],
                 kill_when=lambda: len(list(out.rglob("*.txt"))) >= 95)
    before = {p: (out / p).stat().st_mtime_ns for p in outputs(out)}
    res["killed"] = {"killed": r["killed"], "outputs_when_killed": len(before),
                     "temp_files_left": len(list(out.rglob(".*.tmp")))}
    r = run_tree([str(INKREAD), str(src), "-o", str(out), "--jobs", jobs, "--quiet", "--resume",
                  "--report", str(work / "resume.jsonl")])
    rows = [json.loads(x) for x in (work / "resume.jsonl").read_text().splitlines()]
    res["resumed"] = {"seconds": round(r["seconds"], 1), "code": r["code"], "outputs": len(outputs(out)),
                      "identical_to_serial": outputs(out) == outputs(ref),
                      "skipped": sum(x["status"] == "skipped" for x in rows),
                      "read_again": sum(x["status"] == "ok" for x in rows),
                      "complete_ones_rewritten": sum((out / p).stat().st_mtime_ns != t for p, t in before.items())}
    return res


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval", type=Path, default=DEFAULT_EVAL_DIR)
    p.add_argument("--kinds", default="hw-page,print-page")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--run", default=datetime.now().strftime("batch-%Y%m%d-%H%M%S"))
    p.add_argument("--skip-crash", action="store_true")
    args = p.parse_args()
    out = REPO / "bench" / "out" / args.run
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    result = {"run": args.run, "git": git, "cores": os.cpu_count(), "machine": platform.platform(),
              "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
              "throughput": throughput(args, work)}
    if not args.skip_crash:
        result["crash"] = crash(args, work)
    (out / "batch.json").write_text(json.dumps(result, indent=2))
    table = ["| system | pages | seconds | pages/s | x serial | peak RSS MB (all processes) | same outputs |",
             "|---|---|---|---|---|---|---|"]
    for r in result["throughput"]:
        table.append(f"| {r['system']} | {r['pages']} | {r['seconds']} | {r['pages_per_s']} | {r['vs_serial']} | "
                     f"{r['peak_rss_mb']} | {r.get('outputs_same_as_serial', '')} |")
    text = "\n".join(table) + "\n"
    if "crash" in result:
        text += "\n```\n" + json.dumps(result["crash"], indent=1) + "\n```\n"
    (out / "batch.md").write_text(text)
    print(text)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
