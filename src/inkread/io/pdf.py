"""PDF pages rendered with PDFium (pypdfium2) at a given resolution, one at a time, under one lock
(PDFium is not thread-safe)."""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from ..exceptions import (
    CorruptInputError,
    EmptyInputError,
    EncryptedPdfError,
    ImageTooLargeError,
    InputError,
    MissingDependencyError,
)
from .page import PageImage, PdfPageText, _Document


class _PdfDocument(_Document):
    def __init__(self, data: str | bytes, source: str, pdf_dpi: float) -> None:
        try:
            import pypdfium2 as pdfium
            import pypdfium2.raw as pdfium_c
        except ImportError as exc:  # pragma: no cover - it is a declared dependency
            raise MissingDependencyError(
                "reading PDF files needs the pypdfium2 package", hint="pip install pypdfium2"
            ) from exc
        self.pdfium = pdfium
        self.source = source
        self.format = "pdf"
        self.pdf_dpi = pdf_dpi
        self.pdf: Any = None
        _PDFIUM_LOCK.acquire()  # PDFium is not thread-safe, not even across documents
        self._locked = True
        try:
            try:
                self.pdf = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as exc:
                raise _pdf_open_error(exc, source, pdfium_c) from exc
            try:
                self.pdf.init_forms()  # so filled-in form fields show up in the render
            except pdfium.PdfiumError:
                pass
        except BaseException:
            self.close()
            raise

    def page_count(self) -> int:
        return len(self.pdf)

    def render(self, indices: list[int], max_pixels: int) -> list[PageImage]:
        scale = self.pdf_dpi / 72.0
        pages: list[PageImage] = []
        for index in indices:
            where = f" (page {index + 1})"
            page = bitmap = None
            try:
                page = self.pdf[index]
                width_pt, height_pt = page.get_size()
                width, height = math.ceil(width_pt * scale), math.ceil(height_pt * scale)
                if width < 1 or height < 1:
                    raise CorruptInputError(f"{self.source}{where} has an empty page box ({width_pt}x{height_pt} pt)")
                if width * height > max_pixels:
                    fit = int(self.pdf_dpi * math.sqrt(max_pixels / (width * height)))
                    raise ImageTooLargeError(
                        f"{self.source}{where} would render at {self.pdf_dpi:g} dpi to "
                        f"{width}x{height} = {width * height:,} pixels, over the limit of "
                        f"{max_pixels:,} (max_pixels)",
                        hint=f"pass a lower pdf_dpi (at most {max(fit, 1)}) or a larger max_pixels",
                    )
                bitmap = page.render(scale=scale, rev_byteorder=True, may_draw_forms=True)
                array = np.array(bitmap.to_numpy()[:, :, :3], dtype=np.uint8, order="C")
            except self.pdfium.PdfiumError as exc:
                raise CorruptInputError(
                    f"{self.source}{where} could not be rendered: {exc}",
                    hint="the PDF is damaged; try repairing it (e.g. qpdf in.pdf out.pdf)",
                ) from exc
            finally:
                if bitmap is not None:
                    bitmap.close()
                if page is not None:
                    page.close()
            pages.append(PageImage(array, index, self.source, float(self.pdf_dpi), "pdf"))
        return pages

    def page_text(self, index: int) -> PdfPageText:
        """Page ``index``'s own text (see :class:`PdfPageText`), without rendering it."""
        page = textpage = None
        try:
            page = self.pdf[index]
            scale = self.pdf_dpi / 72.0
            width_pt, height_pt = page.get_size()  # as shown: /Rotate applied
            width, height = math.ceil(width_pt * scale), math.ceil(height_pt * scale)
            textpage = page.get_textpage()
            kind = text_kind(page, textpage, self.pdfium)
            lines = []
            if kind != "none":
                to_pixels = _user_to_pixels(page, scale)
                for i in range(textpage.count_rects()):
                    left, bottom, right, top = textpage.get_rect(i)
                    text = " ".join(textpage.get_text_bounded(left, bottom, right, top).split())
                    if text:
                        (x0, y0), (x1, y1) = to_pixels(left, top), to_pixels(right, bottom)
                        lines.append((text, (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))))
        except self.pdfium.PdfiumError as exc:
            raise CorruptInputError(f"{self.source} (page {index + 1}): its text could not be read: {exc}") from exc
        finally:
            if textpage is not None:
                textpage.close()
            if page is not None:
                page.close()
        return PdfPageText(index, self.source, width, height, float(self.pdf_dpi), kind, tuple(lines))

    def close(self) -> None:
        try:
            if self.pdf is not None:
                self.pdf.close()
                self.pdf = None
        finally:
            if self._locked:
                self._locked = False
                _PDFIUM_LOCK.release()


_PDFIUM_LOCK = threading.RLock()


def text_kind(page: Any, textpage: Any, pdfium: Any) -> str:
    """``"visible"`` when a PDF page (pypdfium2) draws text that shows, ``"invisible"`` when all its
    text is drawn in render mode 3 (an OCR layer, inkread's or another tool's), else ``"none"``."""
    import pypdfium2.raw as pdfium_c

    if not textpage.get_text_range().strip():
        return "none"
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_TEXT,)):
        if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
            return "visible"
    return "invisible"


def _user_to_pixels(page: Any, scale: float) -> Any:
    """A function from a page's user space (points) to the pixels of its render at ``scale``
    (the crop box's top-left corner, as shown: /Rotate applied, at 0, 0)."""
    left, bottom, right, top = page.get_cropbox()
    rotation = page.get_rotation() % 360

    def to_pixels(x: float, y: float) -> tuple[float, float]:
        if rotation == 90:
            dx, dy = y - bottom, x - left
        elif rotation == 180:
            dx, dy = right - x, y - bottom
        elif rotation == 270:
            dx, dy = top - y, right - x
        else:
            dx, dy = x - left, top - y
        return dx * scale, dy * scale

    return to_pixels


def _pdf_open_error(exc: Exception, source: str, pdfium_c: Any) -> InputError:
    code = getattr(exc, "err_code", None)
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return EncryptedPdfError(
            f"{source} is a password-protected (encrypted) PDF",
            hint="decrypt it first, e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf",
        )
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return EncryptedPdfError(
            f"{source} is encrypted with a security handler PDFium does not support",
            hint="decrypt it first, e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf",
        )
    if code == pdfium_c.FPDF_ERR_SUCCESS:
        return EmptyInputError(f"{source} is a PDF with no pages")
    return CorruptInputError(
        f"{source} is a damaged PDF that PDFium cannot open ({exc})",
        hint="try repairing it (e.g. qpdf in.pdf out.pdf) or re-export it",
    )
