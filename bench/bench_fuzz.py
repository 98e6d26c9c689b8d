#!/usr/bin/env python3
"""Fuzz inkread's loaders for longer than the tests do (issue 14).

    .venv/bin/python bench/bench_fuzz.py                       # 50,000 mutated inputs, seed 14
    .venv/bin/python bench/bench_fuzz.py --inputs 100000 --seed 7

Input ``i`` is corpus file ``i mod n`` (``tests/data/fuzz/corpus``: every format inkread reads)
mutated by ``tests/fuzzing.mutate`` with ``random.Random(seed * 1_000_003 + i)``, so any input can be
made again from its number. A worker process loads them one after the other (``tests/fuzzing.check``:
``count_pages`` then ``load_pages``) and reports each; the driver kills a worker that takes longer
than ``--budget`` seconds over one input (a hang) and starts another after the input that killed or
hung it (a crash). An input outside the ``OcrException`` tree, a hang or a crash is written to
``bench/out/<run>/found/`` to be added to ``tests/data/fuzz/crashes`` (checked by every test run).
Output: ``bench/out/<run>/fuzz.json`` and ``fuzz.md`` (also printed).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import random
import selectors
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from fuzzing import check, corpus, format_of, mutate  # noqa: E402


def make_input(seeds: list[tuple[str, bytes]], seed: int, i: int) -> tuple[str, bytes]:
    name, data = seeds[i % len(seeds)]
    rng = random.Random(seed * 1_000_003 + i)
    return name, mutate(data, rng, [d for _, d in seeds])


def worker(seed: int, start: int, stop: int) -> None:
    import warnings

    warnings.simplefilter("ignore")  # Pillow's warnings about odd files: the outcome is what counts
    seeds = corpus()
    for i in range(start, stop):
        name, data = make_input(seeds, seed, i)
        t0 = time.perf_counter()
        outcome, detail = check(data)
        print(f"{i}\t{outcome}\t{detail}\t{time.perf_counter() - t0:.4f}", flush=True)


def drive(args) -> tuple[list[dict], list[dict]]:
    rows: list[dict] = []
    found: list[dict] = []
    i = 0
    while i < args.inputs:
        proc = subprocess.Popen([sys.executable, __file__, "--worker", "--seed", str(args.seed), "--start", str(i),
                                 "--stop", str(args.inputs)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while i < args.inputs:
            if not sel.select(timeout=args.budget + (20 if i == 0 or not rows else 0)):  # imports at start
                proc.kill()
                found.append({"input": i, "kind": "hang", "detail": f"no answer in {args.budget} s"})
                i += 1
                break
            line = proc.stdout.readline()
            if not line:  # the worker died on input i
                proc.wait()
                found.append({"input": i, "kind": "crash", "detail": f"worker exited {proc.returncode}"})
                i += 1
                break
            index, outcome, detail, seconds = line.rstrip("\n").split("\t")
            rows.append({"input": int(index), "outcome": outcome, "detail": detail, "seconds": float(seconds)})
            if outcome == "FAILED":
                found.append({"input": int(index), "kind": "exception", "detail": detail})
            i = int(index) + 1
        proc.kill()
        proc.wait()
    return rows, found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--budget", type=float, default=30.0, help="seconds one input may take")
    ap.add_argument("--run", default=datetime.now().strftime("fuzz-%Y%m%d-%H%M%S"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--stop", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.seed, args.start, args.stop)
        return 0
    t0 = time.perf_counter()
    rows, found = drive(args)
    wall = time.perf_counter() - t0
    seeds = corpus()
    out_dir = REPO / "bench" / "out" / args.run
    (out_dir / "found").mkdir(parents=True, exist_ok=True)
    for f in found:
        name, data = make_input(seeds, args.seed, f["input"])
        f["file"] = f"found/{f['input']}-{f['kind']}-{name}"
        (out_dir / f["file"]).write_bytes(data)
    by_format: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    errors: collections.Counter = collections.Counter()
    slowest = max(rows, key=lambda r: r["seconds"]) if rows else None
    for r in rows:
        by_format[format_of(seeds[r["input"] % len(seeds)][0])][r["outcome"]] += 1
        if r["outcome"] == "refused":
            errors[r["detail"]] += 1
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    meta = {"when": datetime.now().isoformat(timespec="seconds"), "git": git, "python": platform.python_version(),
            "cpus": os.cpu_count(), "command": " ".join(["bench/bench_fuzz.py", *sys.argv[1:]]),
            "seconds": round(wall, 1), "inputs": len(rows) + sum(f["kind"] != "exception" for f in found)}
    (out_dir / "fuzz.json").write_text(json.dumps({"meta": meta, "found": found,
                                                   "by_format": {k: dict(v) for k, v in by_format.items()},
                                                   "errors": dict(errors)}, indent=2))
    md = [f"Run {args.run} (git {git}): `{meta['command']}`: {meta['inputs']:,} inputs in {wall:.0f} s; "
          f"slowest {slowest['seconds']:.2f} s (input {slowest['input']})" if slowest else "no inputs", "",
          "| format | inputs | loaded | refused (OcrException) | other exception | hang | crash |",
          "|---|---:|---:|---:|---:|---:|---:|"]
    kinds = collections.Counter((format_of(seeds[f["input"] % len(seeds)][0]), f["kind"]) for f in found)
    for fmt in sorted(by_format):
        c = by_format[fmt]
        md.append(f"| {fmt} | {sum(c.values()) + kinds[(fmt, 'hang')] + kinds[(fmt, 'crash')]:,} | {c['ok']:,} | "
                  f"{c['refused']:,} | {c['FAILED']} | {kinds[(fmt, 'hang')]} | {kinds[(fmt, 'crash')]} |")
    md += ["", "Refusals by error: " + ", ".join(f"{k} {v:,}" for k, v in errors.most_common())]
    md += [f"- found: input {f['input']} ({f['kind']}): {f['detail']} -> {f['file']}" for f in found]
    text = "\n".join(md) + "\n"
    (out_dir / "fuzz.md").write_text(text)
    print(text)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
