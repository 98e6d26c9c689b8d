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
from .page import PageImage, _Document


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
                    raise CorruptInputError(
                        f"{self.source}{where} has an empty page box ({width_pt}x{height_pt} pt)"
                    )
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
