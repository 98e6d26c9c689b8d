"""Which language a page's text is in: the detector behind ``language="auto"`` (:mod:`inkread.autolang`,
``backends/ppocr/language.py``) and behind the warning for a page that seems to be in another language
than the one given.

The detector is py3langid's (langid.py's naive Bayes over byte n-grams, 97 languages, its model in its
wheel: offline, 4 MB, a millisecond a text), restricted to the languages inkread reads in the page's
script. It was right more often than lingua-language-detector on the dev set's first readings, which are
short and noisy (bench/RESULTS.md, "The language found by itself"), and is smaller and faster.
"""

from __future__ import annotations

import array
import functools
import io
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .cache import cache_dir, file_sha256, write_atomic
from .exceptions import MissingDependencyError
from .languages import Language, LanguageChoice, supported_languages
from .memory import give_back

__all__ = ["Detection", "detect", "ranked", "candidates", "seems_other", "MIN_LETTERS", "SURE", "WARN_SURE", "PRIOR"]

#: a text with fewer letters than this says too little of its language: no detection
MIN_LETTERS = 12
#: the detector's probability (among the script's languages, :data:`PRIOR` applied) from which its
#: language is taken alone; below it the page is read with that language's and English's lexicons
#: together (``backends/ppocr/language.py``)
SURE = 0.5
#: how much likelier a page is, before its text is seen, to be in English (8) or another widely written
#: language (2) than in one of the others (1): a short, noisy reading scores spurious winners (Latin,
#: Luxembourgish, Occitan, Irish ... on French or English handwriting), which then need more evidence.
#: On the dev set's first readings of lines: right 107 -> 110 of 137 handwritten, 62 -> 63 of 67
#: printed; every page right either way (bench/RESULTS.md).
PRIOR = {"en": 8.0, **dict.fromkeys("fr de es it pt nl pl sv da no fi cs tr vi id ro hu".split(), 2.0)}
#: the probability from which a page read in a given language is said to seem in another one
WARN_SURE = 0.9
#: a page's text read in a given language is checked only when it has this many letters (a line or
#: two says too little: a warning must be right)
WARN_LETTERS = 60

log = logging.getLogger(__name__)

_LETTERS = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[^\W\d_]+")

#: a page read in a given language whose words are at least this share that language's 100 commonest
#: (the, of, and; de, la, et) is taken to be in it without asking the detector: py3langid costs 75 MB
#: and 1.5 s to load. Dev pages read in their own language: 0.38-0.57 (copiste, stanford, books),
#: 1890s cursive 0.23-0.40, receipts 0.06-0.24 (these still ask); another language's share in a
#: reading: ground truths at most 0.14, noisy readings of cursive up to 0.27 (French words among an
#: English reading's short tokens), hence 0.3
COMMON_SHARE = 0.3


@dataclass(frozen=True)
class Detection:
    """The language a text seems to be in, and the detector's probability of it among the candidates."""

    language: Language
    probability: float


_MODEL: Any = None
_LOCK = threading.Lock()


def _model() -> Any:
    """py3langid's identifier over all its languages (loaded once; ``rank`` does not change it), its two
    large tables read from the cache a row at a time (:func:`_on_disk`) where they can be kept there."""
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            try:
                from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
            except ImportError as error:
                raise MissingDependencyError(
                    "finding a page's language needs py3langid", hint="pip install py3langid"
                ) from error
            _MODEL = _on_disk(LanguageIdentifier, Path(MODEL_DIR) / MODEL_FILE)
            if _MODEL is None:
                _MODEL = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _MODEL


def _on_disk(identifier: Any, source: Path) -> Any:
    """py3langid's identifier with its byte-n-gram automaton (39 MB) and its per-language feature weights
    (28 MB) left in ``.npy`` files in the cache (written from its wheel's compressed model on first use)
    and read a row at a time when first needed (:class:`_Rows`): a text's reading visits a few hundred
    rows, so the process holds those, not 75 MB (bench/RESULTS.md, "Memory"). Mapping the files instead
    held 46 KB a row visited (the kernel maps the pages around each one). The same numbers, the same
    rankings. None where the cache cannot be written or read, or files cannot be read at an offset (the
    caller loads the model whole)."""
    if not hasattr(os, "pread"):  # (Windows)
        return None
    try:
        folder = cache_dir() / f"langid-{file_sha256(source)[:16]}"
        names = ("ptc", "pc", "classes", "output", "row", "nextmove")
        paths = {name: folder / f"{name}.npy" for name in names}
        if not all(path.is_file() for path in paths.values()):
            from py3langid.modelio import load_model

            ptc, pc, classes, nextmove, row, output = load_model(source)
            arrays = {"ptc": ptc, "pc": pc, "classes": classes, "output": output, "row": row}
            arrays["nextmove"] = np.asarray(nextmove).reshape(-1, 256)  # a row per automaton state
            for name in names:
                buffer = io.BytesIO()
                np.save(buffer, np.asarray(arrays[name]), allow_pickle=False)
                write_atomic(paths[name], buffer.getvalue())
            del ptc, nextmove, arrays
            give_back()  # the model read whole to write them
        small = {name: np.load(paths[name], allow_pickle=False) for name in ("pc", "classes", "output", "row")}
        return identifier(
            _Rows(paths["ptc"]),
            small["pc"],
            small["classes"].tolist(),
            _Rows(paths["nextmove"], flat=True),
            array.array("i", small["output"].astype(np.int32).tobytes()),  # a state's feature (or -1)
            norm_probs=True,
            tk_row=small["row"].tolist(),
        )
    except (OSError, ValueError, TypeError) as error:
        log.info("inkread: the language detector's tables are read whole (%s)", error)
        return None


