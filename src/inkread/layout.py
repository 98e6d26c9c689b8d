"""Layout: detector fragments -> written lines -> columns, reading order and paragraphs.

Pure functions over axis-aligned boxes ``[x0, y0, x1, y1]`` (the page is deskewed before this
runs), so they can be tested with tables of boxes: each returns new groups and leaves the ones it
is given as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .columns import blocks_of, crosses_gutter, find_gutter, head_and_foot, page_gutters, side

__all__ = ["LineGroup", "group_lines", "reading_order", "assign_paragraphs", "LayoutParams"]


@dataclass(frozen=True)
class LayoutParams:
    # A fragment continues a line when its left edge's midpoint is within this many line heights of
    # the line's centre line, extended ...
    max_center_offset: float = 0.4
    # ... and the horizontal gap between them is at most this many line heights.
    max_h_gap: float = 1.8
    # A row of fragments aligned like a table row (receipt items and prices) joins across any gap
    # when the offset is at most this.
    table_center_offset: float = 0.25
    # A column gutter is at least this many median line heights wide.
    min_gutter: float = 1.5
    # Distance between line centres, in typical line pitches, beyond which a new paragraph starts.
    paragraph_pitch: float = 1.6


@dataclass
class LineGroup:
    """A written line made of one or more detector fragments."""

    members: list[int]  # indices into the fragment list, left to right
    box: np.ndarray  # [x0, y0, x1, y1] union
    column: int = 0
    paragraph: int = 0
    block: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])


def _v_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Vertical overlap of two boxes as a fraction of the smaller height."""
    inter = min(a[3], b[3]) - max(a[1], b[1])
    smaller = max(1e-6, min(a[3] - a[1], b[3] - b[1]))
    return max(0.0, inter) / smaller


