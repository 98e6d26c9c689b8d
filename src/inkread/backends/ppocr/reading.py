"""Reading a page's line crops: the recogniser, then test-time variants of unsure crops, a second
recogniser's opinion, and crops the orientation classifier suspects are upside down read turned;
the most confident reading of each crop wins."""

from __future__ import annotations

import numpy as np

from .decode import Lexicon, LexiconParams
from .models import FUSION_WEIGHT, PaddleModels, Reading
from .variants import make_variant

__all__ = ["read_upright", "VARIANT_SLACK"]

#: a test-time variant is read with the lexicon only where its greedy reading's confidence is at
#: least the reading it would replace less this (the search rarely lifts a reading's confidence more)
VARIANT_SLACK = 0.02


def read_upright(
    models: PaddleModels,
    crops: list[np.ndarray],
    mask: np.ndarray,
    lexicon: Lexicon | None = None,
    variants: tuple[str, ...] = (),
    variants_for: tuple[float, float] = (0.0, 1.0),
    rescore: bool = False,
    model: str = "ppocr",
    second: str | None = None,
    params: LexiconParams | None = None,
    flip_lines: bool = True,
    fusion: float = FUSION_WEIGHT,
    handwriting: str | None = None,
) -> tuple[list[Reading], list[bool]]:
    """Read each crop; where the plain reading's confidence is within ``variants_for`` (low, high),
    read the crop's test-time ``variants`` too (:mod:`inkread.backends.ppocr.variants`): a crop read with less
    confidence than the line floor is noise and stays so, one read surely needs nothing more.
    Where the orientation classifier suspects a crop is upside down (and ``flip_lines``: a page of
    too few lines for its own turn to be decided), read it turned as well (the classifier alone
    misjudges handwriting). The most confident reading of each crop wins. ``handwriting``: the
    handwriting model file read with (None: the shipped one; :meth:`PaddleModels.recognize`)."""
    if not crops:
        return [], []

    def read(batch: list[np.ndarray], recogniser: str = model, above: list[float] | None = None) -> list[Reading]:
        return models.recognize(
            batch,
            mask,
            lexicon=lexicon,
            params=params,
            rescore=rescore,
            model=recogniser,
            fusion=fusion,
            handwriting=handwriting,
            lexicon_above=above,
        )

    readings = read(crops)
    unsure = [i for i, r in enumerate(readings) if variants_for[0] <= r.confidence < variants_for[1]]
    for name in variants:
        made = [(i, v) for i in unsure if (v := make_variant(name, crops[i])) is not None]
        if not made:
            continue
        # a variant read greedily no more surely than the reading it would replace is not searched
        again = read([v[0] for _, v in made], above=[readings[i].confidence - VARIANT_SLACK for i, _ in made])
        for (i, (_img, xmap)), reading in zip(made, again):
            if reading.confidence > readings[i].confidence:
                reading.char_x = [xmap(x) for x in reading.char_x]
                readings[i] = reading
    if second is not None and second != model:
        unsure = [i for i, r in enumerate(readings) if variants_for[0] <= r.confidence < variants_for[1]]
        if unsure:
            again = read([crops[i] for i in unsure], second)
            for i, reading in zip(unsure, again):
                if reading.confidence > readings[i].confidence:
                    readings[i] = reading
    suspects = [i for i, f in enumerate(models.upside_down(crops)) if f] if flip_lines else []
    flipped = [False] * len(crops)
    if suspects:
        turned = read([np.ascontiguousarray(crops[i][::-1, ::-1]) for i in suspects])
        for i, reading in zip(suspects, turned):
            if reading.confidence > readings[i].confidence:
                readings[i], flipped[i] = reading, True
    return readings, flipped
