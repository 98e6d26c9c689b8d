#!/usr/bin/env python3
"""Benchmark inkread against raw RapidOCR and Tesseract on the evaluation set, side by side.

Each (system, kind) pair runs in its own worker subprocess, so the peak RSS reported is that
system's own, and model loading is timed apart from the per-image seconds. The parent process only
reads the evaluation set, starts workers and scores their transcriptions.

    .venv/bin/python bench/bench_pages.py                       # hw-page + print-page, all systems
    .venv/bin/python bench/bench_pages.py --limit 2 --systems rapidocr,tesseract
    .venv/bin/python bench/bench_pages.py --kinds hw-page,hw-line,hw-word,print-page,print-line

Output: ``bench/out/<run>/samples.tsv`` (one row per system and sample), ``summary.md`` (also printed),
``summary.json``, ``hyp/<system>/<set>/<id>.txt`` (raw transcriptions) and ``raw/`` (worker output).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

# Light: no model, no OCR package, no numpy. The runners, aggregation and table helpers are
# inkread's own (`inkread eval` uses the same ones).
from inkread.evaluate import MODES, SYSTEMS
from inkread.evaluate import aggregate as _aggregate_rows
from inkread.evaluate import fmt_num as _num
from inkread.evaluate import fmt_pct as _pct
from inkread.evaluate import _tsv  # one TSV cell format for bench and eval
from inkread.evaluate import markdown_table as _table

REPO = Path(__file__).resolve().parents[1]
DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"
DEFAULT_OUT_DIR = REPO / "bench" / "out"
DEFAULT_KINDS = ("hw-page", "print-page")


# =============================================================================== worker side
# Nothing here loads a model or an OCR package (only the light inkread.evaluate, ~10 MB) unless
# the worker runs that system, so each worker's peak RSS is its own system's.

def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _make_runner(job: dict[str, Any]):
    # The runners live in inkread.evaluate (shared with `inkread eval`); importing that module
    # loads no model and no OCR package until the runner for this worker's system is built.
    from inkread.evaluate import make_runner

    return make_runner(job["system"], mode=job["inkread_mode"], tesseract=job["tesseract"],
                       timeout=job["timeout"])


def _recognize(runner: Any, sample: dict[str, Any]) -> str:
    return runner.recognize(sample["image_path"], kind=sample["kind"],
                            language=sample["language"] or None)


def _rss_kb() -> tuple[int, int]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(own), int(children)  # KiB on Linux


def worker_main(job_path: str, out_path: str) -> int:
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    label = f"{job['system']} {job['kind']}"
    samples = job["samples"]
    with open(out_path, "w", encoding="utf-8") as out:
        def emit(record: dict[str, Any]) -> None:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()

        start = time.perf_counter()
        try:
            runner = _make_runner(job)
            if job["warmup"] and samples:  # first inference (lazy init, caches) counts as loading
                _recognize(runner, samples[0])
        except BaseException as exc:  # noqa: BLE001 - report any load failure to the parent
            emit({"type": "load_error", "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()})
            _log(f"[{label}] load failed: {type(exc).__name__}: {exc}")
            return 2
        load_seconds = time.perf_counter() - start
        own, children = _rss_kb()
        emit({"type": "load", "seconds": load_seconds, "rss_kb": own, "children_rss_kb": children})
        _log(f"[{label}] loaded in {load_seconds:.1f}s; {len(samples)} samples")

        for index, sample in enumerate(samples, 1):
            error = ""
            text = ""
            t0 = time.perf_counter()
            try:
                text = _recognize(runner, sample)
            except Exception as exc:  # noqa: BLE001 - one bad sample must not stop the run
                error = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
            seconds = time.perf_counter() - t0
            emit({"type": "sample", "id": sample["id"], "text": text, "seconds": seconds,
                  "error": error})
            _log(f"[{label}] {index}/{len(samples)} {sample['id']} {seconds:.2f}s"
                 + (f" ERROR {error}" if error else ""))

        own, children = _rss_kb()
        emit({"type": "done", "rss_kb": own, "children_rss_kb": children})
    return 0


# =============================================================================== parent side

def _csv_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--eval-dir", default=None,
                        help=f"evaluation set (manifest.tsv + images/ + gt/) or a plain folder of "
                             f"images with sibling .txt; default ${'{'}INKREAD_EVAL_DIR{'}'} or "
                             f"{DEFAULT_EVAL_DIR}")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated")
    parser.add_argument("--kinds", default=",".join(DEFAULT_KINDS),
                        help="comma-separated: hw-page, print-page, hw-line, hw-word, print-line")
    parser.add_argument("--sets", default=None, help="comma-separated set names (default: all)")
    parser.add_argument("--limit", type=int, default=None, help="first N samples per kind")
    parser.add_argument("--jobs", type=int, default=1,
                        help="workers run at once (>1 skews the timings: only 2 cores here)")
    parser.add_argument("--inkread-mode", choices=MODES, default="matched",
                        help="matched: HANDWRITTEN for hw-*, PRINTED for print-*")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="do not run the first sample once before timing (counted as load)")
    parser.add_argument("--tesseract", default="tesseract", help="tesseract binary")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds per image for the tesseract process")
    parser.add_argument("--folder-kind", default="page",
                        help="kind given to samples of a plain folder (no manifest)")
    parser.add_argument("--folder-language", default="en",
                        help="language given to samples of a plain folder")
    parser.add_argument("--out-dir", default=str(DEFAULT_OUT_DIR))
    parser.add_argument("--run", default=None, help="run name (default: a timestamp)")
    parser.add_argument("--worker", nargs=2, metavar=("JOB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.systems = _csv_list(args.systems)
    unknown = [s for s in args.systems if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown system(s): {', '.join(unknown)} (choose from {', '.join(SYSTEMS)})")
    args.kinds = _csv_list(args.kinds)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    return args


def _version(package: str) -> str:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:  # noqa: BLE001
        return "not installed"


def _machine_info(tesseract: str) -> dict[str, str]:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "cpu": platform.processor() or "?",
        "inkread": _version("inkread"),
        "rapidocr": _version("rapidocr"),
        "onnxruntime": _version("onnxruntime"),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        proc = subprocess.run([tesseract, "--version"], capture_output=True, text=True, timeout=30)
        info["tesseract"] = (proc.stdout or proc.stderr).splitlines()[0].strip()
    except (OSError, subprocess.SubprocessError, IndexError):
        info["tesseract"] = "not installed"
    try:
        proc = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=30)
        info["git"] = proc.stdout.strip() or "no commit"
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        if dirty:
            info["git"] += " (uncommitted changes)"
    except (OSError, subprocess.SubprocessError):
        info["git"] = "?"
    return info


def _run_worker(system: str, kind: str, samples: list, args: argparse.Namespace,
                run_dir: Path, lock: threading.Lock) -> dict[str, Any]:
    jobs_dir = run_dir / "raw"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    job_path = jobs_dir / f"{system}__{kind}.job.json"
    out_path = jobs_dir / f"{system}__{kind}.jsonl"
    job = {
        "system": system,
        "kind": kind,
        "inkread_mode": args.inkread_mode,
        "warmup": args.warmup,
        "tesseract": args.tesseract,
        "timeout": args.timeout,
        "samples": [
            {"id": s.id, "set": s.set, "kind": s.kind, "language": s.language,
             "image_path": str(s.image_path)}
            for s in samples
        ],
    }
    job_path.write_text(json.dumps(job, ensure_ascii=False, indent=1), encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(job_path), str(out_path)],
        stdout=sys.stderr, env=env, cwd=str(REPO),
    )
    wall = time.perf_counter() - started

    result: dict[str, Any] = {"system": system, "kind": kind, "returncode": proc.returncode,
                              "wall_seconds": wall, "load_seconds": None, "load_error": "",
                              "rss_kb": 0, "children_rss_kb": 0, "texts": {}}
    if out_path.is_file():
        for line in out_path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            kind_ = record["type"]
            if kind_ == "load":
                result["load_seconds"] = record["seconds"]
            elif kind_ == "load_error":
                result["load_error"] = record["error"]
            elif kind_ == "sample":
                result["texts"][record["id"]] = record
            if "rss_kb" in record:
                result["rss_kb"] = max(result["rss_kb"], record["rss_kb"])
                result["children_rss_kb"] = max(result["children_rss_kb"], record["children_rss_kb"])
    if proc.returncode != 0 and not result["load_error"] and len(result["texts"]) < len(samples):
        result["load_error"] = f"worker exited {proc.returncode} after {len(result['texts'])} samples"
    with lock:
        status = "FAILED: " + result["load_error"] if result["load_error"] else "ok"
        print(f"== {system} {kind}: {len(result['texts'])}/{len(samples)} samples in {wall:.0f}s, "
              f"{status}", file=sys.stderr, flush=True)
    return result


def _aggregate(rows: list[dict[str, Any]], failed: bool = False) -> dict[str, Any]:
    if failed:
        return {"n": len(rows), "failed": True, "cer": None, "wer": None, "line_cer": None,
                "count_match": None, "order_ok": None, "seconds": None, "errors": len(rows)}
    return {"failed": False, **_aggregate_rows(rows)}


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f}" if kb else "–"




def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.worker:
        return worker_main(*args.worker)

    from inkread.evalset import resolve_eval_dir, load_samples  # parent only
    from inkread.metrics import score

    eval_dir = resolve_eval_dir(args.eval_dir, default=DEFAULT_EVAL_DIR)
    is_manifest = (eval_dir / "manifest.tsv").is_file()
    all_samples = load_samples(eval_dir, sets=args.sets, kinds=args.kinds,
                               folder_kind=args.folder_kind, folder_language=args.folder_language)
    kinds = args.kinds if is_manifest else [args.folder_kind]
    by_kind = {kind: [s for s in all_samples if s.kind == kind] for kind in kinds}
    if args.limit is not None:
        by_kind = {kind: samples[: args.limit] for kind, samples in by_kind.items()}
    by_kind = {kind: samples for kind, samples in by_kind.items() if samples}
    if not by_kind:
        print(f"no samples in {eval_dir} for kinds {','.join(kinds)}", file=sys.stderr)
        return 1

    run = args.run or datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = Path(args.out_dir) / run
    run_dir.mkdir(parents=True, exist_ok=True)
    command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    machine = _machine_info(args.tesseract)
    total = sum(len(v) for v in by_kind.values())
    print(f"bench: {total} samples ({', '.join(f'{k}={len(v)}' for k, v in by_kind.items())}) x "
          f"{len(args.systems)} systems -> {run_dir}", file=sys.stderr, flush=True)

    tasks = [(system, kind) for system in args.systems for kind in by_kind]
    lock = threading.Lock()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {task: pool.submit(_run_worker, task[0], task[1], by_kind[task[1]], args,
                                     run_dir, lock) for task in tasks}
        results = {task: future.result() for task, future in futures.items()}
    total_wall = time.perf_counter() - started

    # ---- score
    rows: list[dict[str, Any]] = []
    gt_cache: dict[str, str] = {}
    for (system, kind), result in results.items():
        for sample in by_kind[kind]:
            record = result["texts"].get(sample.id)
            text = record["text"] if record else ""
            error = record["error"] if record else (result["load_error"] or "no output")
            if sample.id not in gt_cache:
                gt_cache[sample.id] = sample.read_gt()
            metrics = score(gt_cache[sample.id], text, set_name=sample.set)
            hyp_path = run_dir / "hyp" / system / sample.set / f"{sample.id}.txt"
            hyp_path.parent.mkdir(parents=True, exist_ok=True)
            hyp_path.write_text(text + ("\n" if text else ""), encoding="utf-8")
            rows.append({
                "system": system, "kind": kind, "set": sample.set, "id": sample.id,
                "language": sample.language,
                "seconds": record["seconds"] if record else None,
                **metrics, "error": error,
                "hyp_path": str(hyp_path.relative_to(run_dir)),
            })

    columns = ["system", "kind", "set", "id", "language", "seconds", "cer", "wer", "line_cer",
               "ref_lines", "hyp_lines", "count_match", "order_ok", "error", "hyp_path"]
    with (run_dir / "samples.tsv").open("w", encoding="utf-8") as handle:
        handle.write("\t".join(columns) + "\n")
        for row in rows:
            handle.write("\t".join(_tsv(row[c]) for c in columns) + "\n")

    # ---- aggregate
    systems = args.systems
    summary: dict[str, Any] = {"run": run, "command": command, "eval_dir": str(eval_dir),
                               "machine": machine, "jobs": args.jobs, "limit": args.limit,
                               "inkread_mode": args.inkread_mode, "warmup": args.warmup,
                               "wall_seconds": total_wall, "by_kind": {}, "by_set": {},
                               "workers": {}}
    for (system, kind), result in results.items():
        summary["workers"][f"{system}/{kind}"] = {
            k: result[k] for k in ("load_seconds", "load_error", "rss_kb", "children_rss_kb",
                                   "wall_seconds", "returncode")
        }
    for kind in by_kind:
        for system in systems:
            selected = [r for r in rows if r["system"] == system and r["kind"] == kind]
            # a worker that produced nothing at all (failed to load) gets no scores
            failed = not results[(system, kind)]["texts"]
            summary["by_kind"][f"{system}/{kind}"] = _aggregate(selected, failed)
            for set_name in sorted({r["set"] for r in selected}):
                summary["by_set"][f"{system}/{kind}/{set_name}"] = _aggregate(
                    [r for r in selected if r["set"] == set_name], failed)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False),
                                          encoding="utf-8")

    # ---- markdown
    md: list[str] = [f"# Benchmark run `{run}`", ""]
    md.append(f"- command: `{command}`")
    md.append(f"- eval set: `{eval_dir}`" + (f" (first {args.limit} per kind)" if args.limit else ""))
    md.append(f"- machine: {machine['cpu']}, {machine['cpus']} CPUs; Python {machine['python']}; "
              f"{machine['platform']}")
    md.append(f"- versions: inkread {machine['inkread']} (git {machine['git']}), rapidocr "
              f"{machine['rapidocr']}, onnxruntime {machine['onnxruntime']}, {machine['tesseract']}")
    md.append(f"- inkread mode: {args.inkread_mode}; warm-up: {'first sample, counted in load s' if args.warmup else 'none'}; "
              f"workers at once: {args.jobs}" + (" (timings skewed by sharing the CPUs)" if args.jobs > 1 else ""))
    md.append(f"- total wall time: {total_wall:.0f}s")
    failed = [(k, v["load_error"]) for k, v in summary["workers"].items() if v["load_error"]]
    for key, error in failed:
        md.append(f"- **{key} failed**: {error}")
    md.append("")

    md += ["## CER / WER by kind", ""]
    header = ["kind", "n"] + [f"{s} CER" for s in systems] + [f"{s} WER" for s in systems]
    table_rows = []
    for kind in by_kind:
        aggs = [summary["by_kind"][f"{s}/{kind}"] for s in systems]
        table_rows.append([kind, str(len(by_kind[kind]))] + [_pct(a["cer"]) for a in aggs]
                          + [_pct(a["wer"]) for a in aggs])
    md += _table(header, table_rows) + [""]

    md += ["## Details by kind", ""]
    header = ["kind", "system", "n", "CER", "WER", "line CER", "line count =", "order ok",
              "s / image", "load s", "peak RSS MB", "errors"]
    table_rows = []
    for kind in by_kind:
        for system in systems:
            agg = summary["by_kind"][f"{system}/{kind}"]
            worker = summary["workers"][f"{system}/{kind}"]
            table_rows.append([
                kind, system, str(agg["n"]), _pct(agg["cer"]), _pct(agg["wer"]),
                _pct(agg["line_cer"]), _pct(agg["count_match"]), _pct(agg["order_ok"]),
                _num(agg["seconds"]), _num(worker["load_seconds"], 1),
                _mb(max(worker["rss_kb"], worker["children_rss_kb"])), str(agg["errors"]),
            ])
    md += _table(header, table_rows) + [""]

    md += ["## By set", ""]
    header = ["kind", "set", "system", "n", "CER", "WER", "line CER", "line count =", "order ok",
              "s / image"]
    table_rows = []
    for kind in by_kind:
        for set_name in sorted({s.set for s in by_kind[kind]}):
            for system in systems:
                agg = summary["by_set"].get(f"{system}/{kind}/{set_name}")
                if not agg:
                    continue
                table_rows.append([
                    kind, set_name, system, str(agg["n"]), _pct(agg["cer"]), _pct(agg["wer"]),
                    _pct(agg["line_cer"]), _pct(agg["count_match"]), _pct(agg["order_ok"]),
                    _num(agg["seconds"]),
                ])
    md += _table(header, table_rows, 3) + [""]

    md += ["## Workers", ""]
    header = ["system", "kind", "load s", "own peak RSS MB", "children peak RSS MB", "wall s",
              "status"]
    table_rows = []
    for (system, kind), result in results.items():
        table_rows.append([system, kind, _num(result["load_seconds"], 1), _mb(result["rss_kb"]),
                           _mb(result["children_rss_kb"]), _num(result["wall_seconds"], 0),
                           ("failed: " + result["load_error"]) if result["load_error"] else "ok"])
    md += _table(header, table_rows, 2) + [""]
    md += [
        "Notes: CER/WER are means over samples, after NFC and collapsing every whitespace run to "
        "one space; `sroie` is scored case-insensitively. *line CER* is the mean CER over a "
        "monotone alignment of non-empty lines (an unpaired line counts 1.0); *line count =* is the "
        "share of samples whose number of non-empty lines equals the reference's; *order ok* "
        "additionally needs each output line's best-matching reference line to be non-decreasing. "
        "*s / image* excludes model loading (and the warm-up sample), which *load s* reports. "
        "*peak RSS MB* is the worker's own `ru_maxrss`, or its children's for tesseract (one "
        "process per image, which also loads its model every time). A failed sample scores as an "
        "empty transcription; a system that failed to start shows n/a.",
        "",
    ]
    text = "\n".join(md)
    (run_dir / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {run_dir / 'samples.tsv'} and {run_dir / 'summary.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
