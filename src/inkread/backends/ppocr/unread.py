"""What a page reports in ``unread`` rather than losing: boxes of writing found but not read (issue 23:
every line the detector finds is read or reported).
"""

from __future__ import annotations

import numpy as np

from .models import Reading

__all__ = ["faint_line", "line_like", "line_shaped"]


def line_like(reading: Reading, quad: np.ndarray, typical_height: float) -> bool:
    """Whether a reading dropped for its low confidence was writing worth reporting: some letters or
    digits read in a box shaped like a line (:func:`line_shaped`), or a letter in a box at least half
    a line high both ways (a fragment of writing: a word turned sideways in the margin, issue 23's
    hooker_p006 '2.'; not a speck)."""
    letters = sum(c.isalnum() for c in reading.text)
    if letters >= 2 and line_shaped(quad, typical_height):
        return True
    return letters >= 1 and min(_sides(quad)) >= 0.5 * typical_height


def faint_line(quad: np.ndarray, typical_height: float) -> bool:
    """A faint box worth reporting: shaped like a line (:func:`line_shaped`), or like a line of smaller
    writing, a third of a line high and four times as wide (show-through of a letterhead, a pencilled
    note between lines); not a speck, a stroke or a rule."""
    width, height = _sides(quad)
    return line_shaped(quad, typical_height) or (height >= 0.3 * typical_height and width >= 4.0 * height)


def line_shaped(quad: np.ndarray, typical_height: float) -> bool:
    """A box at least half the page's typical line height and twice as wide as high (not a speck, a
    rule or a stroke)."""
    width, height = _sides(quad)
    return height >= 0.5 * typical_height and width >= 2.0 * height


def _sides(quad: np.ndarray) -> tuple[float, float]:
    """A box's (tl, tr, br, bl) width along its top edge and height along its left edge."""
    return float(np.linalg.norm(quad[1] - quad[0])), float(np.linalg.norm(quad[3] - quad[0]))
