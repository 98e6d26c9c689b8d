#!/usr/bin/env python3
"""The searchable PDF's text layer, read back by every extractor: word error against ``result.text``.

    .venv/bin/inkread ../shared/eval/images/fondue-en-print/ -f json -o /tmp/dev-json/ --mode printed
    .venv/bin/python bench/bench_pdf_text.py /tmp/dev-json/*.json       # results saved as JSON

Each result is made into a searchable PDF (blank page images the size of its pages: the text layer
is what is measured), and its text is extracted with poppler's ``pdftotext`` (plain, and
``-layout``), PDFium (pypdfium2) and pdfminer.six. Per page and in total: the word-level edit
distance between the extracted words and ``result.text``'s (0: the same words in the same order),
and how many blank-line-separated blocks plain ``pdftotext`` gives against the result's paragraphs
(more blocks than paragraphs: paragraphs broken in the middle).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from inkread import export  # noqa: E402
from inkread.metrics import edit_distance  # noqa: E402
from inkread.result import OcrResult  # noqa: E402


def extract(path: str) -> dict[str, str]:
    import pypdfium2 as pdfium
    from pdfminer.high_level import extract_text

    doc = pdfium.PdfDocument(path)
    try:
        pdfium_text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()
    run = lambda *a: subprocess.run(["pdftotext", *a, path, "-"], capture_output=True, text=True).stdout  # noqa: E731
    return {"pdftotext": run(), "pdftotext -layout": run("-layout"), "pdfium": pdfium_text, "pdfminer": extract_text(path)}


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    totals: dict[str, int] = {}
    words = blocks = paragraphs = 0
    with tempfile.TemporaryDirectory() as tmp:
        pdf_path = os.path.join(tmp, "page.pdf")
        for path in paths:
            result = OcrResult.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
            images = [np.full((p.height, p.width, 3), 255, np.uint8) for p in result.pages]
            Path(pdf_path).write_bytes(export.to_pdf_bytes(result, images, image_format="flate"))
            want = result.text.split()
            texts = extract(pdf_path)
            errors = {name: edit_distance(want, text.split()) for name, text in texts.items()}
            for name, e in errors.items():
                totals[name] = totals.get(name, 0) + e
            got_blocks = len([b for b in texts["pdftotext"].replace("\f", "").split("\n\n") if b.strip()])
            want_paragraphs = sum(len(p.paragraphs) for p in result.pages)
            words += len(want)
            blocks += got_blocks
            paragraphs += want_paragraphs
            row = "  ".join(f"{name}={e}" for name, e in errors.items())
            print(f"{Path(path).stem:45s} {len(want):5d} words  {row}  blocks {got_blocks}/{want_paragraphs}")
    print(f"TOTAL {words} words: " + ", ".join(f"{n} {e} ({e / max(words, 1):.4f})" for n, e in totals.items()))
    print(f"plain pdftotext blocks: {blocks} for {paragraphs} paragraphs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