def _as_quads(boxes: np.ndarray) -> np.ndarray:
    """Accept N x 4 axis-aligned boxes or N x 4 x 2 quadrilaterals (tl, tr, br, bl)."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0, 4, 2)
    if arr.ndim == 2:
        x0, y0, x1, y1 = arr.T
        return np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1), np.stack([x0, y1], 1)], 1)
    return arr.reshape(-1, 4, 2)


def group_lines(boxes: np.ndarray, params: LayoutParams = LayoutParams()) -> list[LineGroup]:
    """Chain fragments left to right into written lines.

    ``boxes`` are axis-aligned ``[x0, y0, x1, y1]`` or quadrilaterals. A fragment continues a line
    when its left edge's midpoint lies on the line's last fragment's centre line, extended (so lines
    that drift up or down across the page keep their pieces together and close lines stay apart), the
    two have similar heights, and the gap between them is small or the row is aligned like a table.
    """
    quads = _as_quads(boxes)
    if len(quads) == 0:
        return []
    axis = np.stack([quads[:, :, 0].min(1), quads[:, :, 1].min(1), quads[:, :, 0].max(1), quads[:, :, 1].max(1)], 1)
    mid_l = (quads[:, 0] + quads[:, 3]) / 2
    mid_r = (quads[:, 1] + quads[:, 2]) / 2
    heights = np.linalg.norm(quads[:, 3] - quads[:, 0], axis=1)
    med_h = float(np.median(heights))
    order = np.argsort(mid_l[:, 0], kind="stable")
    # no line runs across a column gutter, however narrow (issue 23: a scan's 2% gutter, one line
    # height, was crossed by every row)
    gutters = page_gutters(axis, med_h)
    lines: list[list[int]] = []
    for i in order:
        best, best_score = -1, 0.0
        for li, members in enumerate(lines):
            j = members[-1]
            if gutters and crosses_gutter(gutters, (axis[j, 0], axis[j, 2]), (axis[i, 0], axis[i, 2]), mid_l[i, 1]):
                continue
            hi, hj = heights[i], heights[j]
            if not 0.5 < hi / max(1.0, hj) < 2.0:
                continue  # a much taller or shorter fragment: a neighbour's piece, a mark, a stamp
            h = max(1.0, min(hi, hj))
            gap = mid_l[i, 0] - mid_r[j, 0]
            if gap < -0.5 * h:
                continue  # overlapping horizontally: stacked, not a continuation
            dx = mid_r[j, 0] - mid_l[j, 0]
            slope = (mid_r[j, 1] - mid_l[j, 1]) / dx if dx > 1 else 0.0
            expected_y = mid_r[j, 1] + slope * max(gap, 0.0)
            dy = abs(mid_l[i, 1] - expected_y) / h
            if dy > params.max_center_offset:
                continue
            near = gap <= params.max_h_gap * max(h, 0.7 * med_h)
            table_row = dy <= params.table_center_offset
            if not (near or table_row):
                continue
            score = 1 - dy - 0.05 * max(0.0, gap) / max(1.0, med_h)
            if score > best_score:
                best, best_score = li, score
        if best >= 0:
            lines[best].append(int(i))
        else:
            lines.append([int(i)])
    groups = []
    for members in lines:
        sub = axis[members]
        box = np.array([sub[:, 0].min(), sub[:, 1].min(), sub[:, 2].max(), sub[:, 3].max()])
        groups.append(LineGroup(members=members, box=box))
    return _split_far_fragments(groups, axis, med_h, params)


def _split_far_fragments(
    groups: list[LineGroup], boxes: np.ndarray, med_h: float, params: LayoutParams
) -> list[LineGroup]:
    """Keep table rows joined, but split a line at a gutter that other lines respect (columns)."""
    if len(groups) < 4:
        return groups
    # x-coverage of "near-joined" material: a gutter is an x-range crossed by no fragment of the
    # lines around (a full-width title or footer above the columns crosses it, and does not count)
    out: list[LineGroup] = []
    for g in groups:
        parts = [[g.members[0]]]
        near = _neighbours(boxes, g.box[1], g.box[3], GUTTER_WINDOW * med_h)
        cover = _coverage(boxes[near])
        crossing = len(near) // 8  # a title or footer may cross the gutter the others keep
        for a, b in zip(g.members, g.members[1:]):
            gap_lo, gap_hi = boxes[a][2], boxes[b][0]
            gap = gap_hi - gap_lo
            h = max(1.0, min(boxes[a][3] - boxes[a][1], boxes[b][3] - boxes[b][1]))
            if (
                gap > params.max_h_gap * max(h, 0.7 * med_h)
                and _is_gutter(cover, gap_lo, gap_hi, crossing)
                and _sides(boxes[near], gap_lo, gap_hi)
                and _columns_not_table(boxes, gap_lo, gap_hi)
            ):
                parts.append([b])
            else:
                parts[-1].append(b)
        for members in parts:
            sub = boxes[members]
            out.append(
                LineGroup(
                    members=members, box=np.array([sub[:, 0].min(), sub[:, 1].min(), sub[:, 2].max(), sub[:, 3].max()])
                )
            )
    return out


#: how far above and below a line (in median line heights) its gutter must stay clear
GUTTER_WINDOW = 4.0


def _neighbours(boxes: np.ndarray, y0: float, y1: float, reach: float) -> np.ndarray:
    """The fragments within ``reach`` above or below the band ``y0``..``y1``."""
    return np.flatnonzero((boxes[:, 3] >= y0 - reach) & (boxes[:, 1] <= y1 + reach))


def _sides(boxes: np.ndarray, lo: float, hi: float) -> bool:
    """Lines around keep to both sides of the gap (at least two on each side): columns, not one row
    with wide spaces."""
    # left of the gap: start before it, end before the right part starts (the others' edges jitter
    # by a few pixels around this line's); right of it, the mirror image
    left = (boxes[:, 0] < lo) & (boxes[:, 2] < hi - 1)
    right = (boxes[:, 2] > hi) & (boxes[:, 0] > lo + 1)
    return int(left.sum()) >= 2 and int(right.sum()) >= 2


def _columns_not_table(boxes: np.ndarray, lo: float, hi: float) -> bool:
    """Whether the material left and right of a gap reads like two text columns (pieces of similar
    width) rather than a table (wide item names beside short prices or quantities)."""
    widths = boxes[:, 2] - boxes[:, 0]
    # the pieces each side of the gap (as _sides counts them: a column's short last line is not
    # what the column is like)
    left = widths[(boxes[:, 0] < lo) & (boxes[:, 2] < hi - 1)]
    right = widths[(boxes[:, 2] > hi) & (boxes[:, 0] > lo + 1)]
    if len(left) == 0 or len(right) == 0:
        return False
    ratio = float(np.median(right)) / max(1.0, float(np.median(left)))
    # Column lines hold many words; table cells a few characters.
    height = float(np.median(boxes[:, 3] - boxes[:, 1]))
    return 0.5 <= ratio <= 2.0 and min(np.median(left), np.median(right)) >= 5 * height


def _coverage(boxes: np.ndarray) -> np.ndarray:
    x_max = int(np.ceil(boxes[:, 2].max())) + 2
    cover = np.zeros(x_max, dtype=np.int32)
    for b in boxes:
        cover[int(b[0]) : int(np.ceil(b[2])) + 1] += 1
    return cover


def _is_gutter(cover: np.ndarray, lo: float, hi: float, crossing: int = 0) -> bool:
    """Whether some x inside (lo, hi) is crossed by at most ``crossing`` fragments."""
    seg = cover[int(np.ceil(lo)) + 1 : int(hi)]
    return seg.size > 0 and int(seg.min()) <= crossing


def reading_order(groups: list[LineGroup], params: LayoutParams = LayoutParams()) -> list[LineGroup]:
    """Order lines: columns left to right, full-width lines (headings, footers) between them.

    A region parted by high white across it (a figure under a title block) is read block by block.
    Else a gutter is looked for: text columns each side of a white run however narrow
    (:func:`inkread.columns.find_gutter`), else a wide gap among the lines narrower than 60% of the
    region (a heading crossing the gutter must not hide it); else the region is parted at narrower
    white. A running head and foot are read first and last; lines that run into both columns split
    the region into bands top to bottom, and each band is read column by column, recursively.
    Returns copies of the groups with their ``column`` and ``block`` set.
    """
    if not groups:
        return []
    med_h = float(np.median([g.height for g in groups])) or 1.0
    ordered: list[LineGroup] = []
    state = {"block": 0}

    def emit(items: list[LineGroup], column: int) -> None:
        for g in sorted(items, key=lambda g: (g.box[1] + g.box[3]) / 2):
            ordered.append(replace(g, column=column, block=state["block"]))
        state["block"] += 1

    def visit(items: list[LineGroup], column: int, depth: int) -> int:
        """Emit ``items`` in reading order; returns the number of columns used."""
        boxes = np.array([g.box for g in items])
        # blocks parted by white across the region (a figure between a title block and the
        # columns, issue 23), each with its own columns; else columns of text lines each side of a
        # gutter, however narrow, or of a wider gap; else blocks parted by narrower white
        blocks = blocks_of(boxes, med_h, wide=True) if depth < 32 else [list(range(len(items)))]
        cut, found = None, None
        if len(blocks) == 1 and depth < 8:
            found = find_gutter(boxes, med_h)
            cut = found.x if found is not None else _find_gutter(items, params.min_gutter * med_h)
        if len(blocks) == 1 and cut is None and depth < 32:
            blocks = blocks_of(boxes, med_h, wide=False)
        if len(blocks) > 1:
            return max(visit([items[i] for i in block], column, depth + 1) for block in blocks)
        if cut is None:  # one block: read top to bottom
            emit(items, column)
            return 1
        # text columns: a running head and foot across them read first and last, and only lines
        # running well into both split them (a wide gap's cut: any line across it, as a table's)
        head, foot = head_and_foot(boxes, 0.6 * med_h) if found is not None else ([], [])
        spans = _spans if found is not None else (lambda box, cut: box[0] < cut < box[2])
        for i in head:
            emit([items[i]], column)
        body = [g for i, g in enumerate(items) if i not in head and i not in foot]
        band: list[LineGroup] = []
        width = 1
        for g in sorted(body, key=lambda g: (g.box[1] + g.box[3]) / 2):
            if spans(g.box, cut):  # across the gutter: a heading or footer
                if band:
                    width = max(width, _visit_band(band, cut, column, depth))
                    band = []
                emit([g], column)
            else:
                band.append(g)
        if band:
            width = max(width, _visit_band(band, cut, column, depth))
        for i in foot:
            emit([items[i]], column)
        return width

    def _visit_band(band: list[LineGroup], cut: float, column: int, depth: int) -> int:
        left = [g for g in band if (g.box[0] + g.box[2]) / 2 < cut]
        right = [g for g in band if (g.box[0] + g.box[2]) / 2 >= cut]
        used = visit(left, column, depth + 1) if left else 0
        used += visit(right, column + max(used, 1), depth + 1) if right else 0
        return used

    visit(groups, 0, 0)
    return ordered


def _spans(box: np.ndarray, cut: float) -> bool:
    """Whether a line runs across the gutter at ``cut`` into both columns (a title, a running head),
    not a column's line reaching a little past it (a margin note in the gutter, issue 23)."""
    return side(box[0], box[2], cut) == 0


