"""Which recogniser reads handwriting: PP-OCRv6, inkread's handwriting model, or the two fused per
frame (their CTC posteriors combined log-linearly before one decoding), measured per collection on
hands the handwriting model trained on and hands it never saw, through the whole HANDWRITTEN
pipeline (lexicon, rescoring, tidying), in one process, one run.

    .venv/bin/python bench/bench_fusion.py                                  # every variant
    .venv/bin/python bench/bench_fusion.py --variants hw,fused0.7 --train-limit 50

Groups: the dev set's handwritten kinds per set (``../shared/eval``: names, stanford, hooker,
copiste, poilus), and lines of ``../shared/train`` collections: those shipped weights may learn from
(``training.data.SHIPPABLE_SETS``) from the pages the recipe holds out (``split_by_page`` over all of
them with the recipe's seed), a fixed sample of the others (hooker, stanford: never trained on). A
model trained before the collection grew (copiste and poilus only, another split) saw some of these
pages of copiste and poilus: compare such models on the dev set's copiste and poilus instead
(``--train-sets`` without them). Variants: ``hw`` (the handwriting model), ``ppocr`` (PP-OCRv6),
``fusedW`` (fused, the handwriting model's share W).
Accuracy and seconds per image; speed beside the baselines is bench_pages.py's job.
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
from inkread.backends.ppocr.models import get_models  # noqa: E402
from inkread.backends.ppocr.page import recognize_page  # noqa: E402
from inkread.backends.ppocr.profiles import PROFILES, ModeProfile  # noqa: E402
from inkread.options import RecognitionMode, RecognitionOptions  # noqa: E402

HW = RecognitionMode.HANDWRITTEN
# the collections shipped weights may learn from: their lines here come from the pages the recipe holds
# out (split_by_page over all of them, the recipe's seed); the others (hooker, stanford) a fixed sample


def variant_profile(spec: str) -> ModeProfile:
    """The HANDWRITTEN profile for a variant: ``hw``, ``ppocr`` or ``fusedW``, then ``+caps`` (words
    in capitals neutral in the search, mostly-capital words in capitals) or ``-caps`` (neither)."""
    name, *switches = spec.replace("-", "+-").split("+")
    base = PROFILES[HW]
    for switch in switches:
        on = not switch.startswith("-")
        if switch.startswith("sp"):  # +sp0.1: spaces tried only at this probability or more
            lexicon = dataclasses.replace(base.lexicon, min_space_prob=float(switch[2:]))
            base = dataclasses.replace(base, lexicon=lexicon)
            continue
        if switch.lstrip("-") != "caps":
            raise SystemExit(f"unknown switch {switch!r} in {spec!r} (+caps, -caps)")
        lexicon = dataclasses.replace(base.lexicon, caps_neutral=on)
        base = dataclasses.replace(base, capital_words=on, lexicon=lexicon)
    if name == "hw":
        return dataclasses.replace(base, recogniser="handwriting")
    if name == "ppocr":
        return dataclasses.replace(base, recogniser="ppocr", second_opinion=None)
    if name.startswith("fused"):
        return dataclasses.replace(base, recogniser="fused", fusion=float(name[len("fused") :]))
    raise SystemExit(f"unknown variant {name!r} (hw, ppocr, fusedW)")


def dev_samples(eval_dir: Path, kinds: list[str]) -> list[tuple[str, np.ndarray, str, str, bool]]:
    """(group, image, truth, language, casefold) for the dev set's samples of ``kinds``."""
    out = []
    for s in evalset.load_manifest(eval_dir, kinds=kinds):
        img = cv2.cvtColor(cv2.imread(str(s.image_path)), cv2.COLOR_BGR2RGB)
        out.append((f"dev {s.set} {s.kind}", img, s.read_gt(), s.language or "en", metrics.casefold_for_set(s.set)))
    return out


