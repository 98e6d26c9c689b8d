"""One page through the local pipeline: preprocess -> detect -> layout -> recognise -> result lines.

Stage functions take plain values and return plain values; nothing here keeps per-call state, so the
same models serve any number of threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from .decode import Lexicon, ends_sentence, get_lexicon
from .detect import DetectParams, boxes_from_map
from .marks import Checkbox, find_checkboxes, normalise_bullet
from .layout import LayoutParams, LineGroup, assign_paragraphs, group_lines, reading_order
from .models import PaddleModels, Reading
from .options import RecognitionMode, RecognitionOptions, Toggle
from .orientation import page_rotation, turn, turned_back
from .preprocess import Transform, prepare, skew_angle, to_gray
from .result import Line, Page, Word, mean_confidence
from .tidy import tidy_reading
from .variants import make_variant

__all__ = ["ModeProfile", "PROFILES", "recognize_page"]


@dataclass(frozen=True)
class ModeProfile:
    """Everything a recognition mode changes, chosen by measurement on the dev set (bench/RESULTS.md).

    Both modes detect with a pixel threshold of 0.2 (0.3 is PaddleOCR's default): faint pen strokes
    then hold a line together, and hw-page line counts match the ground truth on 83% of pages instead
    of 72%, with CER unchanged (0.275 vs 0.273) and print unchanged (print-page 0.046, print-line 0.010).
    """

    detect: DetectParams
    layout: LayoutParams
    min_confidence: float  # lines read with less confidence than this are dropped as noise
    trim: float  # fraction of the box height trimmed off the top and bottom of each crop
    line_margin: float  # an image that is one tight line is cropped to its ink plus this margin; 0 = as is
    variants: tuple[str, ...] = ()  # test-time variants of each crop also read; the most confident wins
    variants_below: float = 1.0  # ... for crops read with at least min_confidence and less than this
    faint_ratio: float = 0.0  # boxes whose ink contrast is under this share of the page's typical box are dropped
    digit_lookalikes: bool = False  # letters that look like digits inside a number read as digits (tidy.py)
    rescore: bool = False  # words rescored against nearby dictionary words (decode.rescore_words)
    # which recogniser reads Latin-script lines (models.RECOGNISERS); other scripts always read with
    # PP-OCRv6, the only one that knows them
    recogniser: str = "ppocr"
    # unsure lines (the variants' confidence band) are also read by this recogniser; the more
    # confident reading wins (None: no second opinion)
    second_opinion: str | None = None


PROFILES: dict[RecognitionMode, ModeProfile] = {
    RecognitionMode.PRINTED: ModeProfile(
        detect=DetectParams(thresh=0.2, box_thresh=0.5, unclip_ratio=1.6),
        layout=LayoutParams(max_h_gap=1.5),
        min_confidence=0.5,
        trim=0.0,
        line_margin=0.0,
    ),
    RecognitionMode.HANDWRITTEN: ModeProfile(
        detect=DetectParams(thresh=0.2, box_thresh=0.5, unclip_ratio=1.6),
        layout=LayoutParams(max_h_gap=2.5),
        min_confidence=0.35,
        trim=0.0,  # trimming 8% helped greedy decoding (0.300 vs 0.310) but not the lexicon search
        line_margin=0.1,
        variants=("deslant", "tight", "loose"),
        # confident readings rarely change (dev hw-line: 0.301 with variants for every line, 0.301 for
        # the 55% below 0.85), and this halves the extra recognition time. Crops read below
        # min_confidence get no variants: a variant lifting noise over the floor cost hw-page line
        # count = 94% -> 83%.
        variants_below=0.85,
        # show-through from the back of the sheet and specks measured at most 0.38 of the page's typical
        # ink contrast on the dev pages, written lines at least 0.6 (dev hw-page CER 0.254 -> 0.244: a
        # mirrored letterhead no longer read). Not for print: lone digits on receipts measured 0.46.
        faint_ratio=0.45,
        # hurried digits read as letters ("2o03", "l944"): dev hw-page WER 0.579 -> 0.578. Not for
        # print, whose codes are read as printed ("Bi11#", "7/118B"; print-page CER 0.0455 -> 0.0459).
        digit_lookalikes=True,
        # dev hw-page CER 0.242 -> 0.235, WER 0.626 -> 0.563 (with the French rules of tidy.py). Not
        # for print: no change on any printed sample of the dev set, for 20% more time per page.
        rescore=True,
        recogniser="handwriting",
    ),
}


def _detect(models: PaddleModels, image: np.ndarray, params: DetectParams) -> list[tuple[np.ndarray, float]]:
    """Detect at a scale where text is neither tiny nor huge for the detector (automatic upscaling)."""
    h, w = image.shape[:2]
    side = min(max(h, w), params.side) if max(h, w) >= 320 else max(320, max(h, w))
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


def _ink_contrast(gray: np.ndarray, quad: np.ndarray) -> float:
    """How much darker than its own paper a box's darkest ink is (median minus 2nd percentile)."""
    x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int), 0)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int)
    roi = gray[y0:y1, x0:x1]
    return float(np.median(roi) - np.percentile(roi, 2)) if roi.size else 0.0


