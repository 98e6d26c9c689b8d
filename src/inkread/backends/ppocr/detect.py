"""Text regions from the detector's probability map (DB post-processing), as pure numpy/OpenCV functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np


class Detector(Protocol):
    """What :func:`detect_lines` needs of the models (``models.PaddleModels``, which imports this module)."""

    def detection_map(self, image: np.ndarray, side: int) -> tuple[np.ndarray, float, float]: ...


__all__ = ["DetectParams", "boxes_from_map", "detect_lines", "detector_input", "detector_side", "order_points"]


@dataclass(frozen=True)
class DetectParams:
    side: int = 1280  # longer side of the detector's input, pixels
    # a small block of text (not a line: longer side under ``block_ratio`` times the shorter) is
    # enlarged until its shorter side is this long (RapidOCR's detector: 736), its longer side at
    # most ``side``: a 489x237 crop of five handwritten lines, read at its own size, lost the line at
    # its bottom edge (issue 23). A line crop is not: enlarged, it read the same, and detecting a
    # 1102x39 printed line at 1280 took 0.14 s against 0.04 s at its own size
    short_side: int = 736
    block_ratio: float = 4.0
    thresh: float = 0.3  # pixel probability that counts as text
    box_thresh: float = 0.5  # mean probability a region needs to be kept
    unclip_ratio: float = 1.6  # how far to grow a shrunk text kernel back to the text's outline
    min_size: float = 3.0
    max_candidates: int = 2000


def order_points(pts: np.ndarray) -> np.ndarray:
    """Four points ordered top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(pts, dtype=np.float32).reshape(4, 2)
    by_x = pts[np.argsort(pts[:, 0], kind="stable")]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1], kind="stable")]
    tr, br = right[np.argsort(right[:, 1], kind="stable")]
    return np.array([tl, tr, br, bl], dtype=np.float32)


def _unclip(box: np.ndarray, ratio: float) -> np.ndarray | None:
    import pyclipper

    area = cv2.contourArea(box)
    length = cv2.arcLength(box, True)
    if length <= 0:
        return None
    distance = area * ratio / length
    offset = pyclipper.PyclipperOffset()
    offset.AddPath([tuple(map(float, p)) for p in box], pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(distance)
    if not grown:
        return None
    return np.array(max(grown, key=len), dtype=np.float32)


def _box_score(prob: np.ndarray, contour: np.ndarray) -> float:
    h, w = prob.shape
    x0, y0 = np.clip(np.floor(contour.min(axis=0)).astype(int), 0, [w - 1, h - 1])
    x1, y1 = np.clip(np.ceil(contour.max(axis=0)).astype(int), 0, [w - 1, h - 1])
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    cv2.fillPoly(mask, [(contour - [x0, y0]).astype(np.int32)], 1)
    region = prob[y0 : y1 + 1, x0 : x1 + 1]
    return float(cv2.mean(region, mask)[0])


def boxes_from_map(
    prob: np.ndarray, scale_x: float, scale_y: float, params: DetectParams, image_size: tuple[int, int]
) -> list[tuple[np.ndarray, float]]:
    """Text boxes (4x2, image pixels, ordered) with their scores from a DB probability map."""
    bitmap: np.ndarray = (prob > params.thresh).astype(np.uint8)
    bitmap = cv2.dilate(bitmap, np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    width, height = image_size
    out: list[tuple[np.ndarray, float]] = []
    for contour in contours[: params.max_candidates]:
        contour = contour.reshape(-1, 2).astype(np.float32)
        if len(contour) < 3:
            continue
        rect = cv2.minAreaRect(contour)
        if min(rect[1]) < params.min_size:
            continue
        score = _box_score(prob, contour)
        if score < params.box_thresh:
            continue
        grown = _unclip(cv2.boxPoints(rect), params.unclip_ratio)
        if grown is None:
            continue
        rect = cv2.minAreaRect(grown)
        if min(rect[1]) < params.min_size + 2:
            continue
        box = order_points(cv2.boxPoints(rect))
        box[:, 0] = np.clip(box[:, 0] * scale_x, 0, width - 1)
        box[:, 1] = np.clip(box[:, 1] * scale_y, 0, height - 1)
        out.append((box, score))
    return out


def detector_side(width: int, height: int, params: DetectParams) -> int:
    """The longer side, in pixels, of the detector's input for an image of ``width`` x ``height``:
    a large image is shrunk to ``params.side``; a small block of text is enlarged until its shorter
    side is ``params.short_side`` long or its longer side ``params.side``, whichever comes first; a
    line is read at its own size (never below 320, the detector's smallest useful input)."""
    long, short = max(width, height), max(1, min(width, height))
    if long >= params.side:
        return params.side
    if short >= params.short_side or long >= params.block_ratio * short:
        return max(320, long)
    return max(320, min(params.side, round(long * params.short_side / short)))


def detector_input(image: np.ndarray, side: int) -> tuple[np.ndarray, float, float]:
    """The detector's input for ``image`` (RGB) resized so its longer side is about ``side`` pixels
    (each side a multiple of 32), and the x / y scale from the input back to the image."""
    h, w = image.shape[:2]
    ratio = side / max(h, w)
    rh = max(32, int(round(h * ratio / 32)) * 32)
    rw = max(32, int(round(w * ratio / 32)) * 32)
    resized = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_AREA if ratio < 1 else cv2.INTER_LINEAR)
    x = (resized.astype(np.float32) / 255.0 - 0.5) / 0.5
    return x.transpose(2, 0, 1)[None], w / rw, h / rh


def detect_lines(models: Detector, image: np.ndarray, params: DetectParams) -> list[tuple[np.ndarray, float]]:
    """Text boxes (4x2, ``image``'s pixels) and their scores, detected at a scale where text is
    neither tiny nor huge for the detector (:func:`detector_side`; text still small there is looked
    for again at a larger scale)."""
    h, w = image.shape[:2]
    side = detector_side(w, h, params)
    prob, sx, sy = models.detection_map(image, side)
    boxes = boxes_from_map(prob, sx, sy, params, (w, h))
    if boxes:
        heights = [np.linalg.norm(b[3] - b[0]) / sy for b, _ in boxes]  # in map pixels
        med = float(np.median(heights))
        if med < 16:  # small text: look again at a larger scale
            bigger = int(min(3200, side * 20 / max(med, 4)))
            if bigger > side * 1.25:
                prob, sx, sy = models.detection_map(image, bigger)
                boxes = boxes_from_map(prob, sx, sy, params, (w, h))
    return boxes
