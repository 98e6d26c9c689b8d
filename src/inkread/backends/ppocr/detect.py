"""Text regions from the detector's probability map (DB post-processing), as pure numpy/OpenCV functions."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["DetectParams", "boxes_from_map", "order_points"]


@dataclass(frozen=True)
class DetectParams:
    side: int = 1280  # longer side of the detector's input, pixels
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
