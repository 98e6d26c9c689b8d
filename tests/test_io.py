"""Tests for inkread.io: every input kind becomes RGB uint8 pages, every bad input the right error.

All images and PDFs are generated here (Pillow, pillow_heif, pypdfium2), except
``tests/data/io/encrypted.pdf``, which ``tests/data/io/make_encrypted_pdf.py`` writes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
import os
import struct
import sys
import threading
import time
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pillow_heif
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageFile, ImageOps

from inkread.exceptions import (
    CorruptInputError,
    EmptyInputError,
    EncryptedPdfError,
    ImageTooLargeError,
    InputError,
    PageSelectionError,
    UnsupportedFormatError,
)
from inkread.io import (
    MAX_PIXELS_DEFAULT,
    PageImage,
    count_pages,
    detect_format,
    load_pages,
    parse_page_range,
)

DATA = Path(__file__).parent / "data" / "io"
ENCRYPTED_PDF = DATA / "encrypted.pdf"

pillow_heif.register_heif_opener()  # so the tests can *write* HEIC with Pillow

RED = (255, 0, 0)
BLUE = (0, 0, 255)
GREEN = (0, 255, 0)


# ----------------------------------------------------------------------------------------
# helpers


def raises_exactly(exc_type, func, *args, **kwargs):
    """Call func; assert it raises exactly exc_type (not a subclass, not a parent)."""
    with pytest.raises(exc_type) as info:
        func(*args, **kwargs)
    assert type(info.value) is exc_type, f"expected {exc_type.__name__}, got {type(info.value)!r}"
    return info.value


def two_tone(width: int = 40, height: int = 20) -> Image.Image:
    """Top half red, bottom half blue: any rotation or flip shows."""
    a = np.zeros((height, width, 3), np.uint8)
    a[: height // 2] = RED
    a[height // 2 :] = BLUE
    return Image.fromarray(a)


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_pdf(sizes_pt, colours=None) -> bytes:
    """A PDF with one page per (width, height) in points, each covered by a solid image."""
    colours = colours or [RED, BLUE, GREEN] * len(sizes_pt)
    pdf = pdfium.PdfDocument.new()
    try:
        for (w, h), colour in zip(sizes_pt, colours):
            page = pdf.new_page(w, h)
            obj = pdfium.PdfImage.new(pdf)
            obj.set_bitmap(pdfium.PdfBitmap.from_pil(Image.new("RGB", (8, 8), colour)))
            obj.set_matrix(pdfium.PdfMatrix().scale(w, h))
            page.insert_obj(obj)
            page.gen_content()
            page.close()
        buf = io.BytesIO()
        pdf.save(buf)
        return buf.getvalue()
    finally:
        pdf.close()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but whose pixel data is a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def load_generator():
    script = DATA / "make_encrypted_pdf.py"
    spec = importlib.util.spec_from_file_location("make_encrypted_pdf", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_two_tone(page: PageImage, tol: int = 0, width: int = 40, height: int = 20) -> None:
    img = page.image
    assert img.shape == (height, width, 3)
    assert img.dtype == np.uint8
    assert img.flags["C_CONTIGUOUS"]
    top = img[height // 4, width // 2].astype(int)
    bottom = img[3 * height // 4, width // 2].astype(int)
    assert np.abs(top - RED).max() <= tol, top
    assert np.abs(bottom - BLUE).max() <= tol, bottom


# Every file format, as the bytes of a 40x20 two-tone image, and how lossy it is.
FORMATS = {
    "jpeg": (lambda: encode(two_tone(), "JPEG", quality=95), 40),
    "png": (lambda: encode(two_tone(), "PNG"), 0),
    "bmp": (lambda: encode(two_tone(), "BMP"), 0),
    "tiff": (lambda: encode(two_tone(), "TIFF"), 0),
    "gif": (lambda: encode(two_tone(), "GIF"), 0),
    "webp": (lambda: encode(two_tone(), "WEBP", lossless=True), 0),
    "heif": (lambda: encode(two_tone(), "HEIF", quality=95), 40),
}


@pytest.fixture(params=sorted(FORMATS))
def image_format(request):
    return request.param


# ----------------------------------------------------------------------------------------
# format detection


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_detect_format_images(fmt):
    data, _ = FORMATS[fmt]
    assert detect_format(data()[:64]) == fmt


def test_detect_format_avif_pdf_and_unknowns():
    assert detect_format(encode(two_tone(), "AVIF")[:64]) == "heif"
    assert detect_format(make_pdf([(72, 72)])) == "pdf"
    assert detect_format(b"\n\n junk before the header %PDF-1.7\n") == "pdf"
    assert detect_format(b"II*\x00") == "tiff"
    assert detect_format(b"MM\x00*") == "tiff"
    assert detect_format(b"") is None
    assert detect_format(b"hello world") is None
    assert detect_format(b"BMW service report, 2024 edition") is None  # "BM" alone is not BMP
    assert detect_format(b"PK\x03\x04" + bytes(60)) is None
    assert detect_format(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00") is None


# ----------------------------------------------------------------------------------------
# every format from every kind of source


def test_image_from_path(tmp_path, image_format):
    data, tol = FORMATS[image_format]
    path = tmp_path / f"page.{image_format}"
    path.write_bytes(data())
    pages = load_pages(path)
    assert len(pages) == 1
    page = pages[0]
    assert (page.index, page.source, page.format) == (0, str(path), image_format)
    assert_two_tone(page, tol)
    # a plain str path works too
    assert load_pages(str(path))[0].source == str(path)


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=lambda w: w.__name__)
def test_image_from_bytes(image_format, wrap):
    data, tol = FORMATS[image_format]
    [page] = load_pages(wrap(data()))
    assert (page.source, page.format) == ("<bytes>", image_format)
    assert_two_tone(page, tol)


def test_image_from_file_object(tmp_path, image_format):
    data, tol = FORMATS[image_format]
    [page] = load_pages(io.BytesIO(data()))
    assert (page.source, page.format) == ("<stream>", image_format)
    assert_two_tone(page, tol)
    path = tmp_path / "x.bin"
    path.write_bytes(data())
    with open(path, "rb") as fh:
        [page] = load_pages(fh)
        assert not fh.closed  # the caller's handle is the caller's to close
    assert_two_tone(page, tol)


def test_stream_is_read_from_its_current_position():
    stream = io.BytesIO(b"MIME-ish preamble" + encode(two_tone(), "PNG"))
    stream.seek(len(b"MIME-ish preamble"))
    [page] = load_pages(stream)
    assert_two_tone(page)


def test_non_seekable_stream():
    class Pipe:
        def __init__(self, data):
            self._buf = io.BytesIO(data)

        def read(self, n=-1):
            return self._buf.read(n)

    [page] = load_pages(Pipe(encode(two_tone(), "PNG")))
    assert_two_tone(page)


def test_text_mode_file_is_a_type_error():
    with pytest.raises(TypeError, match="binary"):
        load_pages(io.StringIO("not bytes"))


def test_avif(tmp_path):
    path = tmp_path / "photo.avif"
    two_tone().save(path, "AVIF", quality=95)
    [page] = load_pages(path)
    assert page.format == "heif"
    assert_two_tone(page, tol=40)


def test_heif_written_with_pillow_heif(tmp_path):
    heif = pillow_heif.from_pillow(two_tone())
    path = tmp_path / "IMG_0001.HEIC"
    heif.save(path, quality=95)
    assert path.read_bytes()[4:12] == b"ftypheic"
    [page] = load_pages(path)
    assert page.format == "heif"
    assert_two_tone(page, tol=40)


def test_wrong_extension_is_ignored(tmp_path):
    cases = {
        "really_png.jpg": (encode(two_tone(), "PNG"), "png"),
        "really_jpeg.pdf": (encode(two_tone(), "JPEG"), "jpeg"),
        "really_heic.png": (encode(two_tone(), "HEIF"), "heif"),
        "really_pdf.png": (make_pdf([(72, 72)]), "pdf"),
        "no_extension": (encode(two_tone(), "TIFF"), "tiff"),
    }
    for name, (data, fmt) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        [page] = load_pages(path)
        assert page.format == fmt, name


# ----------------------------------------------------------------------------------------
# PIL images


def test_pil_rgb():
    [page] = load_pages(two_tone())
    assert (page.source, page.format, page.index, page.dpi) == ("<PIL.Image>", "pil", 0, None)
    assert_two_tone(page)


def test_a_large_rgb_file_is_copied_exactly_and_pillow_lets_go_of_its_pixels(tmp_path):
    """A JPEG of 1,300 rows (more than one band of the banded copy, the last band short): the page's
    array is Pillow's pixels exactly, and the decoded image is closed once copied (issue 24: a
    34-megapixel receipt held Pillow's copy, a whole-image bytes copy and the array at once)."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (1300, 517, 3), dtype=np.uint8)
    path = tmp_path / "big.jpg"
    Image.fromarray(pixels).save(path, quality=90)
    with Image.open(path) as im:
        expected = np.array(im.convert("RGB"))
    [page] = load_pages(path)
    assert page.image.shape == (1300, 517, 3) and page.image.flags.writeable
    assert np.array_equal(page.image, expected)
    from inkread.io.images import _open_image

    with open(path, "rb") as fh:
        doc = _open_image(fh, "jpeg", str(path))
        doc.render([0], 10**9)
        with pytest.raises(ValueError):  # Pillow's "Operation on closed image"
            doc.im.load()
        doc.close()  # closing again is harmless


