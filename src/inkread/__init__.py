"""inkread: local-first OCR for handwritten notes and printed pages.

>>> import inkread as ocr
>>> result = ocr.recognize("examples/handwritten_note.jpg", mode=ocr.RecognitionMode.HANDWRITTEN)  # doctest: +SKIP
>>> print(result.text)  # doctest: +SKIP
"""

from . import exceptions
from .engine import OcrEngine, recognize
from .exceptions import OcrException
from .languages import Language, supported_languages
from .options import PreprocessOptions, RecognitionMode, RecognitionOptions, Toggle
from .result import Line, OcrResult, Page, Word

__version__ = "0.1.0"

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
