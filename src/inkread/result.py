"""The result tree: OcrResult > Page > Paragraph/Line > Word, all coordinates in original-image pixels."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Word", "Line", "Page", "OcrResult"]

Polygon = list[tuple[float, float]]  # clockwise from top-left, original-image pixels


def _short(text: str, limit: int = 40) -> str:
    """``text`` on one line, cut to ``limit`` characters, quoted (for ``repr``)."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")


#: between pages (and between documents) in plain text: a form feed on its own line, as Tesseract writes
PAGE_SEPARATOR = "\n\f\n"


def _poly_json(poly: Polygon) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in poly]


def _poly_from_json(data: Any) -> Polygon:
    return [(float(x), float(y)) for x, y in data]


@dataclass
class Word:
    text: str
    bbox: Polygon
    confidence: float

    def __repr__(self) -> str:
        return f"Word({self.text!r}, confidence={self.confidence:.2f})"

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "bbox": _poly_json(self.bbox), "confidence": round(self.confidence, 4)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Word:
        return cls(text=d["text"], bbox=_poly_from_json(d["bbox"]), confidence=float(d["confidence"]))


@dataclass
class Line:
    text: str
    bbox: Polygon
    confidence: float
    words: list[Word] = field(default_factory=list)
    paragraph: int = 0  # index of the paragraph (block) this line belongs to, in reading order
    column: int = 0
    handwritten: bool | None = None

    def __repr__(self) -> str:
        return (
            f"Line({_short(self.text)}, confidence={self.confidence:.2f}, words={len(self.words)}, "
            f"paragraph={self.paragraph})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "bbox": _poly_json(self.bbox),
            "confidence": round(self.confidence, 4),
            "paragraph": self.paragraph,
            "column": self.column,
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Line:
        return cls(
            text=d["text"],
            bbox=_poly_from_json(d["bbox"]),
            confidence=float(d["confidence"]),
            words=[Word.from_dict(w) for w in d.get("words", [])],
            paragraph=int(d.get("paragraph", 0)),
            column=int(d.get("column", 0)),
        )


@dataclass
class Page:
    index: int
    width: int
    height: int
    lines: list[Line] = field(default_factory=list)
    mode: str = "auto"  # the mode actually used for this page (AUTO resolved)
    angle: float = 0.0  # skew the engine found and removed (degrees)
    rotation: int = 0  # clockwise quarter turns (0, 90, 180, 270) that made the page upright
    unread: list[Polygon] = field(default_factory=list)  # text regions found but not readable
    text_source: str = "ocr"  # "ocr": read from the pixels; "pdf": a PDF page's own text, kept (not read)
    language: str = ""  # the language it was read in ("fr"; "en+fr"): with language "auto", the one found

    def __repr__(self) -> str:
        extra = f", rotation={self.rotation}" if self.rotation else ""
        extra += f", text_source={self.text_source!r}" if self.text_source != "ocr" else ""
        return (
            f"Page(index={self.index}, size={self.width}x{self.height}, mode={self.mode!r}, "
            f"lines={len(self.lines)}{extra}, text={_short(self.text)})"
        )

    @property
    def paragraphs(self) -> list[list[Line]]:
        groups: dict[int, list[Line]] = {}
        for line in self.lines:
            groups.setdefault(line.paragraph, []).append(line)
        return [groups[k] for k in sorted(groups)]

    @property
    def text(self) -> str:
        """One line per written line, a blank line between paragraphs."""
        return "\n\n".join("\n".join(l.text for l in para) for para in self.paragraphs)

    @property
    def confidence(self) -> float:
        return mean_confidence(self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "width": self.width,
            "height": self.height,
            "mode": self.mode,
            "angle": round(self.angle, 2),
            "rotation": self.rotation,
            "unread": [_poly_json(p) for p in self.unread],
            **({"text_source": self.text_source} if self.text_source != "ocr" else {}),
            **({"language": self.language} if self.language else {}),
            "text": self.text,
            "confidence": mean_confidence(self.lines, 4),
            "lines": [l.to_dict() for l in self.lines],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Page:
        return cls(
            index=int(d["index"]),
            width=int(d["width"]),
            height=int(d["height"]),
            lines=[Line.from_dict(l) for l in d.get("lines", [])],
            mode=d.get("mode", "auto"),
            angle=float(d.get("angle", 0.0)),
            rotation=int(d.get("rotation", 0)),
            unread=[_poly_from_json(p) for p in d.get("unread", [])],
            text_source=d.get("text_source", "ocr"),
            language=d.get("language", ""),
        )


def mean_confidence(lines: list[Line], digits: int | None = None) -> float:
    """Character-weighted mean confidence; 0.0 when nothing was read. With ``digits``, the mean as
    stored: of the lines' confidences rounded as they are stored, rounded likewise, so that a result
    read back from its dict stores the same figure again."""
    total = sum(len(l.text) for l in lines)
    if total == 0:
        return 0.0
    if digits is None:
        return sum(l.confidence * len(l.text) for l in lines) / total
    return round(sum(round(l.confidence, digits) * len(l.text) for l in lines) / total, digits)


@dataclass
class OcrResult:
    pages: list[Page]
    language: str
    mode: str
    source: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The whole document: pages separated by a form feed line, like Tesseract's output."""
        return (
            PAGE_SEPARATOR.join(p.text for p in self.pages)
            if len(self.pages) > 1
            else (self.pages[0].text if self.pages else "")
        )

    @property
    def lines(self) -> list[Line]:
        return [l for p in self.pages for l in p.lines]

    @property
    def confidence(self) -> float:
        return mean_confidence(self.lines)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        """One short line (``print(result)`` gives the text; ``.pages``, ``.to_dict()`` the rest)."""
        return (
            f"OcrResult(source={self.source!r}, language={self.language!r}, mode={self.mode!r}, "
            f"pages={len(self.pages)}, lines={len(self.lines)}, confidence={self.confidence:.2f}, "
            f"text={_short(self.text)})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "language": self.language,
            "mode": self.mode,
            "text": self.text,
            "confidence": mean_confidence(self.lines, 4),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "pages": [p.to_dict() for p in self.pages],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OcrResult:
        return cls(
            pages=[Page.from_dict(p) for p in d.get("pages", [])],
            language=d.get("language", ""),
            mode=d.get("mode", ""),
            source=d.get("source", ""),
            timings={k: float(v) for k, v in d.get("timings", {}).items()},
        )

    # ----- output formats (written by inkread.export, which registers its writers here) --------
    def save(self, path: Any, format: str | None = None, *, images: Any = None, **options: Any) -> Any:
        """Write to ``path`` as text, json, hocr, alto, pdf or md (default: from the suffix:
        .txt .json .hocr/.html .xml/.alto .pdf .md). A PDF needs the page images: ``images=`` the
        file, one image, or one per page; by default ``self.source`` is read again. Returns the path."""
        return _writer("save")(self, path, format, images=images, **options)

    def to_text(self) -> str:
        """The plain text (same as :attr:`text`)."""
        return self.text

    def to_hocr(self) -> str:
        """hOCR (XHTML): ocr_page > ocr_carea > ocr_par > ocr_line > ocrx_word, pixel bboxes."""
        return _writer("hocr")(self)

    def to_alto(self) -> str:
        """ALTO XML v4 (validates against ``inkread/export/schemas/alto-4-3.xsd``)."""
        return _writer("alto")(self)

    def to_markdown(self) -> str:
        """Markdown: paragraphs, bullet/numbered lists, ``- [ ]`` / ``- [x]`` checkboxes."""
        return _writer("markdown")(self)

    def to_pdf_bytes(self, images: Any = None, **options: Any) -> bytes:
        """A searchable PDF: the page images with an invisible text layer (see ``save``)."""
        return _writer("pdf_bytes")(self, images, **options)

    def render_overlay(self, path: Any = None, *, images: Any = None, page: int | None = None, **options: Any) -> Any:
        """The page image with each line's polygon and text drawn, for checking by eye.

        Returns a PIL image (``page=`` picks one page, 0-based position in :attr:`pages`; default
        the first), or saves every page when ``path`` is given (``out.png``, or ``out-1.png``,
        ``out-2.png`` ... for several pages) and returns the list of images."""
        overlays = _writer("overlays")
        if path is not None and page is None:
            return overlays(self, path, images=images, **options)
        one = OcrResult(pages=[self.pages[page or 0]], language=self.language, mode=self.mode, source=self.source)
        if images is not None and isinstance(images, (list, tuple)) and len(images) == len(self.pages):
            images = [images[page or 0]]
        image = overlays(one, None, images=images, **options)[0]
        if path is not None:
            image.save(path)
        return image


# The writers behind OcrResult.save/to_hocr/...: inkread.export registers them when it is imported
# (inkread's package imports it), so the result tree does not depend on its exporters; they depend
# on it.
_WRITERS: dict[str, Callable[..., Any]] = {}


def register_writers(**writers: Callable[..., Any]) -> None:
    """Make ``writers`` (``save``, ``hocr``, ``alto``, ``markdown``, ``pdf_bytes``, ``overlays``)
    the ones :class:`OcrResult`'s methods call."""
    _WRITERS.update(writers)


def _writer(name: str) -> Callable[..., Any]:
    return _WRITERS[name]  # inkread/__init__ imports inkread.export, which registers every writer
