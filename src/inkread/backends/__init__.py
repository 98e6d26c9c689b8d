"""The recognition backends (:class:`~.base.Recognizer`) and which one reads a language.

* ``"ppocr"`` (:mod:`.ppocr`): the shipped PP-OCRv6 models through inkread's page reader
  (:mod:`inkread.backends.ppocr.page`), printed and handwritten text, the languages of ``inkread.languages._TABLE``;
* ``"tesseract"`` (:mod:`.tesseract_reader`, driving :mod:`.tesseract`): the system's Tesseract 5,
  printed text, every language it has traineddata for.

``engine="auto"`` picks the first backend in ``LanguageInfo.backends`` (PP-OCRv6 wherever it reads the
language); ``"ppocr"`` / ``"tesseract"`` ask for one and are refused for a language it does not read.
"""

from __future__ import annotations

import functools
import importlib
import os

from ..exceptions import MissingDependencyError, UnsupportedLanguageError
from ..languages import Language, LanguageChoice, parse_languages
from ..options import parse_engine
from .base import Capabilities, PageReading, Recognizer, add_seconds
from .ppocr import PpOcrRecognizer
from .tesseract_reader import TesseractRecognizer

__all__ = [
    "PLUGINS_ENV",
    "Capabilities",
    "PageReading",
    "Recognizer",
    "add_seconds",
    "get_backend",
    "backend_for",
    "select_backend",
    "register_backend",
    "check_handwriting_model",
]

# every backend, by name; a new one is a Recognizer class and a line here
_BUILTIN: tuple[type[Recognizer], ...] = (PpOcrRecognizer, TesseractRecognizer)
#: modules (comma-separated) whose ``backends()`` give more Recognizers, or replace built-in ones by
#: name, in every inkread process (the CLI, ``serve``'s workers, the batch's): backends shipped
#: outside inkread, and the tests' fake recogniser
PLUGINS_ENV = "INKREAD_PLUGINS"


@functools.cache
def _registry() -> dict[str, Recognizer]:
    registry: dict[str, Recognizer] = {cls.name: cls() for cls in _BUILTIN}
    for name in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        try:
            module = importlib.import_module(name)
            found = list(module.backends())
        except Exception as exc:  # noqa: BLE001 - any failure of a plugin is the same error to the user
            raise MissingDependencyError(
                f"the backend plugin {name} (${PLUGINS_ENV}) cannot be loaded: {exc}",
                hint=f"a module with a backends() function, importable here; or unset ${PLUGINS_ENV}",
            ) from None
        for recognizer in found:
            registry[recognizer.name] = recognizer
    return registry


def get_backend(name: str) -> Recognizer:
    """The backend called ``name`` (as in ``options.engine`` and ``LanguageInfo.backends``)."""
    return _registry()[name]


def register_backend(recognizer: Recognizer) -> Recognizer | None:
    """Make ``recognizer`` the backend called ``recognizer.name`` in this process (a plugin, or a
    test's fake in place of a real one); returns the one it replaces, if any."""
    registry = _registry()
    previous = registry.get(recognizer.name)
    registry[recognizer.name] = recognizer
    return previous


def backend_for(language: Language | LanguageChoice | str, engine: str = "auto") -> Recognizer:
    """The backend that reads ``language`` under ``engine`` (see :func:`select_backend`)."""
    return get_backend(select_backend(language, engine))


def select_backend(language: Language | LanguageChoice | str, engine: str = "auto") -> str:
    """The backend that reads ``language`` (one, several, or ``auto``: see
    :func:`~inkread.languages.parse_languages`) under ``engine`` ("auto", "ppocr" or "tesseract")."""
    info = parse_languages(language).info
    engine = parse_engine(engine)
    if not info.backends:  # several languages no backend reads together
        raise UnsupportedLanguageError(
            f"no engine reads {info.name} together",
            hint="PP-OCRv6 reads several languages of one script together, Tesseract those it has packs for",
        )
    if engine == "auto":
        return info.backends[0]
    if engine not in info.backends:
        served = ", ".join(info.backends)
        raise UnsupportedLanguageError(
            f"the {engine} engine does not read {info.name} ({info.code})",
            hint=f"backends that read it: {served}; use engine='auto' or one of those",
        )
    return engine


def check_handwriting_model(path: str | os.PathLike[str]) -> str:
    """The absolute path of ``path`` once it is known to be a handwriting model the PP-OCRv6 reader
    can read with in place of its own (``model=``, ``--model``: one ``inkread train`` exported);
    else :class:`~inkread.exceptions.InvalidOptionError` saying what is wrong with it."""
    from .ppocr.handmodel import check_handwriting_model as check

    return str(check(path))
