"""Finding the page images again for the outputs that show them (searchable PDF, overlay)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ..options import PDF_DPI_DEFAULT
from ..result import OcrResult, Page

__all__ = ["PageRaster", "iter_page_images", "DEFAULT_DPI", "assumed_dpi"]

#: Resolution of a PDF page render when none is given.
DEFAULT_DPI = float(PDF_DPI_DEFAULT)
#: An image that does not say its resolution becomes a page this many inches on its longer side
#: (a Letter or A4 page), at no less than MIN_DPI: a phone photo is a page, not a 13-inch poster or a
#: 1.8-inch stamp (a 540x417 photo at an assumed 300 dpi was).
PAGE_INCHES = 11.0
MIN_DPI = 72.0


def assumed_dpi(image: np.ndarray, image_dpi: float | None = None) -> float:
    """The resolution of ``image`` in the PDF when it has none of its own: ``image_dpi``, else the
    one that makes it a page (:data:`PAGE_INCHES` on its longer side, at least :data:`MIN_DPI`)."""
    if image_dpi:
        return float(image_dpi)
    return max(MIN_DPI, max(image.shape[:2]) / PAGE_INCHES)


@dataclass
class PageRaster:
    image: np.ndarray  # H x W x 3 uint8 RGB (or H x W gray)
    dpi: float  # pixels per inch of ``image``


def _check_fit(page: Page, arr: np.ndarray, what: str) -> None:
    h, w = arr.shape[:2]
    if not (page.width and page.height and w and h):
        return
    if abs((w / h) / (page.width / page.height) - 1.0) > 0.02:
        raise ValueError(
            f"{what} is {w}x{h} pixels but page {page.index + 1} was recognised at "
            f"{page.width}x{page.height}: not the same page image"
        )


def _to_array(image: Any) -> np.ndarray:
    if isinstance(image, Image.Image):
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        return np.asarray(image)
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise TypeError(f"page images must be uint8 arrays, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3):
        raise TypeError(f"a page image must be H x W or H x W x 3, got shape {arr.shape}")
    return arr


def _pil_dpi(image: Image.Image) -> float | None:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else None
    except (TypeError, ValueError, IndexError):
        return None
    if value is None or value < 10:
        return None
    return round(value) if abs(value - round(value)) < 0.01 else value


def _from_item(item: Any, page: Page, pdf_dpi: float | None, image_dpi: float | None = None) -> PageRaster:
    from ..io import PageImage

    if isinstance(item, PageRaster):
        return item
    if isinstance(item, PageImage):
        return PageRaster(item.image, float(item.dpi or assumed_dpi(item.image, image_dpi)))
    if isinstance(item, Image.Image):
        arr = _to_array(item)
        return PageRaster(arr, float(_pil_dpi(item) or assumed_dpi(arr, image_dpi)))
    if isinstance(item, np.ndarray):
        arr = _to_array(item)
        return PageRaster(arr, assumed_dpi(arr, image_dpi))
    # a path / bytes of a single-page image (or the page of a document with the same index)
    return _load(item, page, pdf_dpi, image_dpi)


def _load(source: Any, page: Page, pdf_dpi: float | None, image_dpi: float | None = None) -> PageRaster:
    from .. import io as inkio

    limit = max(inkio.MAX_PIXELS_DEFAULT, 4 * page.width * page.height)
    dpi: Any = float(pdf_dpi or DEFAULT_DPI)  # load_pages takes any positive dpi, not only int
    loaded = inkio.load_pages(source, pages=[page.index], max_pixels=limit, pdf_dpi=dpi)[0]
    if loaded.format == "pdf" and page.width and loaded.width != page.width and pdf_dpi is None:
        # recognised at another --dpi: render again at the resolution that gives the page's size
        dpi = dpi * page.width / loaded.width
        loaded = inkio.load_pages(source, pages=[page.index], max_pixels=limit, pdf_dpi=dpi)[0]
    return PageRaster(loaded.image, float(loaded.dpi or assumed_dpi(loaded.image, image_dpi)))


def iter_page_images(
    result: OcrResult, images: Any = None, *, pdf_dpi: float | None = None, image_dpi: float | None = None
) -> Iterator[tuple[Page, PageRaster]]:
    """``(page, raster)`` for each page of ``result``, loading one page at a time.

    ``images`` may be: ``None`` (reload ``result.source`` when it is a file path); a path, bytes or
    binary file of the recognised document (each page is loaded again by its index; PDF pages at
    ``pdf_dpi``, or at the resolution that reproduces the recognised page size); one image (numpy
    array, PIL image or :class:`~inkread.io.PageImage`) for a one-page result; or a sequence with
    one such image (or path) per page. An image without a resolution of its own is placed at
    ``image_dpi``, else at the one that makes it a page (:func:`assumed_dpi`).
    """
    from ..io import PageImage

    pages = result.pages
    if images is None:
        src = result.source
        if src and not src.startswith("<") and os.path.isfile(src):
            images = src
        else:
            raise ValueError(
                "this output needs the page images: pass images=<the file, or one image per page> "
                f"(the result's source {src!r} is not a file that can be read again)"
            )
    single = isinstance(images, (np.ndarray, Image.Image, PageImage, PageRaster))
    if single or (isinstance(images, Sequence) and not isinstance(images, (str, bytes, bytearray))):
        items = [images] if single else list(images)
        if len(items) != len(pages):
            raise ValueError(f"got {len(items)} page image(s) for {len(pages)} page(s)")
        for page, item in zip(pages, items):
            raster = _from_item(item, page, pdf_dpi, image_dpi)
            _check_fit(page, raster.image, f"the image for page {page.index + 1}")
            yield page, raster
        return
    if hasattr(images, "read"):  # a file object: read it once, load each page from the bytes
        images = images.read()
    if isinstance(images, bytearray):
        images = bytes(images)
    for page in pages:
        raster = _load(images, page, pdf_dpi, image_dpi)
        _check_fit(page, raster.image, f"page {page.index + 1} of {_name(images)}")
        yield page, raster


def _name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return "<bytes>" if isinstance(source, bytes) else type(source).__name__
