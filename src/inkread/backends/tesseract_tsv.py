"""Tesseract's TSV output into the project's result tree: the word rows of ``tesseract ... tsv``
parsed (:func:`parse_tsv`), grouped into lines and paragraphs with boxes in the original image's pixels
and confidences 0..1 (:func:`page_from_words`), each script's quirks mended on the way (look-alike
characters, idle zero-width joiners, unspaced scripts), and, for scripts whose TSV rows are syllables,
the spaces of Tesseract's own text output put back (:func:`respace`).

Pure text handling: no binary is run here (:mod:`.tesseract` runs it).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from ..result import Line, Page, Word

__all__ = ["TesseractWord", "parse_tsv", "page_from_words", "respace", "LOOKALIKES", "OWN_SPACING"]


@dataclass
class TesseractWord:
    """One word row of Tesseract's TSV."""

    block: int
    par: int
    line: int
    word: int
    left: int
    top: int
    width: int
    height: int
    conf: float  # 0..100
    text: str


def parse_tsv(tsv: str) -> list[TesseractWord]:
    """The word rows (level 5) of ``tesseract ... tsv`` output, in Tesseract's order; empty words dropped."""
    rows = tsv.splitlines()
    words: list[TesseractWord] = []
    for row in rows[1:] if rows and rows[0].startswith("level") else rows:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = "\t".join(cols[11:]).strip()
        if not text:
            continue
        try:
            nums = [int(c) for c in cols[2:10]]
            conf = float(cols[10])
        except ValueError:
            continue
        block, par, line, word, left, top, width, height = nums
        words.append(TesseractWord(block, par, line, word, left, top, width, height, conf, text))
    return words


# Characters Tesseract's models give for a look-alike of the script's own letter (ell.traineddata reads
# Greek mu as the micro sign).
LOOKALIKES: dict[str, dict[int, str]] = {"greek": {0x00B5: "\u03bc"}}


_ZERO_WIDTH = "\u200b\u200c\u200d"
# Scripts whose lines Tesseract's TSV splits into many "words" (Thai: often one per character; Hangul:
# one per syllable): their pieces are joined without a space unless the gap between them is wide.
_UNSPACED_SCRIPTS = frozenset({"thai", "lao", "khmer", "myanmar", "tibetan", "han", "japanese", "hangul"})


# Scripts whose word rows in Tesseract's TSV are single syllables while its plain text output spaces
# the words right (Hangul: '대한 민국의' from the gaps between the TSV's boxes, '대한민국의' in its text)
OWN_SPACING = frozenset({"hangul"})


def respace(page: Page, text: str, fixes: dict | None = None) -> Page:
    """``page``'s lines with the spaces of Tesseract's own text output, where a text line holds
    exactly the same characters as the page's line (otherwise the line is left as it is)."""

    def bare(s: str) -> str:
        return "".join(s.split())

    own = [" ".join(t.split()) for t in text.splitlines() if t.strip()]
    own = [_drop_idle_joiners(unicodedata.normalize("NFC", t.translate(fixes) if fixes else t)) for t in own]
    lines, k = [], 0
    for line in page.lines:
        at = next((j for j in range(k, len(own)) if bare(own[j]) == bare(line.text)), None)
        words = _regroup(line.words, own[at].split()) if at is not None else None
        if words is None:
            lines.append(line)
            continue
        assert at is not None  # words are regrouped only where a text line matched
        lines.append(replace(line, text=own[at], words=words))
        k = at + 1
    return replace(page, lines=lines)


def _regroup(pieces: list[Word], words: list[str]) -> list[Word] | None:
    """``pieces`` (syllable rows, in order) joined into ``words``: boxes united, confidences
    weighted by characters; ``None`` when they do not add up."""
    out: list[Word] = []
    i = 0
    for word in words:
        taken: list[Word] = []
        while i < len(pieces) and len("".join(p.text for p in taken)) < len(word):
            taken.append(pieces[i])
            i += 1
        if "".join(p.text for p in taken) != word:
            return None
        xs = [x for p in taken for x, _ in p.bbox]
        ys = [y for p in taken for _, y in p.bbox]
        conf = sum(p.confidence * len(p.text) for p in taken) / max(1, len(word))
        out.append(Word(text=word, bbox=_box(min(xs), min(ys), max(xs), max(ys)), confidence=conf))
    return out if i == len(pieces) else None


def _drop_idle_joiners(text: str) -> str:
    """Zero-width (non-)joiners with no letter after them join nothing (tam.traineddata writes a ZWNJ
    after every word-final pulli, before punctuation too)."""
    return "".join(
        c for i, c in enumerate(text) if c not in _ZERO_WIDTH or (i + 1 < len(text) and text[i + 1].isalpha())
    )


def _join_words(words: list[Word], script: str) -> str:
    if script not in _UNSPACED_SCRIPTS or len(words) < 2:
        return " ".join(w.text for w in words)
    heights = sorted(w.bbox[2][1] - w.bbox[0][1] for w in words)
    gap_for_space = 0.5 * heights[len(heights) // 2]
    parts = [words[0].text]
    for prev, cur in zip(words, words[1:]):
        gap = min(abs(cur.bbox[0][0] - prev.bbox[1][0]), abs(prev.bbox[0][0] - cur.bbox[1][0]))
        parts.append((" " if gap > gap_for_space else "") + cur.text)
    return "".join(parts)


def _box(left: float, top: float, right: float, bottom: float) -> list[tuple[float, float]]:
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def page_from_words(
    words: list[TesseractWord], scale: float, index: int, width: int, height: int, script: str = ""
) -> Page:
    """Group word rows into lines (by block, paragraph, line number) in Tesseract's order."""
    fixes = LOOKALIKES.get(script)
    groups: dict[tuple[int, int, int], list[TesseractWord]] = {}
    for w in words:
        groups.setdefault((w.block, w.par, w.line), []).append(w)
    paragraphs: dict[tuple[int, int], int] = {}
    lines: list[Line] = []
    for (block, par, _line), members in groups.items():
        out_words = []
        for w in members:
            x0, y0 = w.left / scale, w.top / scale
            x1, y1 = (w.left + w.width) / scale, (w.top + w.height) / scale
            conf = min(1.0, max(0.0, w.conf / 100.0))
            text = unicodedata.normalize("NFC", w.text.translate(fixes) if fixes else w.text)
            text = _drop_idle_joiners(text)
            out_words.append(Word(text=text, bbox=_box(x0, y0, x1, y1), confidence=conf))
        text = _join_words(out_words, script)
        chars = sum(len(w.text) for w in out_words)
        conf = sum(w.confidence * len(w.text) for w in out_words) / max(1, chars)
        xs = [p[0] for w in out_words for p in w.bbox]
        ys = [p[1] for w in out_words for p in w.bbox]
        para = paragraphs.setdefault((block, par), len(paragraphs))
        lines.append(
            Line(
                text=text,
                bbox=_box(min(xs), min(ys), max(xs), max(ys)),
                confidence=conf,
                words=out_words,
                paragraph=para,
                handwritten=False,
            )
        )
    return Page(index=index, width=width, height=height, lines=lines, mode="printed")
