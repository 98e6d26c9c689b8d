"""``python -m inkread.training [features|train|export|all|quantize]``: rebuild the handwriting recogniser
(``quantize``: the int8 text detector, :mod:`inkread.training.quantize`).

One command, a fixed seed: ``python -m inkread.training all --data ../shared/train --work train-work``
caches the backbone's features of the real and synthetic lines, trains the neck and head, and writes
``src/inkread/weights/hw_rec.onnx`` with its card (``hw_rec.json``: command, data hash, figures).
Needs the training extra: ``pip install -e '.[train]'`` (PyTorch, onnx, fontTools).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import data as D


def _real_views(lines: list[D.Line], views: int, seed: int):
    from .augment import augment

    rng = np.random.default_rng(seed)
    for ln in lines:
        gray = D.gray(ln.path)
        yield gray, ln.text
        for _ in range(views - 1):
            yield augment(gray, rng), ln.text


def _synth_views(n: int, seed: int, fonts, p_aug: float = 0.7):
    from .augment import augment
    from .synth import synthetic_lines

    rng = np.random.default_rng(seed + 1)
    for img, text, _lang in synthetic_lines(n, seed, fonts=fonts):
        yield (augment(img, rng) if rng.random() < p_aug else img), text


def cmd_features(args) -> None:
    from .features import Backbone, extract

    work = Path(args.work)
    bb = Backbone(work / "cache")
    cache = work / "cache"
    lines = D.read_lines(Path(args.data), D.FIRST_SETS)  # the neck phase's caches: the shipped recipe's
    train, val = D.split_by_page(lines, args.val_fraction, args.seed)
    print(f"real lines: {len(train)} train, {len(val)} validation (pages held out)", flush=True)
    from .synth import HELD_OUT_FONTS, TRAIN_FONTS

    jobs = [
        ("val", lambda: ((D.gray(l.path), l.text) for l in val)),
        ("synth_heldout", lambda: _synth_views(args.synth_val, args.seed + 7, HELD_OUT_FONTS, p_aug=0.0)),
        ("real", lambda: _real_views(train, args.views, args.seed)),
        ("synth", lambda: _synth_views(args.synth, args.seed, TRAIN_FONTS)),
    ]
    if args.eval and Path(args.eval).is_dir():  # measuring only: never trained on
        jobs.insert(1, ("dev_lines", lambda: D.dev_lines(Path(args.eval))))
    pick = D.other_collections(Path(args.data), args.other, args.seed)
    jobs.insert(2, ("other_sets", lambda: ((D.gray(l.path), l.text) for l in pick)))
    for name, make in jobs:
        if args.only and name not in args.only.split(","):
            continue
        if (cache / f"{name}.feats.npy").is_file() and not args.force:
            print(f"{name}: cached", flush=True)
            continue
        t = time.time()
        n = extract(make(), bb, cache, name, log=lambda m: print(m, flush=True))
        print(f"{name}: {n} lines in {time.time() - t:.0f} s", flush=True)
    (work / "data_hash.txt").write_text(D.data_hash(train) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m inkread.training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["quantize"]:  # the int8 detector (training.quantize): no training, its own flags
        from .quantize import main as quantize_main

        return quantize_main(argv[1:])
    p.add_argument("step", choices=("fonts", "features", "train", "export", "all", "quantize"))
    p.add_argument("--data", default="../shared/train")
    p.add_argument("--eval", default="../shared/eval", help="dev line crops, only measured on")
    p.add_argument("--work", default="train-work")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--val-fraction", type=float, default=0.08)
    p.add_argument("--views", type=int, default=5, help="views of each real line: 1 clean + augmented")
    p.add_argument("--synth", type=int, default=12000)
    p.add_argument("--synth-val", type=int, default=300)
    p.add_argument("--other", type=int, default=400, help="hooker/stanford lines measured on (not trained)")
    p.add_argument("--force", action="store_true")
    p.add_argument("--only", default="", help="features: only these caches (comma-separated names)")
    args, rest = p.parse_known_args(argv)
    if args.step == "fonts":  # more handwriting fonts for the synthetic lines (training.fonts)
        from .fonts import fetch, fonts_dir

        fetch(fonts_dir(args.work))
        return 0
    if args.step in ("features", "all"):
        cmd_features(args)
    if args.step in ("train", "export", "all"):
        from .recipe import main as train_main

        return train_main(args, rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
