"""Which language a page's text is in: the detector behind ``language="auto"`` (:mod:`inkread.autolang`,
``backends/ppocr/language.py``) and behind the warning for a page that seems to be in another language
than the one given.

The detector is py3langid's (langid.py's naive Bayes over byte n-grams, 97 languages, its model in its
wheel: offline, 4 MB, a millisecond a text), restricted to the languages inkread reads in the page's
script. It was right more often than lingua-language-detector on the dev set's first readings, which are
short and noisy (bench/RESULTS.md, "The language found by itself"), and is smaller and faster.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Any

from .exceptions import MissingDependencyError
from .languages import Language, LanguageChoice, supported_languages

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
    """py3langid's identifier over all its languages (loaded once; ``rank`` does not change it)."""
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            try:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier
            except ImportError as error:
                raise MissingDependencyError(
                    "finding a page's language needs py3langid", hint="pip install py3langid"
                ) from error
            _MODEL = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _MODEL


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
