"""AUTO decides once (issue 24): handwriting or print, from a quick look at a few of the page's lines.

AUTO used to read every page as print and, below a mean confidence of 0.975, read it again as
handwriting: a handwritten page was read twice. Now PP-OCRv6 first reads the few largest boxes the
detector found (greedy decoding, no variants, no lexicon: a fraction of a page's reading), and the
page is read once, in the mode their confidence says, when it says it clearly; in the band between,
the page is read as before (print first, then handwriting if unsure).

On the dev set (309 samples, the six largest boxes): printed pages 0.964-0.997, handwritten pages
0.502-0.928, printed lines 0.907-1.000, handwritten lines 0.000-0.986, capital-letter names (written
like print) 0.737-1.000. No page or line was decided into the wrong mode; 18 of 18 handwritten pages
and 98 of 137 handwritten lines are read once as handwriting, 17 of 25 printed pages and 36 of 67
printed lines once as print, the rest as before (bench/RESULTS.md "AUTO decides once").
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from ...options import RecognitionMode
from ...preprocess import crop_quad
from .models import PaddleModels

__all__ = ["SAMPLE", "SURE_PRINTED", "SURE_HANDWRITTEN", "guess_mode"]

#: the largest boxes read for the guess
SAMPLE = 6
#: at or above this confidence the page is print, read once as print
SURE_PRINTED = 0.99
#: below this, handwriting, read once as handwriting: with SAMPLE boxes read, and with fewer (a line
#: or a word: less evidence, a wider band left to the two readings)
SURE_HANDWRITTEN = (0.95, 0.90)


def guess_mode(
    work: np.ndarray, quads: list[np.ndarray], mask: np.ndarray | None, models: PaddleModels
) -> tuple[RecognitionMode, dict[str, float]]:
    """``PRINTED`` or ``HANDWRITTEN`` where a quick reading of the page's largest boxes is clearly
    one of them, else ``AUTO`` (unsure: read it both ways); and the seconds the look took."""
    t0 = time.perf_counter()
    largest = sorted(quads, key=lambda q: -abs(cv2.contourArea(q.astype(np.float32))))[:SAMPLE]
    readings = models.recognize([crop_quad(work, q) for q in largest], mask) if largest else []
    letters = sum(len(r.text) for r in readings)
    took = {"auto": time.perf_counter() - t0}
    if letters == 0:
        return RecognitionMode.AUTO, took
    confidence = sum(r.confidence * len(r.text) for r in readings) / letters
    if confidence >= SURE_PRINTED:
        return RecognitionMode.PRINTED, took
    if confidence < SURE_HANDWRITTEN[0 if len(largest) >= SAMPLE else 1]:
        return RecognitionMode.HANDWRITTEN, took
    return RecognitionMode.AUTO, took
