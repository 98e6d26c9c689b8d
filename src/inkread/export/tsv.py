"""Tesseract's TSV: one row per page, block, paragraph, line and word, with its box and confidence.

The columns are Tesseract's (``tesseract img out tsv``), so scripts that read its TSV read ours:
``level page_num block_num par_num line_num word_num left top width height conf text``.
Levels: 1 page, 2 block (a column), 3 paragraph, 4 line, 5 word. ``conf`` is the word's
confidence in percent (``-1`` on the other rows); boxes are the polygons' axis-aligned bounds, in
pixels of the page image. Several results are numbered on as one document.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..result import OcrResult

__all__ = ["to_tsv", "TSV_COLUMNS"]

TSV_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num",
               "left", "top", "width", "height", "conf", "text")


def _bounds(points) -> tuple[int, int, int, int]:
    if not points:
        return 0, 0, 0, 0
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    left, top = int(round(min(xs))), int(round(min(ys)))
    return left, top, int(round(max(xs))) - left, int(round(max(ys))) - top


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

    for result in results:
        for page in result.pages:
            page_num += 1
            row(1, (0, 0, 0, 0), (0, 0, page.width, page.height), -1)
            blocks: dict[int, dict[int, list]] = {}
            for line in page.lines:
                blocks.setdefault(line.column, {}).setdefault(line.paragraph, []).append(line)
            for b, column in enumerate((blocks[k] for k in sorted(blocks)), 1):
                paras = [column[k] for k in sorted(column)]
                points = [pt for para in paras for line in para for pt in line.bbox]
                row(2, (b, 0, 0, 0), _bounds(points), -1)
                for p, para in enumerate(paras, 1):
                    row(3, (b, p, 0, 0), _bounds([pt for line in para for pt in line.bbox]), -1)
                    for n, line in enumerate(para, 1):
                        row(4, (b, p, n, 0), _bounds(line.bbox), -1)
                        words = line.words or []
                        if not words and line.text.strip():  # a line without word boxes: one word
                            words = [line]
                        for w, word in enumerate(words, 1):
                            conf = round(100 * float(word.confidence), 6)
                            row(5, (b, p, n, w), _bounds(word.bbox), conf, _clean(word.text))
    return "\n".join(rows) + "\n"