def _find_gutter(items: list[LineGroup], min_gap: float) -> float | None:
    """The x of a vertical gutter separating at least two lines on each side, or None."""
    if len(items) < 4:
        return None
    x0 = min(g.box[0] for g in items)
    x1 = max(g.box[2] for g in items)
    narrow = [g for g in items if (g.box[2] - g.box[0]) < 0.6 * (x1 - x0)]
    if len(narrow) < 4:
        return None
    # the widest x-run crossed by at most one in eight of the lines (a title or a footer crossing
    # the gutter the others keep), not touching the region's edges
    allowed = len(narrow) // 8
    left_x = int(np.floor(x0))
    cover = np.zeros(int(np.ceil(x1)) - left_x + 2, dtype=np.int32)
    for g in narrow:
        cover[int(g.box[0]) - left_x : int(np.ceil(g.box[2])) - left_x + 1] += 1
    free = cover <= allowed
    best, best_gap = None, min_gap
    start = None
    for x, ok in enumerate(free):
        if ok and start is None:
            start = x
        elif not ok and start is not None:
            if start > 0 and x - start > best_gap:
                best, best_gap = left_x + (start + x) / 2, x - start
            start = None
    if best is None:
        return None
    left = sum(1 for g in narrow if g.box[2] <= best)
    right = sum(1 for g in narrow if g.box[0] >= best)
    if left < 2 or right < 2:
        return None
    # Side-by-side pieces aligned row by row are a table, unless they are long lines of similar
    # width (two printed columns set with the same leading).
    lefts = [g for g in narrow if g.box[2] <= best]
    rights = [g for g in narrow if g.box[0] >= best]
    aligned = sum(1 for a in lefts if any(_v_overlap(a.box, b.box) > 0.7 for b in rights))
    boxes = np.array([g.box for g in items])
    if aligned > 0.6 * len(lefts) and not _columns_not_table(boxes, best - best_gap / 2, best + best_gap / 2):
        return None
    return best


