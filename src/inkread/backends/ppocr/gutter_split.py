"""Detector boxes merged across a column gutter, split there.

On a scan with a narrow gutter the detector sometimes joins a left column's line and the right
column's line level with it into one box (issue 23: two code lines of a LaTeX page each read as
one line across both columns, which broke the columns into bands). A box that runs across a page's
gutter (:func:`inkread.columns.page_gutters`, found on the other boxes) is split where its own
pixels are white over the gutter's width: a title or a line of a full-width block has ink there,
or only a word space, and stays whole.
"""

from __future__ import annotations

import numpy as np

from ...columns import Gutter, page_gutters
from ...preprocess import Transform, to_gray
from .crops import crop_quad

__all__ = ["split_at_gutters"]

#: the white run must be at least this many line heights wide (a word space is about a third) ...
MIN_WHITE = 0.6
#: ... and this share of the gutter's own width (up to two line heights)
GUTTER_SHARE = 0.6


def split_at_gutters(
    work: np.ndarray, detections: list[tuple[np.ndarray, float]], to_upright: Transform
) -> list[tuple[np.ndarray, float]]:
    """``detections`` (quads on ``work``, scores) with every box merged across a column gutter
    split at the gutter's white run, each piece keeping the box's score."""
    if len(detections) < 8:
        return detections
    upright = np.array([to_upright.apply(q.astype(np.float64)) for q, _ in detections]).reshape(-1, 4, 2)
    boxes = np.concatenate([upright.min(axis=1), upright.max(axis=1)], axis=1)
    height = float(np.median(boxes[:, 3] - boxes[:, 1]))
    gutters = page_gutters(boxes, height)
    if not gutters:
        return detections
    gray = None
    out: list[tuple[np.ndarray, float]] = []
    for (quad, score), box, up in zip(detections, boxes, upright):
        cut = None
        for g in gutters:
            y = (box[1] + box[3]) / 2
            if g.y0 <= y <= g.y1 and box[0] < g.x0 - height and box[2] > g.x1 + height:
                gray = to_gray(work) if gray is None else gray
                cut = _white_cut(gray, quad, up, g, height)
                if cut is not None:
                    break
        if cut is None:
            out.append((quad, score))
            continue
        q = quad.astype(np.float64)
        top, bottom = q[0] + cut * (q[1] - q[0]), q[3] + cut * (q[2] - q[3])
        out.append((np.array([q[0], top, bottom, q[3]], dtype=quad.dtype), score))
        out.append((np.array([top, q[1], q[2], bottom], dtype=quad.dtype), score))
    return out


def _white_cut(gray: np.ndarray, quad: np.ndarray, up: np.ndarray, gutter: Gutter, height: float) -> float | None:
    """Where along the box (0..1 of its width) its pixels are white across ``gutter``, or None."""
    x_left, x_right = (up[0, 0] + up[3, 0]) / 2, (up[1, 0] + up[2, 0]) / 2
    if x_right - x_left < 1:
        return None
    crop = crop_quad(gray, quad.astype(np.float64))
    width = crop.shape[1]
    scale = width / (x_right - x_left)  # crop pixels per upright pixel
    centre = int(round((gutter.x - x_left) * scale))
    if not 0 < centre < width - 1:
        return None
    # ink: darker than halfway between the crop's paper and its darkest ink
    paper, dark = float(np.percentile(crop, 90)), float(np.percentile(crop, 2))
    if paper - dark < 40:
        return None
    ink = (crop < (paper + dark) / 2).sum(axis=0)
    clear = ink <= max(1, crop.shape[0] // 50)
    if not clear[centre]:
        return None
    lo, hi = centre, centre
    while lo > 0 and clear[lo - 1]:
        lo -= 1
    while hi < width - 1 and clear[hi + 1]:
        hi += 1
    need = max(MIN_WHITE * height, min(GUTTER_SHARE * (gutter.x1 - gutter.x0), 2.0 * height)) * scale
    if hi - lo + 1 < need or lo == 0 or hi == width - 1:
        return None  # a word space, or white to the box's end: not two columns' text
    return (lo + hi + 1) / 2 / width
