"""The searchable PDF's writer: page images with an invisible text layer over them.

Every word is written in text render mode 3 (invisible) with an embedded glyph-less font; where and
how (a baseline per line, a font size per paragraph, a space glyph over each gap between words) is
:mod:`._textlayer`'s. Extraction tools get the text back through the font's ``ToUnicode`` map (any
Unicode text, CJK included). A page read turned (``Page.rotation``) goes in upright: its pixels
turned, its words with them.

The page size comes from the image's resolution (``PageImage.dpi``, a PIL image's ``dpi``, the
render dpi of a PDF page, else 300 dpi), so a PDF input keeps its page size.

Written by hand (no PDF library needed): PDF 1.7 objects, a cross-reference table, Flate-compressed
streams, pages added one at a time so only the encoded images stay in memory.
"""

from __future__ import annotations

import hashlib
import io
import math
import zlib
from typing import Any

import numpy as np
from PIL import Image

from ..result import OcrResult, Page
from ._common import software_version
from ._glyphless import ADVANCE, ASCENT, DESCENT, FONT_NAME, glyphless_font
from ._images import PageRaster, iter_page_images
from ._textlayer import text_layer

__all__ = ["SearchablePdf", "affine_of", "upright_to_pdf"]

_IMAGE_FORMATS = ("jpeg", "flate")


def _num(value: float, digits: int = 3) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text_string(text: str) -> bytes:
    """A PDF text string: PDFDocEncoding-compatible ASCII as a literal, anything else UTF-16BE."""
    if all(32 <= ord(c) < 127 for c in text):
        return b"(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii") + b")"
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


