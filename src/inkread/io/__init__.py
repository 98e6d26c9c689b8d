"""Turn whatever a user hands us into page images.

Every input ends up as a list of :class:`PageImage`: an ``H x W x 3`` ``uint8`` RGB array with
EXIF orientation applied, plus where it came from.  Accepted sources:

* a path (``str`` / ``os.PathLike``),
* ``bytes`` / ``bytearray`` / ``memoryview`` holding a file's content,
* a binary file object (anything with ``.read``),
* a ``PIL.Image.Image``,
* a numpy array (``HxW`` gray, ``HxWx1``, ``HxWx2`` gray+alpha, ``HxWx3`` RGB, ``HxWx4`` RGBA).

The format is found from the content (magic bytes), never from the file name.  Supported:
JPEG, PNG, BMP, TIFF (every page), GIF (every frame), WebP (every frame of an animation),
HEIC/HEIF/AVIF, and PDF (every page rendered with PDFium at ``pdf_dpi``).

Nothing here writes to the user's file: files are opened read-only and closed again.
"""

from __future__ import annotations

import contextlib
import io
import math
import operator
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from PIL import Image

from ..exceptions import EmptyInputError, ImageTooLargeError, InputError, PageSelectionError, TooManyPagesError
from ..options import MAX_PIXELS_DEFAULT, PDF_DPI_DEFAULT, parse_page_range
from .formats import _HEAD_SIZE, MAX_STREAM_BYTES, SUPPORTED_FORMATS, _unsupported, detect_format
from .images import _ArrayDocument, _open_image, _PilDocument
from .page import PageImage, PdfPageText, _Document
from .pdf import _PdfDocument

__all__ = [
    "PageImage",
    "PdfPageText",
    "MAX_PIXELS_DEFAULT",
    "SUPPORTED_FORMATS",
    "detect_format",
    "load_pages",
    "iter_pages",
    "count_pages",
    "parse_page_range",
    "check_page_count",
]


# --------------------------------------------------------------------------------------
# Page selection


def _select_pages(pages: Iterable[int] | None, count: int, source: str) -> list[int]:
    """Validate ``pages`` (0-based) against ``count``; return sorted unique indices."""
    if pages is None:
        return list(range(count))
    if isinstance(pages, (str, bytes)):
        raise TypeError(
            "pages must be a sequence of 0-based page indices; "
            "use parse_page_range('1-3,5') to turn a page range string into one"
        )
    try:
        requested = list(pages)
        if any(isinstance(p, bool) for p in requested):
            raise TypeError("bool is not a page index")
        wanted = {operator.index(p) for p in requested}
    except TypeError:
        raise TypeError(f"pages must be a sequence of int page indices, got {pages!r}") from None
    if not wanted:
        raise PageSelectionError(f"no pages selected from {source}", hint="pass pages=None for all")
    bad = sorted(p for p in wanted if not 0 <= p < count)
    if bad:
        plural = "page" if count == 1 else "pages"
        # Say it in page numbers (1-based, as the CLI's --pages takes them), with the index too.
        shown = ", ".join(f"{p + 1}" if p >= 0 else str(p) for p in bad[:5]) + (", ..." if len(bad) > 5 else "")
        what = f"page {shown} does" if len(bad) == 1 else f"pages {shown} do"
        raise PageSelectionError(
            f"{source} has {count} {plural} (1..{count}); {what} not exist",
            hint=f"Python's pages= takes 0-based indices 0..{count - 1}; --pages takes numbers 1..{count}",
        )
    return sorted(wanted)


# --------------------------------------------------------------------------------------
# Opening a source


def _open_bytes(data: bytes, source: str, pdf_dpi: float) -> _Document:
    if not data:
        raise EmptyInputError(f"{source} is empty (0 bytes)")
    fmt = detect_format(data[:_HEAD_SIZE])
    if fmt is None:
        raise _unsupported(source, data[:_HEAD_SIZE])
    if fmt == "pdf":
        return _PdfDocument(data, source, pdf_dpi)
    return _open_image(io.BytesIO(data), fmt, source)


@contextlib.contextmanager
def _open_source(source: Any, pdf_dpi: float, label: str | None = None) -> Iterator[_Document]:
    doc: _Document
    with contextlib.ExitStack() as stack:
        if isinstance(source, Image.Image):
            doc = _PilDocument(source, "<PIL.Image>", "pil", owned=False)
        elif isinstance(source, np.ndarray):
            doc = _ArrayDocument(source)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            data = source.tobytes() if isinstance(source, memoryview) else bytes(source)
            doc = _open_bytes(data, label or "<bytes>", pdf_dpi)
        elif isinstance(source, (str, os.PathLike)):
            doc = _open_path(source, pdf_dpi, stack)
        elif hasattr(source, "read"):
            doc = _open_bytes(_stream_bytes(source), "<stream>", pdf_dpi)
        elif hasattr(source, "__array_interface__") or hasattr(source, "__array__"):
            doc = _ArrayDocument(np.asarray(source))
        else:
            raise TypeError(
                "cannot load pages from a "
                f"{type(source).__name__}: pass a path, bytes, a binary file object, "
                "a PIL image or a numpy array"
            )
        stack.callback(doc.close)
        yield doc


