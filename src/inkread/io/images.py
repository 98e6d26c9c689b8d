"""Image files through Pillow (and pillow_heif): every frame of a TIFF, GIF or WebP a page, EXIF
orientation applied, Pillow's errors turned into inkread's, its process-wide settings left as found;
numpy arrays and PIL images handed in directly; a JPEG too short for its declared size refused."""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..exceptions import (
    CorruptInputError,
    EmptyInputError,
    ImageTooLargeError,
    MissingDependencyError,
    UnsupportedFormatError,
)
from .formats import _DECODE_ERRORS, _MULTI_PAGE, _MULTI_PAGE_PIL, _ORIENTATION_TAG, _PIL_FORMATS, _SWAPS_AXES
from .page import PageImage, _Document
from .pixels import _array_to_rgb, _check_pixels, _dpi_of, _pil_to_rgb

_truncation_lock = threading.Lock()
_truncation_depth = 0
_truncation_saved = False


@contextlib.contextmanager
def _strict_truncation() -> Iterator[None]:
    """Make truncated images raise while we decode, then put the caller's setting back.

    ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` is process-wide; if a user switched it on we
    switch it off only while some load of ours is running (counted across threads) and
    restore it when the last one finishes.
    """
    global _truncation_depth, _truncation_saved
    with _truncation_lock:
        if _truncation_depth == 0:
            _truncation_saved = ImageFile.LOAD_TRUNCATED_IMAGES
        _truncation_depth += 1
        if ImageFile.LOAD_TRUNCATED_IMAGES:
            ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        with _truncation_lock:
            _truncation_depth -= 1
            if _truncation_depth == 0 and _truncation_saved:
                ImageFile.LOAD_TRUNCATED_IMAGES = _truncation_saved


_heif_lock = threading.Lock()
_heif_registered = False


def _ensure_heif() -> None:
    """Register pillow_heif's HEIC/HEIF opener with Pillow (once)."""
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if _heif_registered:
            return
        try:
            import pillow_heif
        except ImportError as exc:  # pragma: no cover - it is a declared dependency
            raise MissingDependencyError(
                "reading HEIC/HEIF images needs the pillow-heif package", hint="pip install pillow-heif"
            ) from exc
        pillow_heif.register_heif_opener()
        _heif_registered = True


@contextlib.contextmanager
def _pil_errors(source: str, fmt: str) -> Iterator[None]:
    """Turn Pillow's exceptions into ours."""
    label = fmt.upper() if fmt not in ("pil", "heif") else ("image" if fmt == "pil" else "HEIF")
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(
            f"{source} is too large to decode safely: {exc}",
            hint="if you trust this file, raise max_pixels and PIL.Image.MAX_IMAGE_PIXELS",
        ) from exc
    except UnidentifiedImageError as exc:
        raise CorruptInputError(
            f"{source} starts like a {label} file but its header could not be read: it is "
            "damaged, or uses a variant this installation cannot decode",
            hint="re-export or re-scan it",
        ) from exc
    except _DECODE_ERRORS as exc:
        raise CorruptInputError(
            f"{source}: the {label} data is truncated or damaged ({exc})",
            hint="re-download, re-export or re-scan the file",
        ) from exc


class _ArrayDocument(_Document):
    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        self.source = "<ndarray>"
        self.format = "array"
        if arr.size == 0:
            raise EmptyInputError(f"the array is empty (shape {arr.shape})")
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
            raise UnsupportedFormatError(
                f"cannot make an image from an array of shape {arr.shape}",
                hint="pass HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA)",
            )

    def page_count(self) -> int:
        return 1

    def render(self, indices: list[int], max_pixels: int) -> list[PageImage]:
        _check_pixels(self.arr.shape[1], self.arr.shape[0], max_pixels, self.source)
        rgb = _array_to_rgb(self.arr)
        return [PageImage(rgb, 0, self.source, None, self.format)]


