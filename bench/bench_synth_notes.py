"""Rendered handwritten notes in languages the real training lines lack, in fonts the handwriting
model never saw: inkread HANDWRITTEN with its handwriting model, with PP-OCRv6 (the recogniser before
it), raw RapidOCR and Tesseract, side by side in one run.

    .venv/bin/python bench/bench_synth_notes.py                    # sv, de, es; 8 notes each
    .venv/bin/python bench/bench_synth_notes.py --langs sv,de,es,en,fr --notes 4

Each note: 5-7 lines drawn from the language's word frequencies (wordfreq; a seed of its own, not
the training one), rendered with a held-out font (``inkread.training.synth.HELD_OUT_FONTS``: Rufscript,
femkeklaver) with jitter, noise, blur, uneven light, a slight rotation and, every other note, rules.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from synth import render_note  # noqa: E402

from inkread import metrics  # noqa: E402
from inkread.backends.ppocr.page import recognize_page  # noqa: E402
from inkread.backends.ppocr.profiles import PROFILES  # noqa: E402
from inkread.evaluate import RapidOcrRunner, TesseractRunner  # noqa: E402
from inkread.backends.ppocr.models import get_models  # noqa: E402
from inkread.options import RecognitionMode, RecognitionOptions  # noqa: E402

HW = RecognitionMode.HANDWRITTEN


def make_notes(lang: str, n: int, seed: int):
    from inkread.training.synth import HELD_OUT_FONTS, available_fonts, random_text

    fonts = available_fonts(HELD_OUT_FONTS)
    if not fonts:
        raise SystemExit("held-out fonts missing: apt-get install fonts-rufscript fonts-femkeklaver")
    rng = np.random.default_rng(seed)
    notes = []
    while len(notes) < n:
        font = fonts[len(notes) % len(fonts)]
        lines = [random_text(lang, rng) for _ in range(int(rng.integers(5, 8)))]
        if not all(set(t) - {" "} <= font.chars for t in lines):
            continue
        img, _ = render_note(lines, font.path, size=int(rng.integers(44, 60)), jitter=1.0,
                             noise=0.02, blur=0.6, shading=0.3, rotation_deg=float(rng.uniform(-1.5, 1.5)),
                             ruled=len(notes) % 2 == 1, seed=int(rng.integers(1 << 30)))
        notes.append((np.asarray(img), "\n".join(lines)))
    return notes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--langs", default="sv,de,es")
    ap.add_argument("--notes", type=int, default=8, help="notes per language")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    models = get_models()
    rapid = RapidOcrRunner()
    try:
        tess = TesseractRunner()
    except Exception as exc:  # noqa: BLE001 - reported, the other systems still run
        print(f"tesseract unavailable: {exc}")
        tess = None
    systems = {
        "inkread (HANDWRITTEN as shipped)": PROFILES,
        "inkread (PP-OCRv6 in the same pipeline)": {**PROFILES, HW: dataclasses.replace(PROFILES[HW], recogniser="ppocr")},
        "inkread (handwriting model alone)": {**PROFILES, HW: dataclasses.replace(PROFILES[HW], recogniser="handwriting")},
    }
    print("| language | system | notes | CER | WER | s / note |")
    print("|---|---|---:|---:|---:|---:|")
    totals: dict[str, list] = {}
    for lang in args.langs.split(","):
        notes = make_notes(lang, args.notes, args.seed + zlib.crc32(lang.encode()) % 1000)  # not hash(): salted
        rows: dict[str, list] = {}
        for name, profiles in systems.items():
            for img, truth in notes:
                t = time.perf_counter()
                page, _seconds = recognize_page(img, RecognitionOptions(mode=HW, language=lang), models,
                                                profiles=profiles)
                rows.setdefault(name, []).append((metrics.cer(truth, page.text), metrics.wer(truth, page.text),
                                                  time.perf_counter() - t))
        with tempfile.TemporaryDirectory() as tmp:
            for k, (img, truth) in enumerate(notes):
                path = Path(tmp) / f"{k}.png"
                from PIL import Image

                Image.fromarray(img).save(path)
                for name, runner in (("rapidocr", rapid), ("tesseract", tess)):
                    if runner is None:
                        continue
                    t = time.perf_counter()
                    try:
                        text = runner.recognize(path, kind="hw-page", language=lang)
                    except Exception as exc:  # noqa: BLE001 - e.g. no language data: skip the system
                        print(f"{name} {lang}: {exc}")
                        break
                    rows.setdefault(name, []).append((metrics.cer(truth, text), metrics.wer(truth, text),
                                                      time.perf_counter() - t))
        for name, r in rows.items():
            a = np.array(r).mean(axis=0)
            totals.setdefault(name, []).extend(r)
            print(f"| {lang} | {name} | {len(r)} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.2f} |", flush=True)
    for name, r in totals.items():
        a = np.array(r).mean(axis=0)
        print(f"| all | {name} | {len(r)} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