@pytest.mark.parametrize("mode", ["L", "1", "P", "RGBA", "LA", "CMYK", "YCbCr", "RGBX"])
def test_pil_modes_become_rgb_uint8(mode):
    im = two_tone().convert(mode)
    assert im.mode == mode
    [page] = load_pages(im)
    assert page.image.shape == (20, 40, 3)
    assert page.image.dtype == np.uint8


@pytest.mark.parametrize(
    "array, mode",
    [
        (np.full((20, 40), 65535, np.uint16), "I;16"),
        (np.full((20, 40), 65535, np.int32), "I"),
        (np.full((20, 40), 1.0, np.float32), "F"),
    ],
)
def test_pil_high_depth_modes_are_scaled(array, mode):
    im = Image.fromarray(array)
    assert im.mode == mode
    [page] = load_pages(im)
    assert page.image.shape == (20, 40, 3)
    assert (page.image == 255).all()


def test_image_opened_with_pil(image_format):
    data, tol = FORMATS[image_format]
    with Image.open(io.BytesIO(data())) as im:
        [page] = load_pages(im)
    assert (page.source, page.format) == ("<PIL.Image>", "pil")
    assert_two_tone(page, tol)


def test_pil_rgba_is_composited_on_white():
    a = np.zeros((2, 3, 4), np.uint8)
    a[0, 0] = (255, 0, 0, 255)  # opaque red
    a[0, 1] = (255, 0, 0, 0)  # fully transparent -> white
    a[0, 2] = (0, 0, 0, 128)  # half black -> mid grey
    [page] = load_pages(Image.fromarray(a, "RGBA"))
    assert tuple(page.image[0, 0]) == (255, 0, 0)
    assert tuple(page.image[0, 1]) == (255, 255, 255)
    assert all(abs(int(v) - 127) <= 1 for v in page.image[0, 2])