class _PilDocument(_Document):
    """A Pillow image: one we opened from a file, or one the caller gave us."""

    def __init__(self, im: Image.Image, source: str, fmt: str, *, owned: bool) -> None:
        self.im = im
        self.source = source
        self.format = fmt
        self.owned = owned
        pil_format = getattr(im, "format", None)
        self.multi = fmt in _MULTI_PAGE or (fmt == "pil" and pil_format in _MULTI_PAGE_PIL)
        self.start_frame = im.tell() if hasattr(im, "tell") else 0

    def page_count(self) -> int:
        if not self.multi:
            return 1
        with _pil_errors(self.source, self.format):
            return int(getattr(self.im, "n_frames", 1))

    def render(self, indices: list[int], max_pixels: int) -> list[PageImage]:
        im = self.im
        pages: list[PageImage] = []
        with _pil_errors(self.source, self.format), _strict_truncation():
            try:
                for index in indices:
                    if self.multi and im.tell() != index:
                        im.seek(index)  # sequential for GIF: earlier frames decode once
                    where = f" (page {index + 1})" if self.multi else ""
                    _check_pixels(im.width, im.height, max_pixels, self.source, where)
                    im.load()
                    pages.append(self._page(im, index))
                if self.owned and not self.multi:
                    # the pixels are in the page's array now: Pillow's own decoded copy (4 bytes a
                    # pixel; 139 MB for a 34-megapixel receipt) would otherwise stay while it is read
                    im.close()
            finally:
                if not self.owned and self.multi and im.tell() != self.start_frame:
                    im.seek(self.start_frame)  # leave the caller's image as we found it
        return pages

    def _page(self, im: Image.Image, index: int) -> PageImage:
        try:
            orientation = int(im.getexif().get(_ORIENTATION_TAG, 1) or 1)
        except Exception:  # unreadable EXIF should not cost the user their pixels
            orientation = 1
        frame = im
        if orientation in (2, 3, 4, 5, 6, 7, 8):
            try:
                frame = ImageOps.exif_transpose(im)
            except Exception:
                frame, orientation = im, 1
        dpi = _dpi_of(im, orientation in _SWAPS_AXES)
        rgb = _pil_to_rgb(frame)
        return PageImage(rgb, index, self.source, dpi, self.format)

    def close(self) -> None:
        if self.owned:
            self.im.close()


def _jpeg_frame(fp: BinaryIO) -> tuple[int, int, int] | None:
    """(SOF marker, width, height) of a JPEG's frame header, walking its segments from the start;
    None if it cannot be found. ``fp`` is left where it was."""
    start = fp.tell()
    try:
        fp.seek(2)  # after SOI
        while True:
            b = fp.read(2)
            if len(b) < 2 or b[0] != 0xFF:
                return None
            marker = b[1]
            if marker == 0xFF:  # fill byte
                fp.seek(-1, 1)
                continue
            if 0xD0 <= marker <= 0xD9 or marker == 0x01:  # no length
                continue
            length_bytes = fp.read(2)
            if len(length_bytes) < 2:
                return None
            length = int.from_bytes(length_bytes, "big")
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                head = fp.read(5)
                if len(head) < 5:
                    return None
                return marker, int.from_bytes(head[3:5], "big"), int.from_bytes(head[1:3], "big")
            if length < 2:
                return None
            fp.seek(length - 2, 1)
    finally:
        fp.seek(start)


def _check_jpeg_data(fp: BinaryIO, source: str) -> None:
    """Refuse a Huffman-coded JPEG too short to code every 8x8 block of the area its header declares.

    Each block of the first component costs at least one bit (its DC difference's Huffman code,
    in every sequential or progressive mode), so a frame of W x H pixels needs at least
    ceil(W/8) x ceil(H/8) / 8 bytes. A file with less ends early; libjpeg paints the rest grey without
    an error, so a 458-byte file declaring 10000 x 10000 cost 18.7 s and 1.2 GB to decode into
    nothing (issue 14). Arithmetic-coded frames (SOF9-11, 13-15) can go below a bit a block and are
    not checked."""
    frame = _jpeg_frame(fp)
    if frame is None:
        return
    marker, width, height = frame
    if marker not in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7):
        return
    here = fp.tell()
    size = fp.seek(0, 2)
    fp.seek(here)
    needed = math.ceil(width / 8) * math.ceil(height / 8) // 8
    if size < needed:
        raise CorruptInputError(
            f"{source}: the JPEG declares {width}x{height} pixels but holds {size:,} bytes, fewer than the "
            f"{needed:,} its {width}x{height} pixels need at the least: the data is truncated or forged",
            hint="re-download, re-export or re-scan the file",
        )


def _open_image(fp: BinaryIO, fmt: str, source: str) -> _PilDocument:
    if fmt == "heif":
        _ensure_heif()
    if fmt == "jpeg":
        _check_jpeg_data(fp, source)
    with _pil_errors(source, fmt), _strict_truncation():
        im = Image.open(fp, formats=list(_PIL_FORMATS[fmt]))
    return _PilDocument(im, source, fmt, owned=True)
