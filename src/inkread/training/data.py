"""Training data: the real handwritten lines of ``../shared/train`` (split by page) and the class set.

The recogniser keeps PP-OCRv6's classes (blank first, its 18,708 characters, a space last) so the
decoding downstream (beam search, lexicon, rescoring) is unchanged; the handwriting model is trained
and exported over the Latin subset of them (:func:`latin_classes`), the rest get probability zero.
"""

from __future__ import annotations

import csv
import hashlib
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "Line",
    "read_lines",
    "split_by_page",
    "latin_classes",
    "encode",
    "data_hash",
    "SHIPPABLE_SETS",
    "set_quotas",
    "held_out_sample",
    "gray",
    "dev_lines",
]

# Only these collections' images are openly licensed (CC-BY-4.0): the weights that ship with inkread
# are trained on them and on synthetic lines. hooker and stanford are measured on, never trained on.
SHIPPABLE_SETS = (
    "copiste",
    "poilus",
    "timeus",
    "lectaurep",
    "lectaurep-cm",
    "peraire",
    "cremma19",
    "cremma20",
    "celestine",
)
# the two collections the shipped model was trained on before the collection grew (bench/RESULTS.md)
FIRST_SETS = ("copiste", "poilus")

# characters written differently in the transcriptions than the recogniser's classes spell them
_NORMALISE = {
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "«": '"',
    "»": '"',
    "—": "-",
    "–": "-",
    "¬": "-",
    "\u00a0": " ",
    "…": "...",
    "œ": "oe",
    "Œ": "OE",
}


@dataclass(frozen=True)
class Line:
    path: Path  # greyscale line image
    text: str
    set: str
    page: str  # lines of one page share a writer: split on this


def read_lines(root: Path, sets: tuple[str, ...] | None = None) -> list[Line]:
    """Every line of ``root/lines.tsv`` (``../shared/train``), optionally of some sets only."""
    out = []
    with open(root / "lines.tsv", encoding="utf-8", newline="") as fh:
        # fields with quotes are CSV-quoted ("... ""Jeanne""")
        for row in csv.DictReader(fh, delimiter="\t"):
            if sets is not None and row["set"] not in sets:
                continue
            out.append(Line(root / row["path"], row["text"], row["set"], row["set"] + "/" + row["source_image"]))
    return out


def split_by_page(lines: list[Line], val_fraction: float, seed: int) -> tuple[list[Line], list[Line]]:
    """(train, validation), whole pages to one side, about ``val_fraction`` of each set's pages held out."""
    rng = random.Random(seed)
    held: set[str] = set()
    for name in sorted({ln.set for ln in lines}):
        pages = sorted({ln.page for ln in lines if ln.set == name})
        rng.shuffle(pages)
        held.update(pages[: max(1, round(len(pages) * val_fraction))])
    return [ln for ln in lines if ln.page not in held], [ln for ln in lines if ln.page in held]


def set_quotas(sizes: dict[str, int], lines: int, power: float, max_repeat: float = 2.0) -> dict[str, int]:
    """Lines drawn from each set in one epoch of ``lines``: shares proportional to size ** ``power``
    (1: as they come, 0: equal; 0.5 keeps 7,000 register cells from drowning 130 diary lines), none
    seeing its lines more than ``max_repeat`` times an epoch."""
    weight = {k: n**power for k, n in sizes.items() if n > 0}
    total = sum(weight.values())
    return {k: min(round(lines * w / total), int(sizes[k] * max_repeat)) for k, w in weight.items()}


def held_out_sample(val: list[Line], per_set: int, seed: int) -> list[Line]:
    """At most ``per_set`` validation lines of each set (whole pages' lines, drawn at random): every
    collection weighs alike in the validation figures and reading them stays quick."""
    rng = random.Random(seed)
    out: list[Line] = []
    for name in sorted({ln.set for ln in val}):
        mine = [ln for ln in val if ln.set == name]
        out += sorted(rng.sample(mine, min(per_set, len(mine))), key=lambda ln: str(ln.path))
    return out


def other_collections(root: Path, n: int, seed: int) -> list[Line]:
    """``n`` lines of the collections never trained on (hooker, stanford): unseen hands, measured only."""
    other = read_lines(root, ("hooker", "stanford"))
    rng = np.random.default_rng(seed)
    return [other[i] for i in sorted(rng.choice(len(other), size=min(n, len(other)), replace=False))]


def latin_classes(charset: list[str]) -> np.ndarray:
    """Indices of the classes a Latin-script handwriting model emits (blank, Latin letters, digits,
    punctuation, the space): the same set ``PaddleModels.class_mask("latin")`` allows."""
    from ..backends.ppocr.models import _allowed

    keep = [0] + [i for i, c in enumerate(charset) if i > 0 and _allowed(c, "latin")]
    return np.array(keep, dtype=np.int64)


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return "".join(_NORMALISE.get(c, c) for c in text).strip()


# Editorial markup in the transcriptions, never written on the page: copiste marks crossed-out words
# >like this< and has Wikipedia's formula source {displaystyle ...} and _ for what the volunteer left
# out; poilus writes superscripts as 1^er. A line with markup is left out of training, ^ is dropped.
_MARKUP = set("<>{}_")


def training_text(text: str) -> str | None:
    """The text a line image shows, or None where the transcription has editorial markup."""
    if _MARKUP & set(text) or text.startswith('"') and '""' in text:  # the second: CSV quoting read raw
        return None
    return normalise_text(text.replace("^", ""))


def encode(text: str, index: dict[str, int]) -> list[int] | None:
    """The class indices (into the kept classes) of a line's transcription; None if it has editorial
    markup or a character without a class."""
    clean = training_text(text)
    if clean is None:
        return None
    out = []
    for c in clean:
        k = index.get(c)
        if k is None:
            return None
        out.append(k)
    return out or None


def data_hash(lines: list[Line]) -> str:
    """A short hash of the training lines (paths and texts), recorded beside the shipped model."""
    h = hashlib.sha256()
    for ln in sorted(lines, key=lambda x: str(x.path)):
        h.update(f"{ln.path.name}\t{ln.text}\n".encode())
    return h.hexdigest()[:16]


def gray(path: Path) -> np.ndarray:
    """A line image as greyscale ``uint8``; ``ValueError`` if it cannot be read."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"cannot read {path}")
    return img


def dev_lines(eval_root: Path):
    """(grey image, text) of the evaluation set's hw-line crops: measured on, never trained on."""
    with open(eval_root / "manifest.tsv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["kind"] != "hw-line":
                continue
            gt = (eval_root / "gt" / row["set"] / f"{row['id']}.txt").read_text(encoding="utf-8").strip()
            image = next((eval_root / "images" / row["set"]).glob(f"{row['id']}.*"))
            yield gray(image), gt