def assign_paragraphs(ordered: list[LineGroup], params: LayoutParams = LayoutParams()) -> list[LineGroup]:
    """Number paragraphs in reading order: a new one at a column change, or where the distance
    between two lines' centres exceeds ``paragraph_pitch`` times the page's typical line pitch
    (detector boxes are grown and overlap, so gaps between boxes say little; pitch is robust).
    Returns copies of the groups with their ``paragraph`` set."""
    if not ordered:
        return []
    centres = [(g.box[1] + g.box[3]) / 2 for g in ordered]
    pitches = [
        b - a
        for (a, ga), (b, gb) in zip(zip(centres, ordered), zip(centres[1:], ordered[1:]))
        if ga.column == gb.column and b > a
    ]
    med_h = float(np.median([g.height for g in ordered])) or 1.0
    # The lower quartile, not the median: in a short note half the gaps may be paragraph gaps.
    # Never more than 2 line heights: when every gap is a blank line, the pitches alone cannot tell.
    typical = min(float(np.percentile(pitches, 25, method="lower")) if pitches else 2 * med_h, 2.0 * med_h)
    numbers = [0]
    for k in range(1, len(ordered)):
        prev, cur = ordered[k - 1], ordered[k]
        pitch = centres[k] - centres[k - 1]
        new_paragraph = cur.column != prev.column or pitch > params.paragraph_pitch * typical
        numbers.append(numbers[-1] + new_paragraph)
    return [replace(g, paragraph=n) for g, n in zip(ordered, numbers)]
