"""Recognition options: plain, frozen, serialisable values shared by the API, the CLI and the service."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from enum import Enum
from typing import Any

from .exceptions import OcrException
from .languages import Language

__all__ = ["RecognitionMode", "Toggle", "PreprocessOptions", "RecognitionOptions", "ENGINES", "parse_engine",
           "MAX_PAGES_DEFAULT", "MAX_PIXELS_DEFAULT", "PDF_DPI_DEFAULT"]

#: the resolution PDF pages are rendered at, and images without one are taken to have
PDF_DPI_DEFAULT = 300
#: the largest page (in pixels) read unless ``max_pixels`` says otherwise: checked from the file's
#: header before any pixel is decoded (Pillow's own bomb limit is 89.5 MP)
MAX_PIXELS_DEFAULT = 120_000_000
#: pages read from one document at most unless ``max_pages`` says otherwise: a scanned book fits, a
#: 19 KB PDF of 100,000 blank pages does not hold a process for hours
MAX_PAGES_DEFAULT = 500

# Which backend reads: "auto" picks per language (PP-OCRv6 where it reads the language, else Tesseract).
ENGINES = ("auto", "ppocr", "tesseract")
_ENGINE_ALIASES = {"pp-ocrv6": "ppocr", "ppocrv6": "ppocr", "pp-ocr": "ppocr", "paddle": "ppocr",
                   "paddleocr": "ppocr", "tess": "tesseract", "": "auto", "default": "auto"}


def parse_engine(value: str | None) -> str:
    """``"auto"``, ``"ppocr"`` or ``"tesseract"`` (also ``"pp-ocrv6"``, ``"paddle"``, ``"tess"``)."""
    key = "auto" if value is None else str(value).strip().lower()
    key = _ENGINE_ALIASES.get(key, key)
    if key not in ENGINES:
        raise OcrException(f"unknown engine {value!r}", hint="use one of: " + ", ".join(ENGINES))
    return key


class RecognitionMode(str, Enum):
    """What kind of writing to expect. AUTO decides per page."""

    AUTO = "auto"
    PRINTED = "printed"
    HANDWRITTEN = "handwritten"

    @classmethod
    def parse(cls, value: "RecognitionMode | str") -> "RecognitionMode":
        if isinstance(value, RecognitionMode):
            return value
        key = str(value).strip().lower()
        aliases = {"print": "printed", "handwriting": "handwritten", "hw": "handwritten", "hwt": "handwritten"}
        key = aliases.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise OcrException(
                f"unknown recognition mode {value!r}", hint="use one of: auto, printed, handwritten"
            ) from None


class Toggle(str, Enum):
    """A preprocessing switch: AUTO lets the engine decide from the image."""

    AUTO = "auto"
    ON = "on"
    OFF = "off"

    @classmethod
    def parse(cls, value: "Toggle | bool | str | None") -> "Toggle":
        if isinstance(value, Toggle):
            return value
        if value is None:
            return cls.AUTO
        if isinstance(value, bool):
            return cls.ON if value else cls.OFF
        key = str(value).strip().lower()
        key = {"true": "on", "yes": "on", "1": "on", "false": "off", "no": "off", "0": "off"}.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise OcrException(f"unknown switch value {value!r}", hint="use auto, on or off") from None


@dataclass(frozen=True)
class PreprocessOptions:
    """Each step AUTO by default: applied when the image looks like it needs it."""

    upscale: Toggle = Toggle.AUTO  # enlarge when the text is small
    contrast: Toggle = Toggle.AUTO  # CLAHE on low-contrast images
    denoise: Toggle = Toggle.OFF  # median filter
    binarize: Toggle = Toggle.OFF  # Sauvola/Otsu
    deskew: Toggle = Toggle.AUTO  # rotate small skews away

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, Toggle.parse(getattr(self, f.name)))


def parse_rotate(value: object) -> str:
    """``rotate`` / ``--rotate``: ``"auto"`` (decide each page's orientation), or a fixed clockwise
    turn ``"0"``, ``"90"``, ``"180"``, ``"270"`` (``"off"`` is ``"0"``)."""
    text = str(value).strip().lower()
    if text in ("auto", ""):
        return "auto"
    if text in ("off", "none", "no", "false"):
        return "0"
    try:
        degrees = int(float(text)) % 360
    except ValueError:
        degrees = -1
    if degrees not in (0, 90, 180, 270):
        raise OcrException(f"bad rotate value {value!r}", hint="use auto, off, 0, 90, 180 or 270")
    return str(degrees)


def _limit(value: Any, name: str, kind: type) -> Any:
    """A positive, finite ``kind`` (int or float), or an :class:`OcrException` naming ``name``."""
    try:
        number = kind(value)
        ok = not isinstance(value, bool) and number > 0 and number == number and number != float("inf")
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise OcrException(f"{name} must be a positive number, not {value!r}")
    return number


@dataclass(frozen=True)
class RecognitionOptions:
    mode: RecognitionMode = RecognitionMode.AUTO
    language: Language = Language.ENGLISH
    pages: tuple[int, ...] | None = None  # 0-based page indices; None = all
    preprocess: PreprocessOptions = field(default_factory=PreprocessOptions)
    detect_checkboxes: bool = True
    lexicon: bool = True  # decode with the language's word list (wordfreq) inside the beam search
    pdf_dpi: int = PDF_DPI_DEFAULT
    max_pixels: int = MAX_PIXELS_DEFAULT
    engine: str = "auto"  # "auto" | "ppocr" | "tesseract" (see inkread.backends)
    rotate: str = "auto"  # "auto": decide each page's orientation; "0"/"90"/"180"/"270": turn it so
    max_pages: int = MAX_PAGES_DEFAULT  # a document with more pages (selected) is refused before reading
    time_limit: float | None = None  # seconds for one document; past it, reading stops between pages

    def __post_init__(self) -> None:
        object.__setattr__(self, "rotate", parse_rotate(self.rotate))
        object.__setattr__(self, "max_pages", _limit(self.max_pages, "max_pages", int))
        if self.time_limit is not None:
            object.__setattr__(self, "time_limit", _limit(self.time_limit, "time_limit", float))
        object.__setattr__(self, "mode", RecognitionMode.parse(self.mode))
        object.__setattr__(self, "engine", parse_engine(self.engine))
        object.__setattr__(self, "language", Language.parse(self.language))
        if self.pages is not None:
            object.__setattr__(self, "pages", tuple(int(p) for p in self.pages))
        if isinstance(self.preprocess, dict):
            object.__setattr__(self, "preprocess", PreprocessOptions(**self.preprocess))

    def updated(self, **changes: Any) -> "RecognitionOptions":
        """A copy with ``changes``; preprocessing switches may be given by name (``binarize=True``)."""
        pre_names = {f.name for f in fields(PreprocessOptions)}
        pre_changes = {k: changes.pop(k) for k in list(changes) if k in pre_names}
        pre_changes = {k: v for k, v in pre_changes.items() if v is not None}  # None: not given
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise OcrException(f"unknown option(s): {', '.join(sorted(unknown))}")
        changes = {k: v for k, v in changes.items() if v is not None}
        if pre_changes:
            changes["preprocess"] = replace(self.preprocess, **pre_changes)
        return replace(self, **changes)

    def as_kwargs(self) -> dict[str, Any]:
        """Every option as a keyword argument (``engine.recognize(source, **options.as_kwargs())``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mode"] = self.mode.value
        d["language"] = self.language.value
        d["pages"] = list(self.pages) if self.pages is not None else None
        d["preprocess"] = {k: Toggle(v).value for k, v in d["preprocess"].items()}
        return d