class SearchablePdf:
    """Build a searchable PDF page by page.

    >>> pdf = SearchablePdf()                          # doctest: +SKIP
    >>> pdf.add_result(result, images="scan.pdf")      # doctest: +SKIP
    >>> open("out.pdf", "wb").write(pdf.to_bytes())    # doctest: +SKIP

    ``image_format``: ``"jpeg"`` (default, ``jpeg_quality``) or ``"flate"`` (lossless).
    ``compress=False`` leaves the page content streams readable (for tests and debugging).
    """

    def __init__(
        self, *, image_format: str = "jpeg", jpeg_quality: int = 85, compress: bool = True, title: str | None = None
    ) -> None:
        if image_format not in _IMAGE_FORMATS:
            raise ValueError(f"image_format must be one of {', '.join(_IMAGE_FORMATS)}, got {image_format!r}")
        self.image_format = image_format
        self.jpeg_quality = int(jpeg_quality)
        self.compress = compress
        self.title = title
        self._objects: dict[int, bytes] = {}
        self._count = 0
        self._catalog = self._reserve()
        self._pages = self._reserve()
        self._font = self._reserve()
        self._page_ids: list[int] = []
        self._cids: dict[str, int] = {}  # character -> CID (code point for the BMP)
        self._next_private = 0xD800  # CIDs for characters beyond the BMP (surrogate code range)

    # ----- objects ---------------------------------------------------------------------------
    def _reserve(self) -> int:
        self._count += 1
        return self._count

    def _put(self, num: int, body: bytes) -> int:
        self._objects[num] = body
        return num

    def _add(self, body: bytes) -> int:
        return self._put(self._reserve(), body)

    def _stream(self, data: bytes, entries: bytes = b"", *, compress: bool = True) -> bytes:
        if compress:
            data = zlib.compress(data, 6)
            entries += b" /Filter /FlateDecode"
        return b"<< /Length %d%s >>\nstream\n" % (len(data), entries) + data + b"\nendstream"

    # ----- text ------------------------------------------------------------------------------
    def _cid(self, ch: str) -> int | None:
        cid = self._cids.get(ch)
        if cid is None:
            cp = ord(ch)
            if cp < 0x20 or 0xD800 <= cp <= 0xDFFF or cp in (0xFFFE, 0xFFFF):
                return None
            if cp > 0xFFFF:
                if self._next_private > 0xDFFF:
                    return None
                cp, self._next_private = self._next_private, self._next_private + 1
            cid = self._cids[ch] = cp
        return cid

    def _encode(self, text: str) -> bytes:
        cids = [c for c in (self._cid(ch) for ch in text) if c is not None]
        return b"".join(c.to_bytes(2, "big") for c in cids)

    def _layer(self, page: Page, to_pdf: np.ndarray) -> bytes:
        """Content-stream operators writing ``page``'s words, invisibly; ``to_pdf`` maps its pixels to
        the PDF page's points (see :mod:`._textlayer`)."""
        return text_layer(page, to_pdf, self._encode)

    # ----- images ----------------------------------------------------------------------------
    def _image(self, arr: np.ndarray) -> int:
        gray = arr.ndim == 2 or (
            arr.shape[2] >= 3 and np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 1], arr[..., 2])
        )
        if arr.ndim == 3:
            arr = arr[..., 0] if gray else arr[..., :3]
        arr = np.ascontiguousarray(arr, dtype=np.uint8)
        h, w = arr.shape[:2]
        space = b"/DeviceGray" if gray else b"/DeviceRGB"
        head = b" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8" % (
            w,
            h,
            space,
        )
        if self.image_format == "jpeg":
            buf = io.BytesIO()
            Image.fromarray(arr, "L" if gray else "RGB").save(
                buf, format="JPEG", quality=self.jpeg_quality, optimize=True
            )
            return self._add(self._stream(buf.getvalue(), head + b" /Filter /DCTDecode", compress=False))
        return self._add(self._stream(arr.tobytes(), head))

    # ----- pages -----------------------------------------------------------------------------
    def add_page(self, page: Page | None, image: Any, dpi: float | None = None) -> None:
        """Add one page: ``image`` (numpy array, PIL image or :class:`PageRaster`) at ``dpi``
        (default: the raster's, else 300) with ``page``'s words (``None``: the image alone)."""
        if isinstance(image, PageRaster):
            dpi = dpi or image.dpi
            image = image.image
        if isinstance(image, Image.Image):
            image = np.asarray(image.convert("RGB"))
        arr = np.asarray(image)
        dpi = float(dpi or 300.0)
        if not (dpi > 0 and math.isfinite(dpi)):
            raise ValueError(f"dpi must be a positive number, got {dpi!r}")
        rotation = (page.rotation % 360) if page is not None else 0
        if rotation:  # the page was read turned: it goes in upright, its words with it
            from ..orientation import turn

            arr = turn(arr, rotation)
        h_px, w_px = arr.shape[:2]
        width_pt, height_pt = w_px * 72.0 / dpi, h_px * 72.0 / dpi
        im = self._image(arr)
        ops = [b"q %s 0 0 %s 0 0 cm /Im0 Do Q" % (_num(width_pt, 4).encode(), _num(height_pt, 4).encode())]
        if page is not None and page.lines and page.width and page.height:
            ops.append(self._layer(page, upright_to_pdf(page, width_pt, height_pt)))
        content = self._add(self._stream(b"\n".join(ops), compress=self.compress))
        page_id = self._add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /XObject << /Im0 %d 0 R >>"
            b" /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (self._pages, _num(width_pt, 4).encode(), _num(height_pt, 4).encode(), im, self._font, content)
        )
        self._page_ids.append(page_id)

    def add_text_page(self, page: Page, width_pt: float, height_pt: float, to_pdf: Any = None) -> None:
        """A page of ``page``'s invisible words alone (no image), ``width_pt`` x ``height_pt``: the
        layer laid over an input PDF's own page. ``to_pdf`` maps the page's pixels to this page's
        points (2 x 3; default: the page's pixels stretched over it, as given)."""
        ops = b""
        if page.lines and page.width and page.height:
            if to_pdf is None:
                to_pdf = np.array([[width_pt / page.width, 0.0, 0.0], [0.0, -height_pt / page.height, height_pt]])
            ops = self._layer(page, to_pdf)
        content = self._add(self._stream(ops, compress=self.compress))
        page_id = self._add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 %d 0 R >> >>"
            b" /Contents %d 0 R >>"
            % (self._pages, _num(width_pt, 4).encode(), _num(height_pt, 4).encode(), self._font, content)
        )
        self._page_ids.append(page_id)

    def add_result(
        self, result: OcrResult, images: Any = None, *, pdf_dpi: float | None = None, image_dpi: float | None = None
    ) -> None:
        """Add every page of ``result``; ``images`` and ``image_dpi`` as for :func:`to_pdf_bytes`."""
        if self.title is None and result.source and not result.source.startswith("<"):
            self.title = result.source
        for page, raster in iter_page_images(result, images, pdf_dpi=pdf_dpi, image_dpi=image_dpi):
            self.add_page(page, raster)

    @property
    def page_count(self) -> int:
        return len(self._page_ids)

    # ----- the file --------------------------------------------------------------------------
    def _font_objects(self) -> None:
        font_file = self._add(self._stream(glyphless_font(), b" /Length1 %d" % len(glyphless_font())))
        descriptor = self._add(
            b"<< /Type /FontDescriptor /FontName /%s /Flags 5 /FontBBox [0 %d %d %d] /ItalicAngle 0"
            b" /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>"
            % (FONT_NAME.encode(), DESCENT, ADVANCE, ASCENT, ASCENT, DESCENT, ASCENT, font_file)
        )
        top = max(self._cids.values(), default=0)
        gid_map = self._add(self._stream(b"\x00\x01" * (top + 1)))  # every CID -> glyph 1 (empty)
        cid_font = self._add(
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe)"
            b" /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW %d /CIDToGIDMap %d 0 R >>"
            % (FONT_NAME.encode(), descriptor, ADVANCE, gid_map)
        )
        to_unicode = self._add(self._stream(self._to_unicode(), compress=self.compress))
        self._put(
            self._font,
            b"<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H"
            b" /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (FONT_NAME.encode(), cid_font, to_unicode),
        )

    def _to_unicode(self) -> bytes:
        pairs = sorted((cid, ch) for ch, cid in self._cids.items())
        lines = [
            b"/CIDInit /ProcSet findresource begin",
            b"12 dict begin",
            b"begincmap",
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            b"/CMapName /Adobe-Identity-UCS def",
            b"/CMapType 2 def",
            b"1 begincodespacerange",
            b"<0000> <FFFF>",
            b"endcodespacerange",
        ]
        for i in range(0, len(pairs), 100):
            chunk = pairs[i : i + 100]
            lines.append(b"%d beginbfchar" % len(chunk))
            lines += [b"<%04X> <%s>" % (cid, ch.encode("utf-16-be").hex().upper().encode()) for cid, ch in chunk]
            lines.append(b"endbfchar")
        lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
        return b"\n".join(lines) + b"\n"

    def to_bytes(self) -> bytes:
        """The finished PDF file (the builder can still take pages afterwards)."""
        saved = (dict(self._objects), self._count)
        try:
            self._font_objects()
            kids = b" ".join(b"%d 0 R" % p for p in self._page_ids)
            self._put(self._pages, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._page_ids)))
            self._put(self._catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % self._pages)
            producer = _text_string(f"inkread {software_version()}")
            info_body = b"<< /Producer %s /Creator %s" % (producer, producer)
            if self.title:
                info_body += b" /Title " + _text_string(self.title)
            info = self._add(info_body + b" >>")
            out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
            offsets = [0] * (self._count + 1)
            for num in range(1, self._count + 1):
                offsets[num] = len(out)
                out += b"%d 0 obj\n" % num + self._objects[num] + b"\nendobj\n"
            xref = len(out)
            out += b"xref\n0 %d\n0000000000 65535 f\r\n" % (self._count + 1)
            out += b"".join(b"%010d 00000 n\r\n" % offsets[n] for n in range(1, self._count + 1))
            file_id = hashlib.md5(bytes(out)).hexdigest().upper().encode()
            out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (
                self._count + 1,
                self._catalog,
                info,
                file_id,
                file_id,
                xref,
            )
            return bytes(out)
        finally:
            self._objects, self._count = saved


def affine_of(function: Any) -> np.ndarray:
    """The 2 x 3 matrix of an affine map given as a function of ``(N, 2)`` points."""
    o, ex, ey = function(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    return np.column_stack([ex - o, ey - o, o])


def upright_to_pdf(page: Page, width_pt: float, height_pt: float) -> np.ndarray:
    """The map from ``page``'s pixels (the image as given) to a PDF page ``width_pt`` x ``height_pt``
    showing that image turned upright (``page.rotation`` clockwise)."""
    from ..orientation import map_forward

    rotation = page.rotation % 360
    w, h = (page.height, page.width) if rotation in (90, 270) else (page.width, page.height)
    return affine_of(
        lambda p: (map_forward(p, rotation, page.width, page.height) * [width_pt / w, -height_pt / h]) + [0, height_pt]
    )