def test_palette_transparency_is_white(tmp_path):
    im = Image.new("P", (4, 4), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.putpixel((0, 0), 1)
    path = tmp_path / "t.gif"
    im.save(path, transparency=0)
    [page] = load_pages(path)
    assert tuple(page.image[0, 0]) == (255, 0, 0)
    assert tuple(page.image[3, 3]) == (255, 255, 255)


def test_pil_input_is_not_modified():
    im = two_tone()
    before = im.tobytes()
    [page] = load_pages(im)
    page.image[:] = 0
    assert im.tobytes() == before
    assert im.mode == "RGB"


def test_pil_multiframe_image_gives_all_pages_and_keeps_its_frame():
    frames = [Image.new("RGB", (10, 10), c) for c in (RED, GREEN, BLUE)]
    im = Image.open(io.BytesIO(encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])))
    im.seek(1)
    pages = load_pages(im)
    assert [tuple(p.image[0, 0]) for p in pages] == [RED, GREEN, BLUE]
    assert im.tell() == 1
    assert [p.index for p in load_pages(im, pages=[2])] == [2]


# ----------------------------------------------------------------------------------------
# numpy arrays


def test_array_rgb_is_copied_not_aliased():
    a = np.asarray(two_tone()).copy()
    [page] = load_pages(a)
    assert (page.source, page.format, page.dpi) == ("<ndarray>", "array", None)
    assert_two_tone(page)
    assert not np.shares_memory(page.image, a)
    page.image[:] = 0
    assert a[0, 0, 0] == 255


def test_array_gray():
    a = np.arange(200, dtype=np.uint8).reshape(10, 20)
    [page] = load_pages(a)
    assert page.image.shape == (10, 20, 3)
    assert (page.image[..., 0] == a).all() and (page.image[..., 2] == a).all()
    [page1] = load_pages(a[..., None])  # HxWx1
    assert (page1.image == page.image).all()


def test_array_rgba_and_gray_alpha_composite_on_white():
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 0] = (0, 0, 255, 255)
    rgba[0, 1] = (0, 0, 255, 0)
    rgba[0, 2] = (0, 0, 0, 255)
    [page] = load_pages(rgba)
    assert page.image.tolist() == [[[0, 0, 255], [255, 255, 255], [0, 0, 0]]]
    la = np.array([[[0, 0], [0, 255]]], np.uint8)
    [page] = load_pages(la)
    assert page.image.tolist() == [[[255, 255, 255], [0, 0, 0]]]


@pytest.mark.parametrize(
    "array, expected",
    [
        (np.array([[0, 32768, 65535]], np.uint16), [0, 128, 255]),
        (np.array([[0, 32768, 65535]], ">u2"), [0, 128, 255]),
        (np.array([[False, True, True]]), [0, 255, 255]),
        (np.array([[0.0, 0.5, 1.0]], np.float32), [0, 128, 255]),
        (np.array([[0.0, 0.5, 1.0]], np.float16), [0, 128, 255]),
        (np.array([[0.0, 128.0, 255.0]], np.float64), [0, 128, 255]),
        (np.array([[0, 100, 255]], np.int64), [0, 100, 255]),
        (np.array([[-1000, 0, 1000]], np.int32), [0, 128, 255]),  # odd range: stretched
    ],
    ids=["uint16", "uint16-BE", "bool", "float32", "float16", "float-0-255", "int64", "int32"],
)
def test_array_dtypes_scaled_to_uint8(array, expected):
    [page] = load_pages(array)
    assert page.image.dtype == np.uint8
    assert page.image[0, :, 0].tolist() == expected


def test_array_uint16_rgb_and_non_contiguous():
    a = np.zeros((8, 6, 3), np.uint16)
    a[..., 2] = 65535
    [page] = load_pages(a)
    assert (page.image == [0, 0, 255]).all()
    b = np.asarray(two_tone()).transpose(1, 0, 2)[::2]  # strided view
    [page] = load_pages(b)
    assert page.image.flags["C_CONTIGUOUS"]
    assert (page.image == b).all()


def test_array_errors():
    raises_exactly(EmptyInputError, load_pages, np.zeros((0, 10), np.uint8))
    raises_exactly(EmptyInputError, load_pages, np.zeros((10, 10, 0), np.uint8))
    raises_exactly(UnsupportedFormatError, load_pages, np.zeros(10, np.uint8))
    raises_exactly(UnsupportedFormatError, load_pages, np.zeros((4, 4, 5), np.uint8))
    raises_exactly(UnsupportedFormatError, load_pages, np.zeros((2, 4, 4, 3), np.uint8))
    raises_exactly(UnsupportedFormatError, load_pages, np.zeros((4, 4), np.complex64))
    raises_exactly(UnsupportedFormatError, load_pages, np.array([["a", "b"]]))
    raises_exactly(InputError, load_pages, np.array([[0.0, np.nan]]))
    raises_exactly(ImageTooLargeError, load_pages, np.zeros((100, 100), np.uint8), max_pixels=9999)


def test_unknown_source_type():
    with pytest.raises(TypeError, match="path, bytes"):
        load_pages(12345)


# ----------------------------------------------------------------------------------------
# multi-page TIFF, animated GIF/WebP, page selection


@pytest.fixture
def three_page_tiff(tmp_path) -> Path:
    frames = [
        Image.new("RGB", (30, 20), RED),
        Image.new("L", (10, 40), 128),
        Image.new("RGB", (50, 50), BLUE),
    ]
    path = tmp_path / "scan.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(300, 300))
    return path


