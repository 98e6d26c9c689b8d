"""Learning curves of ``inkread train`` on hands the shipped handwriting model never learnt.

For each collection (``hooker``, ``stanford``: lines of ``../shared/train``, whose pages are disjoint from
the evaluation set's) and each N of ``--points`` (0 / 50 / 100 / 300 / 1,000 / all lines by default):

1. the collection's lines are written once as line pairs (``PAGE_lNNN.jpg`` + ``PAGE_lNNN.gt.txt``, the
   transcription as given in ``lines.tsv``: what a person would have corrected) into
   ``bench/out/adapt/<collection>/lines/``;
2. ``inkread train lines/ -o nN.onnx --lines N --minutes M --seed S`` runs as a user would run it (its
   defaults otherwise; ``--lines`` takes whole pages in an order the seed fixes, nested subsets, and the
   validation pages are held out of those N lines); N=0 trains nothing (the shipped model), "all" gives
   no ``--lines``;
3. the dev set's samples of that collection (``../shared/eval``, set == collection, kinds hw-page and
   hw-line) are read through the whole pipeline (``OcrEngine``, HANDWRITTEN, ``model=`` the trained file)
   and scored with :func:`inkread.metrics.cer` (mean of the samples' CER; case-folded only for the sets
   :func:`inkread.metrics.casefold_for_set` names, so not here).

    .venv/bin/python bench/bench_adapt.py                                   # both collections, 20 min each
    .venv/bin/python bench/bench_adapt.py --collection hooker --points 0,300,all --minutes 20,20,120
    INKREAD_THREADS=1 .venv/bin/python bench/bench_adapt.py --collection stanford --points 0,50 \\
        --minutes 1 --threads 1                                             # a smoke test

Training runs in one ``inkread train`` process at a time (``--threads`` passed through; it also sets
``INKREAD_THREADS`` for the reading here). Output: ``bench/out/adapt/<collection>/<run>/`` (``nN.onnx``
and its card ``nN.json``, ``nN.log``, ``results.json``, ``summary.md``; ``--run`` defaults to
``m<minutes>-s<seed>``). The models stay under ``bench/out/`` (ignored by git): hooker's and stanford's
images are not openly licensed, so models adapted on them are for measuring only, never to commit.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from inkread import evalset, metrics  # noqa: E402

COLLECTIONS = ("hooker", "stanford")
DEFAULT_POINTS = "0,50,100,300,1000,all"
KINDS = ("hw-page", "hw-line")
ALL = None  # the point "every line"


# ------------------------------------------------------------------------------------- pure helpers


def parse_points(text: str) -> list[int | None]:
    """``"0,50,all"`` -> ``[0, 50, None]`` (None: every line); order kept, repeats dropped."""
    out: list[int | None] = []
    for word in (w.strip().lower() for w in text.split(",")):
        if not word:
            continue
        if word == "all":
            value = ALL
        else:
            value = int(word.replace("_", ""))
            if value < 0:
                raise ValueError(f"a point must be 0 or more, not {word}")
        if value not in out:
            out.append(value)
    if not out:
        raise ValueError("no points given")
    return out


def parse_minutes(text: str, points: int) -> list[float]:
    """One time limit for every point (``"20"``) or one per point (``"1,20,20,120"``)."""
    values = [float(w) for w in text.split(",") if w.strip()]
    if any(v <= 0 for v in values):
        raise ValueError(f"minutes must be above 0: {text}")
    if len(values) == 1:
        return values * points
    if len(values) != points:
        raise ValueError(f"--minutes gives {len(values)} values for {points} points")
    return values


def plan_points(points: list[int | None], minutes: list[float], total: int) -> list[tuple[int | None, float]]:
    """(N, minutes) to run for a collection of ``total`` lines: an N at or above ``total`` is "all"
    (None), and "all" runs once (with the time limit of the first point that reached it)."""
    out: list[tuple[int | None, float]] = []
    for n, m in zip(points, minutes):
        n = ALL if n is not None and n >= total else n
        if all(n != seen for seen, _ in out):
            out.append((n, m))
    return out


def pair_stem(line_path: str) -> str:
    """The line-pair stem of a ``lines.tsv`` line (``lines/hooker/JDH_2_16_144_001_007.jpg`` ->
    ``JDH_2_16_144_001_l007``): ``inkread train`` takes ``PAGE_lNNN`` for page PAGE's line NNN."""
    stem = Path(line_path).stem
    page, sep, number = stem.rpartition("_")
    if not sep or not page or not number.isdigit():
        raise ValueError(f"{line_path}: not named PAGE_NNN")
    return f"{page}_l{number}"


def point_name(n: int | None) -> str:
    return "all" if n is None else str(n)


def fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


# ------------------------------------------------------------------------------------- the steps


