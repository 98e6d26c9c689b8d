"""Text regions from the detector's probability map (DB post-processing), as pure numpy/OpenCV functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np


class Detector(Protocol):
    """What :func:`detect_lines` needs of the models (``models.PaddleModels``, which imports this module)."""

    def detection_map(self, image: np.ndarray, side: int) -> tuple[np.ndarray, float, float]: ...


__all__ = [
    "DetectParams",
    "LARGEST_SIDE",
    "boxes_from_map",
    "detect_lines",
    "detector_input",
    "detector_side",
    "order_points",
]


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
    prob: np.ndarray,
    scale_x: float,
    scale_y: float,
    params: DetectParams,
    image_size: tuple[int, int],
    weak: list[tuple[np.ndarray, float, float]] | None = None,
) -> list[tuple[np.ndarray, float]]:
    """Text boxes (4x2, image pixels, ordered) with their scores from a DB probability map.
    ``weak``, when given, gets the regions scored between :data:`WEAK_SCORE` and the box threshold:
    their bounds (x0, y0, x1, y1 in image pixels) and their rotated rectangle's shorter and longer
    side in map pixels."""
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
            if weak is not None and score >= WEAK_SCORE:
                bounds = np.concatenate([contour.min(axis=0), contour.max(axis=0)]) * np.array([scale_x, scale_y] * 2)
                weak.append((bounds, float(min(rect[1])), float(max(rect[1]))))
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
    weak: list[tuple[np.ndarray, float, float]] = []
    boxes = boxes_from_map(prob, sx, sy, params, (w, h), weak)
    if not boxes:
        return boxes
    med = _median_height(boxes, sy)
    if med < 16:  # small text: look again at a larger scale
        bigger = int(min(LARGEST_SIDE, side * 20 / max(med, 4)))
        if bigger > side * 1.25:
            prob, sx, sy = models.detection_map(image, bigger)
            weak = []
            boxes = boxes_from_map(prob, sx, sy, params, (w, h), weak)
            if not boxes:
                return boxes
            med = _median_height(boxes, sy)
    for bounds, short, long in weak:
        if short >= WEAK_SHORT * med and long >= WEAK_LONG * med:  # (boxes grows: found once)
            boxes.extend(_look_closer(models, image, bounds, med * sy, boxes, params))
    return boxes


def _median_height(boxes: list[tuple[np.ndarray, float]], scale_y: float) -> float:
    """The boxes' median height in map pixels (``scale_y``: from the map to the image)."""
    return float(np.median([np.linalg.norm(b[3] - b[0]) / scale_y for b, _ in boxes]))


#: the longest side the detector is ever given (small text on a large page is looked for at up to it)
LARGEST_SIDE = 3200
#: a region of the map scored at least this (under the box threshold) is looked at again closer ...
WEAK_SCORE = 0.3
#: ... when its sides are at least these shares of the page's median line height (not a speck): at
#: 0.6x, the detector saw a fragment of sideways writing on hooker_p006 at 0.40, which raw RapidOCR's
#: detector, at the page's own size, boxes at over 0.5 (issue 23: no line lost)
WEAK_SHORT = 0.12
WEAK_LONG = 0.25


def _look_closer(
    models: Detector,
    image: np.ndarray,
    bounds: np.ndarray,
    line_height: float,
    boxes: list[tuple[np.ndarray, float]],
    params: DetectParams,
) -> list[tuple[np.ndarray, float]]:
    """The boxes the detector finds in a weak region when it looks again at the region alone, a line
    height of page around it, enlarged as a small block is (:func:`detector_side`): those centred in
    the region, at least half a ``line_height`` high both ways (a fragment of writing; not the dots of a
    column of colons on a receipt) and not already mostly inside a box found before."""
    h, w = image.shape[:2]
    pad = max(8.0, line_height)
    x0, y0 = int(max(0, bounds[0] - pad)), int(max(0, bounds[1] - pad))
    x1, y1 = int(min(w, bounds[2] + pad)), int(min(h, bounds[3] + pad))
    crop = image[y0:y1, x0:x1]
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return []
    side = detector_side(crop.shape[1], crop.shape[0], params)
    prob, sx, sy = models.detection_map(crop, side)
    found = []
    for box, score in boxes_from_map(prob, sx, sy, params, (crop.shape[1], crop.shape[0])):
        box = box + np.array([x0, y0], dtype=np.float32)
        cx, cy = box.mean(axis=0)
        if not (bounds[0] <= cx <= bounds[2] and bounds[1] <= cy <= bounds[3]):
            continue
        sides = np.linalg.norm(box[[1, 3]] - box[0], axis=1)
        if sides.min() < 0.5 * line_height:
            continue
        if any(_inside(box, other) > 0.5 for other, _ in boxes):
            continue
        found.append((box, score))
    return found


def _inside(box: np.ndarray, other: np.ndarray) -> float:
    """The share of ``box``'s bounding rectangle inside ``other``'s."""
    a0, a1 = box.min(axis=0), box.max(axis=0)
    b0, b1 = other.min(axis=0), other.max(axis=0)
    overlap = np.clip(np.minimum(a1, b1) - np.maximum(a0, b0), 0, None)
    return float(overlap[0] * overlap[1]) / max(1.0, float(np.prod(a1 - a0)))