@pytest.fixture
def animated_gif(tmp_path) -> Path:
    frames = [Image.new("RGB", (16, 12), c) for c in (RED, GREEN, BLUE)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def test_multipage_tiff(three_page_tiff):
    pages = load_pages(three_page_tiff)
    assert [p.index for p in pages] == [0, 1, 2]
    assert [p.image.shape for p in pages] == [(20, 30, 3), (40, 10, 3), (50, 50, 3)]
    assert tuple(pages[0].image[0, 0]) == RED
    assert tuple(pages[1].image[0, 0]) == (128, 128, 128)
    assert tuple(pages[2].image[0, 0]) == BLUE
    assert all(p.format == "tiff" and p.dpi == 300.0 for p in pages)
    assert count_pages(three_page_tiff) == 3


def test_animated_gif_every_frame_is_a_page(animated_gif):
    pages = load_pages(animated_gif)
    assert [tuple(p.image[5, 5]) for p in pages] == [RED, GREEN, BLUE]
    assert [p.index for p in pages] == [0, 1, 2]
    assert count_pages(animated_gif.read_bytes()) == 3
    [last] = load_pages(animated_gif, pages=[2])
    assert (last.index, tuple(last.image[5, 5])) == (2, BLUE)


def test_animated_webp_every_frame_is_a_page():
    frames = [Image.new("RGB", (16, 12), c) for c in (RED, GREEN, BLUE)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    pages = load_pages(data)
    assert [tuple(p.image[5, 5]) for p in pages] == [RED, GREEN, BLUE]


def test_single_image_formats_are_one_page(image_format):
    data, _ = FORMATS[image_format]
    assert count_pages(data()) == 1
    assert len(load_pages(data(), pages=[0])) == 1
    err = raises_exactly(PageSelectionError, load_pages, data(), pages=[1])
    assert "1 page" in str(err)


def test_page_selection(three_page_tiff):
    pages = load_pages(three_page_tiff, pages=[2, 0, 2])  # sorted, duplicates merged
    assert [p.index for p in pages] == [0, 2]
    assert [p.index for p in load_pages(three_page_tiff, pages=range(1, 3))] == [1, 2]
    assert [p.index for p in load_pages(three_page_tiff, pages=(np.int64(1),))] == [1]


def test_page_selection_errors(three_page_tiff, animated_gif):
    err = raises_exactly(PageSelectionError, load_pages, three_page_tiff, pages=[3])
    assert "3 pages" in str(err) and "3" in str(err)
    raises_exactly(PageSelectionError, load_pages, three_page_tiff, pages=[-1])
    raises_exactly(PageSelectionError, load_pages, three_page_tiff, pages=[])
    err = raises_exactly(PageSelectionError, load_pages, animated_gif, pages=[0, 7])
    assert "3 pages" in str(err)
    with pytest.raises(TypeError, match="parse_page_range"):
        load_pages(three_page_tiff, pages="1-2")
    with pytest.raises(TypeError):
        load_pages(three_page_tiff, pages=[True])
    with pytest.raises(TypeError):
        load_pages(three_page_tiff, pages=[1.5])


def test_page_selection_decodes_only_chosen_pages(three_page_tiff, monkeypatch):
    # page 3 is 50x50 = 2500 px: with max_pixels=1000 only selecting it fails
    assert len(load_pages(three_page_tiff, pages=[0, 1], max_pixels=1000)) == 2
    err = raises_exactly(ImageTooLargeError, load_pages, three_page_tiff, max_pixels=1000)
    assert "page 3" in str(err)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("1", [0]),
        ("1-3,5", [0, 1, 2, 4]),
        (" 2 - 4 , 1 ", [0, 1, 2, 3]),
        ("5,1-3,2", [0, 1, 2, 4]),
        ("7-7", [6]),
    ],
)
def test_parse_page_range(spec, expected):
    assert parse_page_range(spec) == expected


BAD_RANGES = ["", " ", "0", "0-2", "3-1", "1-", "-3", "a", "1,,2", "1-2-3", "1.5", "²", "1-9999999"]


@pytest.mark.parametrize("spec", BAD_RANGES)
def test_parse_page_range_errors(spec):
    raises_exactly(PageSelectionError, parse_page_range, spec)


def test_parse_page_range_type_error():
    with pytest.raises(TypeError):
        parse_page_range([1, 2])


# ----------------------------------------------------------------------------------------
# PDF


def test_pdf_rendered_at_300_dpi(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf([(72, 72), (144, 72), (72, 144)]))
    pages = load_pages(path)
    assert [p.image.shape for p in pages] == [(300, 300, 3), (300, 600, 3), (600, 300, 3)]
    assert [p.index for p in pages] == [0, 1, 2]
    assert all(p.format == "pdf" and p.dpi == 300.0 and p.source == str(path) for p in pages)
    assert all(p.image.dtype == np.uint8 and p.image.flags["C_CONTIGUOUS"] for p in pages)
    assert tuple(pages[0].image[150, 150]) == RED  # RGB, not pdfium's native BGR
    assert tuple(pages[1].image[150, 300]) == BLUE
    assert count_pages(path) == 3


def test_pdf_dpi_and_sources():
    data = make_pdf([(72, 72)])
    [page] = load_pages(data, pdf_dpi=72)
    assert page.image.shape == (72, 72, 3) and page.dpi == 72.0
    [page] = load_pages(io.BytesIO(data), pdf_dpi=150)
    assert page.image.shape == (150, 150, 3) and page.source == "<stream>"
    [page] = load_pages(b"junk before the header\n" + data, pdf_dpi=72)
    assert page.format == "pdf"


