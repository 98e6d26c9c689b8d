"""The engine facade: the one object scripts talk to, local today, remote when given a service URL."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from .exceptions import MissingDependencyError, OcrException
from .languages import Language, LanguageChoice, parse_languages
from .options import RecognitionMode, RecognitionOptions
from .result import OcrResult

__all__ = ["OcrEngine", "recognize"]

log = logging.getLogger("inkread")


class OcrEngine:
    """Recognise text in images and PDFs.

    >>> import inkread as ocr
    >>> engine = ocr.OcrEngine()
    >>> engine.load_image("examples/handwritten_note.jpg")
    >>> engine.set_recognition_mode(ocr.RecognitionMode.HANDWRITTEN)
    >>> print(engine.recognize().text)  # doctest: +SKIP

    The models are loaded once per process, on first use. ``recognize(source, **options)`` takes
    everything per call and touches no shared state, so one engine can serve many threads; the
    ``load_image`` / ``set_*`` calls keep the cloud-SDK style working for single-threaded scripts.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        url: str | None = None,
        *,
        options: RecognitionOptions | None = None,
        **kwargs: Any,
    ) -> None:
        self._options = options or RecognitionOptions()
        if kwargs:
            self._options = self._options.updated(**kwargs)
        self._source: Any = None
        self.client_id = client_id
        self._client_secret = client_secret
        self.url = url or os.environ.get("INKREAD_URL") or None
        if (client_id or client_secret) and not self.url:
            log.info("inkread: no service URL configured; running locally, client credentials not used")
        if self._options.model and not self.url:  # a handwriting model file: refused now if it is none
            self._options = _with_model_checked(self._options)

    # ----- cloud-SDK style settings ---------------------------------------------------------
    @property
    def options(self) -> RecognitionOptions:
        return self._options

    def load_image(self, source: Any) -> None:
        """Remember an image (path, bytes, file object, PIL image or numpy array) for ``recognize()``.

        A missing path raises ``FileNotFoundError`` now, not at recognition time.
        """
        if isinstance(source, (str, os.PathLike)):
            if not os.path.exists(source):
                raise FileNotFoundError(f"no such file: {os.fspath(source)}")
        self._source = source

    def set_recognition_mode(self, mode: RecognitionMode | str) -> None:
        self._options = self._options.updated(mode=RecognitionMode.parse(mode))

    def set_language(self, language: Language | LanguageChoice | str | list[str]) -> None:
        """One language (``"fr"``), ``"auto"`` (each page's own) or several (``"en+fr"``, ``["en", "fr"]``)."""
        self._options = self._options.updated(language=parse_languages(language))

    def set_options(self, **options: Any) -> None:
        """Change default options (``pages``, ``binarize``, ``upscale`` ...) for later calls."""
        self._options = self._options.updated(**options)

    # ----- recognition ----------------------------------------------------------------------
    def warmup(self) -> None:
        """Load the models the engine's language needs now, not on the first page (a service before
        its first request, a benchmark before its clock starts); nothing for a remote engine."""
        if self.url:
            return
        from .backends import backend_for

        backend_for(self._options.language, self._options.engine).warmup()
        from .language_id import candidates

        if isinstance(self._options.language, LanguageChoice) and self._options.language.auto:
            candidates()  # the language detector's model (loaded on first use for the other-language check)

    def recognize(self, source: Any = None, **options: Any) -> OcrResult:
        """Recognise ``source`` (or the image given to ``load_image``) with these per-call options."""
        if source is None:
            source = self._source
        if source is None:
            raise OcrException("no image to recognise", hint="call load_image(path) or pass the image to recognize()")
        opts = self._options.updated(**options) if options else self._options
        if self.url:
            from .client import RemoteBackend  # the remote engine

            return RemoteBackend.for_engine(self).recognize(source, opts)
        return recognize_local(source, opts)


