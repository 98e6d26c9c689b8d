"""A page of ``language="auto"`` in Latin script through the PP-OCR reader: a first reading without a
lexicon (greedy decoding: no language's words pull it), its language found from its text
(:mod:`inkread.language_id`), then the page read in that language, its lexicon inside the search.

The second reading runs no network again on what the first ran: inside :func:`.memo.remembered` the
detector's map, the classifier's scores and the recognisers' posteriors of every batch of crops the
first reading ran are kept, and the second reading takes them from there (decoding, layout and
tidying run again). The first reading reads no test-time variant and asks no second opinion (the
profiles' ``variants`` and ``second_opinion``): those depend on how surely a line was read, so the
second reading runs them, for its unsure lines, as a reading in that language would.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ...language_id import PRIOR, Detection
from ...languages import Language, LanguageChoice
from ...options import RecognitionMode, RecognitionOptions
from ..base import PageReading, add_seconds
from .memo import remembered
from .models import PaddleModels
from .page import recognize_page
from .profiles import PROFILES, ModeProfile

__all__ = ["recognize_page_auto", "ASSUMED"]

#: the language a Latin page is read in where its text says too little of its own
ASSUMED = Language.ENGLISH


def _chosen(found: list[Detection], sure: float) -> Language | LanguageChoice:
    """The language a page is read in, from the detector's ranking: the first where the detector is
    sure of it; where it is not, :data:`ASSUMED` and the likeliest widely written language
    (``language_id.PRIOR``) together: both lexicons, so a wrong guess costs less (three French
    handwritten lines the detector was unsure of read at CER 0.32 / 0.40 / 0.52 in English alone,
    0.13 / 0.11 / 0.38 in French, 0.13 / 0.18 / 0.38 in English + French), and a spurious winner of
    a line or two (Occitan, Catalan, Romanian on French handwriting) is no second lexicon;
    :data:`ASSUMED` where the text says too little."""
    if not found or found[0].language is ASSUMED:
        return ASSUMED
    if found[0].probability >= sure:
        return found[0].language
    other = next((d.language for d in found if d.language.value in PRIOR and d.language is not ASSUMED), None)
    return LanguageChoice((ASSUMED, other or found[0].language))


def recognize_page_auto(
    image: np.ndarray,
    options: RecognitionOptions,
    models: PaddleModels,
    index: int = 0,
    profiles: Mapping[RecognitionMode, ModeProfile] = PROFILES,
) -> PageReading:
    """The page read in the language its first reading is in (``page.language``), among the Latin
    languages PP-OCRv6 reads (:func:`_chosen`)."""
    from ...language_id import SURE, candidates, ranked

    # the first reading only finds the language: no test-time variants nor second opinion of unsure
    # lines (the second reading runs those for the lines it reads unsurely); without a lexicon it is
    # the reading itself
    plain = {mode: replace(p, variants=(), second_opinion=None) for mode, p in profiles.items()}
    plain = plain if options.lexicon else dict(profiles)
    with remembered():
        first, seconds = recognize_page(
            image, options.updated(language=ASSUMED, lexicon=False), models, index, plain, quiet=options.lexicon
        )
        t0 = time.perf_counter()
        language = _chosen(ranked(first.text, candidates("latin", "ppocr")), SURE)
        seconds = add_seconds(seconds, {"language": time.perf_counter() - t0})
        if options.lexicon:  # read again in the language found: decoding only
            first, more = recognize_page(image, options.updated(language=language), models, index, profiles)
            seconds = add_seconds(seconds, more)
    first.language = language.value
    return PageReading(first, seconds)