def test_pdf_renders_only_selected_pages(monkeypatch):
    rendered = []
    original = pdfium.PdfPage.render

    def spy(self, *args, **kwargs):
        rendered.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pdfium.PdfPage, "render", spy)
    pages = load_pages(make_pdf([(72, 72)] * 5), pages=[1, 3], pdf_dpi=72)
    assert [p.index for p in pages] == [1, 3]
    assert len(rendered) == 2
    err = raises_exactly(PageSelectionError, load_pages, make_pdf([(72, 72)] * 5), pages=[5])
    assert "5 pages" in str(err)


def test_pdf_rotated_page():
    pdf = pdfium.PdfDocument(make_pdf([(144, 72)]))
    pdf[0].set_rotation(90)
    buf = io.BytesIO()
    pdf.save(buf)
    pdf.close()
    [page] = load_pages(buf.getvalue(), pdf_dpi=72)
    assert page.image.shape == (144, 72, 3)


def test_pdf_too_large_is_refused_before_rendering(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("render must not be called")

    monkeypatch.setattr(pdfium.PdfPage, "render", boom)
    data = make_pdf([(14400, 14400)])  # 200 x 200 inch poster: 60000x60000 px at 300 dpi
    err = raises_exactly(ImageTooLargeError, load_pages, data)
    assert "pdf_dpi" in str(err)
    raises_exactly(ImageTooLargeError, load_pages, make_pdf([(72, 72)]), max_pixels=300 * 300 - 1)


def test_encrypted_pdf_fixture_is_really_encrypted():
    """The fixture opens with its password and shows a blue page: it is encrypted, not broken."""
    data = ENCRYPTED_PDF.read_bytes()
    assert b"/Encrypt" in data and b"/Standard" in data
    assert data == load_generator().build()  # reproducible from the script
    pdf = pdfium.PdfDocument(data, password="secret")
    try:
        pixels = pdf[0].render(scale=1, rev_byteorder=True).to_numpy()
        assert tuple(pixels[36, 36][:3]) == BLUE
    finally:
        pdf.close()


def test_encrypted_pdf(tmp_path):
    err = raises_exactly(EncryptedPdfError, load_pages, ENCRYPTED_PDF)
    assert "password" in str(err) and "qpdf --decrypt" in str(err)
    raises_exactly(EncryptedPdfError, load_pages, ENCRYPTED_PDF.read_bytes())
    raises_exactly(EncryptedPdfError, count_pages, ENCRYPTED_PDF)


def test_pdf_with_only_an_owner_password_opens():
    """Permissions-only encryption (empty user password) is readable: no error."""
    [page] = load_pages(load_generator().build(user=""), pdf_dpi=72)
    assert tuple(page.image[36, 36]) == BLUE


@pytest.mark.parametrize("cut", [0.2, 0.5, 0.8])
def test_truncated_pdf(tmp_path, cut):
    data = make_pdf([(72, 72), (72, 72)])
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: int(len(data) * cut)])
    raises_exactly(CorruptInputError, load_pages, path)


def test_garbage_pdf():
    raises_exactly(CorruptInputError, load_pages, b"%PDF-1.7\nthis is not really a PDF\n%%EOF\n")


def test_pdf_loading_from_threads():
    data = make_pdf([(72, 72), (144, 72)])
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: load_pages(data, pdf_dpi=72), range(24)))
    assert all([p.image.shape for p in r] == [(72, 72, 3), (72, 144, 3)] for r in results)


# ----------------------------------------------------------------------------------------
# EXIF orientation and resolution

# What each EXIF orientation does to the stored pixels, in numpy terms.
ORIENTATIONS = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, 1),
}


def exif_with_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def asymmetric() -> Image.Image:
    a = np.zeros((6, 10, 3), np.uint8)
    a[0, 0] = RED
    a[0, 9] = GREEN
    a[5, 0] = BLUE
    return Image.fromarray(a)


@pytest.mark.parametrize("orientation", sorted(ORIENTATIONS))
def test_exif_orientation_png_all_eight(orientation):
    im = asymmetric()
    expected = ORIENTATIONS[orientation](np.asarray(im))
    [page] = load_pages(encode(im, "PNG", exif=exif_with_orientation(orientation)))
    assert page.image.shape == expected.shape
    assert (page.image == expected).all()


def test_exif_orientation_6_jpeg(tmp_path):
    path = tmp_path / "phone.jpg"
    two_tone(40, 20).save(path, "JPEG", quality=95, exif=exif_with_orientation(6), dpi=(300, 150))
    [page] = load_pages(path)
    assert page.image.shape == (40, 20, 3)  # 40 wide x 20 high stored, shown 20 wide x 40 high
    assert page.image[20, 2].tolist()[2] > 200  # left edge is the old bottom: blue
    assert page.image[20, 17].tolist()[0] > 200  # right edge is the old top: red
    assert page.dpi == 150.0  # the vertical resolution became the horizontal one


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF", "HEIF", "AVIF"])
def test_exif_orientation_other_formats(fmt):
    params = {"lossless": True} if fmt == "WEBP" else {}
    data = encode(two_tone(40, 20), fmt, exif=exif_with_orientation(6), **params)
    [page] = load_pages(data)
    assert page.image.shape == (40, 20, 3)
    assert page.image[20, 2, 2] > 200 and page.image[20, 17, 0] > 200


def test_exif_orientation_pil_input():
    im = Image.open(io.BytesIO(encode(two_tone(40, 20), "JPEG", exif=exif_with_orientation(8))))
    [page] = load_pages(im)
    assert page.image.shape == (40, 20, 3)
    assert page.image[20, 2, 0] > 200 and page.image[20, 17, 2] > 200  # turned the other way
    assert im.size == (40, 20)  # the caller's image is left alone