def recognize_local(source: Any, options: RecognitionOptions) -> OcrResult:
    """Load ``source`` and run every selected page through the local backend that reads the language:
    PP-OCRv6 (``inkread.backends.ppocr.page``) where it does, Tesseract elsewhere; ``options.engine`` overrides.

    A language written in several scripts (Serbian, Azerbaijani, Uzbek) is read, page by page, in the
    script Tesseract's OSD sees on the page; where OSD cannot tell (a line or two: "too few characters")
    or its script's reading is doubtful, in each of the language's scripts, and the reading with the
    most letters read surely is kept (:func:`_read_in_its_script`). A page that reads as almost nothing
    in another language is checked with OSD too, and a warning names the script it seems to be in.
    """
    from . import io as inkio
    from .autolang import result_language
    from .backends import add_seconds, select_backend

    select_backend(options.language, options.engine)  # refuse before reading anything
    options = _with_model_checked(options)
    timings: dict[str, float] = {"load": 0.0}
    kept: list[int] = []  # PDF pages whose own text was kept (options.existing_text)
    t0 = time.perf_counter()
    result_pages = []
    src = ""
    t1 = time.perf_counter()
    # one page at a time: a page's pixels are let go once it is read (memory does not grow with pages)
    from .cancel import check, page_done, time_limited

    with time_limited(options.time_limit):
        check()
        for page in inkio.iter_pages(
            source,
            pages=options.pages,
            max_pixels=options.max_pixels,
            pdf_dpi=options.pdf_dpi,
            max_pages=options.max_pages,
            existing_text=options.existing_text,
        ):
            timings["load"] += time.perf_counter() - t1
            check()  # a cancelled task or a spent time budget stops here, between pages
            src = src or page.source
            if isinstance(page, inkio.PdfPageText):
                kept.append(page.index)
                result_pages.append(page_of_pdf_text(page))
                page_done()
                t1 = time.perf_counter()
                continue
            read, seconds = _read_page(page, options)
            result_pages.append(read)
            page_done()
            timings = add_seconds(timings, seconds)
            del page
            t1 = time.perf_counter()
    if kept:
        logging.getLogger("inkread.kept").warning("inkread: %s", kept_text_note(src, kept))
    timings["total"] = time.perf_counter() - t0
    return OcrResult(
        pages=result_pages,
        language=result_language(options.language, result_pages),
        mode=options.mode.value,
        source=src,
        timings=timings,
    )


def _with_model_checked(options: RecognitionOptions) -> RecognitionOptions:
    """``options`` with their handwriting model (``model=``), if any, checked and made absolute
    (:func:`inkread.backends.check_handwriting_model`: an InvalidOptionError if it is no model)."""
    from .backends import check_handwriting_model

    return options.updated(model=check_handwriting_model(options.model)) if options.model else options


def kept_text_note(source: str, pages: list[int]) -> str:
    """The one line saying which pages (0-based) of ``source`` kept their own text, unread."""
    one = len(pages) == 1
    return (
        f"{source}: {_page_list(pages)} already {'has' if one else 'have'} text: kept as "
        f"{'it is' if one else 'they are'}, not read (--force-ocr reads {'it' if one else 'them'})"
    )


_KEPT_NOTE = re.compile(r"^(?:inkread: )?(?P<source>.*): pages? (?P<pages>[\d, -]+) already ha(?:s|ve) text: kept")


def merge_kept_notes(notes: list[str]) -> list[str]:
    """``notes`` with the lines :func:`kept_text_note` wrote for single pages of one document (read by
    worker processes a page at a time) merged into one line per document."""
    pages: dict[str, list[int]] = {}
    out: list[str] = []
    for note in notes:
        match = _KEPT_NOTE.match(note)
        if match is None:
            out.append(note)
            continue
        if match["source"] not in pages:
            out.append(match["source"])  # a placeholder, replaced below
            pages[match["source"]] = []
        for part in match["pages"].split(","):
            first, _, last = part.strip().partition("-")
            pages[match["source"]] += range(int(first) - 1, int(last or first))
    return [kept_text_note(n, sorted(set(pages[n]))) if n in pages else n for n in out]


