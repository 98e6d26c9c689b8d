"""``language="auto"`` in the engine: each page read in its own language, the script first, then the
language; and the warning for a page that seems to be in another language than the one given.

- In Latin script (the PP-OCR reader's languages), the backend finds the language itself: a first
  reading without a lexicon, the language of its text (:mod:`inkread.language_id`), the page decoded
  again with that language's lexicon, no network run twice (``backends/ppocr/language.py``).
- A page that reads as almost nothing in Latin script (``sparse``: few characters for its lines'
  length) is in another script: Tesseract's OSD names it, the page is read in that script's commonest
  language inkread can read here (:data:`FIRST_IN_SCRIPT`; Han and Japanese by PP-OCRv6, the others by
  Tesseract, whose pack must be installed), and read again in the language its text is in where that
  is another (Tesseract keeps no frames: the page is read again).
- ``engine="tesseract"``: the same from the start, Latin script where OSD cannot tell.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .exceptions import OcrException
from .languages import Language, LanguageChoice, supported_languages

__all__ = ["read_page", "warn_if_other", "result_language", "FIRST_IN_SCRIPT"]

log = logging.getLogger("inkread")

#: the language a page in a script other than Latin is read in first: the script's most written one
FIRST_IN_SCRIPT = {
    "latin": Language.ENGLISH,
    "han": Language.CHINESE,
    "japanese": Language.JAPANESE,
    "hangul": Language.KOREAN,
    "cyrillic": Language.RUSSIAN,
    "arabic": Language.ARABIC,
    "devanagari": Language.HINDI,
    "greek": Language.GREEK,
    "hebrew": Language.HEBREW,
    "thai": Language.THAI,
    "bengali": Language.BENGALI,
}

Reader = Callable[[Any, Any, Callable[[], Any]], Any]  # (page, options, osd) -> (Page, seconds)


def read_page(
    page: Any,
    options: Any,
    osd: Callable[[], Any],
    read: Reader,
    sparse: Callable[[Any], bool],
    score: Callable[[Any], Any],
) -> Any:
    """``page`` (an :class:`~inkread.io.PageImage`) read in its own language, and the seconds it took:
    ``read(page, options, osd)`` reads with a backend; ``sparse(page)`` says a reading is too sparse
    to be in the script read; ``score(page)`` how well a reading fits its script (a reading in another
    script is kept over the Latin one only where it scores higher: OSD misnames the script of a line or
    two). See the module's docstring."""
    from .backends import add_seconds, select_backend

    seconds: dict[str, float] = {}
    latin = None
    if select_backend(options.language, options.engine) == "ppocr":
        done, seconds = read(page, options, osd)  # Latin script, its language found by the backend
        if not sparse(done):
            return done, seconds
        latin = done
        found = osd()
        script = found.script if found is not None else None
        if script in (None, "latin"):
            return done, seconds
    else:
        found = osd()
        script = (found.script if found is not None else None) or "latin"
        done = None
    first = _first_readable(script, options)
    if first is None:
        if done is None:  # nothing reads the script here: say so as reading in English would
            return read(page, options.updated(language=FIRST_IN_SCRIPT["latin"]), osd)
        log.warning(
            "inkread: page %d seems to be in %s script, which no installed engine reads: "
            "install its Tesseract pack (inkread languages lists them)",
            page.index + 1,
            script.capitalize(),
        )
        return done, seconds
    from .language_id import SURE, candidates, detect

    language = first
    done, more = read(page, options.updated(language=language), osd)
    seconds = add_seconds(seconds, more)
    detected = detect(done.text, [c for c in candidates(script) if _readable(c, options)])
    if detected is not None and detected.probability >= SURE and detected.language is not first:
        language = detected.language  # read again in the language its text is in
        done, more = read(page, options.updated(language=language), osd)
        seconds = add_seconds(seconds, more)
    done.language = language.value
    if latin is not None and (not _not_latin(done.text) or score(done) <= score(latin)):
        return latin, seconds  # the other script's reading holds its letters no better (a line or two)
    return done, seconds


def _not_latin(text: str) -> bool:
    """Whether most of the letters of ``text`` are not Latin ones (a page read in Japanese that holds
    Latin letters only was a Latin page OSD misnamed)."""
    import unicodedata

    letters = [c for c in text if c.isalpha()]
    return sum("LATIN" not in unicodedata.name(c, "") for c in letters) > 0.5 * len(letters)


def _first_readable(script: str, options: Any) -> Language | None:
    """The language a page in ``script`` is read in first: :data:`FIRST_IN_SCRIPT`'s, else the first
    of the script's languages that an engine here reads."""
    listed = FIRST_IN_SCRIPT.get(script)
    ordered = ([listed] if listed else []) + [Language(i.code) for i in supported_languages() if i.script == script]
    return next((lang for lang in ordered if _readable(lang, options)), None)


def _readable(language: Language, options: Any) -> bool:
    """Whether the engine of ``options`` reads ``language`` here (Tesseract: its pack installed)."""
    from .backends import backend_for

    try:
        backend_for(language, options.engine).check_language(options.updated(language=language))
    except OcrException:  # another engine asked for, or a Tesseract pack missing
        return False
    return True


def warn_if_other(page: Any, given: Language | LanguageChoice) -> None:
    """A warning when the text of ``page``, read in the language ``given``, seems surely to be in
    another (:func:`inkread.language_id.seems_other`: a detector's look at the text read, a
    millisecond)."""
    from .language_id import seems_other

    found = seems_other(page.text, given)
    if found is None:
        return
    info = found.language.info
    log.warning(
        "inkread: page %d seems to be in %s (%s), not %s: read it with --lang %s or --lang auto",
        page.index + 1,
        info.name,
        info.code,
        given.info.name,
        info.code,
    )


def result_language(given: Language | LanguageChoice, pages: list[Any]) -> str:
    """A result's ``language``: the one given; with ``auto``, those its pages were found in, in the
    order they came (``"fr"``; ``"fr+en"``), ``"auto"`` where no page was read."""
    if not isinstance(given, LanguageChoice) or not given.auto:
        return given.value
    found = dict.fromkeys(p.language for p in pages if getattr(p, "language", ""))
    return "+".join(found) or given.value
