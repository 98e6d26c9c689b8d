"""Is an image one line of text? A tight crop of one written line is read whole, fitted to its ink
(``crops.fit_line``), which reads it better than the detector's pieces of it; a page of lines is read
line by line. Telling them apart from the detector's boxes, grouped into lines by the layout: the
groups lie on one row (:func:`one_row`), and the image is barely taller than that row or holds no
other ink (:func:`is_single_line`).
"""

from __future__ import annotations

import cv2
import numpy as np

from ...layout import LineGroup
from ...preprocess import to_gray

__all__ = ["is_single_line", "one_row"]


def one_row(groups: list[LineGroup], quads: np.ndarray) -> bool:
    """Whether the groups are pieces of one row: side by side (the layout joins a line's pieces into
    one group, so groups above one another across the same stretch are lines) and their centres no
    further apart vertically than ONE_ROW of the thicker one's text height (the boxes' own thickness,
    not their axis-aligned extent: three slanted lines of a page have boxes that overlap, and were
    read as one line; two lines of cursive overlap by their ascenders). A mark (a group narrower than
    MARK_WIDTH of the other, or thinner than MARK_THICKNESS of it: an accent, a dot, the edge of the
    next line cut into a line crop) is on the row when its box touches the row's (within MARK_GAP of
    the taller box)."""
    rows = []
    for g in groups:
        member = quads[g.members]
        thick = np.linalg.norm(member[:, 3] - member[:, 0], axis=1) + np.linalg.norm(
            member[:, 2] - member[:, 1], axis=1
        )
        rows.append((float(member[:, :, 1].mean()), float(thick.max() / 2), g.box))
    for k, (ya, ta, a) in enumerate(rows):
        for yb, tb, b in rows[k + 1 :]:
            narrow, wide = sorted((a[2] - a[0], b[2] - b[0]))
            if narrow < MARK_WIDTH * wide or min(ta, tb) < MARK_THICKNESS * max(ta, tb):
                gap = max(a[1], b[1]) - min(a[3], b[3])
                if gap > MARK_GAP * max(a[3] - a[1], b[3] - b[1]):
                    return False
                continue
            shared = min(a[2], b[2]) - max(a[0], b[0])
            if shared > SIDE_BY_SIDE * narrow or abs(ya - yb) > ONE_ROW * max(ta, tb):
                return False
    return True


# pieces of one row overlap horizontally by at most this share of the shorter one, unless it is
# narrower than MARK_WIDTH of the other (a mark on the line)
SIDE_BY_SIDE = 0.2
MARK_WIDTH = 0.25
MARK_THICKNESS = 0.65
MARK_GAP = 0.2
# groups whose centres are further apart than this share of their text height are two rows
ONE_ROW = 0.8
# the share of a page's ink inside one row of text for the page to be read as that one line
ON_BLANK_INK = 0.97


def is_single_line(groups: list[LineGroup], quads: np.ndarray, image: np.ndarray, on_blank: bool = False) -> bool:
    """A tight crop of one written line: its groups are one row of text (fragments of one line, split
    by the detector) and the image is barely taller than the text, or (``on_blank``) its only ink is
    that line's, on blank paper (a name written small in a form's box: read as fragments, 'FERET'
    came back as 'FE RET'). ``quads``: the detector's boxes (tl, tr, br, bl), upright."""
    if not groups:
        return False
    tallest = max(g.height for g in groups)
    if not one_row(groups, quads):
        return False
    if image.shape[0] <= 2.6 * tallest:
        return True
    if not on_blank:
        return False
    top = min(g.box[1] for g in groups) - 0.5 * tallest
    bottom = max(g.box[3] for g in groups) + 0.5 * tallest
    gray = to_gray(image)
    _t, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    rows = ink.sum(axis=1).astype(np.float64)
    total = rows.sum()
    inside = rows[max(0, int(top)) : max(0, int(np.ceil(bottom)))].sum()
    return total > 0 and inside >= ON_BLANK_INK * total