def _page_list(indices: list[int]) -> str:
    """``page 3`` / ``pages 1-3, 5`` (1-based)."""
    runs: list[list[int]] = []
    for i in sorted(indices):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    text = ", ".join(f"{a + 1}" if a == b else f"{a + 1}-{b + 1}" for a, b in runs)
    return ("page " if len(indices) == 1 else "pages ") + text


def page_of_pdf_text(text: Any) -> Any:
    """A result page from a PDF page's own text (:class:`~inkread.io.PdfPageText`): a line per text
    line PDFium finds, a new paragraph where the gap above a line is 1.5 times its height."""
    from .result import Line, Page

    lines: list[Line] = []
    paragraph = 0
    previous = None
    for line_text, (x0, y0, x1, y1) in text.lines:
        if previous is not None and y0 - previous[3] > 1.5 * (y1 - y0):
            paragraph += 1
        previous = (x0, y0, x1, y1)
        lines.append(Line(line_text, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], 1.0, [], paragraph))
    return Page(text.index, text.width, text.height, lines, mode="printed", text_source="pdf")


def _read_page(page: Any, options: RecognitionOptions) -> Any:
    """The page read by its language's backend (see :func:`recognize_local`), and the seconds it took."""
    import functools

    from . import autolang
    from .backends import tesseract
    from .languages import script_variants

    osd = functools.cache(lambda: tesseract.osd(page.image))  # Tesseract's OSD, at most once a page
    if isinstance(options.language, LanguageChoice) and options.language.auto:  # each page's own
        return autolang.read_page(page, options, osd, _read_with, _reads_as_nothing, _script_score)
    language = options.language
    variants = script_variants(language) if options.engine == "auto" and isinstance(language, Language) else []
    if variants:
        return _read_in_its_script(page, options, osd, variants)
    read, seconds = _read_with(page, options, osd)
    read.language = read.language or options.language.value
    if not _reads_as_nothing(read):
        autolang.warn_if_other(read, options.language)  # read in a language it seems not to be in?
    else:
        found = osd()
        script = found.script if found is not None else None
        asked = options.language.info
        if script and script != asked.script:
            log.warning(
                "inkread: page %d seems to be written in %s script, but %s (%s) is written in %s: "
                "give the page's language (inkread languages lists them)",
                page.index + 1,
                script.capitalize(),
                asked.name,
                asked.code,
                asked.script.capitalize(),
            )
    return read, seconds


def _read_in_its_script(page: Any, options: RecognitionOptions, osd: Any, variants: list[Any]) -> Any:
    """A page of a language written in several scripts (``variants``: its other ones), read in the
    script on the page, and the seconds it took.

    Tesseract's OSD names the script of a page of text, and that script is read first; OSD says
    nothing of a line or two ("too few characters": RapidOCR's 253x39 test line of Serbian Cyrillic),
    and then the language as asked is read first. Where that first reading is doubtful (few characters
    for the length of its lines: a Latin model reading Cyrillic keeps the letters both scripts share
    and drops the rest, or one confident '.'; or unsure, or a region left unread), the page is read in
    the language's other scripts too and the reading with the most letters and digits read surely
    wins (:func:`_script_score`). Lines that no script reads as a letter or digit, though they are long
    (a '.' for a line full of ink), are no answer: they go to the page's ``unread``."""
    from .backends import add_seconds

    asked = options.language.info
    found = osd()
    first = next((v for v in variants if found is not None and v.script == found.script), asked)
    if first is not asked:
        log.info("inkread: page %d is in %s script: read as %s", page.index + 1, first.script, first.name)
    read, seconds = _read_with(page, options.updated(language=first.code), osd)
    if not _doubtful(read):
        return read, seconds
    best, best_info = read, first
    for other in [asked, *variants]:
        if other is first:
            continue
        try:
            again, more = _read_with(page, options.updated(language=other.code), osd)
        except MissingDependencyError as error:  # that script's pack is not installed: say so, go on
            log.warning(
                "inkread: page %d reads poorly as %s and may be in %s script, not read so: %s",
                page.index + 1,
                first.name,
                other.script.capitalize(),
                error,
            )
            continue
        seconds = add_seconds(seconds, more)
        if _script_score(again) > _script_score(best):
            best, best_info = again, other
    if best_info is not first:
        log.info(
            "inkread: page %d reads best in %s script: read as %s", page.index + 1, best_info.script, best_info.name
        )
    return _no_letters_unread(best), seconds