class _Rows:
    """A 2-D array in a ``.npy`` file, each row read (``os.pread``) the first time it is asked for and
    kept. ``rows[indices]`` (an integer array) gives those rows stacked, as py3langid's scoring asks
    its weights; with ``flat``, ``rows[i]`` is element ``i`` of the array flattened, as its automaton is
    walked (a Python int). At most the whole array is kept, in a process that reads every language."""

    def __init__(self, path: Path, flat: bool = False) -> None:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = header(f)
            self._offset = f.tell()
        if len(shape) != 2 or fortran:
            raise ValueError(f"{path}: not a 2-D array in C order")
        self._dtype, self._width, self._flat = dtype, int(shape[1]), flat
        self._row_bytes = self._width * dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)
        self._kept: dict[int, Any] = {}

    def _row(self, index: int) -> Any:
        row = self._kept.get(index)
        if row is None:
            data = os.pread(self._fd, self._row_bytes, self._offset + index * self._row_bytes)
            if len(data) != self._row_bytes:
                raise IndexError(f"row {index} is past the array's end")
            row = np.frombuffer(data, dtype=self._dtype)
            row = row.tolist() if self._flat else row
            self._kept[index] = row
        return row

    def __getitem__(self, key: Any) -> Any:
        if self._flat:
            return self._row(key // self._width)[key % self._width]
        return np.stack([self._row(int(i)) for i in key])


def candidates(script: str = "latin", backend: str | None = None) -> list[Language]:
    """The languages inkread reads in ``script`` (by ``backend``, if given) that the detector knows."""
    known = set(_model().nb_classes)
    return [
        Language(info.code)
        for info in supported_languages()
        if info.script == script and (backend is None or backend in info.backends) and info.code in known
    ]


def detect(text: str, among: list[Language]) -> Detection | None:
    """The language of ``text`` among ``among`` and its probability; None for a text of fewer than
    :data:`MIN_LETTERS` letters, or with no candidate."""
    found = ranked(text, among)
    return found[0] if found else None


def ranked(text: str, among: list[Language]) -> list[Detection]:
    """Each of ``among`` with its probability for ``text`` (:data:`PRIOR` applied), likeliest first;
    none for a text of fewer than :data:`MIN_LETTERS` letters."""
    if len(_LETTERS.findall(text)) < MIN_LETTERS or not among:
        return []
    codes = {lang.value: lang for lang in among}
    scores = [(codes[code], p * PRIOR.get(code, 1.0)) for code, p in _model().rank(text) if code in codes]
    total = sum(p for _, p in scores)
    if total <= 0:
        return []
    return [Detection(lang, p / total) for lang, p in sorted(scores, key=lambda pair: -pair[1])]


def _reads_as(text: str, languages: tuple[Language, ...]) -> bool:
    """Whether :data:`COMMON_SHARE` of ``text``'s words are among the 100 commonest of ``languages``
    (wordfreq's lists; a language it has no list for never passes)."""
    words = [w.lower() for w in _WORDS.findall(text)]
    if not words:
        return False
    common: set[str] = set()
    for language in languages:
        common.update(_commonest(language.value))
    return sum(w in common for w in words) >= COMMON_SHARE * len(words)


@functools.cache
def _commonest(code: str) -> frozenset[str]:
    try:
        from wordfreq import top_n_list

        return frozenset(top_n_list(code, 100))
    except (ImportError, LookupError, ValueError):
        return frozenset()


def seems_other(text: str, given: Language | LanguageChoice) -> Detection | None:
    """Where ``text`` (a page read in ``given``) seems surely to be in another language of the same
    script: that language; else None (a short text, an unsure detector, a script it does not know)."""
    if len(_LETTERS.findall(text)) < WARN_LETTERS:
        return None
    languages = given.languages if isinstance(given, LanguageChoice) else (given,)
    if not languages or _reads_as(text, languages):
        return None
    try:
        found = detect(text, candidates(languages[0].info.script))
    except MissingDependencyError:  # no detector installed: no check (the reading stands)
        return None
    if found is None or found.language in languages or found.probability < WARN_SURE:
        return None
    return found
