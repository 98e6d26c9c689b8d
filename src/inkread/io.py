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
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

from .exceptions import (
    CorruptInputError,
    EmptyInputError,
    EncryptedPdfError,
    ImageTooLargeError,
    InputError,
    MissingDependencyError,
    PageSelectionError,
    TooManyPagesError,
    UnsupportedFormatError,
)
from .options import MAX_PIXELS_DEFAULT, PDF_DPI_DEFAULT

__all__ = [
    "PageImage",
    "MAX_PIXELS_DEFAULT",
    "SUPPORTED_FORMATS",
    "detect_format",
    "load_pages",
    "iter_pages",
    "count_pages",
    "parse_page_range",
]

#: Largest page we decode, in pixels (width * height).  Guards against decompression bombs:
#: a tiny file whose header claims a gigantic canvas.  120 MP is a 600 dpi A3 scan.

#: Formats we read, as named in :attr:`PageImage.format` and in error messages.
SUPPORTED_FORMATS = ("JPEG", "PNG", "BMP", "TIFF", "GIF", "WebP", "HEIC/HEIF/AVIF", "PDF")
_SUPPORTED_TEXT = "Supported formats: " + ", ".join(SUPPORTED_FORMATS[:-1]) + " and PDF."

# How many leading bytes we look at to tell formats apart.  PDF allows junk before
# ``%PDF-`` in the first 1024 bytes; the rest is for guessing what an unsupported file is.
_HEAD_SIZE = 4096
# The most bytes read from a file object into memory (a regular file is opened, not read whole).
MAX_STREAM_BYTES = 1 << 30

# The Pillow plugin(s) that may open each detected format (restricting ``Image.open`` to
# them means a file can never be decoded by some other, unexpected plugin).
_PIL_FORMATS: dict[str, tuple[str, ...]] = {
    "jpeg": ("JPEG",),
    "png": ("PNG",),
    "bmp": ("BMP",),
    "tiff": ("TIFF",),
    "gif": ("GIF",),
    "webp": ("WEBP",),
    "heif": ("HEIF", "AVIF"),
}
# Formats whose extra frames are extra pages.  Elsewhere extra frames are previews or
# alternates (a JPEG's MPO second image, an APNG's animation, a HEIF's non-primary images):
# those formats give exactly one page, the primary image.
_MULTI_PAGE = {"tiff", "gif", "webp"}
_MULTI_PAGE_PIL = {"TIFF", "GIF", "WEBP"}

# ISO-BMFF major brands of still images we can decode (pillow_heif: HEVC; Pillow: AVIF).
_HEIF_BRANDS = {
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    b"mif1", b"msf1", b"avif", b"avis",
}  # fmt: skip
_BMP_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}

_ORIENTATION_TAG = ExifTags.Base.Orientation
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that turn the image by 90 degrees

# Errors Pillow (and its plugins) raise for data it cannot decode.  Fuzzing shows all of
# them: e.g. TypeError("Missing dimensions") from a damaged TIFF, RuntimeError from AVIF.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    IndexError,
    KeyError,
    TypeError,
    RuntimeError,
)


# --------------------------------------------------------------------------------------
# The result type


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


# --------------------------------------------------------------------------------------
# Format detection


def detect_format(head: bytes) -> str | None:
    """Name the format of a file from its first bytes (not its name).

    Returns one of ``"jpeg"``, ``"png"``, ``"bmp"``, ``"tiff"``, ``"gif"``, ``"webp"``,
    ``"heif"`` (HEIC, HEIF and AVIF), ``"pdf"``, or ``None`` when the content is none of
    those.  Give it at least the first 32 bytes; PDF files may have up to 1024 bytes of junk
    before their ``%PDF-`` marker, so pass 1 KiB or more to recognise those.
    """
    head = bytes(head[:_HEAD_SIZE])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heif"
    if head.startswith(b"BM") and (
        len(head) < 18 or int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES
    ):
        return "bmp"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