def _reads_as_nothing(page: Any) -> bool:
    """Lines found, few characters read in them for their length: the page is likely in a script the
    language's model does not have (Latin text has 1.5 to 4 characters per line-height of width; a
    Latin model reading Cyrillic read 1.15)."""
    chars = sum(len(line.text) for line in page.lines)
    return bool(page.lines) and chars < SPARSE_TEXT * sum(_line_extent(line) for line in page.lines)


#: characters per line-height of line width below which a page is checked for another script
SPARSE_TEXT = 1.3
#: a reading of a language written in several scripts less confident than this is read in the others too
SCRIPT_UNSURE = 0.75
#: a line read without a letter or digit, with fewer characters than this many per line-height of its
#: width, is no reading (a '.' for a line full of ink): it is listed unread
NO_LETTERS = 0.5


def _doubtful(page: Any) -> bool:
    """A reading that may be in the wrong script: sparse for its lines' length, unsure, or with a
    region it could not read."""
    return bool(page.unread) or (bool(page.lines) and (_reads_as_nothing(page) or page.confidence < SCRIPT_UNSURE))


def _script_score(page: Any) -> tuple[bool, float]:
    """How well a reading fits its script, to compare one page's readings in several scripts: a
    reading that is not sparse first, then the letters and digits read, each weighted by its line's
    confidence. A model reading a script it lacks reads few of its letters (a Latin model on Serbian
    Cyrillic read 'o a, a e a?' of 'Добар дан, како сте данас?', or '.')."""
    letters = sum(sum(ch.isalnum() for ch in line.text) * line.confidence for line in page.lines)
    return (letters > 0 and not _reads_as_nothing(page), letters)


def _line_extent(line: Any) -> float:
    """A line's width in line-heights."""
    xs = [x for x, _ in line.bbox]
    ys = [y for _, y in line.bbox]
    return (max(xs) - min(xs)) / max(1.0, max(ys) - min(ys))


def _no_letters_unread(page: Any) -> Any:
    """``page`` with its long lines read as no letter or digit at all (a '.' for a line of ink)
    moved to ``unread``, with a warning: never an answer, however confident."""
    from dataclasses import replace

    empty = [
        line
        for line in page.lines
        if not any(ch.isalnum() for ch in line.text) and len(line.text.strip()) < NO_LETTERS * _line_extent(line)
    ]
    if not empty:
        return page
    log.warning(
        "inkread: page %d: %d line(s) read as no letter in any of the language's scripts "
        "(their boxes are in the JSON's 'unread')",
        page.index + 1,
        len(empty),
    )
    return replace(
        page,
        lines=[line for line in page.lines if not any(line is e for e in empty)],
        unread=[*page.unread, *(list(line.bbox) for line in empty)],
    )


def _read_with(page: Any, options: RecognitionOptions, osd: Any) -> Any:
    from .backends import backend_for

    return backend_for(options.language, options.engine).read_page(page, options, osd=osd)


def recognize(source: Any, **options: Any) -> OcrResult:
    """One-shot helper: ``inkread.recognize("note.jpg", mode="handwritten", language="fr")``."""
    return OcrEngine().recognize(source, **options)
