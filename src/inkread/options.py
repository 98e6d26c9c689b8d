"""Recognition options: plain, frozen, serialisable values shared by the API, the CLI and the service."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from enum import Enum
from typing import Any

from .exceptions import InvalidOptionError, OcrException, PageSelectionError
from .languages import Language, LanguageChoice, parse_languages

__all__ = [
    "RecognitionMode",
    "Toggle",
    "PreprocessOptions",
    "RecognitionOptions",
    "ENGINES",
    "parse_engine",
    "MAX_PAGES_DEFAULT",
    "MAX_PIXELS_DEFAULT",
    "PDF_DPI_DEFAULT",
    "OPTION_NAMES",
    "parse_page_range",
    "EXISTING_TEXT",
]

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
_ENGINE_ALIASES = {
    "pp-ocrv6": "ppocr",
    "ppocrv6": "ppocr",
    "pp-ocr": "ppocr",
    "paddle": "ppocr",
    "paddleocr": "ppocr",
    "tess": "tesseract",
    "": "auto",
    "default": "auto",
}


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
    def parse(cls, value: RecognitionMode | str) -> RecognitionMode:
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
    def parse(cls, value: Toggle | bool | str | None) -> Toggle:
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


#: what ``existing_text`` takes (OCRmyPDF's --skip-text, --force-ocr, --redo-ocr)
EXISTING_TEXT = ("skip", "force", "redo")


def parse_existing_text(value: object) -> str:
    """``existing_text``: ``"skip"``, ``"force"`` or ``"redo"`` (also ``"skip-text"``, ``"force-ocr"``,
    ``"redo-ocr"``, as OCRmyPDF's options are named)."""
    text = str(value).strip().lower().replace("_", "-")
    text = {"skip-text": "skip", "force-ocr": "force", "redo-ocr": "redo"}.get(text, text)
    if text not in EXISTING_TEXT:
        raise InvalidOptionError(
            f"bad existing_text value {value!r}", hint="use skip (skip-text), force (force-ocr) or redo (redo-ocr)"
        )
    return text


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
    # each page's own language, found from a first reading (inkread.autolang); or one, or several: "en+fr"
    language: Language | LanguageChoice = LanguageChoice()
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
    # a PDF page with text of its own: "skip" keeps its text and does not read it, "force" reads its
    # pixels and replaces its text, "redo" reads it again when its text is an earlier OCR layer only
    # (OCRmyPDF's --skip-text, --force-ocr, --redo-ocr)
    existing_text: str = "skip"
    # a handwriting model file read with in place of the shipped one (one inkread train exported);
    # on a service and its client, the name of a model the service registered (serve --model)
    model: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", str(self.model) if self.model else None)
        object.__setattr__(self, "existing_text", parse_existing_text(self.existing_text))
        object.__setattr__(self, "rotate", parse_rotate(self.rotate))
        object.__setattr__(self, "max_pages", _limit(self.max_pages, "max_pages", int))
        if self.time_limit is not None:
            object.__setattr__(self, "time_limit", _limit(self.time_limit, "time_limit", float))
        object.__setattr__(self, "mode", RecognitionMode.parse(self.mode))
        object.__setattr__(self, "engine", parse_engine(self.engine))
        object.__setattr__(self, "language", parse_languages(self.language))
        if self.pages is not None:
            object.__setattr__(self, "pages", tuple(int(p) for p in self.pages))
        if isinstance(self.preprocess, dict):
            object.__setattr__(self, "preprocess", PreprocessOptions(**self.preprocess))

    def updated(self, **changes: Any) -> RecognitionOptions:
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

    @classmethod
    def from_fields(
        cls,
        given: Mapping[str, Any],
        *,
        base: RecognitionOptions | None = None,
        first_page: int = 1,
        most: Mapping[str, int] | None = None,
        where: str = "",
    ) -> RecognitionOptions:
        """Options from loosely typed values, the one parser behind the CLI, the service's form fields
        and ``options`` object, and the Aspose routes: text (``"true"``, ``"300"``, ``"1-3,5"``),
        JSON values or Python ones. A value of None or ``""`` is not given; preprocessing switches come
        by name or in ``preprocess``; ``lang`` and ``dpi`` are ``language`` and ``pdf_dpi``. ``pages``
        are numbered from ``first_page`` (1 for people; 0 in :meth:`to_dict`'s list). ``most`` caps
        whole-number options (``{"pdf_dpi": 600}``). The result is ``base`` (default: the defaults)
        with the given values. A value of the wrong type or out of range raises
        :class:`~inkread.exceptions.InvalidOptionError` (``PageSelectionError`` for pages) naming it,
        prefixed by ``where``; a text that names nothing (``mode="fancy"``) what the options raise."""
        unknown = sorted(str(k) for k in given if k not in OPTION_NAMES)
        if unknown:
            raise InvalidOptionError(
                f"unknown option(s): {', '.join(unknown)}",
                hint="options are: " + ", ".join(sorted(OPTION_NAMES - set(_ALIASES))),
            )
        changes: dict[str, Any] = {}
        # name -> (value, the name it was given under); an alias gives way to the full name
        values = {_ALIASES[k]: (v, k) for k, v in given.items() if not _blank(v) and k in _ALIASES}
        values.update({k: (v, k) for k, v in given.items() if not _blank(v) and k not in _ALIASES})
        pre, _ = values.pop("preprocess", (None, ""))
        if pre is not None:
            if not isinstance(pre, Mapping) or set(pre) - set(_TOGGLES):
                raise InvalidOptionError(f"{where}preprocess takes {', '.join(_TOGGLES)}")
            values = {**{k: (v, k) for k, v in pre.items() if not _blank(v)}, **values}
        for key, (value, called) in values.items():
            name = where + called
            if key == "pages":
                changes[key] = _pages(value, first_page, name)
            elif key in _TOGGLES:
                changes[key] = value if isinstance(value, bool) else _text(value, name)
            elif key in ("mode", "language", "model"):  # a language may be a list too (["en", "fr"])
                listed = key == "language" and isinstance(value, list)
                changes[key] = value if isinstance(value, Enum) or listed else _text(value, name)
            elif key in (
                "engine",
                "rotate",
                "existing_text",
            ):  # any plain value: the options parse it (90, "90", "off")
                changes[key] = _plain(value, name)
            elif key == "time_limit":
                changes[key] = _seconds(value, name)
            elif isinstance(_DEFAULTS[key], bool):
                changes[key] = _bool(value, name)
            elif isinstance(_DEFAULTS[key], int):
                changes[key] = _whole(value, name, 1, (most or {}).get(key, 2**31 - 1))
        # a value of the right type that is still not one (mode="fancy", a language no backend
        # reads) is refused by the options themselves, with the error they have always raised
        return (base or cls()).updated(**changes)

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


def parse_page_range(spec: str) -> list[int]:
    """Parse a human page list like ``"1-3,5"`` into sorted 0-based indices ``[0, 1, 2, 4]``.

    Page numbers are 1-based; ranges are inclusive; spaces are ignored; duplicates are
    merged.  Anything else (``""``, ``"0"``, ``"3-1"``, ``"2-"``, ``"a"``) raises
    :class:`PageSelectionError`.
    """
    if not isinstance(spec, str):
        raise TypeError(f"page range must be a string like '1-3,5', not {type(spec).__name__}")
    limit = 1_000_000
    usage = "use 1-based page numbers and ranges separated by commas, e.g. '1-3,5'"
    selected: set[int] = set()
    parts = spec.split(",")
    if not spec.strip():
        raise PageSelectionError("empty page range", hint=usage)
    for part in parts:
        text = part.strip()
        bounds = [b.strip() for b in text.split("-")]
        if len(bounds) > 2 or not all(b.isdigit() and b.isascii() for b in bounds):
            raise PageSelectionError(f"bad page range {spec!r}: cannot read {text!r}", hint=usage)
        first, last = int(bounds[0]), int(bounds[-1])
        if first < 1:
            raise PageSelectionError(f"bad page range {spec!r}: pages are numbered from 1, not 0", hint=usage)
        if last < first:
            raise PageSelectionError(f"bad page range {spec!r}: {text!r} runs backwards", hint=f"write {last}-{first}")
        if last > limit:
            raise PageSelectionError(f"bad page range {spec!r}: page numbers above {limit:,} are not supported")
        selected.update(range(first - 1, last))
    return sorted(selected)


# ----- from_fields: the checks of one value each ---------------------------------------------

_TOGGLES = tuple(f.name for f in fields(PreprocessOptions))
_ALIASES = {"lang": "language", "dpi": "pdf_dpi"}
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(RecognitionOptions)}
#: every name :meth:`RecognitionOptions.from_fields` takes
OPTION_NAMES = frozenset(_DEFAULTS) | frozenset(_TOGGLES) | frozenset(_ALIASES)
_BOOL_TEXT = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidOptionError(f"{name} must be a string, not {type(value).__name__}")
    return value