def train_samples(data: Path, sets: list[str], limit: int, seed: int) -> list[tuple[str, np.ndarray, str, str, bool]]:
    """Lines of the training collections: held-out pages of the trained ones, a fixed sample of the others."""
    from inkread.training import data as D

    out = []
    for name in sets:
        lines = D.read_lines(data, (name,))
        if name in D.SHIPPABLE_SETS:
            lines = D.split_by_page(D.read_lines(data, D.SHIPPABLE_SETS), 0.08, 7)[1]
            lines = [ln for ln in lines if ln.set == name]
        lines = [ln for ln in lines if D.training_text(ln.text)]
        if limit and len(lines) > limit:
            pick = np.random.default_rng(seed).choice(len(lines), limit, replace=False)
            lines = [lines[i] for i in sorted(pick)]
        for ln in lines:
            img = cv2.cvtColor(cv2.imread(str(ln.path)), cv2.COLOR_BGR2RGB)
            lang = "en" if ln.set in ("hooker", "stanford") else "fr"
            tag = "held-out pages" if name in D.SHIPPABLE_SETS else "never trained on"
            out.append((f"train {name} ({tag})", img, D.training_text(ln.text), lang, False))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", default=None)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "train"))
    ap.add_argument("--kinds", default="hw-word,hw-line,hw-page")
    ap.add_argument(
        "--train-sets",
        default="copiste,poilus,timeus,lectaurep,lectaurep-cm,peraire,cremma19,cremma20,celestine,hooker,stanford",
    )
    ap.add_argument("--train-limit", type=int, default=80, help="lines per training collection (0 = all)")
    ap.add_argument("--variants", default="hw,ppocr,fused0.5,fused0.6,fused0.7,fused0.8")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument(
        "--card",
        default="",
        help="write the table into this model card's 'selection' (src/inkread/weights/hw_rec.json)",
    )
    args = ap.parse_args(argv)
    eval_dir = evalset.resolve_eval_dir(args.eval_dir, default=ROOT.parent / "shared" / "eval")
    samples = dev_samples(eval_dir, [k for k in args.kinds.split(",") if k])
    if args.train_sets:
        samples += train_samples(Path(args.data), args.train_sets.split(","), args.train_limit, args.seed)
    groups = list(dict.fromkeys(g for g, *_ in samples))
    models = get_models()
    variants = args.variants.split(",")
    results: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    for name in variants:
        profiles = {**PROFILES, HW: variant_profile(name)}
        rows = results.setdefault(name, {})
        t_all = time.perf_counter()
        for group, img, truth, lang, casefold in samples:
            opts = RecognitionOptions(mode=HW, language=lang)
            t = time.perf_counter()
            page, _seconds = recognize_page(img, opts, models, profiles=profiles)
            dt = time.perf_counter() - t
            rows.setdefault(group, []).append(
                (metrics.cer(truth, page.text, casefold=casefold), metrics.wer(truth, page.text, casefold=casefold), dt)
            )
        print(f"{name}: {len(samples)} samples in {time.perf_counter() - t_all:.0f} s", file=sys.stderr, flush=True)
    print(
        f"eval set {eval_dir}; training lines {args.data} ({args.train_limit or 'all'} a collection, seed {args.seed})\n"
    )
    print("CER / WER per group (s per image in the last row)\n")
    print("| group | n | " + " | ".join(variants) + " |")
    print("|---|---:|" + "---:|" * len(variants))
    for group in groups:
        n = len(results[variants[0]][group])
        cells = [
            f"{np.mean([r[0] for r in results[v][group]]):.3f} / {np.mean([r[1] for r in results[v][group]]):.3f}"
            for v in variants
        ]
        print(f"| {group} | {n} | " + " | ".join(cells) + " |")
    secs = [f"{np.mean([r[2] for g in groups for r in results[v][g]]):.2f}" for v in variants]
    print(f"| s per image | {len(samples)} | " + " | ".join(secs) + " |")
    if args.card:
        write_card(Path(args.card), results, groups, variants, argv)
    return 0


SHIP_RULE = (
    "A candidate ships only if, through the whole HANDWRITTEN pipeline, it reads the trained collections' "
    "held-out pages better than the shipped model and no collection it never trained on (names, stanford, "
    "hooker, the other training collections it did not learn from, rendered sv/de/es notes in held-out fonts) "
    "worse than PP-OCRv6 in the same pipeline."
)


def write_card(path: Path, results, groups, variants, argv) -> None:
    """The per-group CER / WER of every variant into the card's ``selection`` (with the rule)."""
    import json
    import shlex
    from datetime import date

    card = json.loads(path.read_text(encoding="utf-8"))
    card["selection"] = {
        "rule": SHIP_RULE,
        "command": "python bench/bench_fusion.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        "date": date.today().isoformat(),
        "cer_wer": {
            group: {v: [round(float(np.mean([r[k] for r in results[v][group]])), 4) for k in (0, 1)] for v in variants}
            for group in groups
        },
    }
    path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
