"""Tesseract's TSV: one row per page, block, paragraph, line and word, with its box and confidence.

The columns are Tesseract's (``tesseract img out tsv``), so scripts that read its TSV read ours:
``level page_num block_num par_num line_num word_num left top width height conf text``.
Levels: 1 page, 2 block (a run of paragraphs in one column, as hOCR's ``ocr_carea``), 3 paragraph,
4 line, 5 word (the words every exporter writes). ``conf`` is the word's
confidence in percent (``-1`` on the other rows); boxes are the polygons' whole-pixel bounds on the
page image, as in hOCR and ALTO. Several results are numbered on as one document.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..result import OcrResult
from ._common import areas, line_words, rect, union

__all__ = ["to_tsv", "TSV_COLUMNS"]

TSV_COLUMNS = (
    "level",
    "page_num",
    "block_num",
    "par_num",
    "line_num",
    "word_num",
    "left",
    "top",
    "width",
    "height",
    "conf",
    "text",
)


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def to_tsv(results: OcrResult | Iterable[OcrResult]) -> str:
    """``results`` as Tesseract TSV (a header line, then one row per element)."""
    if isinstance(results, OcrResult):
        results = [results]
    rows = ["\t".join(TSV_COLUMNS)]
    page_num = 0

    def row(level, nums, box, conf, text=""):
        rows.append("\t".join(str(v) for v in (level, page_num, *nums, *box, conf, text)))

    def box(r):  # (x0, y0, x1, y1) -> Tesseract's left, top, width, height
        return r[0], r[1], r[2] - r[0], r[3] - r[1]

    for result in results:
        for page in result.pages:
            page_num += 1
            row(1, (0, 0, 0, 0), (0, 0, page.width, page.height), -1)
            for b, area in enumerate(areas(page), 1):  # blocks: hOCR's ocr_carea, the same runs
                line_rects = {id(line): rect(line.bbox, page) for para in area.paragraphs for line in para.lines}
                row(2, (b, 0, 0, 0), box(union(line_rects.values())), -1)
                for p, para in enumerate(area.paragraphs, 1):
                    row(3, (b, p, 0, 0), box(union(line_rects[id(line)] for line in para.lines)), -1)
                    for n, line in enumerate(para.lines, 1):
                        row(4, (b, p, n, 0), box(line_rects[id(line)]), -1)
                        for w, word in enumerate(line_words(line), 1):
                            conf = round(100 * float(word.confidence), 6)
                            row(5, (b, p, n, w), box(rect(word.bbox, page)), conf, _clean(word.text))
    return "\n".join(rows) + "\n"
