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
    read as one line; two lines of cursive overlap by their ascenders)."""
    rows = []
    for g in groups:
        member = quads[g.members]
        thick = np.linalg.norm(member[:, 3] - member[:, 0], axis=1) + np.linalg.norm(
            member[:, 2] - member[:, 1], axis=1
        )
        rows.append((float(member[:, :, 1].mean()), float(thick.max() / 2), float(g.box[0]), float(g.box[2])))
    for k, (ya, ta, xa0, xa1) in enumerate(rows):
        for yb, tb, xb0, xb1 in rows[k + 1 :]:
            shared = min(xa1, xb1) - max(xa0, xb0)
            narrow, wide = sorted((xa1 - xa0, xb1 - xb0))
            mark = narrow < MARK_WIDTH * wide  # an accent, a dot or a speck over the line: not a line
            if not mark and shared > SIDE_BY_SIDE * narrow or abs(ya - yb) > ONE_ROW * max(ta, tb):
                return False
    return True


# pieces of one row overlap horizontally by at most this share of the shorter one, unless it is
# narrower than MARK_WIDTH of the other (a mark on the line)
SIDE_BY_SIDE = 0.2
MARK_WIDTH = 0.25
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
