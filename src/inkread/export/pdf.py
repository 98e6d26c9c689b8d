"""Searchable PDF output: :func:`to_pdf_bytes`.

From images, a page per image with the recognised words as an invisible text layer
(:class:`SearchablePdf`, in :mod:`._builder`); from a PDF, the input's own pages kept, each given
what it needs (:mod:`._pdfinput`: a text layer, its own text kept, an OCR layer replaced, turned
upright with ``/Rotate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..result import OcrResult
from ._builder import SearchablePdf, affine_of, upright_to_pdf
from ._common import as_results

__all__ = ["SearchablePdf", "to_pdf_bytes", "affine_of", "upright_to_pdf"]


def to_pdf_bytes(
    results: OcrResult | Iterable[OcrResult],
    images: Any = None,
    *,
    pdf_dpi: float | None = None,
    image_format: str = "jpeg",
    jpeg_quality: int = 85,
    compress: bool = True,
    image_dpi: float | None = None,
) -> bytes:
    """A searchable PDF of ``results`` (one result, or several one after the other).

    ``images`` are the page images the words were read from: ``None`` reloads ``result.source``
    when it is a file; otherwise the file (path, bytes, binary file), one image (numpy array, PIL
    image, :class:`~inkread.io.PageImage`) for a one-page result, or a list with one per page.
    With several results, ``images`` is a list with one such entry per result. An image without a
    resolution of its own becomes a page-sized page (11 inches on its longer side, at least 72 dpi),
    or takes ``image_dpi``.
    """
    from ._pdfinput import text_layer_on_pdf

    docs = as_results(results)
    if len(docs) == 1:
        kept = text_layer_on_pdf(
            docs[0], images, compress=compress, image_format=image_format, jpeg_quality=jpeg_quality
        )
        if kept is not None:
            return kept
    pdf = SearchablePdf(
        image_format=image_format,
        jpeg_quality=jpeg_quality,
        compress=compress,
        title=docs[0].source if len(docs) == 1 and docs[0].source and not docs[0].source.startswith("<") else None,
    )
    if len(docs) == 1:
        pdf.add_result(docs[0], images, pdf_dpi=pdf_dpi, image_dpi=image_dpi)
    else:
        per_doc = [None] * len(docs) if images is None else list(images)
        if len(per_doc) != len(docs):
            raise ValueError(f"got images for {len(per_doc)} result(s), expected {len(docs)}")
        for result, imgs in zip(docs, per_doc):
            pdf.add_result(result, imgs, pdf_dpi=pdf_dpi, image_dpi=image_dpi)
    return pdf.to_bytes()
