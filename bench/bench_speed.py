#!/usr/bin/env python3
"""Speed, memory and accuracy in one run (issue 24): seconds per page and peak RSS of inkread (AUTO,
HANDWRITTEN, PRINTED), raw RapidOCR and Tesseract on the dev pages, the CER of every row beside it, and
where inkread's seconds go (its result's per-stage timings).

    .venv/bin/python bench/bench_speed.py --run speed2                  # every row, hw-page + print-page
    .venv/bin/python bench/bench_speed.py --limit 3 --rows auto,rapidocr --run quick

Every row runs in its own worker process, one after the other (never two at once: they would share the
two cores), so its peak RSS is its own (``ru_maxrss``; Tesseract's: its children's, one process per
page) and model loading plus a warm-up page are timed apart. Run it on a quiet machine: nothing else
running. ``INKREAD_THREADS`` / ``OMP_NUM_THREADS`` as you set them apply to every row alike.

Rows: ``auto``, ``handwritten`` (hw-page only), ``printed`` (print-page only): inkread in that mode;
``rapidocr``: RapidOCR with its defaults; ``tesseract``: the binary, one process a page (``--psm 3``).

Output: ``bench/out/speed/<run>/pages.tsv`` (one row per page and row), ``summary.md`` (also printed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

ROWS = ("auto", "handwritten", "printed", "rapidocr", "tesseract")
#: the kinds each inkread mode row reads (a mode is compared on the kind it is for)
ROW_KINDS = {"handwritten": ("hw-page",), "printed": ("print-page",)}
STAGES = ("preprocess", "detect", "orientation", "auto", "layout", "recognize", "language")


def worker(job_path: str, out_path: str) -> None:
    """Read the job's pages with one row's system; one JSON line per page, then the peak RSS."""
    from inkread.evaluate import make_runner

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    row = job["row"]
    t0 = time.perf_counter()
    if row in ("rapidocr", "tesseract"):
        runner = make_runner(row)
    else:
        runner = make_runner("inkread", mode=row)
    samples = job["samples"]
    with open(out_path, "w", encoding="utf-8") as out:
        if samples:  # a warm-up page, counted with the loading
            runner.recognize(samples[0]["image_path"], kind=samples[0]["kind"], language=samples[0]["language"])
        out.write(json.dumps({"load": time.perf_counter() - t0}) + "\n")
        for s in samples:
            t = time.perf_counter()
            text = runner.recognize(s["image_path"], kind=s["kind"], language=s["language"])
            took = time.perf_counter() - t
            result = getattr(runner, "last_result", None)
            timings = dict(getattr(result, "timings", {}) or {})
            pages = getattr(result, "pages", None) or []
            mode = pages[0].mode if pages else ""
            row_out = {"id": s["id"], "seconds": took, "text": text, "timings": timings, "mode": mode}
            out.write(json.dumps(row_out) + "\n")
            out.flush()
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out.write(json.dumps({"rss_mb": own, "children_rss_mb": children}) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", default=str(REPO.parent / "shared" / "eval"), help="evaluation set folder")
    parser.add_argument("--kinds", default="hw-page,print-page")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--limit", type=int, default=0, help="at most this many pages a kind")
    parser.add_argument("--run", default="latest")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0

    from inkread.evalset import load_manifest
    from inkread.metrics import casefold_for_set, cer

    samples = load_manifest(args.eval, kinds=args.kinds)
    if args.limit:
        samples = [s for k, s in enumerate(samples) if sum(t.kind == s.kind for t in samples[:k]) < args.limit]
    out_dir = REPO / "bench" / "out" / "speed" / args.run
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    for row in args.rows.split(","):
        mine = [s for s in samples if s.kind in ROW_KINDS.get(row, (s.kind,))]
        job = {
            "row": row,
            "samples": [
                {"id": s.id, "kind": s.kind, "language": s.language, "image_path": str(s.image_path)} for s in mine
            ],
        }
        job_path, rows_path = out_dir / f"{row}.job.json", out_dir / f"{row}.jsonl"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        print(f"[{row}] {len(mine)} pages", flush=True)
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(job_path), str(rows_path)],
            check=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        lines = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines()]
        results[row] = {"load": lines[0]["load"], "pages": lines[1:-1], "rss": lines[-1]}

    by_id = {s.id: s for s in samples}
    table = []
    with open(out_dir / "pages.tsv", "w", encoding="utf-8") as f:
        f.write("row\tid\tkind\tmode\tseconds\tcer\n")
        for row, res in results.items():
            for page in res["pages"]:
                s = by_id[page["id"]]
                page["cer"] = cer(s.read_gt(), page["text"], casefold=casefold_for_set(s.set))
                page["kind"] = s.kind
                f.write(f"{row}\t{s.id}\t{s.kind}\t{page['mode']}\t{page['seconds']:.3f}\t{page['cer']:.4f}\n")

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    kinds = [k for k in args.kinds.split(",") if any(s.kind == k for s in samples)]
    raw_pages = results.get("rapidocr", {}).get("pages", [])
    raw = {k: mean([p["seconds"] for p in raw_pages if p["kind"] == k]) for k in kinds}
    command = " ".join(["bench/bench_speed.py", *(argv if argv is not None else sys.argv[1:])])
    threads = os.environ.get("INKREAD_THREADS")
    table += [
        f"Command: `{f'INKREAD_THREADS={threads} ' if threads else ''}{command}`",
        "",
        "| row | kind | pages | s / page | x raw RapidOCR | CER | peak RSS MB | load + warm-up s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row, res in results.items():
        rss = res["rss"]["children_rss_mb"] if row == "tesseract" else res["rss"]["rss_mb"]
        for k in kinds:
            pages = [p for p in res["pages"] if p["kind"] == k]
            if not pages:
                continue
            s = mean([p["seconds"] for p in pages])
            table.append(
                f"| {row} | {k} | {len(pages)} | {s:.2f} | {s / raw[k]:.2f}x | {mean([p['cer'] for p in pages]):.4f} | "
                f"{rss:.0f} | {res['load']:.1f} |"
            )
    table += ["", "Where inkread's seconds go (mean seconds a page, from the result's timings):", ""]
    table += ["| row | kind | " + " | ".join(STAGES) + " | total | decided |"]
    table += ["|---|---|" + "---:|" * (len(STAGES) + 1) + "---|"]
    for row, res in results.items():
        if row in ("rapidocr", "tesseract"):
            continue
        for k in kinds:
            pages = [p for p in res["pages"] if p["kind"] == k]
            if not pages:
                continue
            cells = [f"{mean([p['timings'].get(st, 0.0) for p in pages]):.2f}" for st in STAGES]
            decided: dict[str, int] = {}
            for p in pages:
                decided[p["mode"]] = decided.get(p["mode"], 0) + 1
            total = mean([p["timings"].get("total", p["seconds"]) for p in pages])
            said = ", ".join(f"{m} {n}" for m, n in sorted(decided.items()))
            table.append(f"| {row} | {k} | " + " | ".join(cells) + f" | {total:.2f} | {said} |")
    summary = "\n".join(table) + "\n"
    (out_dir / "summary.md").write_text(summary, encoding="utf-8")
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