def write_pairs(data: Path, collection: str, folder: Path) -> int:
    """The collection's lines as line pairs in ``folder`` (rewritten unless already complete); the count."""
    from inkread.training import data as D

    lines = [ln for ln in D.read_lines(data, (collection,)) if ln.text.strip()]
    if not lines:
        raise SystemExit(f"no lines of {collection!r} in {data / 'lines.tsv'}")
    stamp = folder / ".complete"
    if stamp.is_file() and stamp.read_text().strip() == str(len(lines)):
        return len(lines)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for ln in lines:
        stem = pair_stem(str(ln.path))
        shutil.copyfile(ln.path, folder / f"{stem}{ln.path.suffix.lower()}")
        (folder / f"{stem}.gt.txt").write_text(ln.text.strip() + "\n", encoding="utf-8")
    stamp.write_text(f"{len(lines)}\n")
    return len(lines)


def train_command(pairs: Path, out: Path, n: int | None, minutes: float, args: argparse.Namespace) -> list[str]:
    inkread = Path(sys.executable).with_name("inkread")
    cmd = [str(inkread)] if inkread.is_file() else [sys.executable, "-m", "inkread"]
    cmd += ["train", str(pairs), "-o", str(out), "--minutes", f"{minutes:g}", "--seed", str(args.seed), "--force"]
    if n is not None:
        cmd += ["--lines", str(n)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    return cmd + shlex.split(args.train_args)


def train(cmd: list[str], log: Path) -> tuple[int, float]:
    """Run ``inkread train`` (its output to ``log`` and to stderr); (exit code, wall seconds)."""
    print(f"$ {shlex.join(cmd)}", file=sys.stderr, flush=True)
    t = time.monotonic()
    with open(log, "w", encoding="utf-8") as fh:
        fh.write(f"$ {shlex.join(cmd)}\n")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            fh.flush()
            print(f"  | {line.rstrip()}", file=sys.stderr, flush=True)
        rc = proc.wait()
    return rc, time.monotonic() - t


def measure(model: Path | None, samples: list[evalset.Sample]) -> dict:
    """The dev samples read through the whole pipeline (HANDWRITTEN, ``model`` or the shipped one):
    per kind the mean CER and WER, the count and the seconds per sample."""
    from inkread import OcrEngine, RecognitionMode

    engine = OcrEngine(mode=RecognitionMode.HANDWRITTEN, model=str(model) if model else None)
    per_kind: dict[str, list[tuple[float, float, float]]] = {}
    for s in samples:
        t = time.perf_counter()
        text = engine.recognize(str(s.image_path), language=s.language or "en").text
        dt = time.perf_counter() - t
        fold = metrics.casefold_for_set(s.set)
        truth = s.read_gt()
        per_kind.setdefault(s.kind, []).append(
            (metrics.cer(truth, text, casefold=fold), metrics.wer(truth, text, casefold=fold), dt)
        )
    return {
        kind: {
            "n": len(rows),
            "cer": round(sum(r[0] for r in rows) / len(rows), 4),
            "wer": round(sum(r[1] for r in rows) / len(rows), 4),
            "seconds": round(sum(r[2] for r in rows) / len(rows), 2),
        }
        for kind, rows in per_kind.items()
    }


HEADER = (
    "| collection | N lines | trained on / validation lines | minutes trained (card / wall) | epochs | "
    "validation CER before -> after | dev hw-page CER | dev hw-line CER |"
)
RULE = "|---|---:|---:|---:|---:|---:|---:|---:|"


def table_row(r: dict) -> str:
    card = r.get("card") or {}
    dev = r.get("dev") or {}
    lines = card.get("lines", {})
    val = card.get("validation_cer", {})
    trained = f"{lines['training']} / {lines['validation']}" if lines else "—"
    if r["n"] == 0:
        minutes, epochs, before_after = "0", "—", "—"
    elif r.get("error"):
        minutes, epochs, before_after = fmt(r.get("wall_seconds", 0) / 60, 1), "—", r["error"]
    else:
        minutes = f"{fmt(card.get('minutes'), 1)} / {fmt(r['wall_seconds'] / 60, 1)}"
        epochs = fmt(card.get("epochs"), 1)
        before_after = f"{fmt(val.get('before'))} -> {fmt(val.get('after'))}"
    cells = [
        r["collection"],
        point_name(r["n"]) + (f" ({r['total']})" if r["n"] is None else ""),
        trained,
        minutes,
        epochs,
        before_after,
        *(f"{fmt(dev[k]['cer'])} (n={dev[k]['n']})" if k in dev else "—" for k in KINDS),
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


# ------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--collection", default=",".join(COLLECTIONS), help="hooker, stanford or both (comma-separated)")
    ap.add_argument("--points", default=DEFAULT_POINTS, help=f"the Ns, 'all' for every line ({DEFAULT_POINTS})")
    ap.add_argument("--minutes", default="20", help="inkread train --minutes: one value, or one per point (20)")
    ap.add_argument("--seed", type=int, default=0, help="inkread train --seed: the subset, split and training (0)")
    ap.add_argument("--threads", type=int, default=0, help="inkread train --threads and INKREAD_THREADS here")
    ap.add_argument("--train-args", default="", help="more options for inkread train, e.g. '--epochs 30'")
    ap.add_argument("--reuse", action="store_true", help="keep a model (and card) this run already wrote")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "train"))
    ap.add_argument("--eval-dir", default=None, help="default $INKREAD_EVAL_DIR or ../shared/eval")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "adapt"))
    ap.add_argument("--run", default="", help="the run's folder name (default m<minutes>-s<seed>)")
    args = ap.parse_args(argv)
    try:
        args.points = parse_points(args.points)
        args.minutes_list = parse_minutes(args.minutes, len(args.points))
    except ValueError as e:
        ap.error(str(e))
    args.collections = [c.strip() for c in args.collection.split(",") if c.strip()]
    for c in args.collections:
        if c not in COLLECTIONS:
            ap.error(f"unknown collection {c!r} (choose from {', '.join(COLLECTIONS)})")
    out = Path(args.out).resolve()
    if not out.is_relative_to(ROOT / "bench" / "out"):
        ap.error(f"--out must be under {ROOT / 'bench' / 'out'} (models adapted here are never to be committed)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join([sys.executable, *sys.argv] if argv is None else ["bench/bench_adapt.py", *argv])
    print(f"command: {command}", flush=True)
    if args.threads:
        os.environ["INKREAD_THREADS"] = str(args.threads)  # before the reading here loads a model
    eval_dir = evalset.resolve_eval_dir(args.eval_dir, default=ROOT.parent / "shared" / "eval")
    run_name = args.run or f"m{args.minutes.replace(',', '_')}-s{args.seed}"
    results: list[dict] = []
    started = time.monotonic()
    for collection in args.collections:
        base = Path(args.out) / collection
        pairs = base / "lines"
        total = write_pairs(Path(args.data), collection, pairs)
        samples = evalset.load_manifest(eval_dir, sets=[collection], kinds=list(KINDS))
        work = base / run_name
        work.mkdir(parents=True, exist_ok=True)
        print(f"{collection}: {total} lines as pairs in {pairs}; {len(samples)} dev samples", file=sys.stderr)
        for n, minutes in plan_points(args.points, args.minutes_list, total):
            row: dict = {"collection": collection, "n": n, "total": total, "minutes_limit": minutes}
            model = None
            if n != 0:
                model = work / f"n{point_name(n)}.onnx"
                card_path = model.with_suffix(".json")
                cmd = train_command(pairs, model, n, minutes, args)
                row["train_command"] = shlex.join(cmd)
                if args.reuse and model.is_file() and card_path.is_file():
                    print(f"reusing {model}", file=sys.stderr)
                    row["wall_seconds"], row["reused"] = 0.0, True
                else:
                    rc, row["wall_seconds"] = train(cmd, work / f"n{point_name(n)}.log")
                    if rc not in (0, 130) or not model.is_file():  # 130: interrupted, the best model written
                        row["error"] = f"inkread train failed (exit {rc}; {work / f'n{point_name(n)}.log'})"
                if "error" not in row:
                    row["card"] = json.loads(card_path.read_text(encoding="utf-8"))
                    row["card"].pop("history", None)
            if "error" not in row:
                t = time.monotonic()
                row["dev"] = measure(model, samples)
                row["measure_seconds"] = round(time.monotonic() - t, 1)
            results.append(row)
            print(HEADER + "\n" + RULE + "\n" + table_row(row), file=sys.stderr, flush=True)
            mine = [r for r in results if r["collection"] == collection]
            (work / "results.json").write_text(json.dumps({"command": command, "rows": mine}, indent=1) + "\n")
    summary = "\n".join(
        [
            f"command: {command}",
            f"training lines {args.data}; dev set {eval_dir}; {os.cpu_count()} cores; "
            f"{(time.monotonic() - started) / 60:.1f} minutes in all",
            "",
            HEADER,
            RULE,
            *(table_row(r) for r in results),
            "",
            "N lines: asked (--lines; validation pages held out of them); minutes: the card's (training) and the",
            "whole inkread train command's; dev CER: mean over the samples, HANDWRITTEN, the whole pipeline.",
            "",
            *(f"{r['collection']} N={point_name(r['n'])}: {r['train_command']}" for r in results if r["n"] != 0),
        ]
    )
    print("\n" + summary, flush=True)
    for collection in args.collections:
        (Path(args.out) / collection / run_name / "summary.md").write_text(summary + "\n", encoding="utf-8")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
