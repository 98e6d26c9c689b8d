"""Which way up a page is (0, 90, 180 or 270 degrees), decided from the page itself.

A phone photo without an EXIF tag or a scan fed sideways reaches the reader turned; read as it is,
it gives nothing or garbage with a high confidence. Before reading, :func:`page_rotation` decides
how far the page must be turned clockwise to be upright:

1. The text detector (it finds lines in any script and any direction) gives the page's boxes; the
   elongated ones say whether the lines run across the page (0 or 180) or up and down it (90 or 270).
2. The longest boxes of that direction are cut out and read by the recogniser both ways up (turned
   so as to be upright under each of the two rotations); the rotation whose readings are the more
   confident wins. The classifier PP-OCR ships for 180-degree lines was tried first: on handwriting
   it is wrong too often (``bench/bench_orientation.py`` compares them).
3. Unless the boxes clearly run one way and the winner reads confidently and much better than the
   loser (most pages: the decision then costs two readings of six lines), the page is turned a
   quarter and the other two rotations are tried the same way; the most confident of the four wins.

Rotations are clockwise, as Tesseract's OSD reports them: ``rotation=90`` means the page was turned
90 degrees clockwise to be read. :func:`turn` applies one, :func:`map_back` takes points in the
turned image back to the original image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .options import parse_rotate
from .result import Page

__all__ = [
    "ROTATIONS",
    "turn",
    "map_back",
    "map_forward",
    "turned_back",
    "line_direction",
    "page_rotation",
    "Orientation",
    "parse_rotate",
]

ROTATIONS = (0, 90, 180, 270)
_NP_K = {0: 0, 90: -1, 180: 2, 270: 1}  # np.rot90's k (counter-clockwise quarter turns)

#: the first direction tried settles it when its lines run that way clearly (this share of the
#: elongated boxes' length) and read at least this confidently, and this much better than turned over
CLEAR_SHARE = 0.8
SURE = 0.6 * 1.5
MARGIN = 0.2 * 1.5
#: the line classifier's say beside the recogniser's confidence (it reads print well, the recogniser
#: handwriting better: together they are right more often than either, bench/bench_orientation.py)
CLS_WEIGHT = 0.5
#: lines read both ways up to decide (the longest boxes): a first few, then more when not clear
FIRST = 4
SAMPLE = 8
#: an image with fewer text boxes than FIRST (a line crop, a label) is little evidence, and images come
#: upright far more often than not: it is turned only by a clear margin (MARGIN) over its reading as
#: it came, and lines that clearly run across are not tried sideways. (Turned over on a coin flip,
#: 7 of the dev set's 137 upright hw-line crops were read upside down: CER 0.253 -> 0.274.) Nor is
#: it turned unless its turned reading also reads more as words (``wordlike``): capitals and digits
#: turned over are capitals and digits too, read confidently ('SOLA' as '1105', 'FERET' as 'F R').


def turn(image: np.ndarray, rotation: int) -> np.ndarray:
    """``image`` turned ``rotation`` degrees clockwise."""
    return np.ascontiguousarray(np.rot90(image, _NP_K[rotation % 360])) if rotation % 360 else image


def map_back(points: np.ndarray, rotation: int, width: int, height: int) -> np.ndarray:
    """Points ``(x, y)`` of the image :func:`turn` made from a ``width`` x ``height`` image, in that
    original image's coordinates."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = pts[:, 0], pts[:, 1]
    rotation %= 360
    if rotation == 90:  # turned clockwise: (x, y) -> (height - y, x)
        out = np.stack([y, height - x], axis=1)
    elif rotation == 180:
        out = np.stack([width - x, height - y], axis=1)
    elif rotation == 270:
        out = np.stack([width - y, x], axis=1)
    else:
        out = pts.copy()
    return out


@dataclass
class Orientation:
    rotation: int  # clockwise degrees that make the page upright
    confidence: float  # mean confidence of the sample lines read that way up
    runner_up: float  # the same for the best other rotation tried
    tried: tuple[int, ...]


