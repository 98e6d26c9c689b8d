"""Choose between handwriting models on the training collections' held-out pages, not on the dev set:
inkread's whole HANDWRITTEN pipeline (lexicon, rescoring, tidying) on the validation line images of
``inkread.training`` (pages split off by ``split_by_page`` with its seed), per candidate model file.

    .venv/bin/python bench/bench_hw_val.py src/inkread/weights/hw_rec.onnx other.onnx ppocr

``ppocr`` reads with PP-OCRv6 as shipped. Accuracy only, one process; a fresh process per model.

    .venv/bin/python bench/bench_hw_val.py src/inkread/weights/hw_rec.onnx --sets hooker,stanford --limit 300
    .venv/bin/python bench/bench_hw_val.py src/inkread/weights/hw_rec.onnx --lexicon alpha=0.5,oov=-3

``--sets`` other than copiste,poilus reads those collections' lines (never trained on: unseen hands),
``--limit N`` a fixed sample of them; ``--lexicon k=v,...`` sets ``LexiconParams`` fields of the handwriting profile for
the run (decoding re-tuned around a model, on these lines rather than the dev set).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _lexicon_params(spec: str):
    """``LexiconParams`` with ``spec``'s fields (``alpha=0.5,oov=-3``) changed."""
    import dataclasses

    from inkread.backends.ppocr.decode import LexiconParams

    base = LexiconParams()
    changes = {}
    for item in spec.split(","):
        key, _, value = item.partition("=")
        changes[key.strip()] = type(getattr(base, key.strip()))(value)
    return dataclasses.replace(base, **changes)


def _one(model: str, data: Path, seed: int, val_fraction: float, sets: str, second: str, limit: int = 0,
         lexicon: str = "") -> None:
    import cv2

    from inkread import metrics
    from inkread.backends.ppocr.models import get_models
    from inkread.backends.ppocr.page import recognize_page
    from inkread.backends.ppocr.profiles import PROFILES
    from inkread.options import RecognitionMode, RecognitionOptions
    from inkread.training import data as D

    import dataclasses

    hw = RecognitionMode.HANDWRITTEN
    profile = PROFILES[hw]
    if model == "ppocr":
        profile = dataclasses.replace(profile, recogniser="ppocr")
    if second:
        profile = dataclasses.replace(profile, second_opinion=None if second == "none" else second)
    if lexicon:
        profile = dataclasses.replace(profile, lexicon=_lexicon_params(lexicon))
    profiles = {**PROFILES, hw: profile}
    lines = D.read_lines(data, tuple(sets.split(",")))
    if sets == ",".join(D.SHIPPABLE_SETS):
        lines = D.split_by_page(lines, val_fraction, seed)[1]
    lines = [ln for ln in lines if D.training_text(ln.text)]
    if limit and len(lines) > limit:
        pick = np.random.default_rng(seed).choice(len(lines), limit, replace=False)
        lines = [lines[i] for i in sorted(pick)]
    models = get_models()
    rows: dict[str, list] = {}
    t0 = time.time()
    for ln in lines:
        img = cv2.cvtColor(cv2.imread(str(ln.path)), cv2.COLOR_BGR2RGB)
        opts = RecognitionOptions(mode=hw, language=("fr" if ln.set in ("copiste", "poilus") else "en"),
                                  rotate=os.environ.get("BENCH_ROTATE", "auto"))
        page, _seconds = recognize_page(img, opts, models, profiles=profiles)
        truth = D.training_text(ln.text)
        rows.setdefault(ln.set, []).append((metrics.cer(truth, page.text), metrics.wer(truth, page.text)))
    allr = [r for v in rows.values() for r in v]
    out = {k: np.mean(v, axis=0) for k, v in rows.items()}
    a = np.mean(allr, axis=0)
    per = " ".join(f"{k} {v[0]:.3f}/{v[1]:.3f}" for k, v in out.items())
    print(f"| {model}{' + ' + second if second else ''}{' [' + lexicon + ']' if lexicon else ''} | {len(allr)} | {a[0]:.4f} | {a[1]:.4f} | {per} | {time.time() - t0:.0f} s |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "train"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--val-fraction", type=float, default=0.08)
    ap.add_argument("--sets", default="copiste,poilus", help="copiste,poilus: their held-out pages")
    ap.add_argument("--second-opinion", default="", help="ppocr or none: override the profile's second opinion")
    ap.add_argument("--limit", type=int, default=0, help="read a fixed sample of this many lines")
    ap.add_argument("--lexicon", default="", help="decode.LexiconParams fields for this run: alpha=0.5,oov=-3")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        _one(args.one, Path(args.data), args.seed, args.val_fraction, args.sets, args.second_opinion, args.limit,
             args.lexicon)
        return 0
    print("| model | lines | CER | WER | per set CER/WER | time |\n|---|---:|---:|---:|---|---:|", flush=True)
    for m in args.models:
        env = dict(os.environ)
        if m != "ppocr":
            env["INKREAD_HANDWRITING_MODEL"] = str(Path(m).resolve())
        subprocess.run([sys.executable, __file__, "--one", m, "--data", args.data, "--seed", str(args.seed),
                        "--val-fraction", str(args.val_fraction), "--sets", args.sets,
                        "--second-opinion", args.second_opinion, "--limit", str(args.limit),
                        "--lexicon", args.lexicon], env=env, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
