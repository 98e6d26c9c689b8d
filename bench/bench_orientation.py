#!/usr/bin/env python3
"""Pages at any orientation: every dev hw-page and print-page turned 0/90/180/270 degrees.

    .venv/bin/python bench/bench_orientation.py --decide        # the orientation decision only, 3 methods
    .venv/bin/python bench/bench_orientation.py                 # whole recognition: CER per turn, time
    .venv/bin/python bench/bench_orientation.py --upright       # every dev sample as given, and turned over

``--decide`` compares ways to tell which way up a page is, on the same turned pages:
``inkread`` (:mod:`inkread.orientation`: box direction + the recogniser's confidence both ways up),
``cls`` (PP-OCR's 0/180 line classifier voted over the lines, box direction for 90/270) and
``osd`` (Tesseract's ``--psm 0``, where osd.traineddata is installed). The whole run reads every
turned page with ``rotate="auto"`` and reports, per kind and turn: orientation right, CER, and
seconds per page, beside the upright pages read with ``rotate="0"`` (the time orientation adds).
Output: ``bench/out/<run>/orientation.json`` and ``orientation.md`` (also printed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"
TURNS = (0, 90, 180, 270)


def load(args):
    from inkread import evalset
    from inkread.io import load_pages

    samples = evalset.load_manifest(args.eval, kinds=["hw-page", "print-page"])
    if args.limit:
        samples = samples[: args.limit]
    for s in samples:
        image = load_pages(str(s.image_path))[0].image
        yield s, image, s.gt_path.read_text(encoding="utf-8")


def expected(turned: int) -> int:
    """A page turned ``turned`` degrees clockwise is made upright by turning it the rest of the way."""
    return (360 - turned) % 360


def decide_cls(models, work, quads, detect) -> int:
    from inkread import orientation as O

    sideways, _share, wide, tall = O.line_direction(quads)
    if sideways:
        img = O.turn(work, 90)
        h, w = work.shape[:2]
        boxes, base = O._elongated([O.map_forward(q, 90, w, h) for q in tall])[0], 90
    else:
        img, boxes, base = work, wide, 0
    crops = [O._crop(img, q) for q in boxes[: O.SAMPLE]]
    crops = [c for c in crops if min(c.shape[:2]) >= 4]
    if not crops:
        return 0
    flips = models.upside_down(crops, threshold=0.5)
    return (base + 180) % 360 if sum(flips) > len(flips) / 2 else base


def decide_osd(image) -> int | None:
    from inkread.backends import tesseract

    found = tesseract.osd(image)
    return found.rotate if found is not None else None


def run_decide(args) -> dict:
    from inkread import orientation as O
    from inkread.backends.ppocr.models import get_models
    from inkread.options import RecognitionMode
    from inkread.backends.ppocr.detect import detect_lines as _detect
    from inkread.backends.ppocr.profiles import PROFILES
    from inkread.preprocess import prepare
    from inkread.options import RecognitionOptions

    models = get_models()
    params = PROFILES[RecognitionMode.PRINTED].detect
    mask = models.class_mask("latin")
    rows = []
    for s, image, _gt in load(args):
        for t in TURNS:
            img = O.turn(image, t)
            work, _, _ = prepare(img, RecognitionOptions().preprocess)
            t0 = time.perf_counter()
            dets = [b for b, _ in _detect(models, work, params)]
            t1 = time.perf_counter()
            found = O.page_rotation(
                work,
                dets,
                lambda crops: [r.confidence for r in models.recognize(crops, mask)],
                lambda im: [b for b, _ in _detect(models, im, params)],
                upright=models.upright_probability,
            )
            t2 = time.perf_counter()
            row = {
                "id": s.id,
                "kind": s.kind,
                "turned": t,
                "want": expected(t),
                "inkread": found.rotation,
                "confidence": round(found.confidence, 3),
                "runner_up": round(found.runner_up, 3),
                "tried": len(found.tried),
                "detect_s": round(t1 - t0, 3),
                "decide_s": round(t2 - t1, 3),
                "cls": decide_cls(models, work, dets, None),
            }
            if args.osd:
                row["osd"] = decide_osd(img)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    summary = {}
    for kind in ("hw-page", "print-page"):
        sub = [r for r in rows if r["kind"] == kind]
        summary[kind] = {
            m: round(sum(r.get(m) == r["want"] for r in sub) / max(1, len(sub)), 3)
            for m in ("inkread", "cls", "osd")
            if any(m in r for r in sub)
        }
        up = [r for r in sub if r["turned"] == 0]
        summary[kind]["decide_s_upright"] = round(sum(r["decide_s"] for r in up) / max(1, len(up)), 3)
    return {"rows": rows, "summary": summary}


def run_upright(args) -> dict:
    """Every dev sample of every kind (names, lines, pages), as given and turned 180 degrees, through
    the PP-OCR page reader's own decision (its mode and the sample's language): how many upright
    samples are turned (each a sample read upside down) and how many turned ones are found."""
    from inkread import evalset
    from inkread import orientation as O
    from inkread.backends.ppocr.models import get_models
    from inkread.backends.ppocr.detect import detect_lines as _detect
    from inkread.backends.ppocr.page import _page_rotation
    from inkread.backends.ppocr.profiles import PROFILES
    from inkread.io import load_pages
    from inkread.options import RecognitionMode, RecognitionOptions
    from inkread.preprocess import prepare

    models = get_models()
    rows = []
    for s in evalset.load_manifest(args.eval):
        mode = RecognitionMode.HANDWRITTEN if s.kind.startswith("hw") else RecognitionMode.PRINTED
        options = RecognitionOptions(mode=mode, language=s.language or "en")
        image = load_pages(str(s.image_path))[0].image
        for t in (0, 180):
            work, _, _ = prepare(O.turn(image, t), options.preprocess)
            params = PROFILES[mode].detect
            found, _took = _page_rotation(work, _detect(models, work, params), options, models, params)
            rows.append({"id": s.id, "kind": s.kind, "set": s.set, "turned": t, "found": found})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    summary = {}
    for kind in sorted({r["kind"] for r in rows}):
        up = [r for r in rows if r["kind"] == kind and r["turned"] == 0]
        over = [r for r in rows if r["kind"] == kind and r["turned"] == 180]
        summary[kind] = {
            "upright samples": len(up),
            "upright turned (wrong)": sum(r["found"] != 0 for r in up),
            "turned over, found": sum(r["found"] == 180 for r in over),
            "wrongly turned": sorted(r["id"] for r in up if r["found"] != 0),
        }
    return {"rows": rows, "summary": summary}


def run_whole(args) -> dict:
    from inkread import OcrEngine
    from inkread import orientation as O
    from inkread.metrics import cer

    engine = OcrEngine()
    rows = []
    warm = False
    for s, image, gt in load(args):
        if not warm:  # models and word lists loaded before anything is timed
            for mode in ("handwritten", "printed"):
                engine.recognize(image, language=s.language, rotate="0", mode=mode)
            warm = True
        for t, rotate in [(0, "0")] + [(t, "auto") for t in TURNS]:
            t0 = time.perf_counter()
            result = engine.recognize(O.turn(image, t), language=s.language, rotate=rotate)
            seconds = time.perf_counter() - t0
            row = {
                "id": s.id,
                "kind": s.kind,
                "turned": t,
                "rotate": rotate,
                "seconds": round(seconds, 3),
                "found": result.pages[0].rotation,
                "want": expected(t) if rotate == "auto" else 0,
                "cer": round(cer(gt, result.text), 4),
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    summary = {}
    for kind in ("hw-page", "print-page"):
        sub = [r for r in rows if r["kind"] == kind]
        fixed = [r for r in sub if r["rotate"] == "0"]
        entry = {
            "pages": len(fixed),
            "cer_upright_rotate_0": _mean(fixed, "cer"),
            "seconds_upright_rotate_0": _mean(fixed, "seconds"),
        }
        for t in TURNS:
            turned = [r for r in sub if r["rotate"] == "auto" and r["turned"] == t]
            entry[f"turned_{t}"] = {
                "orientation_right": round(sum(r["found"] == r["want"] for r in turned) / max(1, len(turned)), 3),
                "cer": _mean(turned, "cer"),
                "seconds": _mean(turned, "seconds"),
            }
        auto = [r for r in sub if r["rotate"] == "auto"]
        entry["orientation_right_all_turns"] = round(sum(r["found"] == r["want"] for r in auto) / max(1, len(auto)), 3)
        entry["time_added_upright"] = round(entry["turned_0"]["seconds"] / entry["seconds_upright_rotate_0"] - 1, 3)
        summary[kind] = entry
    return {"rows": rows, "summary": summary}


def _mean(rows, key):
    return round(sum(r[key] for r in rows) / max(1, len(rows)), 4)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval", type=Path, default=DEFAULT_EVAL_DIR)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--decide", action="store_true", help="the orientation decision only, three methods")
    p.add_argument("--osd", action="store_true", help="--decide: Tesseract OSD too (slow)")
    p.add_argument("--upright", action="store_true", help="every dev sample as given and turned 180: false turns")
    p.add_argument("--run", default=datetime.now().strftime("orientation-%Y%m%d-%H%M%S"))
    args = p.parse_args()
    out = REPO / "bench" / "out" / args.run
    out.mkdir(parents=True, exist_ok=True)
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    result = run_decide(args) if args.decide else run_upright(args) if args.upright else run_whole(args)
    result.update(run=args.run, git=git, command=" ".join(["bench/bench_orientation.py", *sys.argv[1:]]))
    (out / "orientation.json").write_text(json.dumps(result, indent=1))
    text = json.dumps(result["summary"], indent=1)
    (out / "orientation.md").write_text("```\n" + text + "\n```\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