def _elongated(quads: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The boxes clearly longer across than up (lines of an upright or upside-down page) and those
    clearly longer up than across (a sideways page), longest first."""
    wide, tall = [], []
    for q in quads:
        w = float(np.ptp(q[:, 0]))
        h = float(np.ptp(q[:, 1]))
        if w >= 1.8 * h and w >= 16:
            wide.append(q)
        elif h >= 1.8 * w and h >= 16:
            tall.append(q)
    wide.sort(key=lambda q: -np.ptp(q[:, 0]))
    tall.sort(key=lambda q: -np.ptp(q[:, 1]))
    return wide, tall


def line_direction(quads: list[np.ndarray]) -> tuple[bool, float, list[np.ndarray], list[np.ndarray]]:
    """Which way a page's lines run: ``(sideways, share, wide, tall)``. ``sideways``: the boxes
    longer up than across outweigh the others (by their length), so the page lies at 90 or 270;
    ``share``: the winning direction's part of all that length; ``wide`` and ``tall``: the elongated
    boxes of each direction, longest first."""
    wide, tall = _elongated(quads)
    across = sum(float(np.ptp(q[:, 0])) for q in wide)
    upward = sum(float(np.ptp(q[:, 1])) for q in tall)
    return upward > across, max(across, upward) / max(1e-9, across + upward), wide, tall


def turned_back(page: Page, rotation: int, width: int, height: int) -> Page:
    """``page``, read from the image turned ``rotation`` degrees clockwise, on the ``width`` x
    ``height`` image as it came: its boxes mapped back, its ``rotation`` said."""

    def back(poly):
        return [(float(x), float(y)) for x, y in map_back(np.array(poly), rotation, width, height)]

    lines = [
        replace(line, bbox=back(line.bbox), words=[replace(w, bbox=back(w.bbox)) for w in line.words])
        for line in page.lines
    ]
    return replace(
        page,
        width=width,
        height=height,
        lines=lines,
        rotation=rotation,
        unread=[back(region) for region in page.unread],
    )


def _crop(image: np.ndarray, q: np.ndarray) -> np.ndarray:
    x0, y0 = np.floor(q.min(axis=0)).astype(int)
    x1, y1 = np.ceil(q.max(axis=0)).astype(int)
    h, w = image.shape[:2]
    return image[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]


def segment(crop: np.ndarray, aspect: float = 12.0) -> np.ndarray:
    """The middle of a long line crop, at most ``aspect`` times as wide as high: enough writing to
    tell which way up it is, at a fraction of the reading time."""
    h, w = crop.shape[:2]
    if w <= aspect * h:
        return crop
    keep = int(aspect * h)
    x0 = (w - keep) // 2
    return crop[:, x0 : x0 + keep]


def _turned_over(crops: list[np.ndarray]) -> list[np.ndarray]:
    return [np.ascontiguousarray(c[::-1, ::-1]) for c in crops]


def _score(
    crops: list[np.ndarray],
    read: Callable[[list[np.ndarray]], list[float]],
    upright: Callable[[list[np.ndarray]], list[float]] | None,
) -> tuple[float, float]:
    """How well ``crops`` read as they are and turned 180 degrees: the recogniser's mean confidence
    plus half the line classifier's probability that they are that way up, weighted by width."""
    if not crops:
        return 0.0, 0.0
    both = np.array(read(crops + _turned_over(crops)), dtype=np.float64)
    if upright is not None:
        p = np.array(upright(crops), dtype=np.float64)
        both = both + CLS_WEIGHT * np.concatenate([p, 1.0 - p])
    weights = np.array([c.shape[1] for c in crops], dtype=np.float64)
    a, b = both[: len(crops)], both[len(crops) :]
    return float((a * weights).sum() / weights.sum()), float((b * weights).sum() / weights.sum())


def page_rotation(
    image: np.ndarray,
    quads: list[np.ndarray],
    read: Callable[[list[np.ndarray]], list[float]],
    detect: Callable[[np.ndarray], list[np.ndarray]],
    upright: Callable[[list[np.ndarray]], list[float]] | None = None,
    wordlike: Callable[[list[np.ndarray]], float] | None = None,
) -> Orientation:
    """How far to turn ``image`` clockwise to read it (see the module's docstring).

    ``quads``: the detector's boxes on ``image``; ``read(crops)``: a confidence in [0, 1] per line
    crop (the recogniser's); ``detect(image)``: boxes on another image (used only when the first
    direction is not sure); ``upright(crops)``: the line classifier's probability that each crop
    is upright (not turned over), or ``None``; ``wordlike(crops)``: how much the crops' readings
    read as words of the language (0..1), or ``None``: an image of little text is turned only to a
    rotation that reads more as words than the image as it came.
    """
    sideways, share, wide, tall = line_direction(quads)
    scores: dict[int, float] = {}
    tried: dict[int, list[np.ndarray]] = {}  # the crops of each direction tried, as turned for it
    few = len(quads) < FIRST

    def clear(base: int) -> bool:
        best = max((base, (base + 180) % 360), key=scores.__getitem__)
        margin = abs(scores[(best + 180) % 360] - scores[best])
        return share >= CLEAR_SHARE and scores[best] >= SURE and margin >= MARGIN

    def try_direction(img: np.ndarray, boxes: list[np.ndarray], base: int, first: int = SAMPLE) -> None:
        crops = [segment(c) for c in (_crop(img, q) for q in boxes[:first]) if min(c.shape[:2]) >= 4]
        as_is, flipped = _score(crops, read, upright)
        scores[base] = as_is
        scores[(base + 180) % 360] = flipped
        tried[base] = crops

    if sideways:  # boxes up the page: turn it a quarter clockwise, the lines then run across
        h, w = image.shape[:2]
        img, boxes, base = turn(image, 90), _elongated([map_forward(q, 90, w, h) for q in tall])[0], 90
    else:
        img, boxes, base = image, wide, 0
    try_direction(img, boxes, base, FIRST)  # a few lines settle most pages
    if not clear(base) and len(boxes) > FIRST:
        try_direction(img, boxes, base)
    best = max(scores, key=scores.__getitem__)
    if not clear(base) and not (few and share >= CLEAR_SHARE):
        other = turn(image, 0 if sideways else 90)
        boxes = _elongated(quads if sideways else detect(other))[0]
        try_direction(other, boxes, 0 if sideways else 90)
        best = max(scores, key=scores.__getitem__)
    if best != 0 and scores[best] - scores.get(0, 0.0) < (MARGIN if few else 0.02):
        best = 0  # a tie (for little text: no clear win): leave the image as it came
    if few and best != 0 and wordlike is not None and 0 in tried:
        at_best = tried[best] if best in tried else _turned_over(tried[(best + 180) % 360])
        if wordlike(at_best) <= wordlike(tried[0]):
            best = 0  # read more confidently turned, but not more as words: as it came
    runner_up = max((v for k, v in scores.items() if k != best), default=0.0)
    return Orientation(best, scores[best], runner_up, tuple(sorted(scores)))


def map_forward(points: np.ndarray, rotation: int, width: int, height: int) -> np.ndarray:
    """Points of a ``width`` x ``height`` image, in the image :func:`turn` makes of it."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = pts[:, 0], pts[:, 1]
    rotation %= 360
    if rotation == 90:
        return np.stack([height - y, x], axis=1)
    if rotation == 180:
        return np.stack([width - x, height - y], axis=1)
    if rotation == 270:
        return np.stack([y, width - x], axis=1)
    return pts.copy()
