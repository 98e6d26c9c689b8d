"""Geometry and grouping shared by the exporters (pure functions over the result tree)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..result import Line, OcrResult, Page, Polygon, Word

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1/y1 exclusive), whole pixels


def software_version() -> str:
    from .._version import __version__

    return __version__


def as_results(results: OcrResult | Iterable[OcrResult]) -> list[OcrResult]:
    """One result or several (their pages exported one after the other, as one document)."""
    if isinstance(results, OcrResult):
        return [results]
    out = list(results)
    for r in out:
        if not isinstance(r, OcrResult):
            raise TypeError(f"expected OcrResult objects, got {type(r).__name__}")
    return out


def rect(poly: Polygon | Sequence[Sequence[float]], page: Page | None = None) -> Rect:
    """The smallest whole-pixel rectangle around ``poly``, clipped to the page when given."""
    if not poly:
        return (0, 0, 0, 0)
    xs = [float(p[0]) for p in poly]
    ys = [float(p[1]) for p in poly]
    x0, y0 = math.floor(min(xs) + 1e-6), math.floor(min(ys) + 1e-6)
    x1, y1 = math.ceil(max(xs) - 1e-6), math.ceil(max(ys) - 1e-6)
    if page is not None:
        x0, x1 = (min(max(v, 0), page.width) for v in (x0, x1))
        y0, y1 = (min(max(v, 0), page.height) for v in (y0, y1))
    return (x0, y0, max(x0, x1), max(y0, y1))


def union(rects: Iterable[Rect]) -> Rect:
    rs = [r for r in rects if r[2] > r[0] or r[3] > r[1]]
    if not rs:
        return (0, 0, 0, 0)
    return (min(r[0] for r in rs), min(r[1] for r in rs), max(r[2] for r in rs), max(r[3] for r in rs))


def line_words(line: Line) -> list[Word]:
    """The line's words; a line without word boxes is split on spaces, each piece given a share of
    the line's polygon proportional to its position in the text (so every exporter has words)."""
    if line.words:
        return [w for w in line.words if w.text.strip()]
    text = line.text
    pieces: list[tuple[int, int]] = []
    start = None
    for i, ch in enumerate(text + " "):
        if ch.isspace():
            if start is not None:
                pieces.append((start, i))
                start = None
        elif start is None:
            start = i
    if not pieces or len(line.bbox) < 4:
        return []
    (tl, tr, br, bl) = [(float(x), float(y)) for x, y in line.bbox[:4]]
    n = len(text)

    def at(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
        return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)

    words = []
    for s, e in pieces:
        a, b = s / n, e / n
        words.append(
            Word(
                text=text[s:e],
                bbox=[at(tl, tr, a), at(tl, tr, b), at(bl, br, b), at(bl, br, a)],
                confidence=line.confidence,
            )
        )
    return words


@dataclass
class Paragraph:
    index: int
    column: int
    lines: list[Line]


@dataclass
class Area:
    """A run of consecutive paragraphs (in reading order) in the same column: hOCR's ocr_carea."""

    column: int
    paragraphs: list[Paragraph]


def paragraphs(page: Page) -> list[Paragraph]:
    """The page's paragraphs in reading order, lines kept in their order."""
    out = []
    for lines in page.paragraphs:
        if lines:
            out.append(Paragraph(index=lines[0].paragraph, column=lines[0].column, lines=list(lines)))
    return out


def areas(page: Page) -> list[Area]:
    out: list[Area] = []
    for para in paragraphs(page):
        if out and out[-1].column == para.column:
            out[-1].paragraphs.append(para)
        else:
            out.append(Area(column=para.column, paragraphs=[para]))
    return out


def baseline(poly: Polygon, r: Rect) -> tuple[float, float]:
    """hOCR ``baseline`` (slope, offset): the polygon's bottom edge, relative to the bottom-left
    corner of its rectangle ``r``."""
    if len(poly) < 4:
        return (0.0, 0.0)
    (x3, y3), (x2, y2) = poly[3], poly[2]
    slope = (y2 - y3) / (x2 - x3) if abs(x2 - x3) > 1e-6 else 0.0
    y_at_left = y3 + slope * (r[0] - x3)
    return (slope, y_at_left - r[3])


def poly_height(poly: Polygon) -> float:
    """The height of a (top-left, top-right, bottom-right, bottom-left) quad, across its baseline."""
    if len(poly) < 4:
        return 0.0
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = poly[:4]
    return (math.hypot(x3 - x0, y3 - y0) + math.hypot(x2 - x1, y2 - y1)) / 2


def is_axis_aligned(poly: Polygon, tolerance: float = 1.0) -> bool:
    if len(poly) != 4:
        return False
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = poly
    return (
        abs(y0 - y1) <= tolerance
        and abs(y2 - y3) <= tolerance
        and abs(x0 - x3) <= tolerance
        and abs(x1 - x2) <= tolerance
    )


def fmt_number(value: float, digits: int = 2) -> str:
    """A short, stable decimal: no trailing zeros, no ``-0``."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_XML_INVALID = dict.fromkeys(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
_XML_INVALID.update({0xFFFE: None, 0xFFFF: None})


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (control characters, U+FFFE/U+FFFF,
    lone surrogates)."""
    text = text.translate(_XML_INVALID)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        text = "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)
    return text
