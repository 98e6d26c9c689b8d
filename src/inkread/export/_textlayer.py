"""The invisible text layer of a searchable PDF: a page's words written where they are on the page,
so that every text extractor gives back the result's text, words and order.

What the extractors need (measured with ``bench/bench_pdf_text.py`` on real OCR results: poppler's
``pdftotext`` with and without ``-layout``, pdfminer.six, PDFium), in the manner of OCRmyPDF's
hOCR renderer:

- **Lines in reading order, each on one baseline.** Lines are written paragraph by paragraph in
  the order of :attr:`~inkread.result.Page.text`; every word of a line sits on the line's baseline
  (word boxes of different heights gave words of one line different baselines, and poppler
  splits a line whose words' baselines differ by half a font size).
- **One font size for every line of a paragraph.** Poppler puts two lines in one block only when
  their font sizes are within 5% of each other and their baselines at most 1.5 font sizes apart;
  a size per word or per line broke paragraphs in the middle (a blank line in ``pdftotext``). The
  size is the paragraph's median line height, raised where its lines are further apart than the
  1.5, and consecutive paragraphs of the same size are set 6% apart so that each stays a block of
  its own (the blank line between paragraphs of ``result.text``).
- **A real space between words, wide as the gap.** Each word is stretched (``Tz``) to its box and
  followed by one space glyph stretched over the gap to the next word: PDFium and pdfminer read
  the space, poppler (which drops space glyphs and splits words by gaps alone) sees the gap. A gap
  narrower than :data:`MIN_GAP` of the font size (``But,`` touching ``for``) is widened by narrowing
  the word before it; a word drawn with its trailing space squeezed into its box put the space on
  the next word (``But,for``).
- **Lines tilted less than** :data:`SNAP` **degrees are written level** across the middle of their
  box (upright for lines near 90 degrees): poppler reads text on a baseline tilted 2 degrees or
  more a few letters at a time, in no order (a photographed receipt's rows); a line turned further
  (a stamp) follows its angle.

Coordinates: ``to_pdf`` is the 2 x 3 affine map from the page image's pixels (as the result's boxes
give them) to PDF user space, so the same layer serves an image page, a page turned upright and a
PDF page with its own ``/Rotate``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..result import Line, Page, Word
from ._common import line_words
from ._glyphless import ADVANCE, ASCENT, DESCENT

__all__ = ["text_layer", "MIN_GAP", "LINE_PITCH", "SNAP"]

#: the narrowest gap between two words, as a share of the font size (poppler starts a new word at a
#: gap of 0.1 of it, and may still join two words whose gap is narrow beside the line's other gaps;
#: 0.3 left no joined word on the dev book pages)
MIN_GAP = 0.3
#: a line within this many degrees of level (or of upright) is drawn level (upright): poppler reads
#: text on a baseline tilted 2 degrees or more a few letters at a time, in no order
SNAP = 20.0
#: the most a paragraph's baselines may be apart, in font sizes (poppler's limit is 1.5)
LINE_PITCH = 1.4
#: consecutive paragraphs of about the same size are set this much apart (poppler's limit is 5%)
PARAGRAPH_STEP = 1.06
#: a word is narrowed to make a gap by at most this share of its width
MAX_NARROWING = 0.4

_EM = (ASCENT - DESCENT) / 1000  # the glyph box's height, in font sizes (1.0)
_MID = (ASCENT + DESCENT) / 2000  # the glyph box's middle above the baseline, in font sizes


def _num(value: float, digits: int = 3) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class _Span:
    """A word on its line: its text, and where it starts and ends along the line (points)."""

    text: str
    start: float
    end: float


@dataclass
class _LineFrame:
    """A line in PDF user space: a point of its bottom edge, the unit vectors along it and up from it,
    its height, and its words along it."""

    origin: np.ndarray
    along: np.ndarray
    up: np.ndarray
    height: float
    spans: list[_Span]

    def level(self) -> float:
        """The height of the line's middle, across the line (to measure line pitch)."""
        return float((self.origin + self.up * self.height / 2) @ self.up)


def _quad(poly: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    if len(poly) == 4:
        return [(float(x), float(y)) for x, y in poly]
    xs = [float(p[0]) for p in poly] or [0.0]
    ys = [float(p[1]) for p in poly] or [0.0]
    return [(min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys))]


def _words(line: Line) -> list[Word]:
    """The line's words as its text has them: the word boxes when their texts are the line's words;
    a line whose text starts with tokens that have no box (a checkbox drawn as ``[ ]``) gets them
    spread over the room before its first word; any other line is split along its box."""
    words = line_words(line)
    tokens = line.text.split()
    texts = [w.text for w in words]
    if [t for w in texts for t in w.split()] == tokens or not words:
        return words
    head = len(tokens) - len(texts)
    if head > 0 and tokens[head:] == texts and len(line.bbox) >= 4:
        tl, _, _, bl = _quad(line.bbox)
        first = _quad(words[0].bbox)
        x_end = min(p[0] for p in first)
        room = max(x_end - tl[0], 0.0)
        prefix = " ".join(tokens[:head])
        out = []
        share = room / (len(prefix) + 1)
        at = 0
        for token in tokens[:head]:
            x0 = tl[0] + share * at
            x1 = x0 + share * len(token)
            at += len(token) + 1
            out.append(Word(token, [(x0, tl[1]), (x1, tl[1]), (x1, bl[1]), (x0, bl[1])], line.confidence))
        return out + words
    return line_words(Line(line.text, line.bbox, line.confidence))


