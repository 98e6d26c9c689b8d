"""Columns on a page of text boxes: the gutters between printed columns, blocks parted by white
across the page, running heads and feet.

A gutter is an x-range that no box crosses (but a few: a title, a running head, a figure's caption
across the columns) with text lines running up to it on both sides, side by side for several lines:
columns, not the word spaces of one line nor a table's short cells. Scanned two-column pages leave
narrow gutters (about 2% of the width, one line height or less), so the width alone cannot tell
them (issue 23). Pure functions over axis-aligned boxes ``[x0, y0, x1, y1]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Gutter",
    "find_gutter",
    "page_gutters",
    "side",
    "crosses_gutter",
    "blocks_apart",
    "blocks_of",
    "head_and_foot",
]

#: a gutter is at least this many line heights wide (the detector's boxes are grown past the ink)
MIN_WIDTH = 0.7
#: lines "run up to" the gutter when they end (left) or start (right) within this many line heights
#: of it; one side at least has this many such lines ...
REACH = 2.0
#: ... and each side this many lines, side by side over this many line heights, ...
MIN_LINES = 3
MIN_SIDE_BY_SIDE = 3.0
#: ... of at least this many line heights' width (a column's line holds words, a table cell a few
#: characters)
MIN_LINE_WIDTH = 4.0
#: the poorer side holds at least this share of the richer side's lines level with it
BALANCE = 0.25
#: white across a region this many line heights high parts it into blocks before gutters are
#: looked for; these only where no gutter runs its height
WIDE_WHITE = 2.0
NARROW_WHITE = (1.0, 0.4)
#: a box is across the gutter when at least this share of its width lies on each side
SPAN = 0.35


@dataclass(frozen=True)
class Gutter:
    """A gutter's white x-range and the heights its columns run over."""

    x0: float
    x1: float
    y0: float
    y1: float

    @property
    def x(self) -> float:
        return (self.x0 + self.x1) / 2


def find_gutter(boxes: np.ndarray, height: float | None = None) -> Gutter | None:
    """The best column gutter among ``boxes`` (N x 4), or None: of the x-runs that few boxes cross,
    the one with the most text lines level with each other on its poorer side."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) < 2 * MIN_LINES:
        return None
    h = float(height) if height else float(np.median(boxes[:, 3] - boxes[:, 1]))
    h = max(h, 1.0)
    left_x = int(np.floor(boxes[:, 0].min()))
    cover = np.zeros(int(np.ceil(boxes[:, 2].max())) - left_x + 2, dtype=np.int32)
    for box in boxes:
        cover[int(box[0]) - left_x : int(np.ceil(box[2])) - left_x + 1] += 1
    allowed = len(boxes) // 8  # a title, heads or a caption across the columns
    free = np.concatenate([[False], cover <= allowed, [False]])
    edges = np.flatnonzero(np.diff(free.astype(np.int8)))
    best: Gutter | None = None
    best_score = 0
    for start, stop in zip(edges[::2], edges[1::2]):
        if start == 0 or stop >= len(cover):
            continue  # touches the region's edge
        a, b = _proper(boxes, cover, left_x, start, stop)
        if b - a < MIN_WIDTH * h:
            continue
        found = _judge(boxes, a, b, h)
        if found is not None and found[1] > best_score:
            best, best_score = found
    return best


def _proper(boxes: np.ndarray, cover: np.ndarray, left_x: int, start: int, stop: int) -> tuple[float, float]:
    """The gutter proper inside a free run (which a few lines may cross): from the furthest end of
    the lines ending inside it to the nearest start of those starting inside it (a column's longer
    lines below a code listing reach into the white beside it), else where the fewest lines cross."""
    a, b = float(left_x + start), float(left_x + stop)
    lines = boxes[boxes[:, 2] - boxes[:, 0] >= 2 * np.median(boxes[:, 3] - boxes[:, 1])]  # no page numbers
    ends = lines[(lines[:, 2] > a) & (lines[:, 2] < b), 2]
    starts = lines[(lines[:, 0] > a) & (lines[:, 0] < b), 0]
    lo, hi = (ends.max() if len(ends) else a), (starts.min() if len(starts) else b)
    if hi > lo:
        return float(lo), float(hi)
    least = cover[start:stop] == cover[start:stop].min()
    runs = np.flatnonzero(np.diff(np.concatenate([[0], least.astype(np.int8), [0]])))
    k = int(np.argmax(runs[1::2] - runs[::2]))
    return float(left_x + start + runs[2 * k]), float(left_x + start + runs[2 * k + 1])


def _judge(boxes: np.ndarray, a: float, b: float, h: float) -> tuple[Gutter, int] | None:
    """The gutter at the free run ``a``..``b`` and its score (lines on the poorer side), or None."""
    left, right = boxes[boxes[:, 2] <= b], boxes[boxes[:, 0] >= a]
    # the lines of one side at least run up to the gutter (a column's left edge: code or ragged
    # lines on the other side end anywhere)
    reach = max(int((left[:, 2] >= a - REACH * h).sum()), int((right[:, 0] <= b + REACH * h).sum()))
    if min(len(left), len(right), reach) < MIN_LINES:
        return None
    top, bottom = max(left[:, 1].min(), right[:, 1].min()), min(left[:, 3].max(), right[:, 3].max())
    if bottom - top < MIN_SIDE_BY_SIDE * h:
        return None  # one block above the other, not side by side
    # the lines of each side that lie level with the other side's
    left = left[(left[:, 3] > top) & (left[:, 1] < bottom)]
    right = right[(right[:, 3] > top) & (right[:, 1] < bottom)]
    if min(len(left), len(right)) < max(MIN_LINES, BALANCE * max(len(left), len(right))):
        return None  # a few cells beside a column: a table
    if min(np.median(left[:, 2] - left[:, 0]), np.median(right[:, 2] - right[:, 0])) < MIN_LINE_WIDTH * h:
        return None  # short pieces: a table's cells, a form's fields
    both = np.concatenate([left, right])
    gutter = Gutter(float(a), float(b), float(both[:, 1].min()), float(both[:, 3].max()))
    return gutter, min(len(left), len(right))


def page_gutters(boxes: np.ndarray, height: float | None = None, depth: int = 0) -> list[Gutter]:
    """Every column gutter of a page: the best one, then those inside the columns each side (three
    or more columns), recursively; those of each block where white across the region parts it (a
    figure between a title block and the columns; narrower white where no gutter runs the height)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0 or depth >= 8:
        return []
    h = float(height) if height else float(np.median(boxes[:, 3] - boxes[:, 1]))
    blocks = blocks_of(boxes, h, wide=True)
    gutter = find_gutter(boxes, h) if len(blocks) == 1 else None
    if len(blocks) == 1 and gutter is None:
        blocks = blocks_of(boxes, h, wide=False)
    if len(blocks) > 1:  # blocks parted by white across the region, each with its columns
        return [g for block in blocks for g in page_gutters(boxes[block], h, depth + 1)]
    if gutter is None:
        return []
    left = boxes[boxes[:, 2] <= gutter.x1]
    right = boxes[boxes[:, 0] >= gutter.x0]
    return [gutter, *page_gutters(left, h, depth + 1), *page_gutters(right, h, depth + 1)]


