#!/usr/bin/env python3
"""AUTO's look (issue 24): the confidence `automode.guess_mode` sees on every dev sample, and the mode
it decides, for the look as it reads now and for a cheaper one (``--segment``: the middle of each long
box, at most that many times as wide as high, as the orientation check reads lines).

    .venv/bin/python bench/bench_auto_look.py --segment 12 --run look1

Every sample is detected as the page reader detects it (its preprocessing and detector); each look
reads the six largest boxes with PP-OCRv6, greedy. Output: ``bench/out/auto_look/<run>/samples.tsv``
(sample, kind, each look's confidence and seconds) and ``summary.md`` (per kind: the confidence range,
how many each look decides as print / as handwriting / leaves unsure, and the wrong decisions).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from inkread.backends.ppocr import automode  # noqa: E402
from inkread.backends.ppocr.detect import detect_lines  # noqa: E402
from inkread.backends.ppocr.models import get_models  # noqa: E402
from inkread.backends.ppocr.profiles import PROFILES  # noqa: E402
from inkread.evalset import load_manifest  # noqa: E402
from inkread.io import load_pages  # noqa: E402
from inkread.options import RecognitionMode, RecognitionOptions  # noqa: E402
from inkread.preprocess import prepare  # noqa: E402

KINDS = ("hw-page", "print-page", "hw-line", "print-line", "hw-word")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", default=str(REPO.parent / "shared" / "eval"))
    parser.add_argument("--segment", type=float, default=12.0, help="the cheaper look's widest crop, in heights")
    parser.add_argument("--run", default="latest")
    args = parser.parse_args()
    models, options = get_models(), RecognitionOptions()
    mask = models.class_mask("latin")
    detect = PROFILES[RecognitionMode.PRINTED].detect
    rows = []
    for sample in load_manifest(args.eval, kinds=",".join(KINDS)):
        page = load_pages(sample.image_path)[0]
        work, _, _ = prepare(page.image, options.preprocess)
        quads = [q for q, _ in detect_lines(models, work, detect)]
        looks = []
        for segment in (None, args.segment):
            t0 = time.perf_counter()
            confidence, n = automode.look(work, quads, mask, models, segment=segment)
            looks.append((confidence, n, time.perf_counter() - t0))
        rows.append((sample.id, sample.kind, looks))
        print(sample.id, [round(c, 3) for c, _, _ in looks], file=sys.stderr, flush=True)
    out = REPO / "bench" / "out" / "auto_look" / args.run
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "samples.tsv", "w", encoding="utf-8") as fh:
        fh.write("sample\tkind\tconf_whole\tconf_segment\ts_whole\ts_segment\n")
        for sid, kind, looks in rows:
            fh.write(f"{sid}\t{kind}\t{looks[0][0]:.4f}\t{looks[1][0]:.4f}\t{looks[0][2]:.3f}\t{looks[1][2]:.3f}\n")
    md = [
        f"Command: `bench/bench_auto_look.py --segment {args.segment:g} --run {args.run}`",
        "",
        "| kind | n | look | confidence | as print | as handwriting | unsure | wrong | s / sample |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        mine = [r for r in rows if r[1] == kind]
        if not mine:
            continue
        for k, name in enumerate(("whole boxes", f"middles <= {args.segment:g}x")):
            decided = [automode.decide(looks[k][0], looks[k][1]) for _, _, looks in mine]
            confs = [looks[k][0] for _, _, looks in mine]
            printed = sum(d is RecognitionMode.PRINTED for d in decided)
            hand = sum(d is RecognitionMode.HANDWRITTEN for d in decided)
            right = RecognitionMode.HANDWRITTEN if kind.startswith("hw") else RecognitionMode.PRINTED
            wrong = sum(d is not RecognitionMode.AUTO and d is not right for d in decided)
            seconds = np.mean([looks[k][2] for _, _, looks in mine])
            md.append(
                f"| {kind} | {len(mine)} | {name} | {min(confs):.3f}-{max(confs):.3f} | {printed} | {hand} | "
                f"{len(mine) - printed - hand} | {wrong} | {seconds:.3f} |"
            )
    (out / "summary.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
