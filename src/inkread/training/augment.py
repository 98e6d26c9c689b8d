"""Augmentation that makes a clean line look like another real note: slant, stroke width, blur, JPEG,
uneven light, ruled lines, line-height and width jitter, contrast and noise. Greyscale uint8 in and out,
ink dark on light paper, every draw from the ``numpy.random.Generator`` given."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["augment", "shear", "warp"]


def _paper(gray: np.ndarray) -> int:
    return int(np.percentile(gray, 90))


def shear(gray: np.ndarray, degrees: float, fill: int) -> np.ndarray:
    """Slant the writing by ``degrees`` (positive leans right), widening the image to keep it whole."""
    h, w = gray.shape
    k = np.tan(np.radians(degrees))
    extra = int(abs(k) * h + 1)
    m = np.array([[1, -k, extra if k > 0 else 0], [0, 1, 0]], dtype=np.float32)
    return cv2.warpAffine(gray, m, (w + extra, h), borderValue=int(fill), flags=cv2.INTER_LINEAR)


def warp(gray: np.ndarray, rng: np.random.Generator, fill: int, strength: float = 1.0) -> np.ndarray:
    """Another hand's proportions: a smooth random displacement field (control points every half line
    height, moved by a few per cent of the height, interpolated) bends strokes, letter widths and the
    baseline a little differently along the line (grid distortion, as in Wigington et al. 2017)."""
    h, w = gray.shape
    step = max(6, h // 2)
    grid = (3, w // step + 2)
    dx = cv2.resize(
        (rng.normal(0, 0.07 * h * strength, grid)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    dy = cv2.resize(
        (rng.normal(0, 0.03 * h * strength, grid)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(gray, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=int(fill))


def augment(gray: np.ndarray, rng: np.random.Generator, p_warp: float = 0.0) -> np.ndarray:
    """One augmented view; ``p_warp`` > 0 also bends the writing (``warp``) that often (draws from
    ``rng`` only then, so the default sequence of views stays what it was)."""
    img = gray
    paper = _paper(img)
    if p_warp > 0 and rng.random() < p_warp:
        img = warp(img, rng, paper)
    h, w = img.shape
    if rng.random() < 0.6:
        img = shear(img, rng.uniform(-18, 18), paper)
    if rng.random() < 0.5:  # line-height jitter: more or less paper above and below, squeeze or stretch
        top, bottom = (int(rng.uniform(-0.08, 0.25) * h) for _ in range(2))
        if top < 0:
            img = img[-top:]
        if bottom < 0:
            img = img[: img.shape[0] + bottom]
        img = cv2.copyMakeBorder(img, max(0, top), max(0, bottom), 0, 0, cv2.BORDER_CONSTANT, value=paper)
    if rng.random() < 0.5:
        fx = rng.uniform(0.8, 1.2)
        img = cv2.resize(img, (max(8, int(img.shape[1] * fx)), img.shape[0]), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3:  # stroke width: a min filter thickens dark ink, a max filter thins it
        kernel = np.ones((2, 2), np.uint8)
        img = cv2.erode(img, kernel) if rng.random() < 0.6 else cv2.dilate(img, kernel)
    img = img.astype(np.float32)
    if rng.random() < 0.3:  # a ruled line, faint, near the top or under the writing
        y = int(img.shape[0] * rng.choice([rng.uniform(0.05, 0.2), rng.uniform(0.75, 0.95)]))
        shade = rng.uniform(0.6, 0.9) * paper
        cv2.line(img, (0, y), (img.shape[1], y), float(shade), int(rng.integers(1, 3)))
    if rng.random() < 0.4:  # uneven light: a gradient across the line
        ramp = np.linspace(rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0), img.shape[1], dtype=np.float32)
        img = img * ramp[None, :]
    if rng.random() < 0.4:  # fainter ink or greyer paper
        lo, hi = rng.uniform(0, 60), rng.uniform(190, 255)
        img = lo + img * (hi - lo) / 255.0
    if rng.random() < 0.3:
        sigma = rng.uniform(0.4, 1.1)
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    if rng.random() < 0.3:
        img = img + rng.normal(0, rng.uniform(2, 10), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 80))])
        if ok:
            decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
            assert decoded is not None  # the JPEG cv2 has just encoded
            img = decoded
    return img