def side(x0: float, x1: float, cut: float) -> int:
    """Which side of a gutter at ``cut`` a box from ``x0`` to ``x1`` belongs to: -1 left, 1 right, 0
    both (a title, a running head across the columns). A box reaching a little past the gutter is a
    column's (a margin note in the gutter joined to a line, issue 23)."""
    reach = SPAN * (x1 - x0)
    if x1 - cut <= reach:
        return -1
    if cut - x0 <= reach:
        return 1
    return 0


def crosses_gutter(gutters: list[Gutter], left: tuple[float, float], right: tuple[float, float], y: float) -> bool:
    """Whether two boxes' x-ranges ``left`` and ``right`` at height ``y`` lie in two columns each
    side of one of ``gutters`` (not pieces of one line)."""
    return any(g.y0 <= y <= g.y1 and {side(*left, g.x), side(*right, g.x)} == {-1, 1} for g in gutters)


def blocks_apart(boxes: np.ndarray, min_gap: float) -> list[list[int]]:
    """``boxes`` (N x 4) in blocks top to bottom, parted where white at least ``min_gap`` high runs
    across the whole region (a figure, a title's space): indices, each block's by its top."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    blocks: list[list[int]] = []
    bottom = -np.inf
    for i in np.argsort(boxes[:, 1], kind="stable").tolist():
        if not blocks or boxes[i, 1] - bottom >= min_gap:
            blocks.append([])
        blocks[-1].append(i)
        bottom = max(bottom, boxes[i, 3])
    return blocks


def blocks_of(boxes: np.ndarray, height: float, wide: bool) -> list[list[int]]:
    """The blocks white across the region parts ``boxes`` into (indices): ``wide``, where it is
    ``WIDE_WHITE`` line heights high or more (looked at before any gutter: a figure, a title block's
    space); else the highest of ``NARROW_WHITE`` that parts them (where no gutter runs the height:
    an author block's rows). One block where none does."""
    for k in (WIDE_WHITE,) if wide else NARROW_WHITE:
        blocks = blocks_apart(boxes, k * height)
        if len(blocks) > 1:
            return blocks
    return [list(range(len(boxes)))]


def head_and_foot(boxes: np.ndarray, min_gap: float) -> tuple[list[int], list[int]]:
    """The top row and the bottom row of ``boxes`` where white at least ``min_gap`` high parts each
    from everything else: a running head and a foot (page number, date) across the columns, read
    before and after them, wherever their pieces sit (issue 23). Indices, left to right."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) < 6:
        return [], []
    centre = (boxes[:, 1] + boxes[:, 3]) / 2
    first, last = int(np.argmin(boxes[:, 1])), int(np.argmax(boxes[:, 3]))
    head = np.flatnonzero(centre < boxes[first, 3])
    foot = np.flatnonzero(centre > boxes[last, 1])
    rest = np.setdiff1d(np.arange(len(boxes)), np.union1d(head, foot))
    if len(rest) < 4:
        return [], []
    found_head = head if boxes[rest, 1].min() - boxes[head, 3].max() >= min_gap else head[:0]
    found_foot = foot if boxes[foot, 1].min() - boxes[rest, 3].max() >= min_gap else foot[:0]
    by_x = boxes[:, 0]
    return sorted(found_head.tolist(), key=by_x.__getitem__), sorted(found_foot.tolist(), key=by_x.__getitem__)
