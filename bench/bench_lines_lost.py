#!/usr/bin/env python3
"""No line lost (issue 23): every text line raw RapidOCR's detector finds on a page must be in
inkread's text or in its ``unread`` list.

    INKREAD_THREADS=1 .venv/bin/python bench/bench_lines_lost.py --run lost1
    .venv/bin/python bench/bench_lines_lost.py --kinds hw-page --limit 3 --run quick

For every dev page (``hw-page``, ``print-page``; read in its manifest's mode and language) and for
tight crops cut from the handwritten pages (``--crops``: five consecutive lines of a page, cut at
their detected outline so that the last line touches the bottom edge, or the first the top edge,
scaled to 489 px wide: the form crop the issue reports), raw RapidOCR (its defaults: the PP-OCRv6
detector at 736 px on the short side) finds the text boxes. A box counts as *kept* when inkread's
lines and unread regions (their polygons, on the image as given) cover at least ``COVER`` of its
area, else as *lost*; a lost box with no letter or digit in raw RapidOCR's own reading of it (a
speck, a rule) is counted apart.

Output: ``bench/out/lines_lost/<run>/boxes.tsv`` (every lost box: sample, box, raw reading),
``summary.md`` (also printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from inkread import OcrEngine, RecognitionMode  # noqa: E402
from inkread.evalset import load_manifest, resolve_eval_dir  # noqa: E402

#: share of a raw box's area inkread's lines and unread regions must cover for the box to count as kept
COVER = 0.35  # inkread.coverage.COVERED
CROP_WIDTH = 489
CROP_LINES = 5


def raw_engine():
    """RapidOCR with its defaults, loaded quietly (the baseline runner's engine)."""
    from inkread.evaluate.runners import RapidOcrRunner

    return RapidOcrRunner().engine


def raw_boxes(engine, image: np.ndarray) -> list[np.ndarray]:
    out = engine(image, use_det=True, use_cls=False, use_rec=False)
    boxes = getattr(out, "boxes", None)
    return [] if boxes is None else [np.asarray(b, dtype=np.float32).reshape(4, 2) for b in boxes]


def raw_reading(engine, image: np.ndarray, box: np.ndarray) -> str:
    x0, y0 = np.floor(box.min(axis=0)).astype(int)
    x1, y1 = np.ceil(box.max(axis=0)).astype(int)
    crop = image[max(0, y0) : y1 + 1, max(0, x0) : x1 + 1]
    if crop.size == 0:
        return ""
    out = engine(crop, use_det=False, use_cls=False, use_rec=True)
    texts = getattr(out, "txts", None) or ()
    return " ".join(str(t) for t in texts)


def tight_crops(image: np.ndarray, boxes: list[np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """Five consecutive lines cut at their outline: the page's last five (the last one at the bottom
    edge) and its first five (the first at the top edge), scaled to ``CROP_WIDTH`` px wide."""
    if len(boxes) < CROP_LINES + 1:
        return []
    by_top = sorted(boxes, key=lambda b: float(b[:, 1].min()))
    heights = np.array([float(b[:, 1].max() - b[:, 1].min()) for b in by_top])
    lines = [b for b, h in zip(by_top, heights) if h >= 0.5 * np.median(heights)]
    out = []
    for name, chosen, edge in (("bottom", lines[-CROP_LINES:], "bottom"), ("top", lines[:CROP_LINES], "top")):
        pts = np.concatenate(chosen)
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
        # the detector's boxes reach a little past the ink; cut into that margin at the edge side
        inset = int(0.1 * np.median(heights))
        if edge == "bottom":
            y1 -= inset
        else:
            y0 += inset
        crop = image[max(0, y0) : y1, max(0, x0) : x1 + 1]
        scale = CROP_WIDTH / crop.shape[1]
        crop = cv2.resize(crop, (CROP_WIDTH, max(8, round(crop.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        out.append((name, crop))
    return out


def uncovered(boxes: list[np.ndarray], page, shape: tuple[int, ...]) -> list[np.ndarray]:
    """The boxes of which the ``page``'s lines and unread regions cover less than ``COVER``."""
    have = np.zeros(shape[:2], np.uint8)
    for poly in [line.bbox for line in page.lines] + list(page.unread):
        # one at a time: fillPoly leaves where two polygons overlap unfilled
        cv2.fillPoly(have, [np.round(np.asarray(poly, np.float32)).astype(np.int32)], 1)
    lost = []
    for box in boxes:
        want = np.zeros(shape[:2], np.uint8)
        cv2.fillPoly(want, [np.round(box).astype(np.int32)], 1)
        if (want & have).sum() < COVER * want.sum():
            lost.append(box)
    return lost


def check(engine, ink: OcrEngine, name: str, image: np.ndarray, mode: RecognitionMode, language: str) -> dict:
    boxes = raw_boxes(engine, image)
    t0 = time.perf_counter()
    result = ink.recognize(image, mode=mode, language=language)
    took = time.perf_counter() - t0
    page = result.pages[0]
    lost = [(box, raw_reading(engine, image, box)) for box in uncovered(boxes, page, image.shape)]
    return {
        "name": name,
        "boxes": len(boxes),
        "lines": len(page.lines),
        "unread": len(page.unread),
        "lost": [(b, t) for b, t in lost if any(c.isalnum() for c in t)],
        "specks": [(b, t) for b, t in lost if not any(c.isalnum() for c in t)],
        "seconds": took,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", default=str(REPO.parent / "shared" / "eval"), help="evaluation set folder")
    parser.add_argument("--kinds", default="hw-page,print-page")
    parser.add_argument("--limit", type=int, default=0, help="at most this many samples a kind")
    parser.add_argument("--no-crops", action="store_true", help="skip the tight crops of handwritten pages")
    parser.add_argument("--crops-only", action="store_true", help="only the tight crops, not the pages")
    parser.add_argument("--run", default="latest")
    args = parser.parse_args(argv)

    samples = load_manifest(resolve_eval_dir(args.eval), kinds=args.kinds)
    engine, ink = raw_engine(), OcrEngine()
    out_dir = REPO / "bench" / "out" / "lines_lost" / args.run
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict]] = {}
    counts: dict[str, int] = {}
    for sample in samples:
        if args.limit and counts.get(sample.kind, 0) >= args.limit:
            continue
        counts[sample.kind] = counts.get(sample.kind, 0) + 1
        image = cv2.cvtColor(cv2.imread(os.fspath(sample.image_path)), cv2.COLOR_BGR2RGB)
        mode = RecognitionMode.HANDWRITTEN if sample.is_handwritten else RecognitionMode.PRINTED
        jobs = [] if args.crops_only else [(sample.kind, sample.id, image)]
        if sample.is_handwritten and not args.no_crops:
            crops = tight_crops(image, raw_boxes(engine, image))
            jobs += [(f"{sample.kind} crop", f"{sample.id}_{edge}", crop) for edge, crop in crops]
        for group, name, img in jobs:
            row = check(engine, ink, name, img, mode, sample.language)
            rows.setdefault(group, []).append(row)
            if group.endswith("crop"):
                cv2.imwrite(os.fspath(out_dir / f"{name}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            print(
                f"{name}: raw boxes {row['boxes']}, inkread lines {row['lines']} + unread {row['unread']}, "
                f"lost {len(row['lost'])} ({'; '.join(t for _, t in row['lost'])}), specks {len(row['specks'])}",
                flush=True,
            )

    with open(out_dir / "boxes.tsv", "w", encoding="utf-8") as f:
        f.write("sample\tkind\tbox\traw_reading\n")
        for group, group_rows in rows.items():
            for row in group_rows:
                for box, text in row["lost"] + row["specks"]:
                    pts = " ".join(f"{x:.0f},{y:.0f}" for x, y in box)
                    f.write(f"{row['name']}\t{group}\t{pts}\t{text}\n")
    lines = [
        f"Command: `{' '.join(['bench/bench_lines_lost.py', *(argv if argv is not None else sys.argv[1:])])}`",
        "",
        "| samples | images | raw RapidOCR boxes | lost (text) | lost specks | images losing a line | s / image |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for group, group_rows in rows.items():
        lost = sum(len(r["lost"]) for r in group_rows)
        lines.append(
            f"| {group} | {len(group_rows)} | {sum(r['boxes'] for r in group_rows)} | {lost} | "
            f"{sum(len(r['specks']) for r in group_rows)} | {sum(1 for r in group_rows if r['lost'])} | "
            f"{np.mean([r['seconds'] for r in group_rows]):.2f} |"
        )
    summary = "\n".join(lines) + "\n"
    (out_dir / "summary.md").write_text(summary, encoding="utf-8")
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
