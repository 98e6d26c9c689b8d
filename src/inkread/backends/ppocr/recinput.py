"""The recogniser's input: line crops at height 48, scaled to -1..1, batched by width.

Shared by reading (:mod:`.models`) and training (``inkread.training``: features computed exactly as
inkread feeds the whole model).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["REC_HEIGHT", "MAX_REC_WIDTH", "REC_BATCH_WIDTH", "batches", "own_frames", "rec_batch", "rec_width"]

REC_HEIGHT = 48
# Widest recogniser input (100 characters' worth): a 4000 x 3 sliver is squeezed to it, not made 64000 px wide
MAX_REC_WIDTH = 4800
#: the input pixels (widths summed as padded) a recognition batch may hold: see :func:`batches`
REC_BATCH_WIDTH = 5000


def rec_width(crop: np.ndarray) -> int:
    """The width of the recogniser's input for one RGB line crop alone: at height 48, a multiple of 8,
    at least 320 px, at most MAX_REC_WIDTH."""
    ratio = crop.shape[1] / max(1, crop.shape[0])
    return min(MAX_REC_WIDTH, max(320, int(math.ceil(REC_HEIGHT * ratio / 8)) * 8))


def batches(widths: list[int], most: int) -> list[tuple[slice, int]]:
    """How crops (``widths``: their input widths, ascending) go through the recogniser: groups of
    ``most`` in a row, each padded to its widest (the padding changes what the recognisers read, so a
    crop is always padded as in a group of ``most``), run a few at a time when wide: no run holds more
    input pixels than :data:`REC_BATCH_WIDTH` (a batch's memory grows with its crops times its width:
    six 3,000-px printed lines took PP-OCRv6's 18,710-class output and its logits to 270 MB). Each run:
    its slice of the crops and the width it is padded to."""
    runs: list[tuple[slice, int]] = []
    for start in range(0, len(widths), most):
        end = min(len(widths), start + most)
        width = max(widths[start:end])
        step = max(1, REC_BATCH_WIDTH // width)
        runs.extend((slice(k, min(end, k + step)), width) for k in range(start, end, step))
    return runs


def rec_batch(crops: list[np.ndarray], width: int | None = None) -> tuple[np.ndarray, list[int]]:
    """The recogniser's input for RGB line crops: height 48, scaled to -1..1, zero-padded to ``width``
    (default: the widest crop's, at least 320 px, at most MAX_REC_WIDTH); and the width each crop fills."""
    width = width or max(rec_width(c) for c in crops)
    batch = np.zeros((len(crops), 3, REC_HEIGHT, width), dtype=np.float32)
    widths = []
    for j, crop in enumerate(crops):
        norm, rw = _rec_input(crop, width)
        batch[j, :, :, :rw] = norm
        widths.append(rw)
    return batch, widths


def own_frames(frames: int, widths: list[int], width: int) -> list[int]:
    """How many of ``frames`` output frames belong to each crop of a batch ``width`` pixels wide."""
    return [max(1, int(round(frames * w / width))) for w in widths]


def _rec_input(crop: np.ndarray, max_width: int) -> tuple[np.ndarray, int]:
    h, w = crop.shape[:2]
    rw = min(max_width, max(1, int(math.ceil(REC_HEIGHT * w / max(1, h)))))
    resized = cv2.resize(crop, (rw, REC_HEIGHT), interpolation=cv2.INTER_AREA if h > REC_HEIGHT else cv2.INTER_LINEAR)
    norm = (resized.astype(np.float32) / 255.0 - 0.5) / 0.5
    return norm.transpose(2, 0, 1), rw
