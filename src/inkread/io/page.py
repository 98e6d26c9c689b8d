"""A page ready for OCR (:class:`PageImage`) and what every kind of document gives: a page count and
pages rendered on demand (``_Document``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class PageImage:
    """One page, ready for OCR.

    ``eq=False``: pages compare (and hash) by identity, as numpy arrays have no single
    truth value.
    """

    image: np.ndarray  # H x W x 3, uint8, RGB, EXIF orientation already applied
    index: int  # 0-based page index within the source document
    source: str  # the file path, or "<bytes>", "<PIL.Image>", "<ndarray>", "<stream>"
    dpi: float | None  # resolution if known (EXIF/JFIF/PNG/TIFF, PDF render dpi), else None
    format: str  # "jpeg","png","bmp","tiff","gif","webp","heif","pdf","array","pil"

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    def __repr__(self) -> str:
        return (
            f"PageImage(source={self.source!r}, index={self.index}, format={self.format!r}, "
            f"size={self.width}x{self.height}, dpi={self.dpi})"
        )


@dataclass(frozen=True)
class PdfPageText:
    """A PDF page's own text, read from the PDF instead of its pixels (a born-digital page or an
    earlier OCR layer): ``kind`` is ``"visible"`` (text drawn on the page), ``"invisible"`` (only
    text drawn in render mode 3: an OCR layer) or ``"none"``; ``lines`` are the page's text lines
    with their boxes, ``(text, (x0, y0, x1, y1))`` in the pixels of the page rendered at ``dpi``
    (``width`` x ``height``), in the order the PDF draws them."""

    index: int
    source: str
    width: int
    height: int
    dpi: float
    kind: str
    lines: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()


class _Document:
    source: str
    format: str

    def page_count(self) -> int:
        raise NotImplementedError

    def render(self, indices: list[int], max_pixels: int) -> list[PageImage]:
        raise NotImplementedError

    def close(self) -> None:
        pass