def test_dpi():
    assert load_pages(encode(two_tone(), "JPEG", dpi=(300, 300)))[0].dpi == 300.0
    assert load_pages(encode(two_tone(), "PNG", dpi=(300, 300)))[0].dpi == 300.0
    assert load_pages(encode(two_tone(), "TIFF", dpi=(200, 200)))[0].dpi == 200.0
    assert load_pages(encode(two_tone(), "BMP", dpi=(96, 96)))[0].dpi == 96.0
    assert load_pages(encode(two_tone(), "PNG"))[0].dpi is None
    assert load_pages(encode(two_tone(), "TIFF"))[0].dpi is None  # Pillow would say 1
    assert load_pages(encode(two_tone(), "JPEG", dpi=(1, 1)))[0].dpi is None


# ----------------------------------------------------------------------------------------
# 16-bit, CMYK, palette and other encodings of real files


def test_sixteen_bit_png_and_tiff(tmp_path):
    a = np.array([[0, 32768, 65535]], np.uint16)
    for name in ("g16.png", "g16.tif"):
        path = tmp_path / name
        Image.fromarray(a).save(path)
        [page] = load_pages(path)
        assert page.image[0, :, 0].tolist() == [0, 128, 255], name


def test_cmyk_jpeg_and_tiff():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # red
    for fmt in ("JPEG", "TIFF"):
        [page] = load_pages(encode(cmyk, fmt))
        r, g, b = page.image[4, 4].tolist()
        assert r > 200 and g < 60 and b < 60, fmt


def test_one_bit_and_la_png():
    [page] = load_pages(encode(two_tone().convert("1"), "PNG"))
    assert set(np.unique(page.image)) <= {0, 255}
    la = Image.fromarray(np.array([[[0, 255], [0, 0]]], np.uint8), "LA")
    [page] = load_pages(encode(la, "PNG"))
    assert page.image.tolist() == [[[0, 0, 0], [255, 255, 255]]]


# ----------------------------------------------------------------------------------------
# errors


def test_missing_path(tmp_path):
    missing = tmp_path / "nope.jpg"
    err = raises_exactly(FileNotFoundError, load_pages, missing)
    assert str(missing) in str(err)
    err = raises_exactly(FileNotFoundError, load_pages, str(missing))
    assert str(missing) in str(err)
    raises_exactly(FileNotFoundError, count_pages, missing)


def test_directory(tmp_path):
    err = raises_exactly(InputError, load_pages, tmp_path)
    assert "directory" in str(err)