def _describe_unknown(head: bytes) -> tuple[str, str | None]:
    """Best guess at what an unsupported file is, and what the user could do about it."""
    signatures: list[tuple[bytes, str, str | None]] = [
        (b"\x1f\x8b", "a gzip-compressed file", "decompress it first"),
        (b"BZh", "a bzip2-compressed file", "decompress it first"),
        (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the images from the archive first"),
        (b"Rar!\x1a\x07", "a RAR archive", "extract the images from the archive first"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "a legacy Microsoft Office document (.doc/.xls/.ppt)",
            "export or print it to PDF first",
        ),
        (b"{\\rtf", "an RTF document", "export or print it to PDF first"),
        (b"%!PS", "a PostScript file", "convert it to PDF first (e.g. with ps2pdf)"),
        (b"\xc5\xd0\xd3\xc6", "an EPS file", "convert it to PDF first"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image", "convert it to PNG first"),
        (b"\xffO\xffQ", "a JPEG 2000 codestream", "convert it to PNG first"),
        (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "a JPEG XL image", "convert it to PNG first"),
        (b"\xff\x0a", "a JPEG XL image", "convert it to PNG first"),
        (b"8BPS", "a Photoshop document (.psd)", "export it to PNG first"),
        (b"AT&TFORM", "a DjVu document", "convert it to PDF first"),
        (b"SQLite format 3\x00", "an SQLite database", None),
        (b"\x7fELF", "a program (ELF executable)", None),
        (b"\x00\x00\x01\x00", "a Windows icon (.ico)", "convert it to PNG first"),
        (b"OggS", "an Ogg audio/video file", None),
        (b"ID3", "an MP3 audio file", None),
    ]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        if b"[Content_Types].xml" in head or b"word/" in head or b"xl/" in head:
            kind = "a ZIP archive (an Office document such as .docx/.xlsx/.pptx)"
            return kind, "export or print it to PDF first"
        if b"mimetypeapplication/vnd.oasis.opendocument" in head:
            return "a ZIP archive (an OpenDocument file)", "export or print it to PDF first"
        if b"mimetypeapplication/epub+zip" in head:
            return "a ZIP archive (an EPUB e-book)", "convert it to PDF first"
        return "a ZIP archive", "extract the images from the archive first"
    for magic, kind, hint in signatures:
        if head.startswith(magic):
            return kind, hint
    if head.startswith(b"MZ") and b"\x00" in head[:64]:
        return "a Windows program", None
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith((b"qt", b"mp4", b"mp41", b"mp42", b"isom", b"iso", b"M4V", b"3g")):
            return "a video (MP4/QuickTime)", "extract a frame as PNG first"
        if brand.startswith(b"crx"):
            return "a Canon raw photo (CR3)", "export it to JPEG or PNG first"
        label = brand.decode("latin-1").strip()
        return f"an ISO media file with brand {label!r}", "convert it to PNG or JPEG first"
    if head.startswith(b"RIFF"):
        label = head[8:12].decode("latin-1").strip()
        return f"a RIFF container of type {label!r} (not WebP)", None
    text = _as_text(head)
    if text is not None:
        lowered = text.lstrip().lower()
        if "<svg" in lowered[:1024]:
            return "an SVG drawing (vector graphics)", "rasterise it to PNG first"
        if lowered.startswith(("<!doctype html", "<html")):
            return "an HTML document", "print it to PDF first"
        if lowered.startswith("<?xml"):
            return "an XML document", None
        if lowered.startswith(("{", "[")):
            return "a JSON or other text file", None
        if lowered.startswith(("http://", "https://")):
            return "a text file holding a URL", "download the file it points to first"
        return "a text file", None
    return f"unrecognised binary data (first bytes: {head[:8].hex(' ')})", None


def _as_text(head: bytes) -> str | None:
    """``head`` decoded, if it looks like text; else ``None``."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[2:].decode("utf-16-le" if head[0] == 0xFF else "utf-16-be", "replace")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if not head or b"\x00" in head:
        return None
    plain = sum(1 for b in head if b in (9, 10, 12, 13) or b >= 32)
    if plain < 0.95 * len(head):
        return None
    return head.decode("utf-8", "replace")


def _unsupported(source: str, head: bytes) -> UnsupportedFormatError:
    kind, hint = _describe_unknown(head)
    message = f"{source} is not a supported image or PDF: it looks like {kind}."
    ext = os.path.splitext(source)[1].lower() if not source.startswith("<") else ""
    if ext:
        message += f" (The name ends in {ext!r}, but the content is what counts.)"
    return UnsupportedFormatError(f"{message} {_SUPPORTED_TEXT}", hint=hint)


# --------------------------------------------------------------------------------------
# Page selection


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
            raise PageSelectionError(
                f"bad page range {spec!r}: pages are numbered from 1, not 0", hint=usage
            )
        if last < first:
            raise PageSelectionError(
                f"bad page range {spec!r}: {text!r} runs backwards", hint=f"write {last}-{first}"
            )
        if last > limit:
            raise PageSelectionError(
                f"bad page range {spec!r}: page numbers above {limit:,} are not supported"
            )
        selected.update(range(first - 1, last))
    return sorted(selected)


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
# Pixel conversion


def _check_pixels(width: int, height: int, max_pixels: int, source: str, what: str = "") -> None:
    pixels = int(width) * int(height)
    if pixels > max_pixels:
        raise ImageTooLargeError(
            f"{source}{what} is {width}x{height} = {pixels:,} pixels, over the limit of "
            f"{max_pixels:,} (max_pixels)",
            hint="if you trust this file, pass a larger max_pixels",
        )


def _composite_on_white(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend ``uint8`` colour (``HxWxC``) over white using ``uint8`` alpha (``HxW``).

    ``255 - round((255 - c) * a / 255)``, exact, in uint16 and in bands of rows so a large
    page needs little more memory than its output.
    """
    out = np.empty(color.shape, dtype=np.uint8)
    band = max(1, (1 << 22) // max(1, color.shape[1] * color.shape[2]))
    for top in range(0, color.shape[0], band):
        rows = slice(top, top + band)
        x = np.subtract(255, color[rows], dtype=np.uint16)
        x *= alpha[rows, :, None]
        x += 128  # x / 255 rounded, without a division: (x + 128 + (x + 128 >> 8)) >> 8
        x += x >> 8
        x >>= 8
        np.subtract(255, x, out=out[rows], casting="unsafe")
    return out


def _light_ink(color: np.ndarray, alpha: np.ndarray) -> bool:
    """Is what is drawn (the opaque pixels) light, with see-through around it: white text on a
    transparent background (a dark UI's screenshot, a logo)? Judged on a grid of at most ~250k pixels."""
    step = max(1, int(np.sqrt(alpha.size / 250_000)))
    a = alpha[::step, ::step]
    opaque = a >= 128
    if opaque.all() or not opaque.any() or opaque.mean() > 0.95:
        return False
    c = color[::step, ::step][opaque].astype(np.float32)
    luma = c.mean(axis=1)
    return float(np.median(luma)) >= 160


def _composite(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend over a background the ink stands out on: white, or black when the ink itself is light."""
    if _light_ink(color, alpha):
        return np.subtract(255, _composite_on_white(np.subtract(255, color, dtype=np.uint8), alpha), dtype=np.uint8)
    return _composite_on_white(color, alpha)


def _to_uint8(a: np.ndarray) -> np.ndarray:
    """Scale any numeric array to ``uint8`` (may return ``a`` itself when already uint8)."""
    kind = a.dtype.kind
    if kind == "b":
        return a.astype(np.uint8) * np.uint8(255)
    if a.dtype == np.uint8:
        return a
    if kind in "ui":
        if kind == "u" and a.dtype.itemsize == 2:
            return (a >> 8).astype(np.uint8)  # full 16-bit range -> 8 bits
        lo, hi = int(a.min()), int(a.max())
        if lo >= 0 and hi <= 255:
            return a.astype(np.uint8)
        if lo >= 0 and hi <= 65535:  # 16-bit data in a wider integer type
            return (a >> 8).astype(np.uint8)
        return _stretch(a.astype(np.float64), lo, hi)
    if kind == "f":
        f = a.astype(np.float32) if a.dtype.itemsize < 4 else a
        if not np.isfinite(f).all():
            raise InputError(
                "the array holds NaN or infinite values", hint="replace them (np.nan_to_num) first"
            )
        lo, hi = float(f.min()), float(f.max())
        if lo >= 0.0 and hi <= 1.0:
            return np.rint(f * 255.0).astype(np.uint8)
        if lo >= 0.0 and hi <= 255.0:
            return np.rint(f).astype(np.uint8)
        return _stretch(f, lo, hi)
    raise UnsupportedFormatError(
        f"cannot make an image from an array of dtype {a.dtype}",
        hint="pass uint8 (0..255), uint16, bool or float (0..1) pixel values",
    )


def _stretch(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Linearly map ``lo..hi`` to ``0..255`` (for values outside any usual range)."""
    if hi <= lo:
        return np.full(a.shape, 255 if lo > 0 else 0, dtype=np.uint8)
    return np.rint((a - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _array_to_rgb(arr: np.ndarray) -> np.ndarray:
    """Any supported array layout/dtype -> new contiguous ``HxWx3`` ``uint8`` RGB array."""
    if arr.size == 0:
        raise EmptyInputError(f"the array is empty (shape {arr.shape})")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise UnsupportedFormatError(
            f"cannot make an image from an array of shape {arr.shape}",
            hint="pass HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA)",
        )
    a8 = _to_uint8(arr)
    if a8.ndim == 2:
        return np.repeat(a8[..., None], 3, axis=2)
    channels = a8.shape[2]
    if channels == 2:
        return np.repeat(_composite(a8[..., :1], a8[..., 1]), 3, axis=2)
    if channels == 4:
        return _composite(a8[..., :3], a8[..., 3])
    if a8 is arr:  # never hand back (and so alias) the caller's own buffer
        return np.array(a8, dtype=np.uint8, order="C", copy=True)
    return np.ascontiguousarray(a8)


def _pil_to_rgb(im: Image.Image) -> np.ndarray:
    """A loaded PIL image in any mode -> ``HxWx3`` ``uint8`` RGB, alpha composited on white."""
    mode = im.mode
    if mode == "RGB" and "transparency" not in im.info:
        return np.array(im, dtype=np.uint8)
    if mode.startswith("I") or mode == "F":
        return _array_to_rgb(np.asarray(im))
    if mode == "CMYK":
        return np.array(_cmyk_to_rgb(im), dtype=np.uint8)
    if mode in ("P", "PA") and im.palette is None:  # a GIF without any colour table
        return _array_to_rgb(np.asarray(im))
    if im.has_transparency_data:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint8)
        return _composite(rgba[..., :3], rgba[..., 3])
    return np.array(im.convert("RGB"), dtype=np.uint8)


def _cmyk_to_rgb(im: Image.Image) -> Image.Image:
    """CMYK -> RGB, through the embedded ICC profile when there is one."""
    icc = im.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            out = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
            if out is not None:
                return out
        except Exception:  # a broken or unusual profile: fall back to the plain formula
            pass
    return im.convert("RGB")


def _dpi_of(im: Image.Image, swapped: bool) -> float | None:
    """Horizontal resolution of a loaded frame (after any 90-degree EXIF turn), or ``None``.

    Values under 10 dpi are placeholders written by software that did not know the
    resolution (TIFF's default of 1, JFIF's "1 dot per inch"), so they count as unknown.
    """
    tags = getattr(im, "tag_v2", None)
    if tags is not None and 282 not in tags:  # TIFF without XResolution: Pillow invents 1
        return None
    dpi = im.info.get("dpi")
    if dpi is None:
        return None
    try:
        value = float(dpi[1] if swapped else dpi[0])
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None
    if not math.isfinite(value) or not 10.0 <= value <= 100_000.0:
        return None
    rounded = round(value)
    # PNG stores pixels per metre, so 300 dpi reads back as 299.9994: snap near-integers.
    return float(rounded) if abs(value - rounded) < 0.05 else value


# --------------------------------------------------------------------------------------
# Pillow state we must not change for the caller


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
                "reading HEIC/HEIF images needs the pillow-heif package",
                hint="pip install pillow-heif",
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


# --------------------------------------------------------------------------------------
# Documents: something with pages we can count and render


class _Document:
    source: str
    format: str

    def page_count(self) -> int:
        raise NotImplementedError

    def render(self, indices: list[int], max_pixels: int) -> list[PageImage]:
        raise NotImplementedError

    def close(self) -> None:
        pass


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


# --------------------------------------------------------------------------------------
# Opening a source


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
            hint="re-download, re-export or re-scan the file")


def _open_image(fp: BinaryIO, fmt: str, source: str) -> _PilDocument:
    if fmt == "heif":
        _ensure_heif()
    if fmt == "jpeg":
        _check_jpeg_data(fp, source)
    with _pil_errors(source, fmt), _strict_truncation():
        im = Image.open(fp, formats=list(_PIL_FORMATS[fmt]))
    return _PilDocument(im, source, fmt, owned=True)


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
        raise ImageTooLargeError(f"the stream holds more than {MAX_STREAM_BYTES:,} bytes",
                                 hint="save it to a file and pass the path")
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
        what = ("a named pipe" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device")
        raise InputError(f"{name} is {what}, not a regular file",
                         hint="save what it holds to a file and pass that file")
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


def iter_pages(
    source: Any,
    *,
    pages: Sequence[int] | None = None,
    max_pixels: int = MAX_PIXELS_DEFAULT,
    pdf_dpi: int = PDF_DPI_DEFAULT,
    max_pages: int | None = None,
) -> Iterator[PageImage]:
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
        if max_pages is not None and len(indices) > max_pages:
            raise TooManyPagesError(
                f"{doc.source}: {len(indices):,} pages to read, more than {max_pages:,} (max_pages)",
                hint="choose pages, split the document, or pass a larger max_pages (--max-pages)")
        if not isinstance(doc, _PdfDocument):
            for index in indices:
                yield from doc.render([index], int(max_pixels))
            return
    for index in indices:
        with _open_source(source, pdf_dpi, label) as doc:
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
