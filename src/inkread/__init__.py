"""inkread: local-first OCR for handwritten notes and printed pages.

>>> import inkread as ocr
>>> result = ocr.recognize("examples/handwritten_note.jpg", mode=ocr.RecognitionMode.HANDWRITTEN)  # doctest: +SKIP
>>> print(result.text)  # doctest: +SKIP
"""

from . import (
    exceptions,
    export,  # noqa: E402, F401 - registers the writers behind OcrResult.save, to_hocr, ...
)
from ._version import __version__
from .engine import OcrEngine, recognize
from .exceptions import OcrException
from .languages import Language, supported_languages
from .options import PreprocessOptions, RecognitionMode, RecognitionOptions, Toggle
from .result import Line, OcrResult, Page, Word

__all__ = [
    "OcrEngine",
    "recognize",
    "RecognitionMode",
    "RecognitionOptions",
    "PreprocessOptions",
    "Toggle",
    "Language",
    "supported_languages",
    "OcrResult",
    "Page",
    "Line",
    "Word",
    "OcrException",
    "exceptions",
    "__version__",
]
