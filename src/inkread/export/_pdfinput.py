"""A searchable PDF made from a PDF: the input's own pages kept as they are, each with what it needs.

Per page read (``result.pages``), by what the page has of its own (PDFium) and how its text was got
(``Page.text_source``, set by ``RecognitionOptions.existing_text``):

- text kept from the PDF (``text_source == "pdf"``, ``--skip-text``): the page as it is;
- no text of its own: the recognised words laid over it as an invisible layer (as OCRmyPDF does);
- only an earlier invisible OCR layer (``--redo-ocr``, ``--force-ocr``): that layer's text removed
  (render mode 3 text in the page and its forms), the new one laid over it;
- visible text that was read again (``--force-ocr``): the page rasterised, with the new layer;
- a page read turned (``Page.rotation``) is turned upright with ``/Rotate``, its layer with it.

pikepdf (qpdf), not pypdfium2, writes it: it copies the input's objects untouched and lays one page
over another as a form XObject (``Page.add_overlay``, which undoes the page's own ``/Rotate``, so
the layer is built as the page is shown: the pixels the words were read from).
"""

from __future__ import annotations

import io
import os
from typing import Any

from ..result import OcrResult, Page
from ._builder import SearchablePdf

__all__ = ["text_layer_on_pdf", "strip_invisible_text"]


def _pdf_source(result: OcrResult, images: Any) -> Any:
    """The PDF ``result`` was read from (a path or bytes), or ``None``."""
    source = (
        images
        if images is not None
        else (result.source if result.source and not result.source.startswith("<") else None)
    )
    if isinstance(source, (bytes, bytearray)):
        return bytes(source) if bytes(source[:1024]).lstrip().find(b"%PDF-") >= 0 else None
    if isinstance(source, (str, os.PathLike)) and os.path.isfile(source):
        with open(source, "rb") as fh:
            return os.fspath(source) if b"%PDF-" in fh.read(1024) else None
    return None


def _text_kinds(source: Any, indices: list[int]) -> dict[int, str]:
    import pypdfium2 as pdfium

    from ..io.pdf import _PDFIUM_LOCK, text_kind

    with _PDFIUM_LOCK:
        doc = pdfium.PdfDocument(source)
        try:
            kinds = {}
            for i in indices:
                page = doc[i]
                textpage = page.get_textpage()
                kinds[i] = text_kind(page, textpage, pdfium)
                textpage.close()
                page.close()
            return kinds
        finally:
            doc.close()


def strip_invisible_text(pdf: Any, page: Any) -> None:
    """Remove the text a page (pikepdf) draws in render mode 3 (an OCR layer), in its content and in
    the form XObjects it draws, leaving everything else as it is."""
    import pikepdf

    done: set[tuple[int, int]] = set()

    def clean(instructions: list[Any]) -> bytes:
        out: list[Any] = []
        mode, saved = 0, []
        for operands, operator in instructions:
            op = str(operator)
            if op == "q":
                saved.append(mode)
            elif op == "Q":
                mode = saved.pop() if saved else 0
            elif op == "Tr" and operands:
                mode = int(operands[0])
            elif op in ("Tj", "TJ", "'", '"') and mode == 3:
                if op in ("'", '"'):
                    out.append(([], pikepdf.Operator("T*")))  # keep the move to the next line
                continue
            out.append((operands, operator))
        return pikepdf.unparse_content_stream(out)

    def forms(resources: Any) -> None:
        xobjects = resources.get("/XObject") if resources is not None else None
        if xobjects is None:
            return
        for _, xobj in xobjects.items():
            if xobj.get("/Subtype") != "/Form" or not xobj.is_indirect or xobj.objgen in done:
                continue
            done.add(xobj.objgen)
            xobj.write(clean(pikepdf.parse_content_stream(xobj)))
            forms(xobj.get("/Resources"))

    page.obj.Contents = pdf.make_stream(clean(pikepdf.parse_content_stream(page)))
    forms(page.obj.get("/Resources"))


def text_layer_on_pdf(
    result: OcrResult, images: Any = None, *, compress: bool = True, image_format: str = "jpeg", jpeg_quality: int = 85
) -> bytes | None:
    """The PDF ``result`` was read from, each page read kept as the module docstring says, pages not
    read left out. ``None`` when the source is not a PDF or pikepdf is not installed: the caller then
    writes the page images."""
    source = _pdf_source(result, images)
    if source is None:
        return None
    try:
        import pikepdf
    except ImportError:
        return None
    from ._images import _load

    with pikepdf.open(io.BytesIO(source) if isinstance(source, bytes) else source) as pdf:
        if any(p.index >= len(pdf.pages) for p in result.pages):
            return None
        kinds = _text_kinds(source, [p.index for p in result.pages])
        layer = SearchablePdf(compress=compress)
        rasters = SearchablePdf(compress=compress, image_format=image_format, jpeg_quality=jpeg_quality)
        plan: list[tuple[Page, str, list[float], int]] = []
        for page in result.pages:
            target = pdf.pages[page.index]
            box = [float(v) for v in target.cropbox]
            shown = int(target.obj.get("/Rotate", 0)) % 360
            kind = kinds[page.index]
            if page.text_source == "pdf":
                action = "keep"
            elif kind == "visible":
                action = "raster"
                rasters.add_page(page, _load(source, page, None))
            else:
                action = "strip" if kind == "invisible" else "overlay"
                width, height = box[2] - box[0], box[3] - box[1]
                if shown in (90, 270):
                    width, height = height, width
                layer.add_text_page(page, width, height)
            plan.append((page, action, box, shown))
        with (
            pikepdf.open(io.BytesIO(layer.to_bytes())) as text,
            pikepdf.open(io.BytesIO(rasters.to_bytes())) as raster_pdf,
        ):
            n_text = n_raster = 0
            for page, action, box, shown in plan:
                if action == "raster":
                    pdf.pages.insert(page.index, raster_pdf.pages[n_raster])
                    del pdf.pages[page.index + 1]
                    n_raster += 1
                    continue
                if action == "keep":
                    continue
                target = pdf.pages[page.index]
                if action == "strip":
                    strip_invisible_text(pdf, target)
                if page.lines:
                    target.add_overlay(text.pages[n_text], pikepdf.Rectangle(*box))
                n_text += 1
                if page.rotation % 360:  # upright, as it was read
                    target.obj.Rotate = (shown + page.rotation) % 360
            keep = {p.index for p in result.pages}
            for i in reversed(range(len(pdf.pages))):
                if i not in keep:
                    del pdf.pages[i]
            out = io.BytesIO()
            pdf.save(out)
    return out.getvalue()
