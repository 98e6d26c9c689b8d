"""The recognition backends and which one reads a language.

* ``"ppocr"``: the shipped PP-OCRv6 models (:mod:`inkread.pipeline`), printed and handwritten text, the
  languages of ``inkread.languages._TABLE``;
* ``"tesseract"``: the system's Tesseract 5 (:mod:`inkread.backends.tesseract`), printed text, every
  language it has traineddata for.

``engine="auto"`` picks the first backend in ``LanguageInfo.backends`` (PP-OCRv6 wherever it reads the
language); ``"ppocr"`` / ``"tesseract"`` ask for one and are refused for a language it does not read.
"""

from __future__ import annotations

from ..exceptions import UnsupportedLanguageError
from ..languages import Language
from ..options import parse_engine

__all__ = ["BACKEND_LABELS", "select_backend", "backend_modes"]

# How each backend is shown to people (``inkread languages``).
BACKEND_LABELS = {"ppocr": "pp-ocrv6", "tesseract": "tesseract"}


def select_backend(language: Language | str, engine: str = "auto") -> str:
    """The backend that reads ``language`` under ``engine`` ("auto", "ppocr" or "tesseract")."""
    info = Language.parse(language).info
    engine = parse_engine(engine)
    if engine == "auto":
        return info.backends[0]
    if engine not in info.backends:
        served = ", ".join(info.backends)
        raise UnsupportedLanguageError(
            f"the {engine} engine does not read {info.name} ({info.code})",
            hint=f"backends that read it: {served}; use engine='auto' or one of those",
        )
    return engine


def backend_modes(backend: str) -> tuple[str, ...]:
    """The recognition modes a backend reads well (Tesseract reads print; handwriting is read as print)."""
    return ("auto", "printed", "handwritten") if backend == "ppocr" else ("auto", "printed")
