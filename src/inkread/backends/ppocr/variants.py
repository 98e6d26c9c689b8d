"""Test-time variants of a handwritten line crop: the recogniser reads each, the most confident wins.

The recognition model reads the same handwritten line differently depending on how it is framed and
how slanted the writing is; no single framing is best for every writer (dev set, hw-line CER: as
cropped 0.314, deslanted 0.306, 8% trimmed off top and bottom 0.317, 10% margin added 0.322), but
keeping the most confident of the four readings gives 0.301 (bench/RESULTS.md). Averaging the
recogniser's per-frame probabilities over variants instead made every pair worse (CTC peaks of
different variants do not line up), so readings are chosen whole.

Each variant returns the image and a function mapping a horizontal position in it (a fraction of its
width) back to the crop, so word boxes stay on the original writing.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ...preprocess import to_gray

__all__ = ["VARIANTS", "estimate_slant", "make_variant"]

XMap = Callable[[float], float]

_SHEARS = np.round(np.linspace(-0.7, 0.7, 15), 2)


def _identity(x: float) -> float:
    return x


def _shear(image: np.ndarray, s: float, **warp: int) -> tuple[np.ndarray, int]:
    """``image`` sheared by ``s`` about its middle row onto a canvas widened by ``pad`` on each side
    so nothing is cut off; returns the sheared image and ``pad``."""
    h, w = image.shape[:2]
    pad = int(abs(s) * h) + 1
    m = np.array([[1, s, -s * h / 2 + pad], [0, 1, 0]], dtype=np.float32)
    # **warp holds int options only (flags, borderMode); the stubs try it against dst too
    return cv2.warpAffine(image, m, (w + 2 * pad, h), **warp), pad  # type: ignore[call-overload]


def estimate_slant(crop: np.ndarray) -> float:
    """The horizontal shear (dx per pixel of height, right-leaning writing positive) that makes the
    writing's strokes most upright: the shear whose column profile of ink is most concentrated (sum
    of squared column counts), the classic projection criterion for deslanting handwriting."""
    _, ink = cv2.threshold(to_gray(crop), 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    best, best_shear = -1.0, 0.0
    for s in _SHEARS:
        sheared, _pad = _shear(ink, float(s), flags=cv2.INTER_NEAREST)
        cols = sheared.sum(axis=0).astype(np.float64)
        score = float((cols * cols).sum())
        if score > best:
            best, best_shear = score, float(s)
    return best_shear


def _deslant(crop: np.ndarray) -> tuple[np.ndarray, XMap] | None:
    s = estimate_slant(crop)
    if abs(s) < 0.05:
        return None  # upright already: the variant would repeat the plain reading
    out, pad = _shear(crop, s, borderMode=cv2.BORDER_REPLICATE)
    w, wide = crop.shape[1], out.shape[1]
    # at mid-height the shear moves nothing: x_out = x + pad
    return out, lambda x: min(1.0, max(0.0, (x * wide - pad) / max(1, w)))


def _tight(crop: np.ndarray, fraction: float = 0.08) -> tuple[np.ndarray, XMap] | None:
    h = crop.shape[0]
    cut = int(round(fraction * h))
    if cut < 1 or h - 2 * cut < 8:
        return None
    return crop[cut : h - cut].copy(), _identity


def _loose(crop: np.ndarray, fraction: float = 0.1) -> tuple[np.ndarray, XMap] | None:
    pad = int(round(fraction * crop.shape[0]))
    if pad < 1:
        return None
    return cv2.copyMakeBorder(crop, pad, pad, 0, 0, cv2.BORDER_REPLICATE), _identity


VARIANTS: dict[str, Callable[[np.ndarray], tuple[np.ndarray, XMap] | None]] = {
    "deslant": _deslant,
    "tight": _tight,
    "loose": _loose,
}


def make_variant(name: str, crop: np.ndarray) -> tuple[np.ndarray, XMap] | None:
    """The named variant of a crop and its x map, or None where it would equal the crop."""
    if crop.shape[0] < 4 or crop.shape[1] < 4:
        return None
    return VARIANTS[name](crop)
