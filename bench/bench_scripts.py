#!/usr/bin/env python3
"""Printed pages in the scripts Tesseract reads for inkread: every rendered page of the tests
(``tests/test_scripts.py``: ten scripts in two fonts each; ``tests/test_tesseract.py``: thirteen
languages in one font), each clean and degraded (blurred, noisy, JPEG at quality 40, as a phone
photo or a poor scan is), read by inkread (``--engine auto``, printed) with and without one of the
Tesseract reader's checks, beside raw Tesseract (``--psm 3``) on the same images, in one run.

    .venv/bin/python bench/bench_scripts.py --run scripts1 [--check second_look] [--sizes 44]

Per line: the CER of the best-matching line read (a line is lost when nothing close to it is read);
per system: mean line CER, lines over 10% CER, seconds per page. Output ``bench/out/<run>/scripts.md``.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]


def pages(sizes: list[int]):
    """(name, language, lines, RGB page) for every rendered page of the two tests, at each size,
    drawn by the tests' own functions."""
    import test_scripts as S
    import test_tesseract as T

    for lang, (lines, fonts) in S.PAGES.items():
        for font, _pkg in fonts:
            if Path(font).exists():
                for size in sizes:
                    yield f"{lang}-{Path(font).stem}-{size}", lang, lines, S._render(lines, font, lang, size)
    for lang, (_lines, font, _pkg, _rtl) in T.PAGES.items():
        if Path(font).exists():
            for size in sizes:
                image, lines = T.render_page(lang, size)
                yield f"{lang}-{Path(font).stem}-{size}-t", lang, lines, image


def degrade(image: np.ndarray, seed: int) -> np.ndarray:
    import cv2
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = cv2.GaussianBlur(image, (0, 0), 1.1).astype(np.float32)
    out = out * 0.8 + 40 + rng.normal(0, 9, out.shape)  # grey paper, sensor noise
    buf = io.BytesIO()
    Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=40)
    return np.asarray(Image.open(buf).convert("RGB"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--sizes", default="44")
    ap.add_argument("--check", default="second_look", help="the check measured: inkread with it and without it")
    args = ap.parse_args()

    import inkread as ocr
    from inkread import coverage
    from inkread.backends import select_backend, tesseract as tess
    from inkread.languages import Language
    from inkread.metrics import cer

    sizes = [int(s) for s in args.sizes.split(",")]
    original = getattr(coverage, args.check)
    systems = {
        "inkread": None,
        f"inkread without {args.check}": lambda page, *a, **k: page,
        "tesseract (raw, --psm 3)": "raw",
    }
    rows = {name: {"cer": [], "bad": 0, "lines": 0, "seconds": 0.0, "pages": 0} for name in systems}
    for name_, lang, lines, clean in pages(sizes):
        if select_backend(lang) != "tesseract":
            continue
        code = Language.parse(lang).info.tesseract
        if code not in tess.installed_languages():
            continue
        for kind, image in (("clean", clean), ("degraded", degrade(clean, len(name_)))):
            for system, patch in systems.items():
                t = time.perf_counter()
                if patch == "raw":
                    import tempfile

                    from PIL import Image

                    with tempfile.TemporaryDirectory() as tmp:
                        Image.fromarray(image).save(f"{tmp}/p.png")
                        got = [g for g in tess.run_tesseract(tess.tesseract_binary(), f"{tmp}/p.png", code, 3,
                                                             output="txt").splitlines() if g.strip()]
                else:
                    setattr(coverage, args.check, patch or original)
                    try:
                        got = [ln.text for ln in ocr.recognize(image, language=lang, mode="printed").lines]
                    finally:
                        setattr(coverage, args.check, original)
                row = rows[system]
                row["seconds"] += time.perf_counter() - t
                row["pages"] += 1
                for line in lines:
                    c = min((cer(line, g) for g in got), default=1.0)
                    row["cer"].append(c)
                    row["lines"] += 1
                    row["bad"] += c > 0.10
            # this page, this condition: each system's mean line CER
            print(name_, kind, {s: round(float(np.mean(r["cer"][-len(lines):])), 3) for s, r in rows.items()},
                  flush=True)
    out = REPO / "bench" / "out" / args.run
    out.mkdir(parents=True, exist_ok=True)
    md = ["| system | pages | lines | mean line CER | lines over 10% CER | s per page |", "|---|---:|---:|---:|---:|---:|"]
    for system, r in rows.items():
        md.append(f"| {system} | {r['pages']} | {r['lines']} | {np.mean(r['cer']):.4f} | {r['bad']} | "
                  f"{r['seconds'] / max(1, r['pages']):.2f} |")
    (out / "scripts.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
