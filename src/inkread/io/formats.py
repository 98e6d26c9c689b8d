"""Which format a file is, from its first bytes (never its name), and a helpful error for the ones
inkread does not read (JPEG 2000, a text file, a Word document, ...)."""

from __future__ import annotations

import os
import struct
import zlib

from PIL import ExifTags

from ..exceptions import UnsupportedFormatError

#: File name endings that claim to be an image or a PDF: such files in a folder are always tried
#: (by a batch, and by the evaluation of a plain folder) and reported when unreadable, whatever
#: their content; the format itself always comes from the bytes.
IMAGE_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib", ".tif", ".tiff", ".gif",
    ".webp", ".heic", ".heif", ".hif", ".avif", ".pdf",
})  # fmt: skip

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
    if head.startswith(b"BM") and (len(head) < 18 or int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES):
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