def test_empty_inputs(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    err = raises_exactly(EmptyInputError, load_pages, path)
    assert str(path) in str(err)
    raises_exactly(EmptyInputError, load_pages, b"")
    raises_exactly(EmptyInputError, load_pages, bytearray())
    raises_exactly(EmptyInputError, load_pages, io.BytesIO())


def test_text_file_is_unsupported(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("Shopping list:\n- milk\n- eggs\n")
    err = raises_exactly(UnsupportedFormatError, load_pages, path)
    message = str(err)
    assert "text file" in message
    for fmt in ("JPEG", "PNG", "TIFF", "PDF", "HEIC"):
        assert fmt in message
    assert ".jpg" in message  # the misleading extension is pointed out


def test_zip_is_unsupported(tmp_path):
    path = tmp_path / "scans.pdf"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("page1.png", encode(two_tone(), "PNG"))
    err = raises_exactly(UnsupportedFormatError, load_pages, path)
    assert "ZIP archive" in str(err) and "PDF" in str(err)
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    err = raises_exactly(UnsupportedFormatError, load_pages, docx.getvalue())
    assert "docx" in str(err)


@pytest.mark.parametrize(
    "data, kind",
    [
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"<!DOCTYPE html><html></html>", "HTML"),
        (b"\x1f\x8b\x08\x00" + bytes(20), "gzip"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video"),
        (b"%!PS-Adobe-3.0\n", "PostScript"),
        (bytes(range(256)), "binary"),
    ],
)
def test_other_unsupported_kinds_are_named(data, kind):
    err = raises_exactly(UnsupportedFormatError, load_pages, data)
    assert kind in str(err)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image(tmp_path, fmt):
    data = encode(Image.effect_noise((200, 200), 64).convert("RGB"), fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: len(data) // 2])
    err = raises_exactly(CorruptInputError, load_pages, path)
    assert "truncated" in str(err)
    raises_exactly(CorruptInputError, load_pages, data[: len(data) // 2])


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "BMP", "WEBP", "HEIF"])
def test_truncated_other_formats(fmt):
    data = encode(Image.effect_noise((64, 64), 64).convert("RGB"), fmt)
    raises_exactly(CorruptInputError, load_pages, data[: len(data) // 2])


def test_damaged_header():
    raises_exactly(CorruptInputError, load_pages, b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 8)
    raises_exactly(CorruptInputError, load_pages, b"\xff\xd8\xff" + b"\x00" * 64)


def test_truncated_images_raise_even_if_user_allows_them(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = encode(Image.effect_noise((100, 100), 64).convert("RGB"), "JPEG")
    raises_exactly(CorruptInputError, load_pages, data[: len(data) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the user's setting is back
    load_pages(encode(two_tone(), "PNG"))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_fails_fast_without_decoding(monkeypatch):
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    bomb = png_claiming(20000, 20000)
    assert len(bomb) < 100
    start = time.perf_counter()
    err = raises_exactly(ImageTooLargeError, load_pages, bomb, max_pixels=1_000_000)
    assert time.perf_counter() - start < 1.0
    assert "400000000" in str(err).replace(",", "")
    # a size under Pillow's own limit is caught by max_pixels
    err = raises_exactly(
        ImageTooLargeError, load_pages, png_claiming(5000, 5000), max_pixels=1_000_000
    )
    assert "25,000,000" in str(err) and "max_pixels" in str(err)
    # the default limit applies too
    raises_exactly(ImageTooLargeError, load_pages, png_claiming(12000, 12000))
    assert 12000 * 12000 > MAX_PIXELS_DEFAULT


def test_pillow_bomb_warning_as_error_is_converted(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        raises_exactly(ImageTooLargeError, load_pages, png_claiming(40, 40))  # 1600 > 1000


def test_bad_arguments():
    data = encode(two_tone(), "PNG")
    for bad in (0, -5, 0.0, float("nan"), float("inf"), True, "100", None):
        with pytest.raises(ValueError):
            load_pages(data, max_pixels=bad)
    with pytest.raises(ValueError):
        load_pages(data, pdf_dpi=0)


# ----------------------------------------------------------------------------------------
# the user's files are left alone


def test_files_are_byte_identical_after_loading(tmp_path, three_page_tiff):
    jpeg = tmp_path / "phone.jpg"
    two_tone().save(jpeg, "JPEG", exif=exif_with_orientation(6))
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(make_pdf([(72, 72)]))
    heic = tmp_path / "p.heic"
    heic.write_bytes(encode(two_tone(), "HEIF", exif=exif_with_orientation(3)))
    for path in (jpeg, pdf, heic, three_page_tiff, ENCRYPTED_PDF):
        digest, mtime = sha256(path), path.stat().st_mtime_ns
        try:
            load_pages(path)
        except EncryptedPdfError:
            pass
        assert sha256(path) == digest, path
        assert path.stat().st_mtime_ns == mtime, path


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_file_handles_are_closed(tmp_path, three_page_tiff, animated_gif):
    good = [three_page_tiff, animated_gif, tmp_path / "d.pdf", tmp_path / "i.heic"]
    good[2].write_bytes(make_pdf([(72, 72)]))
    good[3].write_bytes(encode(two_tone(), "HEIF"))
    bad = tmp_path / "bad.png"
    bad.write_bytes(encode(two_tone(), "PNG")[:60])
    text = tmp_path / "t.jpg"
    text.write_text("hello")

    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    load_pages(good[0])  # warm up lazy imports
    before = open_fds()
    for _ in range(3):
        for path in good:
            load_pages(path)
            count_pages(path)
        failing = [
            (bad, CorruptInputError),
            (text, UnsupportedFormatError),
            (ENCRYPTED_PDF, EncryptedPdfError),
        ]
        for path, exc in failing:
            with pytest.raises(exc):
                load_pages(path)
        with pytest.raises(PageSelectionError):
            load_pages(three_page_tiff, pages=[9])
    assert open_fds() <= before


def test_count_pages_other_sources():
    assert count_pages(np.zeros((4, 4), np.uint8)) == 1
    assert count_pages(two_tone()) == 1
    assert count_pages(io.BytesIO(make_pdf([(72, 72)] * 4))) == 4
    raises_exactly(UnsupportedFormatError, count_pages, b"plain text")


def test_page_image_is_frozen():
    [page] = load_pages(two_tone())
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.index = 3
    assert (page.width, page.height) == (40, 20)
    assert "40x20" in repr(page)
    assert page != load_pages(two_tone())[0]  # identity equality; no ambiguous array compare


def test_each_page_is_decoded_once(monkeypatch, three_page_tiff):
    decodes = []
    original = ImageFile.ImageFile.load

    def counting_load(self):
        if self.tile:  # pixel data still to decode (a later load() is a no-op)
            decodes.append(self.format)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    load_pages(encode(two_tone(), "JPEG", exif=exif_with_orientation(6)))
    assert decodes == ["JPEG"]
    decodes.clear()
    load_pages(three_page_tiff)
    assert decodes == ["TIFF"] * 3
    decodes.clear()
    load_pages(three_page_tiff, pages=[1])
    assert decodes == ["TIFF"]


# A two-frame GIF with no global colour table (found by the fuzz test below): Pillow gives
# its second frame mode "P" with no palette, and has_transparency_data asserts on that.
GIF_WITHOUT_PALETTE = bytes.fromhex(
    "47494638376110000c00320000ff00000000000000000000002c0000000010000c000008190001081c48b0a0"
    "c18308132a5cc8b0a1c38710234a9c2830200021f90401000001002c0000000010000c008100ff0000000000"
    "000000000008190001081c48b0a0c18308132a5cc8b0a1c38710234a9c283020003b"
)


def test_gif_without_colour_table():
    pages = load_pages(GIF_WITHOUT_PALETTE)
    assert [p.image.shape for p in pages] == [(12, 16, 3)] * 2


def _mutations(seed: int, samples: dict[str, bytes], count: int):
    import random

    rng = random.Random(seed)
    names = sorted(samples)
    for _ in range(count):
        data = bytearray(samples[rng.choice(names)])
        roll = rng.random()
        if roll < 0.4:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif roll < 0.7:
            data = data[: rng.randrange(1, len(data))]
        else:
            start = rng.randrange(len(data))
            stop = min(len(data), start + rng.randint(1, 64))
            data[start:stop] = bytes(rng.randrange(256) for _ in range(stop - start))
        yield bytes(data)


@pytest.mark.filterwarnings("ignore")
def test_damaged_files_only_raise_input_errors():
    """Randomly damaged files either load or raise an InputError subclass, never Pillow's or
    PDFium's own exceptions (this found TypeError from TIFF, RuntimeError from AVIF and an
    AssertionError for palette-less GIFs)."""
    noise = Image.fromarray((np.random.default_rng(0).random((48, 64, 3)) * 255).astype(np.uint8))
    frames = [Image.new("RGB", (16, 12), c) for c in (RED, GREEN)]
    samples = {
        "jpeg": encode(noise, "JPEG", exif=exif_with_orientation(6)),
        "png": encode(noise, "PNG", exif=exif_with_orientation(3)),
        "bmp": encode(noise, "BMP"),
        "tiff": encode(noise, "TIFF", compression="tiff_lzw"),
        "gif": encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "mtiff": encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]),
        "webp": encode(noise, "WEBP"),
        "heif": encode(noise, "HEIF"),
        "avif": encode(noise, "AVIF"),
        "pdf": make_pdf([(72, 72), (72, 36)]),
    }
    outcomes = {"ok": 0, "error": 0}
    for data in _mutations(1, samples, 1500):
        try:
            pages = load_pages(data, max_pixels=4_000_000, pdf_dpi=72)
        except InputError:
            outcomes["error"] += 1
        else:
            outcomes["ok"] += 1
            assert all(p.image.dtype == np.uint8 and p.image.shape[2] == 3 for p in pages)
    assert outcomes["ok"] > 100 and outcomes["error"] > 100


def test_alpha_compositing_is_exact_for_every_value():
    colour, alpha = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    rgba = np.stack([colour, colour, colour, alpha], axis=-1).astype(np.uint8)
    [page] = load_pages(rgba, max_pixels=1 << 20)
    expected = np.rint(colour * alpha / 255 + 255 * (1 - alpha / 255))
    assert (page.image[..., 0] == expected).all()


def test_devices_and_pipes_are_refused_not_read(tmp_path):
    """/dev/zero would be read until memory runs out and a FIFO with no writer blocks forever (issue 14)."""
    import os
    import time

    from inkread.exceptions import InputError

    started = time.monotonic()
    with pytest.raises(InputError, match="a device, not a regular file"):
        load_pages("/dev/zero")
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="a named pipe"):
        load_pages(fifo)
    assert time.monotonic() - started < 5


def test_a_stream_is_read_up_to_a_cap(monkeypatch):
    import io as stdio

    from inkread import io as inkio
    from inkread.exceptions import ImageTooLargeError

    monkeypatch.setattr(inkio, "MAX_STREAM_BYTES", 1000)
    with pytest.raises(ImageTooLargeError, match="more than 1,000 bytes"):
        load_pages(stdio.BytesIO(b"\\xff\\xd8\\xff" + b"\\0" * 5000))


# ----- one page at a time ---------------------------------------------------------------------

def _blank_pdf(path, pages: int):
    from synth import blank_pdf

    path.write_bytes(blank_pdf(pages, (850, 1100), 100))
    return path


def test_pages_are_held_one_at_a_time(tmp_path):
    """Every selected page was rendered before any was read: 80 blank pages took 3 GB and a 124 KB
    1,000-page PDF over 6 GB (issue 14). iter_pages holds one; the engine reads through it."""
    import tracemalloc

    import inkread
    from inkread import io as inkio

    pdf = _blank_pdf(tmp_path / "blank.pdf", 30)
    page_bytes = 1275 * 1650 * 3  # one page at 150 dpi
    tracemalloc.start()
    try:
        seen = sum(1 for _ in inkio.iter_pages(str(pdf), pdf_dpi=150))
        _, peak_iter = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        inkio.load_pages(str(pdf), pdf_dpi=150)
        _, peak_all = tracemalloc.get_traced_memory()
        inkread.recognize(str(pdf), pdf_dpi=150, pages=[0], rotate="0")  # models and word lists loaded
        tracemalloc.reset_peak()
        inkread.recognize(str(pdf), pdf_dpi=150, pages=[0], rotate="0")
        _, peak_one = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = inkread.recognize(str(pdf), pdf_dpi=150, pages=list(range(12)), rotate="0")
        _, peak_twelve = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == 30 and len(result.pages) == 12
    assert peak_all > 25 * page_bytes  # what it was
    assert peak_iter < 4 * page_bytes  # the page and its render buffers
    # the engine's peak does not grow with the pages read (it was 12 pages more for 12 pages)
    assert peak_twelve < peak_one + page_bytes, (peak_one / page_bytes, peak_twelve / page_bytes)
    with open(pdf, "rb") as fh:  # a stream is read once, then rendered page by page
        assert [p.index for p in inkio.iter_pages(fh, pages=[3, 1], pdf_dpi=50)] == [1, 3]
    with pytest.raises(PageSelectionError):  # checked before the first page comes
        next(inkio.iter_pages(str(pdf), pages=[40]))


def test_a_jpeg_too_short_for_its_declared_size_is_refused_before_decoding():
    """A 458-byte JPEG whose header says 10000x10000 took 18.7 s and 1.2 GB to decode into grey
    (libjpeg fills what is missing without an error; issue 14). Each 8x8 block costs at least a bit
    in a Huffman-coded JPEG, so such a file is refused from its size, in microseconds."""
    import struct
    import time

    buf = io.BytesIO()
    Image.new("L", (100, 100), 255).save(buf, format="JPEG", quality=50)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5: sof + 9] = struct.pack(">HH", 10000, 10000)
    t0 = time.monotonic()
    with pytest.raises(CorruptInputError, match="declares 10000x10000 pixels but holds"):
        load_pages(bytes(data))
    assert time.monotonic() - t0 < 0.5
    # the bound is far below what a real encoder writes: a white page at quality 5 still loads
    white = io.BytesIO()
    Image.new("L", (2000, 3000), 255).save(white, format="JPEG", quality=5, optimize=True, progressive=True)
    assert load_pages(white.getvalue())[0].image.shape == (3000, 2000, 3)
