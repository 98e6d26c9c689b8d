"""A tiny TrueType font with no visible glyphs, for the invisible text layer of searchable PDFs.

Every character of the text layer is drawn (invisibly: text render mode 3) with glyph 1, which has
no outline (it could not paint anything even where render mode 3 were ignored) but a bounding box
from 200/1000 em below the baseline to 800/1000 above it, and is 500/1000 em wide; the PDF positions
and stretches each word with its line's font size and horizontal scaling (see ``_textlayer``), so the
font's shapes never matter. Embedding a real (if empty) font keeps PDF
readers from substituting one or warning about a missing font. The same idea as Tesseract's
"GlyphLessFont"; this file is built here from the TrueType specification, byte by byte.
"""

from __future__ import annotations

import functools
import struct

__all__ = ["glyphless_font", "FONT_NAME", "ADVANCE", "ASCENT", "DESCENT"]

FONT_NAME = "GlyphLessFont"
UNITS_PER_EM = 1000
ADVANCE = 500  # width of every glyph, in 1/1000 em
ASCENT = 800
DESCENT = -200


def _checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def _head() -> bytes:
    return struct.pack(
        ">IIIIHHqqhhhhHHhhh",
        0x00010000,
        0x00010000,
        0,
        0x5F0F3CF5,
        0x000B,  # baseline at y=0, left sidebearing at x=0, integer ppem
        UNITS_PER_EM,
        0,
        0,  # created, modified
        0,
        DESCENT,
        ADVANCE,
        ASCENT,  # font bounding box
        0,
        3,
        2,  # macStyle, lowestRecPPEM, fontDirectionHint
        0,
        0,  # indexToLocFormat (short), glyphDataFormat
    )


def _hhea() -> bytes:
    return struct.pack(
        ">IhhhHhhhhhhhhhhhH",
        0x00010000,
        ASCENT,
        DESCENT,
        0,
        ADVANCE,
        0,
        0,
        ADVANCE,
        1,
        0,
        0,
        0,
        0,
        0,
        0,  # caret slope rise, run, offset; 4 reserved
        0,
        2,  # metricDataFormat, numberOfHMetrics
    )


def _maxp() -> bytes:
    return struct.pack(">IHHHHHHHHHHHHHH", 0x00010000, 2, 2, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0)


def _os2() -> bytes:
    return struct.pack(
        ">HhHHHhhhhhhhhhhh10sIIII4sHHHhhhHHII",
        1,
        ADVANCE,
        400,
        5,
        0,  # version, xAvgCharWidth, weight, width class, fsType (installable)
        650,
        600,
        0,
        75,
        650,
        600,
        0,
        350,
        50,
        300,  # sub/superscript, strikeout
        0,
        b"\0" * 10,  # sFamilyClass, panose
        0,
        0,
        0,
        0,
        b"INKR",  # Unicode ranges, vendor
        0x0040,
        0x0020,
        0xFFFF,  # fsSelection REGULAR, first/last char index
        ASCENT,
        DESCENT,
        0,
        ASCENT,
        -DESCENT,  # typo ascender/descender/gap, win ascent/descent
        1,
        0,  # code page ranges (Latin 1)
    )


def _hmtx() -> bytes:
    return struct.pack(">HhHh", ADVANCE, 0, ADVANCE, 0)


def _glyf_loca() -> tuple[bytes, bytes]:
    # Both glyphs (.notdef and 1) are two lone points at opposite corners of the em box: no outline
    # to fill, so nothing can ever be painted, but a bounding box as tall as the text, which is what
    # viewers (PDFium) take as each character's box when selecting or searching text.
    glyph = struct.pack(">hhhhh", 2, 0, DESCENT, ADVANCE, ASCENT)  # 2 contours, bounding box
    glyph += struct.pack(">HHH", 0, 1, 0)  # last point of each contour, no instructions
    glyph += bytes([0x01, 0x01])  # on-curve points, coordinates as 16-bit deltas
    glyph += struct.pack(">hh", 0, ADVANCE)  # x deltas
    glyph += struct.pack(">hh", DESCENT, ASCENT - DESCENT)  # y deltas
    glyph += b"\0" * (-len(glyph) % 4)
    half = len(glyph) // 2
    return glyph + glyph, struct.pack(">HHH", 0, half, 2 * half)


def _cmap() -> bytes:
    # one (Windows, Unicode BMP) format 4 subtable that maps nothing: just the final 0xFFFF segment
    sub = struct.pack(">HHHHHHHHHHHH", 4, 24, 0, 2, 2, 0, 0, 0xFFFF, 0, 0xFFFF, 1, 0)
    return struct.pack(">HHHHI", 0, 1, 3, 1, 12) + sub


def _name() -> bytes:
    names = {1: FONT_NAME, 2: "Regular", 3: f"inkread: {FONT_NAME}", 4: FONT_NAME, 5: "Version 1.0", 6: FONT_NAME}
    records, strings = b"", b""
    for name_id, text in names.items():
        data = text.encode("utf-16-be")
        records += struct.pack(">HHHHHH", 3, 1, 0x0409, name_id, len(data), len(strings))
        strings += data
    return struct.pack(">HHH", 0, len(names), 6 + len(records)) + records + strings


def _post() -> bytes:
    return struct.pack(">IiHhIIIII", 0x00030000, 0, (-100) & 0xFFFF, 50, 1, 0, 0, 0, 0)


@functools.lru_cache(maxsize=1)
def glyphless_font() -> bytes:
    """The TrueType font file (about 1 KB)."""
    glyf, loca = _glyf_loca()
    tables = {
        b"OS/2": _os2(),
        b"cmap": _cmap(),
        b"glyf": glyf,
        b"head": _head(),
        b"hhea": _hhea(),
        b"hmtx": _hmtx(),
        b"loca": loca,
        b"maxp": _maxp(),
        b"name": _name(),
        b"post": _post(),
    }
    n = len(tables)
    entry_selector = n.bit_length() - 1
    search_range = (1 << entry_selector) * 16
    header = struct.pack(">IHHHH", 0x00010000, n, search_range, entry_selector, n * 16 - search_range)
    offset = len(header) + 16 * n
    directory, body = b"", b""
    head_at = 0
    for tag in sorted(tables):
        data = tables[tag]
        if tag == b"head":
            head_at = offset + len(body)
        directory += struct.pack(">4sIII", tag, _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    font = bytearray(header + directory + body)
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    font[head_at + 8 : head_at + 12] = struct.pack(">I", adjustment)
    return bytes(font)