def _plain(value: Any, name: str) -> str | int | float | bool:
    if not isinstance(value, (str, int, float, bool)):
        raise InvalidOptionError(f"{name} must be a plain value, not {type(value).__name__}")
    return value


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:
        return _BOOL_TEXT[value.strip().lower()]
    raise InvalidOptionError(f"{name} must be true or false, not {value!r}")


def _whole(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool):
        raise InvalidOptionError(f"{name} must be a whole number")
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise InvalidOptionError(f"{name} must be a whole number, not {value!r}") from None
    if not lo <= number <= hi:
        raise InvalidOptionError(f"{name} must be between {lo} and {hi}, not {number}")
    return number


def _seconds(value: Any, name: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidOptionError(f"{name} must be a number of seconds, not {value!r}") from None
    if not 0 < number < math.inf:
        raise InvalidOptionError(f"{name} must be above 0 and finite")
    return number


_PAGES_HINT = "use 1-based page numbers, e.g. '1-3,5' or [1, 2, 3]"


def _pages(value: Any, first: int, name: str) -> tuple[int, ...]:
    """0-based page indices from a range text (``"1-3,5"``, 1-based), a number or a list of numbers
    counted from ``first``."""
    if isinstance(value, str) and first == 1:
        return tuple(parse_page_range(value))
    if isinstance(value, int) and not isinstance(value, bool) and first == 1:
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(p, int) and not isinstance(p, bool) for p in value):
        if any(p < first or p >= 1_000_000 + first for p in value):
            raise PageSelectionError(f"{name} are numbered from {first}", hint=_PAGES_HINT if first == 1 else None)
        if first == 0:
            return tuple(value)
        if not value:
            raise PageSelectionError(f"bad {name} value {value!r}", hint=_PAGES_HINT)
        return tuple(sorted({p - first for p in value}))
    if first == 0:
        raise PageSelectionError(f"{name} must be a list of 0-based page indices")
    raise PageSelectionError(f"bad {name} value {value!r}", hint=_PAGES_HINT)
