"""What a recognition backend is: a :class:`Recognizer` reads one page image into a
:class:`~inkread.result.Page`, says which modes and options it honours (:class:`Capabilities`), and
can load its models ahead of the first page.

The engine (:mod:`inkread.engine`) loads pages, picks the backend for the language
(:func:`inkread.backends.backend_for`) and calls :meth:`Recognizer.read_page` page by page; it knows
no backend by name. Adding one (a new model) is a module with a class like those in
:mod:`.ppocr` and :mod:`.tesseract_reader` and one line in ``inkread.backends._BUILTIN``, plus its
languages in :mod:`inkread.languages` (``LanguageInfo.backends``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from ..io import PageImage
    from ..options import RecognitionOptions
    from ..result import Page

__all__ = ["Capabilities", "PageReading", "Recognizer", "add_seconds"]


@dataclass(frozen=True)
class Capabilities:
    """What a backend does with the options it is given. ``False``: it ignores that option (reading
    as if it were off) rather than refusing it."""

    handwriting: bool = False  # reads handwriting (else HANDWRITTEN reads as printed text)
    preprocess: bool = False  # applies PreprocessOptions (upscale, contrast, denoise, binarize, deskew)
    lexicon: bool = False  # decodes with the language's word list (``lexicon=``)
    checkboxes: bool = False  # finds checkboxes (``detect_checkboxes=``)

    @property
    def modes(self) -> tuple[str, ...]:
        return ("auto", "printed", "handwritten") if self.handwriting else ("auto", "printed")


class PageReading(NamedTuple):
    """What reading a page gives back: the page, and the seconds each stage took (``{"detect": 0.4,
    "recognize": 1.2, ...}``; the engine adds them up into ``OcrResult.timings``)."""

    page: Page
    seconds: dict[str, float]


def add_seconds(*parts: dict[str, float]) -> dict[str, float]:
    """Stage seconds added up, key by key (a new dict; the parts are left as they are)."""
    total: dict[str, float] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0.0) + value
    return total


class Recognizer(Protocol):
    name: str  # as options.engine and LanguageInfo.backends name it: "ppocr", "tesseract"
    label: str  # as people see it (``inkread languages``)
    capabilities: Capabilities

    def check_language(self, options: RecognitionOptions) -> None:
        """Raise (e.g. MissingDependencyError) now if no page could be read in this language."""

    def warmup(self) -> None:
        """Load what the first page would otherwise wait for."""

    def read_page(self, page: PageImage, options: RecognitionOptions, *, osd: Callable[[], Any]) -> PageReading:
        """Read ``page`` (turned upright first, boxes on the image as given): the page and the seconds
        its stages took. ``osd()`` is Tesseract's orientation and script detection of the page, run at
        most once whoever asks (None where Tesseract's OSD data is missing)."""