def _stream_bytes(source: Any) -> bytes:
    data = source.read(MAX_STREAM_BYTES + 1)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("file object must be opened in binary mode ('rb')")
    if len(data) > MAX_STREAM_BYTES:
        raise ImageTooLargeError(
            f"the stream holds more than {MAX_STREAM_BYTES:,} bytes", hint="save it to a file and pass the path"
        )
    return bytes(data)


def _open_path(path: Any, pdf_dpi: float, stack: contextlib.ExitStack) -> _Document:
    name = os.fsdecode(os.fspath(path))
    try:
        st = os.stat(name)
    except FileNotFoundError:
        message = "No such file or directory"
        if name.startswith(("http://", "https://")):
            message += " (URLs are not fetched: download the file first)"
        raise FileNotFoundError(2, message, name) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(
            f"{name} is a directory, not a file",
            hint="pass one image or PDF file; to read a folder, loop over its files",
        )
    if not stat.S_ISREG(st.st_mode):
        # /dev/zero never ends and a FIFO nobody writes to never answers: neither is read
        what = "a named pipe" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device"
        raise InputError(
            f"{name} is {what}, not a regular file", hint="save what it holds to a file and pass that file"
        )
    if st.st_size == 0:
        raise EmptyInputError(f"{name} is empty (0 bytes)")
    fh = stack.enter_context(open(name, "rb"))
    head = fh.read(_HEAD_SIZE)
    if not head:
        raise EmptyInputError(f"{name} is empty (0 bytes)")
    fmt = detect_format(head)
    if fmt is None:
        raise _unsupported(name, head)
    if fmt == "pdf":
        fh.close()
        return _PdfDocument(name, name, pdf_dpi)  # PDFium opens the file read-only itself
    fh.seek(0)
    return _open_image(fh, fmt, name)


# --------------------------------------------------------------------------------------
# Public entry points


def load_pages(
    source: Any,
    *,
    pages: Sequence[int] | None = None,
    max_pixels: int = MAX_PIXELS_DEFAULT,
    pdf_dpi: int = PDF_DPI_DEFAULT,
) -> list[PageImage]:
    """Load ``source`` into one :class:`PageImage` per page.

    ``pages`` picks 0-based page indices (returned in ascending order, duplicates merged);
    ``None`` means every page.  Only the chosen pages are decoded or rendered.  Each page is
    checked against ``max_pixels`` from its header before any pixel is decoded; PDF pages are
    rendered at ``pdf_dpi``.

    Raises ``FileNotFoundError`` for a missing path and an :class:`~inkread.exceptions.InputError`
    subclass for any input that cannot become page images.
    """
    max_pixels = _positive(max_pixels, "max_pixels")
    pdf_dpi = _positive(pdf_dpi, "pdf_dpi")
    with _open_source(source, pdf_dpi) as doc:
        indices = _select_pages(pages, doc.page_count(), doc.source)
        return doc.render(indices, int(max_pixels))


def check_page_count(count: int, max_pages: int | None, source: str) -> None:
    """:class:`TooManyPagesError` when ``count`` pages to read exceed ``max_pages`` (None: no limit);
    the one check behind :func:`iter_pages` and the batch's page counting."""
    if max_pages is not None and count > max_pages:
        raise TooManyPagesError(
            f"{source}: {count:,} pages to read, more than {max_pages:,} (max_pages)",
            hint="choose pages, split the document, or pass a larger max_pages (--max-pages)",
        )


def iter_pages(
    source: Any,
    *,
    pages: Sequence[int] | None = None,
    max_pixels: int = MAX_PIXELS_DEFAULT,
    pdf_dpi: int = PDF_DPI_DEFAULT,
    max_pages: int | None = None,
    existing_text: str = "force",
) -> Iterator[PageImage | PdfPageText]:
    """:func:`load_pages`, one page at a time: only the page being read is held, so a 1,000-page PDF
    costs one page's pixels, not a thousand pages' (rendered all first, 80 blank pages took 3 GB).

    The pages asked for are checked before the first is yielded, their number against ``max_pages``
    (:class:`TooManyPagesError`; None: no limit). A PDF is opened again for each page, so PDFium (one
    lock for the whole process) is held only while that page renders.
    """
    max_pixels = _positive(max_pixels, "max_pixels")
    pdf_dpi = _positive(pdf_dpi, "pdf_dpi")
    label = None
    if hasattr(source, "read") and not isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        source, label = _stream_bytes(source), "<stream>"  # read once: a stream cannot be opened again
    with _open_source(source, pdf_dpi, label) as doc:
        indices = _select_pages(pages, doc.page_count(), doc.source)
        check_page_count(len(indices), max_pages, doc.source)
        if not isinstance(doc, _PdfDocument):
            for index in indices:
                yield from doc.render([index], int(max_pixels))
            return
    for index in indices:
        with _open_source(source, pdf_dpi, label) as doc:
            assert isinstance(doc, _PdfDocument)
            kept = doc.page_text(index) if existing_text in ("skip", "redo") else None
            if kept is not None and (kept.kind == "visible" or (existing_text == "skip" and kept.kind != "none")):
                page: PageImage | PdfPageText = kept
            else:
                page = doc.render([index], int(max_pixels))[0]
        yield page


def count_pages(source: Any) -> int:
    """How many pages ``source`` has, without decoding any pixels.

    A file object is read to its end.
    """
    with _open_source(source, PDF_DPI_DEFAULT) as doc:
        return doc.page_count()


def _positive(value: Any, name: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value