def _drop_faint(image: np.ndarray, detections: list[tuple[np.ndarray, float]],
                ratio: float) -> list[tuple[np.ndarray, float]]:
    """Drop boxes whose ink is far fainter than the page's typical box: writing showing through
    from the back of the sheet, specks. Needs a few boxes to know what typical is."""
    if len(detections) < 3:
        return detections
    gray = to_gray(image)
    contrast = [_ink_contrast(gray, q) for q, _ in detections]
    floor = ratio * float(np.median(contrast))
    return [d for d, c in zip(detections, contrast) if c >= floor]


def _rotation(angle_deg: float, center: tuple[float, float]) -> np.ndarray:
    """2x3 matrix rotating points by ``angle_deg`` (counter-clockwise, image y down) about ``center``."""
    return cv2.getRotationMatrix2D(center, -angle_deg, 1.0)


def _crop_quad(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Warp the quadrilateral (tl, tr, br, bl) to an upright rectangle."""
    quad = quad.astype(np.float32)
    width = int(round(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]))))
    height = int(round(max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1]))))
    width, height = max(width, 2), max(height, 2)
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(quad, dst)
    return cv2.warpPerspective(image, m, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _is_single_line(groups: list[LineGroup], height: int) -> bool:
    """A tight crop of one written line: the image is barely taller than its text."""
    if not groups:
        return False
    tallest = max(g.height for g in groups)
    if height > 2.6 * tallest:
        return False
    # every pair of lines overlaps vertically (fragments of one line, split by the detector)
    lo = max(g.box[1] for g in groups)
    hi = min(g.box[3] for g in groups)
    return hi - lo > -0.2 * tallest


# AUTO reads a page as print first; below this mean confidence it reads it again as handwriting.
# On the dev set, PRINTED-mode confidence was >= 0.976 on every printed page and line crop and
# < 0.975 on all handwritten pages and 92% of handwritten lines (bench/RESULTS.md).
AUTO_PRINT_CONFIDENCE = 0.975


def recognize_page(image: np.ndarray, options: RecognitionOptions, models: PaddleModels,
                   index: int = 0, timings: dict[str, float] | None = None) -> Page:
    """Recognise one page image (RGB, EXIF applied); boxes in the returned page refer to ``image``."""
    timings = timings if timings is not None else {}
    t0 = time.perf_counter()
    work, to_input, _steps = prepare(image, options.preprocess)
    t1 = time.perf_counter()
    # Both modes detect with the same parameters (PROFILES), so AUTO detects once.
    detections = _detect(models, work, PROFILES[RecognitionMode.PRINTED].detect)
    timings["preprocess"] = timings.get("preprocess", 0.0) + (t1 - t0)
    timings["detect"] = timings.get("detect", 0.0) + (time.perf_counter() - t1)
    rotation = _page_rotation(work, detections, options, models, timings)
    if rotation:  # read the page turned upright; its boxes are given back on the image as it came
        upright = recognize_page(turn(image, rotation), options.updated(rotate="0"), models, index, timings)
        return turned_back(upright, rotation, image.shape[1], image.shape[0])
    mode = options.mode
    if mode is RecognitionMode.AUTO:
        lines, angle = _read_page(work, to_input, detections, options, PROFILES[RecognitionMode.PRINTED],
                                  models, timings)
        mode = RecognitionMode.PRINTED
        if mean_confidence(lines) < AUTO_PRINT_CONFIDENCE:
            lines, angle = _read_page(work, to_input, detections, options,
                                      PROFILES[RecognitionMode.HANDWRITTEN], models, timings)
            mode = RecognitionMode.HANDWRITTEN
    else:
        lines, angle = _read_page(work, to_input, detections, options, PROFILES[mode], models, timings)
    height, width = image.shape[:2]
    return Page(index=index, width=width, height=height, lines=lines, mode=mode.value, angle=angle)


def text_regions(image: np.ndarray) -> list[np.ndarray]:
    """The text boxes (quads, in ``image``'s pixels) PP-OCRv6's detector finds on a page, in any
    script: what another backend's lines are checked against (:mod:`inkread.coverage`)."""
    from .models import get_models

    return [b for b, _ in _detect(get_models(), image, PROFILES[RecognitionMode.PRINTED].detect)]


def _page_rotation(work: np.ndarray, detections: list[tuple[np.ndarray, float]], options: RecognitionOptions,
                   models: PaddleModels, timings: dict[str, float]) -> int:
    """The clockwise turn that makes the page upright (:mod:`inkread.orientation`); ``options.rotate``
    other than ``"auto"`` says it instead."""
    if options.rotate != "auto":
        return int(options.rotate)
    t0 = time.perf_counter()
    mask = models.class_mask(options.language.info.script)
    found = page_rotation(
        work, [b for b, _ in detections],
        read=lambda crops: [r.confidence for r in models.recognize(crops, mask)],
        detect=lambda img: [b for b, _ in _detect(models, img, PROFILES[RecognitionMode.PRINTED].detect)],
        upright=models.upright_probability)
    timings["orientation"] = timings.get("orientation", 0.0) + (time.perf_counter() - t0)
    return found.rotation


def _read_page(work: np.ndarray, to_input: Transform, detections: list[tuple[np.ndarray, float]],
               options: RecognitionOptions, profile: ModeProfile, models: PaddleModels,
               timings: dict[str, float]) -> tuple[list[Line], float]:
    """Layout and recognition of detected boxes with one mode's profile: the page's lines and skew."""
    t2 = time.perf_counter()
    wh, ww = work.shape[:2]
    if profile.faint_ratio > 0:
        detections = _drop_faint(work, detections, profile.faint_ratio)

    # Deskew in box space: lay the boxes out in an upright frame; crops come from `work` directly.
    angle = 0.0
    if options.preprocess.deskew is not Toggle.OFF and detections:
        found = skew_angle([b for b, _ in detections])
        if 0.3 <= abs(found) <= 20 or options.preprocess.deskew is Toggle.ON:
            angle = found
    to_upright = Transform(_rotation(-angle, (ww / 2, wh / 2)))
    to_work = Transform(cv2.invertAffineTransform(to_upright.matrix))
    quads = [b.astype(np.float64) for b, _ in detections]
    upright = np.array([to_upright.apply(q) for q in quads]).reshape(-1, 4, 2)
    if len(upright):
        lo, hi = upright.min(axis=1), upright.max(axis=1)
        aligned = np.concatenate([lo, hi], axis=1)  # x0, y0, x1, y1
    else:
        aligned = np.zeros((0, 4))

    # Vertical text (margin notes, spines) is read on its own, turned upright, after the page's lines.
    heights = aligned[:, 3] - aligned[:, 1]
    widths = aligned[:, 2] - aligned[:, 0]
    typical_h = float(np.median(heights)) if len(heights) else 0.0
    vertical = (heights > 2.0 * widths) & (heights > 2.5 * typical_h)
    if len(vertical) and vertical.all():
        vertical[:] = False  # a page of only vertical text: read its boxes as they are
    keep = np.flatnonzero(~vertical)
    groups = group_lines(upright[keep], profile.layout)
    for g in groups:
        g.members = [int(keep[i]) for i in g.members]

    if _is_single_line(groups, wh) or (not groups and ww >= 1.5 * wh and 8 <= wh <= 400 and _has_ink(work)):
        # A tight crop of one line: the recogniser reads the whole image better than any detection.
        crop, (x0, y0, x1, y1) = _fit_line(work, profile.line_margin)
        line_groups = [LineGroup(members=[0], box=np.array([x0, y0, x1, y1], dtype=np.float64))]
        quads = [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)]
        crops, angle = [crop], 0.0
    else:
        line_groups = reading_order(groups, profile.layout)
        assign_paragraphs(line_groups, profile.layout)
        last_para = max((g.paragraph for g in line_groups), default=-1)
        for k, i in enumerate(np.flatnonzero(vertical)):
            # bottom-to-top text turned clockwise; the orientation classifier fixes the other case
            quads[i] = quads[i][[3, 0, 1, 2]]
            line_groups.append(LineGroup(members=[int(i)], box=aligned[i].copy(), paragraph=last_para + 1 + k))
        crops = [_crop_quad(work, _trimmed(q, profile.trim)) for q in quads]
    t3 = time.perf_counter()

    mask = models.class_mask(options.language.info.script)
    lexicon = get_lexicon(options.language.value) if options.lexicon else None
    recogniser = profile.recogniser if options.language.info.script == "latin" else "ppocr"
    readings, flipped = _read_upright(models, crops, mask, lexicon, profile.variants,
                                      (profile.min_confidence, profile.variants_below), profile.rescore,
                                      recogniser, profile.second_opinion if recogniser != "ppocr" else None)
    if lexicon is not None:
        readings = [tidy_reading(r, lexicon, digits=profile.digit_lookalikes) for r in readings]
    t4 = time.perf_counter()

    # checkboxes are looked for where a box cannot be a letter: 图, 国, 回 or ㅁ start lines too
    boxed_letters = options.language.info.script in _BOXED_SCRIPTS
    boxes_for = (_attach_checkboxes(work, line_groups, to_upright)
                 if options.detect_checkboxes and not boxed_letters else {})
    lines: list[Line] = []
    before = ("", -1)  # the page's text so far: its last word and that word's paragraph
    for gi, g in enumerate(line_groups):
        parts = []
        for i in g.members:
            reading = readings[i]
            if not reading.text.strip() or reading.confidence < profile.min_confidence:
                continue
            if reading.first_lower and before[0] and before[1] == g.paragraph and not ends_sentence(before[0]):
                # a capital the recogniser could as well have read lowercase, mid-sentence
                text = reading.text
                k = next((k for k, c in enumerate(text) if c.isalpha()), 0)  # after "(" or "«"
                reading = replace(reading, text=text[:k] + text[k : k + 1].lower() + text[k + 1 :], first_lower=False)
            before = (reading.text.split()[-1], g.paragraph)
            poly = to_input.apply(quads[i][[2, 3, 0, 1]] if flipped[i] else quads[i])
            parts.append((reading, poly))
        if not parts:
            continue
        words = [w for reading, poly in parts for w in _words(reading, poly)]
        text = normalise_bullet(" ".join(reading.text for reading, _ in parts))
        box = boxes_for.get(gi)
        if box is not None:
            text = _with_checkbox(text, words, box, to_input)
        conf = sum(r.confidence * len(r.text) for r, _ in parts) / max(1, sum(len(r.text) for r, _ in parts))
        corners = np.array([[g.box[0], g.box[1]], [g.box[2], g.box[1]], [g.box[2], g.box[3]], [g.box[0], g.box[3]]])
        if len(g.members) == 1:
            poly = parts[0][1]
        else:
            poly = to_input.apply(to_work.apply(corners))
        lines.append(Line(text=text, bbox=[(float(x), float(y)) for x, y in poly], confidence=conf,
                          words=words, paragraph=g.paragraph, column=g.column))
    _renumber_paragraphs(lines)
    timings["layout"] = timings.get("layout", 0.0) + (t3 - t2)
    timings["recognize"] = timings.get("recognize", 0.0) + (t4 - t3)
    return lines, angle


#: scripts with letters drawn as boxes, which the checkbox finder would take for ticked boxes
_BOXED_SCRIPTS = frozenset({"han", "japanese", "hangul"})


def _attach_checkboxes(work: np.ndarray, groups: list[LineGroup], to_upright: Transform) -> dict[int, Checkbox]:
    """Checkboxes drawn at the start of a line, keyed by the line's index."""
    if len(groups) < 1:
        return {}
    line_h = float(np.median([g.height for g in groups]))
    found = find_checkboxes(work, 0.7 * line_h)
    attached: dict[int, Checkbox] = {}
    for cb in found:
        x0, y0, x1, y1 = cb.box
        cx, cy = to_upright.apply(np.array([[(x0 + x1) / 2, (y0 + y1) / 2]]))[0]
        size = x1 - x0
        best, best_dx = None, 3.0 * line_h
        for gi, g in enumerate(groups):
            if not (g.box[1] <= cy <= g.box[3]):
                continue
            dx = g.box[0] - (cx - size / 2)  # the box starts at or just left of the line
            if -0.5 * size <= dx < best_dx and g.box[0] <= cx + 0.5 * size + 3.0 * line_h:
                best, best_dx = gi, dx
        if best is not None and best not in attached:
            attached[best] = cb
    return attached


def _with_checkbox(text: str, words: list[Word], cb: Checkbox, to_input: Transform) -> str:
    """Prefix the checkbox marker; drop a first "word" that is the recogniser's reading of the box."""
    (bx0, _), (bx1, _) = to_input.apply(np.array([[cb.box[0], cb.box[1]], [cb.box[2], cb.box[3]]]))
    if words:
        xs = [p[0] for p in words[0].bbox]
        overlap = min(bx1, max(xs)) - max(bx0, min(xs))
        if overlap > 0.5 * (max(xs) - min(xs)) and len(words[0].text) <= 3:
            text = text[len(words[0].text):].lstrip()
            words.pop(0)
    return f"{cb.marker} {text}".rstrip()


def _read_upright(models: PaddleModels, crops: list[np.ndarray], mask: np.ndarray,
                  lexicon: Lexicon | None = None, variants: tuple[str, ...] = (),
                  variants_for: tuple[float, float] = (0.0, 1.0),
                  rescore: bool = False, model: str = "ppocr",
                  second: str | None = None) -> tuple[list[Reading], list[bool]]:
    """Read each crop; where the plain reading's confidence is within ``variants_for`` (low, high),
    read the crop's test-time ``variants`` too (:mod:`inkread.variants`): a crop read with less
    confidence than the line floor is noise and stays so, one read surely needs nothing more.
    Where the orientation classifier suspects a crop is upside down, read it turned as well (the
    classifier alone misjudges handwriting). The most confident reading of each crop wins."""
    if not crops:
        return [], []
    readings = models.recognize(crops, mask, lexicon=lexicon, rescore=rescore, model=model)
    unsure = [i for i, r in enumerate(readings) if variants_for[0] <= r.confidence < variants_for[1]]
    for name in variants:
        made = [(i, v) for i in unsure if (v := make_variant(name, crops[i])) is not None]
        if not made:
            continue
        again = models.recognize([v[0] for _, v in made], mask, lexicon=lexicon, rescore=rescore, model=model)
        for (i, (_img, xmap)), reading in zip(made, again):
            if reading.confidence > readings[i].confidence:
                reading.char_x = [xmap(x) for x in reading.char_x]
                readings[i] = reading
    if second is not None and second != model:
        unsure = [i for i, r in enumerate(readings) if variants_for[0] <= r.confidence < variants_for[1]]
        if unsure:
            again = models.recognize([crops[i] for i in unsure], mask, lexicon=lexicon, rescore=rescore, model=second)
            for i, reading in zip(unsure, again):
                if reading.confidence > readings[i].confidence:
                    readings[i] = reading
    suspects = [i for i, f in enumerate(models.upside_down(crops)) if f]
    flipped = [False] * len(crops)
    if suspects:
        turned = models.recognize([np.ascontiguousarray(crops[i][::-1, ::-1]) for i in suspects], mask,
                                  lexicon=lexicon, rescore=rescore, model=model)
        for i, reading in zip(suspects, turned):
            if reading.confidence > readings[i].confidence:
                readings[i], flipped[i] = reading, True
    return readings, flipped


def _has_ink(image: np.ndarray) -> bool:
    """Whether an image holds anything but paper (the detector found nothing; is it worth a read?)."""
    gray = to_gray(image)
    return float(gray.std()) > 8.0


def _fit_line(image: np.ndarray, margin: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Crop a one-line image vertically to its ink, so the text fills the height the recogniser
    expects, keeping ``margin`` of the ink band's height above and below it (dev set, hw-line CER:
    whole crop 0.363, 10% trimmed off 0.339, fitted to the ink with a 10% margin 0.330).
    Returns the crop and its box ``(x0, y0, x1, y1)`` in ``image``."""
    if margin <= 0:
        return image.copy(), (0, 0, image.shape[1], image.shape[0])
    gray = to_gray(image)
    otsu_t, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = (gray < otsu_t).astype(np.uint8)
    rows = ink.sum(axis=1).astype(np.float64)
    total = rows.sum()
    h = image.shape[0]
    if total <= 0:
        return image.copy(), (0, 0, image.shape[1], image.shape[0])
    q = 0.02  # ignore the faintest 2% of ink at each end (stray strokes of the lines around)
    cum = np.cumsum(rows) / total
    top = int(np.searchsorted(cum, q))
    bottom = int(np.searchsorted(cum, 1 - q)) + 1
    band = bottom - top
    top = max(0, int(top - margin * band))
    bottom = min(h, int(bottom + margin * band))
    if bottom - top < 0.08 * h:
        # a sliver of ink (a rule, a speck): nothing to fit to
        return image.copy(), (0, 0, image.shape[1], image.shape[0])
    # Left and right: a loose crop (text on under 70% of the width, e.g. a title cut from a page)
    # loses its blank paper, keeping half a band height of margin; a tight crop keeps its width.
    cols = ink[top:bottom].sum(axis=0).astype(np.float64)
    cum_x = np.cumsum(cols) / max(1.0, cols.sum())
    first, last = int(np.searchsorted(cum_x, 0.002)), int(np.searchsorted(cum_x, 0.998)) + 1
    left, right = 0, image.shape[1]
    if last - first < 0.7 * image.shape[1]:
        pad = 0.5 * (bottom - top)
        left, right = max(0, int(first - pad)), min(image.shape[1], int(last + pad))
    return image[top:bottom, left:right].copy(), (left, top, right, bottom)


def _trimmed(quad: np.ndarray, fraction: float) -> np.ndarray:
    """Move the top and bottom edges of a (tl, tr, br, bl) quad inwards by ``fraction`` of its height."""
    if fraction == 0:
        return quad
    q = quad.copy()
    down_l, down_r = (quad[3] - quad[0]) * fraction, (quad[2] - quad[1]) * fraction
    q[0] += down_l
    q[1] += down_r
    q[2] -= down_r
    q[3] -= down_l
    return q


def _renumber_paragraphs(lines: list[Line]) -> None:
    mapping: dict[int, int] = {}
    for line in lines:
        line.paragraph = mapping.setdefault(line.paragraph, len(mapping))


def _words(reading: Reading, poly: np.ndarray) -> list[Word]:
    """Split a line reading into words, placing each along the line polygon by its characters' x."""
    poly = np.asarray(poly, dtype=np.float64)
    words: list[Word] = []
    current: list[int] = []

    def flush() -> None:
        if not current:
            return
        n = len(reading.char_x)
        left = reading.char_x[current[0]]
        right = reading.char_x[current[-1]]
        # extend half a character on each side
        step = 0.5 / max(1, n)
        a, b = max(0.0, left - step), min(1.0, right + step)
        top = poly[0] + (poly[1] - poly[0]) * np.array([a, b])[:, None]
        bottom = poly[3] + (poly[2] - poly[3]) * np.array([a, b])[:, None]
        box = [tuple(top[0]), tuple(top[1]), tuple(bottom[1]), tuple(bottom[0])]
        text = "".join(reading.text[i] for i in current)
        conf = float(np.mean([reading.char_conf[i] for i in current]))
        words.append(Word(text=text, bbox=[(float(x), float(y)) for x, y in box], confidence=conf))
        current.clear()

    for i, ch in enumerate(reading.text):
        if ch.isspace():
            flush()
        else:
            current.append(i)
    flush()
    return words
