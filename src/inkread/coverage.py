"""Every line of a page is read, or said to be unread: never silently dropped.

A backend can return fewer lines than the page has (Tesseract's page segmentation dropped the
longest line of a three-line Arabic page, at confidence 0.9). :func:`cover` checks the lines a
backend returned against the text regions PP-OCRv6's detector finds on the page (it finds lines in
every script): a region no returned line covers is read again on its own (the backend on the crop,
which it reads as one line) and its lines are put in the page in reading order; what still reads
as nothing is kept in ``page.unread`` (its box, in JSON) and logged as a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .result import Line, Page, mean_confidence

__all__ = ["cover", "second_look", "COVERED", "PART_GAP", "LAYERS_KEEP", "UNSURE_BELOW"]

log = logging.getLogger("inkread")

#: a region is covered when returned lines overlap this share of its area ...
COVERED = 0.35
#: ... and leave no stretch of it wider than this many of its heights unread
PART_GAP = 2.5
#: lines one above the other in one region (a line that came apart in layers) are read again whole,
#: and the reading replaces them when it is at least as confident and keeps this share of their text
LAYERS_KEEP = 0.6
_MARGIN = 6  # pixels around a region's crop
#: a line read with a confidence below this is read again on its own, enlarged twice ...
UNSURE_BELOW = 0.8
#: ... when its crop is at most this many pixels tall: larger text gains nothing from enlarging
SMALL_LINE = 150


def _bounds(points) -> tuple[float, float, float, float]:
    a = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 0].max()), float(a[:, 1].max())


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def _area(b: tuple[float, float, float, float]) -> float:
    return max(1.0, (b[2] - b[0]) * (b[3] - b[1]))


def _with_margin(r: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """The whole-pixel box of ``r`` with ``_MARGIN`` around it, inside the image."""
    return (
        max(0, int(r[0]) - _MARGIN),
        max(0, int(r[1]) - _MARGIN),
        min(width, int(np.ceil(r[2])) + _MARGIN),
        min(height, int(np.ceil(r[3])) + _MARGIN),
    )


def _has_ink(crop: np.ndarray) -> bool:
    gray = crop if crop.ndim == 2 else crop[..., :3].mean(axis=2)
    return crop.size > 0 and float(np.percentile(gray, 98) - np.percentile(gray, 2)) > 40


def _widest_gap(r: tuple[float, float, float, float], boxes: list[tuple[float, float, float, float]]) -> float:
    """The widest stretch of the region's width (its ends included) that none of ``boxes`` covers."""
    spans = sorted((max(r[0], b[0]), min(r[2], b[2])) for b in boxes if _overlap(r, b) > 0)
    widest, at = 0.0, r[0]
    for x0, x1 in spans:
        widest = max(widest, x0 - at)
        at = max(at, x1)
    return max(widest, r[2] - at)


def _layered(boxes: list[tuple[float, float, float, float]]) -> bool:
    """Whether two of ``boxes`` lie one above the other (they share most of the narrower one's
    width) rather than side by side."""
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            shared = min(a[2], b[2]) - max(a[0], b[0])
            if shared > 0.3 * min(a[2] - a[0], b[2] - b[0]):
                return True
    return False


def _text(lines: list[Line]) -> int:
    return sum(len(line.text.strip()) for line in lines)


