"""AUTO decides once (issue 24): handwriting or print, from a quick look at a few of the page's lines.

AUTO used to read every page as print and, below a mean confidence of 0.975, read it again as
handwriting: a handwritten page was read twice. Now PP-OCRv6 first reads the few largest boxes the
detector found (greedy decoding, no variants, no lexicon: a fraction of a page's reading), and the
page is read once, in the mode their confidence says, when it says it clearly; in the band between,
the page is read as before (print first, then handwriting if unsure).

On the dev set (309 samples, the middles of the six largest boxes; bench/bench_auto_look.py, run look2,
int8 detector): printed pages 0.960-0.998, handwritten pages 0.519-0.907, printed lines 0.900-1.000,
handwritten lines 0.303-0.978, capital-letter names (written like print) 0.703-1.000. No page or
handwritten line was decided into the wrong mode (one receipt line, 0.900 from one box, was); 18 of 18
handwritten pages and 102 of 137 handwritten lines are read once as handwriting, 24 of 25 printed pages
and 32 of 67 printed lines once as print, the rest as before (bench/RESULTS.md "AUTO decides once").
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from ...options import RecognitionMode
from ...orientation import segment as middle
from ...preprocess import crop_quad
from .models import PaddleModels
from .profiles import AUTO_PRINT_CONFIDENCE

__all__ = ["SAMPLE", "SEGMENT", "SURE_PRINTED", "SURE_HANDWRITTEN", "guess_mode", "look", "decide"]

#: the largest boxes read for the guess
SAMPLE = 6
#: each box read whole (None) or its middle only, at most this many times as wide as high: as sure a
#: guess on the dev set at half the look's time (bench/bench_auto_look.py)
SEGMENT: float | None = 12.0
#: at or above this confidence the page is print, read once as print: with SAMPLE boxes read, the
#: confidence a page's print reading needs to be kept without a second reading anyway
#: (profiles.AUTO_PRINT_CONFIDENCE); with fewer (a line or a word: handwritten lines looked up to 0.990)
SURE_PRINTED = (AUTO_PRINT_CONFIDENCE, 0.99)
#: below this, handwriting, read once as handwriting: with SAMPLE boxes read, and with fewer (a line
#: or a word: less evidence, a wider band left to the two readings)
SURE_HANDWRITTEN = (0.95, 0.90)


def look(
    work: np.ndarray,
    quads: list[np.ndarray],
    mask: np.ndarray | None,
    models: PaddleModels,
    segment: float | None = SEGMENT,
) -> tuple[float, int]:
    """PP-OCRv6's greedy confidence over the page's :data:`SAMPLE` largest boxes (weighted by the
    letters read; -1 where nothing reads) and how many boxes it read; ``segment``: each box's middle
    only, at most that many times as wide as high (None: whole)."""
    largest = sorted(quads, key=lambda q: -abs(cv2.contourArea(q.astype(np.float32))))[:SAMPLE]
    crops = [crop_quad(work, q) for q in largest]
    if segment is not None:
        crops = [middle(c, segment) for c in crops]
    readings = models.recognize(crops, mask) if crops else []
    letters = sum(len(r.text) for r in readings)
    if letters == 0:
        return -1.0, len(largest)
    return sum(r.confidence * len(r.text) for r in readings) / letters, len(largest)


def decide(confidence: float, boxes: int) -> RecognitionMode:
    """The mode a look's ``confidence`` over ``boxes`` boxes says clearly, else ``AUTO`` (unsure)."""
    if confidence < 0:
        return RecognitionMode.AUTO
    enough = 0 if boxes >= SAMPLE else 1
    if confidence >= SURE_PRINTED[enough]:
        return RecognitionMode.PRINTED
    if confidence < SURE_HANDWRITTEN[enough]:
        return RecognitionMode.HANDWRITTEN
    return RecognitionMode.AUTO


def guess_mode(
    work: np.ndarray, quads: list[np.ndarray], mask: np.ndarray | None, models: PaddleModels
) -> tuple[RecognitionMode, dict[str, float]]:
    """``PRINTED`` or ``HANDWRITTEN`` where a quick reading of the page's largest boxes is clearly
    one of them, else ``AUTO`` (unsure: read it both ways); and the seconds the look took."""
    t0 = time.perf_counter()
    mode = decide(*look(work, quads, mask, models))
    return mode, {"auto": time.perf_counter() - t0}
