#!/usr/bin/env python3
"""Makes this folder's scanned-style bands of real two-column pages (issue 23) and their truths.

    .venv/bin/python tests/data/columns/make_pages.py

Fetches the Debian packages the way ``bench/bench_columns.py`` does (``apt-get download``, under
``bench/out/columns/``), renders each band of a page at 300 dpi in grey and writes ``<name>.png`` with
``<name>.txt``: ``pdftotext -raw`` of the same band, the PDF's own text in LaTeX's column order. The
tests make each band look scanned with the bench's seeded steps (``bench_columns.scanned``: turned,
toned, blurred, noised; then JPEG quality 75): a clean render is a fifth of a noisy JPEG's size.
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from pathlib import Path

import cv2
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "bench"))
import bench_columns as bc  # noqa: E402

#: name: (document key, page, top, bottom) in 300-dpi pixels of the page
BANDS = {
    "ltubguid-p1-top": ("ltubguid", 1, 150, 1008),
    "ftnright-p3-mid": ("ftnright", 3, 1370, 2250),
}


def main() -> None:
    docs = {d.key: d for d in bc.DOCS}
    bc.fetch(tuple(sorted({docs[k].package for k, *_ in BANDS.values()})))
    for name, (key, page, top, bottom) in BANDS.items():
        pdf = bc.pdf_of(docs[key])
        stem = HERE / f"{name}-clean"
        subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", "-f", str(page), "-l", str(page),
                        "-y", str(top), "-H", str(bottom - top), "-x", "0", "-W", "2550", str(pdf), str(stem)],
                       check=True)
        grey = cv2.imread(str(stem.with_suffix(".png")), cv2.IMREAD_GRAYSCALE)
        stem.with_suffix(".png").unlink()
        Image.fromarray(grey).quantize(16).save(HERE / f"{name}.png", optimize=True)  # 16 greys: half the size
        text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-r", "300", "-f", str(page), "-l", str(page),
                               "-y", str(top), "-H", str(bottom - top), "-x", "0", "-W", "2550", str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        (HERE / f"{name}.txt").write_text(unicodedata.normalize("NFKC", text.replace("\f", "")).strip() + "\n")
        print(name, (HERE / f"{name}.png").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