def cover(page: Page, image: np.ndarray, regions: list[np.ndarray], reread: Callable[[np.ndarray], Page]) -> Page:
    """``page`` with the text regions its lines miss read again (``reread(crop)``) and put in, or
    listed in ``page.unread``. A region whose lines went wrong is read again as one line too, and
    the reading replaces its lines when it is better:

    - lines that cover it only in part, leaving a stretch wider than ``PART_GAP`` line heights
      unread (a line that came back in pieces): replaced when the reading holds more text;
    - lines one above the other inside it (Thai's tone marks split off into a line of their own,
      the rest of the line read without them; a Persian line shattered into fragments): replaced
      when the reading is at least as confident as they are and keeps ``LAYERS_KEEP`` of their
      text (a region that truly holds two lines reads badly as one)."""
    boxes = [_bounds(line.bbox) for line in page.lines if line.text.strip()]
    height, width = image.shape[:2]
    added: list[Line] = []
    unread: list[list[tuple[float, float]]] = []
    replaced: set[int] = set()  # indices into page.lines
    for quad in regions:
        r = _bounds(quad)
        area = max(1.0, (r[2] - r[0]) * (r[3] - r[1]))
        if r[3] - r[1] < 8 or r[2] - r[0] < 8:
            continue
        pieces: list[int] = []
        layered = False
        if sum(_overlap(r, b) for b in boxes) / area >= COVERED:
            pieces = [
                k
                for k, line in enumerate(page.lines)
                if line.text.strip()
                and k not in replaced
                and _overlap(r, _bounds(line.bbox)) >= 0.5 * _area(_bounds(line.bbox))
            ]
            layered = _layered([_bounds(page.lines[k].bbox) for k in pieces])
            if not pieces or not layered and _widest_gap(r, boxes) <= PART_GAP * (r[3] - r[1]):
                continue
        x0, y0, x1, y1 = _with_margin(r, width, height)
        crop = image[y0:y1, x0:x1]
        if not _has_ink(crop):
            continue
        again = reread(np.ascontiguousarray(crop))
        lines = [ln for ln in again.lines if ln.text.strip()]
        if pieces:  # kept only where it reads the region better than its pieces did
            before = [page.lines[k] for k in pieces]
            if layered:
                better = mean_confidence(lines) >= mean_confidence(before) and _text(lines) >= LAYERS_KEEP * _text(
                    before
                )
            else:
                better = _text(lines) > _text(before)
            if not better:
                continue
            replaced.update(pieces)
        if not lines:
            unread.append([(r[0], r[1]), (r[2], r[1]), (r[2], r[3]), (r[0], r[3])])
            continue
        for ln in lines:
            moved = _moved(ln, x0, y0)
            added.append(moved)
            boxes.append(_bounds(moved.bbox))
    if unread:
        log.warning(
            "inkread: page %d: %d text region(s) could not be read (their boxes are in the JSON's 'unread')",
            page.index + 1,
            len(unread),
        )
    if not added:
        return replace(page, unread=page.unread + unread) if unread else page
    lines = [line for k, line in enumerate(page.lines) if k not in replaced]
    for new in added:  # in reading order: before the first line that starts below its middle
        middle = (_bounds(new.bbox)[1] + _bounds(new.bbox)[3]) / 2
        at = next((k for k, ln in enumerate(lines) if _bounds(ln.bbox)[1] > middle), len(lines))
        paragraph = lines[at - 1].paragraph if at > 0 else (lines[0].paragraph if lines else 0)
        lines.insert(at, replace(new, paragraph=paragraph))
    return replace(page, lines=lines, unread=page.unread + unread)


def _moved(line: Line, dx: float, dy: float, scale: float = 1.0) -> Line:
    def shift(pts):
        return [(float(x) / scale + dx, float(y) / scale + dy) for x, y in pts]

    return replace(line, bbox=shift(line.bbox), words=[replace(w, bbox=shift(w.bbox)) for w in line.words])


def second_look(
    page: Page, image: np.ndarray, reread: Callable[[np.ndarray], Page], below: float = UNSURE_BELOW
) -> Page:
    """``page`` with each line read with a confidence under ``below`` read again on its own, its crop
    (at most ``SMALL_LINE`` pixels tall) enlarged twice (``reread(crop)``, as one line), and the
    reading kept where it is one line and more confident. Small dots and marks that tell letters
    apart (Arabic's dots and hamza) are read better larger: Tesseract wants an x-height of 20 px or
    more and a printed page at 12 pt and 300 dpi gives about that."""
    import cv2

    height, width = image.shape[:2]
    lines = list(page.lines)
    changed = False
    for k, line in enumerate(lines):
        if not line.text.strip() or line.confidence >= below:
            continue
        x0, y0, x1, y1 = _with_margin(_bounds(line.bbox), width, height)
        if x1 - x0 < 8 or y1 - y0 < 8 or y1 - y0 > SMALL_LINE:
            continue
        crop = cv2.resize(
            np.ascontiguousarray(image[y0:y1, x0:x1]), None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC
        )
        again = [ln for ln in reread(crop).lines if ln.text.strip()]
        if len(again) == 1 and again[0].confidence > line.confidence:
            lines[k] = replace(
                _moved(again[0], x0, y0, 2.0),
                paragraph=line.paragraph,
                column=line.column,
                handwritten=line.handwritten,
            )
            changed = True
    return replace(page, lines=lines) if changed else page
