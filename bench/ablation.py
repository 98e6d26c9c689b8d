"""Ablations of inkread's pipeline on the dev set: each row switches one technique off (or a mode's
profile for another's) and measures CER / WER / line structure per kind, in one process, one run.

    .venv/bin/python bench/ablation.py                       # every variant, every kind
    .venv/bin/python bench/ablation.py --kinds hw-line --variants default,no-lexicon

Accuracy only: speed is measured by bench_pages.py, side by side with the baselines.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from inkread import evalset, metrics  # noqa: E402
from inkread.backends.ppocr.decode import LexiconParams  # noqa: E402
from inkread.backends.ppocr.models import get_models  # noqa: E402
from inkread.backends.ppocr.page import recognize_page  # noqa: E402
from inkread.backends.ppocr.profiles import PROFILES  # noqa: E402
from inkread.options import RecognitionMode, RecognitionOptions  # noqa: E402

HW, PR = RecognitionMode.HANDWRITTEN, RecognitionMode.PRINTED


def _profile(mode, **changes):
    return dataclasses.replace(PROFILES[mode], **changes)


def _both(**lexicon):
    """Both modes' profiles with these LexiconParams fields changed."""
    return {m: _profile(m, lexicon=dataclasses.replace(PROFILES[m].lexicon, **lexicon)) for m in (HW, PR)}


# name -> (mode, option changes, profile overrides {mode: profile}); the reader is given the
# profiles (nothing patched)
VARIANTS = {
    "default": ("matched", {}, {}),
    "auto": ("auto", {}, {}),
    "no-lexicon": ("matched", {"lexicon": False}, {}),
    "no tidying (spacing/elisions/accents)": ("matched", {}, {HW: _profile(HW, tidy=False), PR: _profile(PR, tidy=False)}),
    "no word rescoring": ("matched", {}, _both(rescore_edits=0)),
    "word rescoring without merges": ("matched", {}, _both(rescore_merge=False)),
    "no case decision (capitals kept as read)": ("matched", {}, _both(case_margin=None)),
    "word rescoring weight 0.7 (was)": ("matched", {}, _both(rescore_alpha=0.7)),
    "word rescoring: unknown words score -2.5 (was)": ("matched", {}, _both(rescore_oov=LexiconParams.oov)),
    "hw: no digit look-alikes": ("matched", {}, {HW: _profile(HW, digit_lookalikes=False)}),
    "print: with word rescoring": ("matched", {}, {PR: _profile(PR, rescore=True)}),
    "hw: PP-OCRv6 recogniser (was; no handwriting model)": ("matched", {}, {HW: _profile(HW, recogniser="ppocr")}),
    "hw: PP-OCRv6 second opinion on unsure lines": ("matched", {}, {HW: _profile(HW, second_opinion="ppocr")}),
    "hw: no second opinion": ("matched", {}, {HW: _profile(HW, second_opinion=None)}),
    "print: handwriting recogniser": ("matched", {}, {PR: _profile(PR, recogniser="handwriting")}),
    "hw: no test-time variants": ("matched", {}, {HW: _profile(HW, variants=())}),
    "hw: variants for every crop (no confidence gate)": ("matched", {}, {HW: _profile(HW, variants_below=1.01)}),
    "hw: keep faint boxes (no show-through filter)": ("matched", {}, {HW: _profile(HW, faint_ratio=0.0)}),
    "hw: no ink fit of line crops": ("matched", {}, {HW: _profile(HW, line_margin=0.0)}),
    # the handwriting profile no longer trims (this row's earlier run showed trimming lost); kept as
    # the reverse switch so the knob stays measured
    "hw: trim 8% off page fragments": ("matched", {}, {HW: _profile(HW, trim=0.08)}),
    "hw kinds read with the printed profile": ("swap-hw", {}, {}),
    "print kinds read with the handwritten profile": ("swap-print", {}, {}),
}


def mode_for(variant_mode: str, kind: str) -> RecognitionMode:
    hw = kind.startswith("hw")
    if variant_mode == "auto":
        return RecognitionMode.AUTO
    if variant_mode == "swap-hw":
        return PR if hw else PR
    if variant_mode == "swap-print":
        return HW if not hw else HW
    return HW if hw else PR


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", default=None)
    ap.add_argument("--kinds", default="hw-page,hw-line,print-page,print-line")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--limit", type=int, default=0, help="first N samples per kind (0 = all)")
    args = ap.parse_args(argv)
    eval_dir = evalset.resolve_eval_dir(args.eval_dir, default=ROOT.parent / "shared" / "eval")
    kinds = args.kinds.split(",")
    samples = evalset.load_manifest(eval_dir, kinds=kinds)
    if args.limit:
        per_kind: dict[str, list] = {}
        for s in samples:
            if len(per_kind.setdefault(s.kind, [])) < args.limit:
                per_kind[s.kind].append(s)
        samples = [s for k in kinds for s in per_kind.get(k, [])]
    images = {s.id: cv2.cvtColor(cv2.imread(str(s.image_path)), cv2.COLOR_BGR2RGB) for s in samples}
    models = get_models()
    print(f"eval set {eval_dir}; {len(samples)} samples; kinds {', '.join(kinds)}\n")
    print("| variant | kind | n | CER | WER | line count = | order ok | s / image |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in args.variants.split(","):
        vmode, changes, overrides = VARIANTS[name]
        if vmode.startswith("swap-") and not any(k.startswith("hw" if vmode == "swap-hw" else "print") for k in kinds):
            continue
        profiles = {**PROFILES, **overrides}
        for kind in kinds:
            if vmode == "swap-hw" and not kind.startswith("hw") or vmode == "swap-print" and kind.startswith("hw"):
                continue
            rows = []
            for s in (x for x in samples if x.kind == kind):
                opts = RecognitionOptions(mode=mode_for(vmode, kind), language=s.language, **changes)
                t = time.perf_counter()
                page, _seconds = recognize_page(images[s.id], opts, models, profiles=profiles)
                dt = time.perf_counter() - t
                cf = metrics.casefold_for_set(s.set)
                truth = s.read_gt()
                ls = metrics.line_structure(truth, page.text, casefold=cf)
                rows.append((metrics.cer(truth, page.text, casefold=cf), metrics.wer(truth, page.text, casefold=cf),
                             ls["count_match"], ls["order_ok"], dt))
            if not rows:
                continue
            a = np.array(rows, dtype=float).mean(axis=0)
            print(f"| {name} | {kind} | {len(rows)} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.0%} | {a[3]:.0%} | {a[4]:.2f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
