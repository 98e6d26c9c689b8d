"""One page through the PP-OCR reader: preprocess -> detect -> (turn upright) -> layout -> crops ->
recognise (variants, lexicon, tidying) -> result lines.

Stage functions take plain values and return plain values, the seconds they took included; nothing
here keeps per-call state, so the same models serve any number of threads. What a mode changes is
its :class:`~.profiles.ModeProfile`, passed in (``profiles=``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace

import cv2
import numpy as np

from ... import orientation
from ...layout import LineGroup, assign_paragraphs, group_lines, reading_order
from ...memory import give_back
from ...options import RecognitionMode, RecognitionOptions, Toggle
from ...orientation import page_rotation, turn, turned_back
from ...preprocess import Transform, prepare, skew_angle
from ...result import Line, Page, Word, mean_confidence
from ..base import PageReading, add_seconds
from .automode import guess_mode
from .checkboxes import Checkbox, find_checkboxes, normalise_bullet
from .crops import crop_quad, drop_faint, fit_line, has_ink, rotation_matrix, trimmed
from .decode import Lexicon, ends_sentence, get_lexicon
from .detect import LARGEST_SIDE, DetectParams, detect_lines
from .gutter_split import split_at_gutters
from .models import PaddleModels, Reading
from .oneline import is_single_line
from .profiles import AUTO_PRINT_CONFIDENCE, AUTO_PRINT_MARGIN, PROFILES, ModeProfile
from .reading import read_upright
from .tidy import tidy_reading
from .unread import faint_line, line_like

__all__ = ["recognize_page", "text_regions"]


log = logging.getLogger("inkread")
_LETTER_RUNS = re.compile(r"[^\W\d_]+")


def recognize_page(
    image: np.ndarray,
    options: RecognitionOptions,
    models: PaddleModels,
    index: int = 0,
    profiles: Mapping[RecognitionMode, ModeProfile] = PROFILES,
    *,
    quiet: bool = False,
) -> PageReading:
    """Recognise one page image (RGB, EXIF applied) with the modes' ``profiles``: the page (boxes on
    ``image``) and the seconds each stage took; ``quiet``: no warning (a first reading, read again)."""
    t0 = time.perf_counter()
    work, to_input, _steps = prepare(image, options.preprocess)
    t1 = time.perf_counter()
    # Both modes detect with the same parameters (PROFILES), so AUTO detects once.
    detect = profiles[RecognitionMode.PRINTED].detect
    detections = detect_lines(models, work, detect)
    # a page larger than the detector's largest input: its buffers handed back (inkread.memory); on every page
    # a trim cost the next stage 0.1-0.2 s of faulting its memory in again, so only where it pays
    huge = max(work.shape[:2]) > LARGEST_SIDE
    if huge:
        give_back()
    seconds = {"preprocess": t1 - t0, "detect": time.perf_counter() - t1}
    rotation, took = _page_rotation(work, detections, options, models, detect)
    if huge:
        give_back()
    seconds = add_seconds(seconds, took)
    if rotation:  # read the page turned upright; its boxes are given back on the image as it came
        upright, took = recognize_page(
            turn(image, rotation), options.updated(rotate="0"), models, index, profiles, quiet=quiet
        )
        return PageReading(turned_back(upright, rotation, image.shape[1], image.shape[0]), add_seconds(seconds, took))
    mode = options.mode
    if mode is RecognitionMode.AUTO:  # read once where a quick look at a few lines is clear
        mode, took = guess_mode(
            work, [q for q, _ in detections], models.class_mask(options.language.info.script), models
        )
        seconds = add_seconds(seconds, took)
    if mode is RecognitionMode.AUTO:
        lines, unread, angle, took = _read_page(
            work, to_input, detections, options, profiles[RecognitionMode.PRINTED], models
        )
        seconds = add_seconds(seconds, took)
        mode, printed = RecognitionMode.PRINTED, mean_confidence(lines)
        if printed < AUTO_PRINT_CONFIDENCE:
            read = _read_page(work, to_input, detections, options, profiles[RecognitionMode.HANDWRITTEN], models)
            seconds = add_seconds(seconds, read[3])
            if printed < mean_confidence(read[0]) + AUTO_PRINT_MARGIN:  # else print it stays
                (lines, unread, angle, _), mode = read, RecognitionMode.HANDWRITTEN
    else:
        lines, unread, angle, took = _read_page(work, to_input, detections, options, profiles[mode], models)
        seconds = add_seconds(seconds, took)
    height, width = image.shape[:2]
    if unread and not quiet:
        log.warning(
            "inkread: page %d: %d text line(s) found but too faint or read too unsurely to keep (their boxes "
            "are in the JSON's 'unread')",
            index + 1,
            len(unread),
        )
    page = Page(index=index, width=width, height=height, lines=lines, mode=mode.value, angle=angle, unread=unread)
    return PageReading(page, seconds)


def text_regions(image: np.ndarray) -> list[np.ndarray]:
    """The text boxes (quads, in ``image``'s pixels) PP-OCRv6's detector finds on a page, in any
    script: what another backend's lines are checked against (:mod:`inkread.coverage`)."""
    from .models import get_models

    return [b for b, _ in detect_lines(get_models(), image, PROFILES[RecognitionMode.PRINTED].detect)]


def _page_rotation(
    work: np.ndarray,
    detections: list[tuple[np.ndarray, float]],
    options: RecognitionOptions,
    models: PaddleModels,
    detect: DetectParams,
) -> tuple[int, dict[str, float]]:
    """The clockwise turn that makes the page upright (:mod:`inkread.orientation`) and the seconds it
    took; ``options.rotate`` other than ``"auto"`` says it instead."""
    if options.rotate != "auto":
        return int(options.rotate), {}
    t0 = time.perf_counter()
    scale = LARGEST_SIDE / max(work.shape[:2])
    if scale < 1:  # a page larger than the detector ever sees (a 34-megapixel scan): looked at smaller,
        # not turned whole at full size (104 MB a copy) to be detected again
        work = cv2.resize(work, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        detections = [(q * scale, s) for q, s in detections]
    mask = models.class_mask(options.language.info.script)
    lexicon = get_lexicon(options.language.value) if options.lexicon else None
    found = page_rotation(
        work,
        [b for b, _ in detections],
        read=lambda crops: [r.confidence for r in models.recognize(crops, mask)],
        detect=lambda img: [b for b, _ in detect_lines(models, img, detect)],
        upright=models.upright_probability,
        wordlike=None
        if lexicon is None
        else lambda crops: _wordlike([r.text for r in models.recognize(crops, mask)], lexicon),
    )
    return found.rotation, {"orientation": time.perf_counter() - t0}


def _wordlike(texts: list[str], lexicon: Lexicon) -> float:
    """The share of the letters in ``texts`` that are in words of two or more letters the lexicon
    knows (a reading turned the wrong way is rarely made of words)."""
    letters = known = 0
    for text in texts:
        for word in _LETTER_RUNS.findall(text):
            letters += len(word)
            if len(word) >= 2 and lexicon.known(word.lower()):
                known += len(word)
    return known / letters if letters else 0.0


def _read_page(
    work: np.ndarray,
    to_input: Transform,
    detections: list[tuple[np.ndarray, float]],
    options: RecognitionOptions,
    profile: ModeProfile,
    models: PaddleModels,
) -> tuple[list[Line], list[list[tuple[float, float]]], float, dict[str, float]]:
    """Layout and recognition of detected boxes with one mode's profile: the page's lines, the boxes
    of lines found but read under the profile's confidence floor (``unread``: a line of writing, not
    a speck; issue 23: 'June 26/77' read at 0.32 vanished without a word), its skew and the seconds
    the stages took."""
    t2 = time.perf_counter()
    wh, ww = work.shape[:2]
    faint: list[np.ndarray] = []
    if profile.faint_ratio > 0:
        detections, faint = drop_faint(work, detections, profile.faint_ratio)

    # Deskew in box space: lay the boxes out in an upright frame; crops come from `work` directly.
    angle = 0.0
    if options.preprocess.deskew is not Toggle.OFF and detections:
        found = skew_angle([b for b, _ in detections])
        if 0.3 <= abs(found) <= 20 or options.preprocess.deskew is Toggle.ON:
            angle = found
    to_upright = Transform(rotation_matrix(angle, (ww / 2, wh / 2)))  # not -angle: that doubled the skew
    to_work = Transform(cv2.invertAffineTransform(to_upright.matrix))
    detections = split_at_gutters(work, detections, to_upright)  # boxes the detector ran across columns
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
    groups = [replace(g, members=[int(keep[i]) for i in g.members]) for g in group_lines(upright[keep], profile.layout)]

    one_line = is_single_line(groups, upright, work, on_blank=profile.line_margin > 0)
    if one_line or (not groups and ww >= 1.5 * wh and 8 <= wh <= 400 and has_ink(work)):
        # A tight crop of one line: the recogniser reads the whole image better than any detection.
        crop, (x0, y0, x1, y1) = fit_line(work, profile.line_margin)
        line_groups = [LineGroup(members=[0], box=np.array([x0, y0, x1, y1], dtype=np.float64))]
        quads = [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)]
        crops, angle, faint = [crop], 0.0, []  # the whole image is read
    else:
        line_groups = assign_paragraphs(reading_order(groups, profile.layout), profile.layout)
        last_para = max((g.paragraph for g in line_groups), default=-1)
        for k, v in enumerate(np.flatnonzero(vertical).tolist()):
            # bottom-to-top text turned clockwise; the orientation classifier fixes the other case
            quads[v] = quads[v][[3, 0, 1, 2]]
            line_groups.append(LineGroup(members=[v], box=aligned[v].copy(), paragraph=last_para + 1 + k))
        crops = [crop_quad(work, trimmed(q, profile.trim)) for q in quads]
    t3 = time.perf_counter()

    mask = models.class_mask(options.language.info.script)
    lexicon = get_lexicon(options.language.value) if options.lexicon else None
    recogniser = profile.recogniser if options.language.info.script == "latin" else "ppocr"
    # a page's lines share its turn, decided over them (inkread.orientation) unless the page has too
    # few to tell: only then is a line the classifier suspects read upside down too (on a 7-line note
    # the single word 'eggs' read turned over as 'abba', more confidently than upright)
    readings, flipped = read_upright(
        models,
        crops,
        mask,
        lexicon,
        profile.variants,
        (profile.min_confidence, profile.variants_below),
        profile.rescore,
        recogniser,
        profile.second_opinion if recogniser != "ppocr" else None,
        profile.lexicon,
        flip_lines=len(crops) < orientation.FIRST,
        fusion=profile.fusion,
        handwriting=options.model,
    )
    if lexicon is not None and profile.tidy:
        readings = [
            tidy_reading(r, lexicon, digits=profile.digit_lookalikes, capitals=profile.capital_words) for r in readings
        ]
    t4 = time.perf_counter()

    # checkboxes are looked for where a box cannot be a letter: 图, 国, 回 or ㅁ start lines too
    boxed_letters = options.language.info.script in _BOXED_SCRIPTS
    boxes_for = (
        _attach_checkboxes(work, line_groups, to_upright) if options.detect_checkboxes and not boxed_letters else {}
    )
    lines: list[Line] = []
    typical = float(np.median([g.height for g in line_groups])) if line_groups else 0.0
    # too faint to read (show-through, a pencil line beside ink): not read, but not lost either
    unread = [[(float(x), float(y)) for x, y in to_input.apply(q)] for q in faint if faint_line(q, typical)]
    before = ("", -1)  # the page's text so far: its last word and that word's paragraph
    for gi, g in enumerate(line_groups):
        parts = []
        for i in g.members:
            reading = readings[i]
            if not reading.text.strip() or reading.confidence < profile.min_confidence:
                if line_like(reading, quads[i], typical):
                    unread.append([(float(x), float(y)) for x, y in to_input.apply(quads[i])])
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
        lines.append(
            Line(
                text=text,
                bbox=[(float(x), float(y)) for x, y in poly],
                confidence=conf,
                words=words,
                paragraph=g.paragraph,
                column=g.column,
            )
        )
    _renumber_paragraphs(lines)
    return lines, unread, angle, {"layout": t3 - t2, "recognize": t4 - t3}


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
            text = text[len(words[0].text) :].lstrip()
            words.pop(0)
    return f"{cb.marker} {text}".rstrip()


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