def _frame(line: Line, to_pdf: np.ndarray) -> _LineFrame | None:
    if not line.bbox:
        return None

    def pdf(points: Sequence[tuple[float, float]]) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return pts @ to_pdf[:, :2].T + to_pdf[:, 2]

    p0, p1, p2, p3 = pdf(_quad(line.bbox))
    d = ((p1 - p0) + (p2 - p3)) / 2
    length = float(np.hypot(*d))
    if length < 1e-3:
        return None
    along = d / length
    normal = np.array([-along[1], along[0]])
    height = abs(float((((p0 - p3) + (p1 - p2)) / 2) @ normal))
    if height < 1e-3:
        return None
    angle = math.degrees(math.atan2(along[1], along[0]))
    square = round(angle / 90) * 90
    if abs(angle - square) <= SNAP:  # drawn level (or upright): see the module's docstring
        along = np.array([math.cos(math.radians(square)), math.sin(math.radians(square))]).round(12)
    up = np.array([-along[1], along[0]])
    origin = (p0 + p1 + p2 + p3) / 4 - up * height / 2  # the middle of the line's bottom edge
    spans = []
    for word in _words(line):
        if not word.text.strip():
            continue
        q0, q1, q2, q3 = pdf(_quad(word.bbox))
        ends = [float(((q0 + q3) / 2 - origin) @ along), float(((q1 + q2) / 2 - origin) @ along)]
        spans.append(_Span(word.text, min(ends), max(ends)))
    return _LineFrame(origin, along, up, height, spans)


def _paragraph_size(frames: list[_LineFrame]) -> float:
    """One font size for a paragraph's lines: the median line height, or more where the lines are so
    far apart that poppler would not keep them in one block."""
    size = statistics.median(f.height for f in frames) / _EM
    pitches = [
        abs(a.level() - b.level())
        for a, b in zip(frames, frames[1:])
        if abs(float(a.along @ b.along)) > 0.99  # lines that run the same way
    ]
    if pitches:
        size = max(size, max(pitches) / LINE_PITCH)
    return size


def _sizes(paragraphs: list[list[_LineFrame]]) -> list[float]:
    """Each paragraph's font size, a paragraph next to one of about the same size set 6% apart."""
    sizes: list[float] = []
    for frames in paragraphs:
        size = _paragraph_size(frames)
        if sizes and abs(size / sizes[-1] - 1) < PARAGRAPH_STEP - 1:
            # up, unless clearly smaller already (equal sizes must not step on float noise)
            size = sizes[-1] * (PARAGRAPH_STEP if size >= 0.97 * sizes[-1] else 1 / PARAGRAPH_STEP)
        sizes.append(size)
    return sizes


def _line_ops(frame: _LineFrame, size: float, encode: Callable[[str], bytes]) -> list[bytes]:
    ops: list[bytes] = []
    space = encode(" ")
    advance = ADVANCE / 1000 * size  # one glyph's width at 100% scaling
    lift = frame.height / 2 - _MID * size  # the baseline above the bottom edge: glyph boxes centred on the line
    a, b = round(float(frame.along[0]), 5), round(float(frame.along[1]), 5)
    rotation = b"%s %s %s %s " % (_num(a, 5).encode(), _num(b, 5).encode(), _num(-b, 5).encode(), _num(a, 5).encode())

    def show(code: bytes, at: float, width: float) -> None:
        glyphs = len(code) // 2
        origin = frame.origin + frame.along * at + frame.up * lift
        scale = 100 * width / (glyphs * advance)
        ops.append(
            b"%s Tz %s%s %s Tm <%s> Tj"
            % (
                _num(scale, 2).encode(),
                rotation,
                _num(float(origin[0])).encode(),
                _num(float(origin[1])).encode(),
                code.hex().upper().encode(),
            )
        )

    spans = [s for s in frame.spans if encode(s.text) and s.end - s.start > 1e-3]
    for k, span in enumerate(spans):
        code = encode(span.text)
        nxt = spans[k + 1] if k + 1 < len(spans) else None
        start, end = span.start, span.end
        forward = nxt is not None and nxt.start >= span.start
        if nxt is not None and forward and nxt.start - end < MIN_GAP * size:
            end = max(start + (1 - MAX_NARROWING) * (span.end - span.start), nxt.start - MIN_GAP * size)
        show(code, start, end - start)
        if nxt is None or not space:
            continue
        if forward:  # the space from this word's end to the next one's start
            gap_start, gap = end, nxt.start - end
        else:  # right to left: the space from the next word's end to this one's start
            gap_start, gap = nxt.end, span.start - nxt.end
        show(space, gap_start, max(gap, 0.01 * advance))
    return ops


def text_layer(page: Page, to_pdf: np.ndarray, encode: Callable[[str], bytes]) -> bytes:
    """Content-stream operators (``BT ... ET``) writing ``page``'s words invisibly (render mode 3)
    with font ``/F1``; ``to_pdf`` maps the page image's pixels to PDF user space (2 x 3);
    ``encode`` gives a text's two-byte character codes (nothing for characters it cannot write)."""
    to_pdf = np.asarray(to_pdf, dtype=np.float64)
    paragraphs = []
    for lines in page.paragraphs:
        frames = [f for f in (_frame(line, to_pdf) for line in lines) if f is not None and f.spans]
        if frames:
            paragraphs.append(frames)
    out = [b"BT", b"3 Tr"]
    for frames, size in zip(paragraphs, _sizes(paragraphs)):
        out.append(b"/F1 %s Tf" % _num(size).encode())
        for frame in frames:
            out += _line_ops(frame, size, encode)
    out.append(b"ET")
    return b"\n".join(out) + b"\n"
