"""List markers the recogniser cannot spell: drawn checkboxes, and bullet glyphs normalised.

Checkboxes are found as small, square, closed outlines in the binarised page; a box with ink inside
is ticked. Each is attached to the text line that starts just right of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from ...preprocess import to_gray

__all__ = ["Checkbox", "find_checkboxes", "normalise_bullet"]

_BULLETS = re.compile(r"^[·∙●•◦○▪■►‣⁃]\s*")


@dataclass(frozen=True)
class Checkbox:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the searched image's pixels
    checked: bool

    @property
    def marker(self) -> str:
        return "[x]" if self.checked else "[ ]"


def find_checkboxes(image: np.ndarray, line_height: float, band: int = 1024) -> list[Checkbox]:
    """Square outlines between 0.4 and 1.6 line heights wide, with a thin border.

    The page is searched in bands of ``band`` rows, each with enough of the rows around it that a box
    starting in it lies whole in it and its binarisation is the whole page's: the same boxes, without
    a whole-page binary image and its contours (a 34-megapixel receipt's took 100-150 MB)."""
    gray = to_gray(image)
    block = max(15, int(line_height) | 1)
    # Adaptive thresholding hollows out large solid shapes; judge the inside on a global threshold.
    otsu = float(cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[0])
    lo, hi = 0.4 * line_height, 1.6 * line_height
    overlap = int(np.ceil(hi)) + block + 2
    height = gray.shape[0]
    found: list[Checkbox] = []
    for top in range(0, height, band):
        y0, y1 = max(0, top - overlap), min(height, top + band + overlap)
        part = gray[y0:y1]
        binary = cv2.adaptiveThreshold(part, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15)
        solid = cv2.threshold(part, otsu, 255, cv2.THRESH_BINARY_INV)[1]
        for x, y, w, h, checked in _boxes_in(binary, solid, lo, hi):
            if top <= y + y0 < top + band:  # the band a box starts in finds it, once
                found.append(Checkbox(box=(float(x), float(y + y0), float(x + w), float(y + y0 + h)), checked=checked))
    return found


def _boxes_in(binary: np.ndarray, solid: np.ndarray, lo: float, hi: float) -> list[tuple[int, int, int, int, bool]]:
    """The checkboxes (x, y, w, h, ticked) among the outlines of ``binary`` (adaptively thresholded
    ink), judged inside on ``solid`` (the globally thresholded ink)."""
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    found: list[tuple[int, int, int, int, bool]] = []
    for k, contour in enumerate(contours):
        if hierarchy[0][k][3] != -1:  # only outer contours
            continue
        x, y, w, h = cv2.boundingRect(contour)
        if not (lo <= w <= hi and lo <= h <= hi and 0.75 <= w / h <= 1.33):
            continue
        approx = cv2.approxPolyDP(contour, 0.08 * cv2.arcLength(contour, True), True)
        if len(approx) != 4 or not cv2.isContourConvex(approx):
            continue
        area = cv2.contourArea(contour)
        if area < 0.7 * w * h:
            continue  # not a filled-in square outline
        if not _straight_sides(solid[y : y + h, x : x + w]):
            continue  # round or open letters (O, D, 0, C) fill their box too, but not along all sides
        # The border must be thin: the interior (inset by a quarter) is mostly paper or a tick.
        inset = max(2, int(0.2 * min(w, h)))
        inner = solid[y + inset : y + h - inset, x + inset : x + w - inset]
        if inner.size == 0:
            continue
        fill = inner.mean() / 255
        if fill > 0.6:
            continue  # a solid blob (a filled bullet or square), not a box
        found.append((x, y, w, h, fill > 0.08))
    return found


def _straight_sides(patch: np.ndarray, coverage: float = 0.85) -> bool:
    """Ink runs along the whole length of all four sides of the patch (within a thin strip)."""
    h, w = patch.shape
    t = max(2, int(round(0.15 * min(w, h))))
    ink = patch > 0
    sides = (ink[:t].any(axis=0), ink[-t:].any(axis=0), ink[:, :t].any(axis=1), ink[:, -t:].any(axis=1))
    return all(side.mean() >= coverage for side in sides)


def normalise_bullet(text: str) -> str:
    """Bullet glyphs read in many shapes come out as one "•" followed by a space."""
    m = _BULLETS.match(text)
    if m and len(text) > m.end():
        return "• " + text[m.end() :]
    return text
