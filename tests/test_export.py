"""Tests for the output formats (``inkread.export``): hOCR, ALTO, searchable PDF, Markdown, overlay.

Golden files: every exporter runs on a hand-built, deterministic :class:`OcrResult` (no model) and
its output is compared with ``tests/data/golden/``. After an intended change of an output format,
regenerate them and review the diff::

    INKREAD_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_export.py

The version string is written as ``VERSION`` in the golden files, so a release does not change them;
the PDF is compared as its "skeleton" (binary streams, offsets and the file ID blanked out).

Then: ALTO validates against the bundled XSD (lxml), hOCR parses and has the right classes and
boxes, Markdown lists, and the searchable PDF read back with PDFium, on the hand-built result and on
a real recognition of ``examples/printed_page.png`` (text and word positions) and of a 2-page PDF.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from lxml import etree
from fakes import fake_read, fake_text
from PIL import Image

import inkread
from inkread import cli, export
from inkread.export import alto as alto_mod
from inkread.export import overlay as overlay_mod
from inkread.export._glyphless import glyphless_font
from inkread.export.markdown import markdown_line
from inkread.metrics import cer
from inkread.result import Line, OcrResult, Page, Word

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden"
PRINTED = ROOT / "examples" / "printed_page.png"
LINES = ROOT / "tests" / "data" / "synth" / "lines"
WATER = (LINES / "dkg_01.png", "Water the plants")
INVOICE = (LINES / "dejavuserif_01.png", "Invoice number 4471")
UPDATE = os.environ.get("INKREAD_UPDATE_GOLDEN", "").strip() not in ("", "0")
HOCR_NS = "{http://www.w3.org/1999/xhtml}"
ALTO_NS = "{http://www.loc.gov/standards/alto/ns-v4#}"


@pytest.fixture(autouse=True)
def _local_engine(monkeypatch):
    monkeypatch.delenv("INKREAD_URL", raising=False)
    monkeypatch.delenv("INKREAD_DEBUG", raising=False)


# ----- a deterministic result, built by hand ---------------------------------------------------

def _words(text: str, x0: float, y0: float, h: float, cw: float, conf: float, skip: int = 0) -> list[Word]:
    """Words of ``text`` laid out left to right, ``cw`` pixels a character; the first ``skip``
    characters are not words (a checkbox the pipeline drew itself)."""
    words, x = [], x0
    for k, token in enumerate(text.split(" ")):
        w = len(token) * cw
        if k >= skip:
            words.append(Word(token, [(x, y0), (x + w, y0), (x + w, y0 + h), (x, y0 + h)],
                              round(conf - 0.01 * k, 3)))
        x += w + cw
    return words


def _line(text: str, x0: float, y0: float, *, para: int, column: int = 0, conf: float = 0.95,
          h: float = 30, cw: float = 16, skip: int = 0) -> Line:
    words = _words(text, x0, y0, h, cw, conf, skip)
    x1 = x0 + len(text) * cw
    return Line(text, [(x0, y0), (x1, y0), (x1, y0 + h), (x0, y0 + h)], conf, words, para, column)


def _rotated(text: str, cx: float, cy: float, length: float, h: float, degrees: float) -> list[tuple[float, float]]:
    a = math.radians(degrees)
    u = (math.cos(a), -math.sin(a))  # along the line (image y points down)
    n = (math.sin(a), math.cos(a))  # down
    pts = []
    for s, t in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
        pts.append((round(cx + s * length * u[0] + t * h * n[0], 2), round(cy + s * length * u[1] + t * h * n[1], 2)))
    return pts


def sample_result() -> OcrResult:
    """Three pages: lists, checkboxes, markup characters, a rotated Unicode line without word
    boxes (second column); a one-line page; an empty page."""
    p1 = [
        _line("Notes & <ideas> for *today*", 60, 40, para=0, conf=0.97),
        _line("• buy milk", 60, 100, para=1, conf=0.93),
        _line("• call Anna", 60, 140, para=1, conf=0.62),
        _line("[ ] renew passport", 60, 200, para=2, conf=0.91, skip=2),
        _line("[x] pay rent", 60, 240, para=2, conf=0.55, skip=1),
        _line("1. first step", 60, 300, para=3),
        _line("2) second step", 60, 340, para=3),
        _line("which wraps here", 60, 380, para=3),
        Line("Ünïcödé 東京 😀 ok", _rotated("", 800, 200, 260, 34, 12.0), 0.8, [], 4, 1),
    ]
    p2 = [_line("Page two", 100, 100, para=0, conf=0.99)]
    return OcrResult(
        pages=[Page(0, 1000, 700, p1, "handwritten"), Page(1, 800, 600, p2, "printed"), Page(2, 400, 300, [])],
        language="en", mode="auto", source="notes.jpg",
    )


def sample_images() -> list[Image.Image]:
    """Plain page images the size of the sample's pages (a grey band so they are not blank)."""
    out = []
    for w, h in ((1000, 700), (800, 600), (400, 300)):
        a = np.full((h, w, 3), 255, np.uint8)
        a[h // 3 : h // 3 + 4] = (90, 90, 200)
        out.append(Image.fromarray(a))
    return out


# ----- golden files ----------------------------------------------------------------------------

def _norm_version(text: str) -> str:
    return text.replace(f"inkread {inkread.__version__}", "inkread VERSION").replace(
        f">{inkread.__version__}<", ">VERSION<")


def pdf_skeleton(data: bytes) -> str:
    """A PDF as text with what depends on zlib/libjpeg (binary streams, so also offsets, lengths
    and the file ID) blanked out; content streams and dictionaries stay."""
    def blank(m: re.Match[bytes]) -> bytes:
        entries = m.group(1)
        if b"/Filter" not in entries:
            return m.group(0)
        entries = re.sub(rb"/Length1? \d+", lambda x: x.group(0).split()[0] + b" N", entries)
        return b"<<" + entries + b">>\nstream\n<binary>\nendstream"

    data = re.sub(rb"<<([^<>]*)>>\nstream\n(.*?)\nendstream", blank, data, flags=re.S)
    data = re.sub(rb"\d{10} 00000 n\r\n", b"OFFSET 00000 n\n", data)
    data = re.sub(rb"/ID \[<[0-9A-F]+> <[0-9A-F]+>\]", b"/ID [<ID> <ID>]", data)
    data = re.sub(rb"startxref\n\d+", b"startxref\nN", data)
    return _norm_version(data.decode("latin-1"))


def _overlay_png(result: OcrResult) -> bytes:
    image = export.render_overlays(result, images=sample_images(), labels=False)[0]
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


RENDER = {
    "sample.txt": lambda r: export.export(r, "text"),
    "sample.json": lambda r: _norm_version(export.export(r, "json")),
    "sample.hocr": lambda r: _norm_version(r.to_hocr()),
    "sample.alto.xml": lambda r: _norm_version(r.to_alto()),
    "sample.md": lambda r: r.to_markdown(),
    "sample.pdf.txt": lambda r: pdf_skeleton(export.to_pdf_bytes(r, sample_images(), pdf_dpi=200, compress=False)),
}


@pytest.mark.parametrize("name", sorted(RENDER))
def test_golden(name):
    got = RENDER[name](sample_result())
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(got.encode("utf-8"))
        pytest.skip(f"updated {path}")
    assert path.exists(), f"missing {path}: run INKREAD_UPDATE_GOLDEN=1 pytest tests/test_export.py"
    assert got == path.read_bytes().decode("utf-8"), f"{name} differs from {path} (see the module docstring)"


def test_golden_overlay():
    """Overlay without labels (fonts differ between machines), compared with a small tolerance."""
    path = GOLDEN / "sample.overlay.png"
    got = _overlay_png(sample_result())
    if UPDATE:
        path.write_bytes(got)
        pytest.skip(f"updated {path}")
    a = np.asarray(Image.open(io.BytesIO(got)).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
    assert a.shape == b.shape
    assert np.abs(a - b).mean() < 0.5
    assert (np.abs(a - b).max(axis=2) > 40).mean() < 0.002


# ----- hOCR ------------------------------------------------------------------------------------

def _title(el) -> dict[str, str]:
    return {p.strip().split(" ", 1)[0]: p.strip().split(" ", 1)[1] for p in el.get("title").split(";") if p.strip()}


def test_hocr_is_xhtml_with_the_hocr_structure():
    result = sample_result()
    text = result.to_hocr()
    root = etree.fromstring(text.encode("utf-8"))  # well-formed XML (no DTD fetched)
    assert root.tag == f"{HOCR_NS}html"
    metas = {m.get("name"): m.get("content") for m in root.iter(f"{HOCR_NS}meta") if m.get("name")}
    assert metas["ocr-system"] == f"inkread {inkread.__version__}"
    caps = metas["ocr-capabilities"].split()
    assert {"ocr_page", "ocr_carea", "ocr_par", "ocr_line", "ocrx_word", "ocrp_wconf"} <= set(caps)
    assert metas["ocr-number-of-pages"] == "3"

    pages = [e for e in root.iter() if e.get("class") == "ocr_page"]
    assert len(pages) == 3
    assert _title(pages[0])["bbox"] == "0 0 1000 700"
    assert _title(pages[0])["image"] == '"notes.jpg"'
    assert _title(pages[1])["ppageno"] == "1"
    # nesting: page > carea > par > line > word
    for word in (e for e in root.iter() if e.get("class") == "ocrx_word"):
        chain = [a.get("class") for a in word.iterancestors() if a.get("class")]
        assert chain[:4] == ["ocr_line", "ocr_par", "ocr_carea", "ocr_page"]
        props = _title(word)
        assert re.fullmatch(r"\d+ \d+ \d+ \d+", props["bbox"])
        assert 0 <= int(props["x_wconf"]) <= 100
    words = [e for e in pages[0].iter() if e.get("class") == "ocrx_word"]
    first = words[0]
    assert first.text == "Notes" and _title(first) == {"bbox": "60 40 140 70", "x_wconf": "97"}
    assert [w.text for w in words[1:5]] == ["&", "<ideas>", "for", "*today*"]
    # two columns -> two content areas; the rotated line is split into words along its polygon
    areas = [e for e in pages[0] if e.get("class") == "ocr_carea"]
    assert len(areas) == 2
    rotated = [w.text for w in areas[1].iter() if w.get("class") == "ocrx_word"]
    assert rotated == ["Ünïcödé", "東京", "😀", "ok"]
    lines = [e for e in pages[0].iter() if e.get("class") == "ocr_line"]
    assert len(lines) == 9 and "x_size" in _title(lines[0]) and "baseline" in _title(lines[0])
    # the empty page is still a page
    assert not [e for e in pages[2].iter() if e.get("class") == "ocr_line"]


def test_hocr_of_several_results_is_one_document():
    a, b = sample_result(), sample_result()
    root = etree.fromstring(export.to_hocr([a, b]).encode("utf-8"))
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    assert len([e for e in root.iter() if e.get("class") == "ocr_page"]) == 6


# ----- ALTO ------------------------------------------------------------------------------------

def test_alto_validates_against_the_bundled_schema():
    text = sample_result().to_alto()
    export.validate_alto(text)
    export.validate_alto(text.encode("utf-8"))
    export.validate_alto(export.to_alto([sample_result(), sample_result()]))
    empty = OcrResult(pages=[Page(0, 10, 10)], language="", mode="auto")
    export.validate_alto(empty.to_alto())


def test_alto_structure_and_units():
    root = etree.fromstring(sample_result().to_alto().encode("utf-8"))
    assert root.tag == f"{ALTO_NS}alto"
    assert root.findtext(f"{ALTO_NS}Description/{ALTO_NS}MeasurementUnit") == "pixel"
    pages = root.findall(f".//{ALTO_NS}Page")
    assert [(p.get("WIDTH"), p.get("HEIGHT")) for p in pages] == [("1000", "700"), ("800", "600"), ("400", "300")]
    space = pages[0].find(f"{ALTO_NS}PrintSpace")
    blocks = space.findall(f"{ALTO_NS}TextBlock")
    assert len(blocks) == 5  # one per paragraph
    strings = pages[0].findall(f".//{ALTO_NS}String")
    assert (strings[0].get("CONTENT"), strings[0].get("HPOS"), strings[0].get("VPOS"),
            strings[0].get("WIDTH"), strings[0].get("HEIGHT"), strings[0].get("WC")) == (
        "Notes", "60", "40", "80", "30", "0.97")
    first_line = pages[0].find(f".//{ALTO_NS}TextLine")
    kids = [k.tag.replace(ALTO_NS, "") for k in first_line]
    assert kids == ["String", "SP", "String", "SP", "String", "SP", "String", "SP", "String"]
    rotated = blocks[-1].find(f"{ALTO_NS}TextLine")
    assert rotated.find(f"{ALTO_NS}Shape/{ALTO_NS}Polygon") is not None  # not axis-aligned


def test_alto_validation_catches_a_broken_document():
    text = sample_result().to_alto().replace('<MeasurementUnit>pixel</MeasurementUnit>',
                                             '<MeasurementUnit>furlong</MeasurementUnit>')
    with pytest.raises(alto_mod.AltoValidationError) as info:
        export.validate_alto(text)
    assert any("furlong" in e or "MeasurementUnit" in e for e in info.value.errors)


def test_schema_is_package_data():
    assert export.ALTO_SCHEMA_PATH.is_file() and (export.ALTO_SCHEMA_PATH.parent / "xlink.xsd").is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["inkread"]
    assert any(Path("export/schemas/alto-4-3.xsd").match(p) or p.startswith("export/schemas/") for p in patterns)


# ----- Markdown --------------------------------------------------------------------------------

@pytest.mark.parametrize("line, kind, md", [
    ("• buy milk", "bullet", "- buy milk"),
    ("- buy milk", "bullet", "- buy milk"),
    ("* buy milk", "bullet", "- buy milk"),
    ("[ ] renew passport", "task", "- [ ] renew passport"),
    ("[x] pay rent", "task", "- [x] pay rent"),
    ("[X] pay rent", "task", "- [x] pay rent"),
    ("• [ ] nested box", "task", "- [ ] nested box"),
    ("☐ open", "task", "- [ ] open"),
    ("☒ done", "task", "- [x] done"),
    ("1. first", "number", "1. first"),
    ("12) twelfth", "number", "12. twelfth"),
    ("1999. A good year", "number", "1999. A good year"),
    ("1.5 kg of flour", "para", "1.5 kg of flour"),
    ("# not a heading", "para", "\\# not a heading"),
    ("> not a quote", "para", "\\> not a quote"),
    ("use *stars* and _under_", "para", "use \\*stars\\* and \\_under\\_"),
    ("a <b> tag", "para", "a \\<b> tag"),
    ("---", "para", "\\---"),
    ("-", "para", "\\-"),
    ("-5 degrees", "para", "-5 degrees"),
])
def test_markdown_line(line, kind, md):
    assert markdown_line(line) == (kind, md)


def test_markdown_paragraphs_and_lists():
    md = sample_result().to_markdown()
    assert md == (
        "Notes & \\<ideas> for \\*today\\*\n"
        "\n"
        "- buy milk\n"
        "- call Anna\n"
        "- [ ] renew passport\n"
        "- [x] pay rent\n"
        "\n"
        "1. first step\n"
        "2. second step\n"
        "   which wraps here\n"
        "\n"
        "Ünïcödé 東京 😀 ok\n"
        "\n---\n\n"
        "Page two\n"
    )


def test_markdown_list_after_a_paragraph_line_gets_its_own_block():
    page = Page(0, 100, 100, [_line("Todo:", 0, 0, para=0), _line("2. later", 0, 40, para=0)])
    assert OcrResult([page], "en", "auto").to_markdown() == "Todo:\n\n2. later\n"


def test_markdown_of_nothing_is_empty():
    assert OcrResult([Page(0, 10, 10)], "en", "auto").to_markdown() == ""


# ----- searchable PDF (hand-built result) ------------------------------------------------------

def _chars(textpage) -> list[tuple[str, tuple[float, float, float, float]]]:
    return [(textpage.get_text_range(i, 1), textpage.get_charbox(i)) for i in range(textpage.count_chars())]


def page_size_pt(width_px: int, height_px: int) -> tuple[float, float]:
    """The PDF page of an image that says no resolution: 11 inches on its longer side, >= 72 dpi."""
    dpi = max(72.0, max(width_px, height_px) / 11.0)
    return width_px * 72 / dpi, height_px * 72 / dpi


def test_pdf_pages_sizes_and_unicode_text():
    result = sample_result()
    data = export.to_pdf_bytes(result, sample_images(), pdf_dpi=200)
    doc = pdfium.PdfDocument(data)
    assert len(doc) == 3
    # images that do not say their resolution become page-sized pages
    assert doc[0].get_size() == pytest.approx(page_size_pt(1000, 700), abs=0.01)
    texts = [doc[i].get_textpage().get_text_range() for i in range(3)]
    flat = " ".join(texts[0].split())
    assert "Notes & <ideas> for *today*" in flat
    assert "Ünïcödé 東京 😀 ok" in flat  # outside Latin-1 and outside the BMP
    assert "[ ] renew passport" in flat  # the checkbox as the result's text has it (copied, it reads the same)
    assert texts[1].strip() == "Page two"
    assert texts[2] == ""


def test_pdf_page_size_follows_the_image_dpi():
    result = sample_result()
    images = sample_images()
    images[0].info["dpi"] = (150, 150)
    doc = pdfium.PdfDocument(export.to_pdf_bytes(result, images))
    assert doc[0].get_size() == pytest.approx((480.0, 336.0), abs=0.01)
    assert doc[1].get_size() == pytest.approx(page_size_pt(800, 600), abs=0.01)


def test_pdf_rotated_words_follow_their_polygon():
    """A line turned far from level (a stamp, a margin note) is written along its polygon; one tilted
    less than SNAP degrees (the 12-degree line here, a skewed photo's lines) is written level across
    the middle of its box, since poppler reads tilted text a few letters at a time in no order."""
    from inkread.export._textlayer import SNAP

    result = sample_result()
    steep = Line("Ünïcödé 東京 ok", _rotated("", 700, 400, 300, 34, 35.0), 0.8, [], 5, 1)
    result.pages[0].lines.append(steep)
    doc = pdfium.PdfDocument(export.to_pdf_bytes(result, sample_images()))
    page = doc[0]
    height = page.get_size()[1]
    scale = page.get_size()[0] / result.pages[0].width
    assert 12.0 < SNAP < 35.0
    for line, skip in ((result.pages[0].lines[-2], 0), (steep, 6)):
        poly = np.array([(x * scale, height - y * scale) for x, y in line.bbox])
        chars = [(c, b) for c, b in _chars(page.get_textpage()) if c and c in "Üïöé東京"]
        chars = chars[skip : skip + 6]  # the 12-degree line's, then the steep line's
        assert len(chars) == 6
        for _, (l, b, r, t) in chars:
            centre = np.array([(l + r) / 2, (b + t) / 2])
            if line is steep:
                assert _inside(centre, poly), (centre, poly)
            else:  # level, inside the line's box
                assert (poly.min(axis=0) <= centre).all() and (centre <= poly.max(axis=0)).all(), (centre, poly)
        boxes = np.array([b for _, b in chars])
        rising = np.polyfit((boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2, 1)[0]
        assert rising == pytest.approx(0.0 if line is not steep else math.tan(math.radians(35)), abs=0.02)


def _inside(p: np.ndarray, poly: np.ndarray) -> bool:
    signs = []
    for k in range(len(poly)):
        a, b = poly[k], poly[(k + 1) % len(poly)]
        signs.append(np.sign((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])))
    return all(s >= 0 for s in signs) or all(s <= 0 for s in signs)


def test_pdf_text_layer_is_invisible():
    result = sample_result()
    data = export.to_pdf_bytes(result, sample_images(), image_format="flate")
    with_text = np.asarray(pdfium.PdfDocument(data)[0].render(scale=0.5).to_pil().convert("L"))
    empty = OcrResult([Page(0, 1000, 700)], "en", "auto")
    without = np.asarray(pdfium.PdfDocument(export.to_pdf_bytes(empty, sample_images()[:1], image_format="flate"))[0]
                         .render(scale=0.5).to_pil().convert("L"))
    assert np.array_equal(with_text, without)


def test_pdf_needs_the_images():
    result = sample_result()
    result.source = "<bytes>"
    with pytest.raises(ValueError, match="images="):
        result.to_pdf_bytes()
    with pytest.raises(ValueError, match="3 page"):
        result.to_pdf_bytes(sample_images()[:2])
    with pytest.raises(ValueError, match="not the same page image"):
        result.to_pdf_bytes([Image.new("RGB", (100, 700))] + sample_images()[1:])


def test_glyphless_font_loads_and_paints_nothing():
    from PIL import ImageDraw, ImageFont

    font = ImageFont.truetype(io.BytesIO(glyphless_font()), 80)
    assert font.getname()[0] == "GlyphLessFont"
    im = Image.new("L", (400, 120), 255)
    ImageDraw.Draw(im).text((5, 5), "Hello 東京", font=font, fill=0)
    assert np.asarray(im).min() == 255


@pytest.mark.skipif(not (shutil.which("qpdf") and shutil.which("pdftotext")), reason="qpdf/poppler not installed")
def test_pdf_passes_qpdf_and_poppler(tmp_path):
    path = tmp_path / "x.pdf"
    path.write_bytes(export.to_pdf_bytes(sample_result(), sample_images()))
    subprocess.run(["qpdf", "--check", str(path)], check=True, capture_output=True)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "Notes & <ideas> for *today*" in out and "Page two" in out


# ----- API: save, overlay ----------------------------------------------------------------------

@pytest.mark.parametrize("name, fmt", [("a.txt", "text"), ("a.json", "json"), ("a.hocr", "hocr"),
                                       ("a.html", "hocr"), ("a.xml", "alto"), ("a.alto", "alto"),
                                       ("a.md", "md"), ("a.pdf", "pdf")])
def test_save_infers_the_format(tmp_path, name, fmt):
    result = sample_result()
    path = result.save(tmp_path / name, images=sample_images())
    data = path.read_bytes()
    assert export.format_for_path(path) == fmt
    if fmt == "pdf":
        assert data.startswith(b"%PDF-") and len(pdfium.PdfDocument(data)) == 3
    else:
        assert data.decode("utf-8") == export.export(result, fmt)


def test_save_with_explicit_format_and_errors(tmp_path):
    result = sample_result()
    result.save(tmp_path / "out.data", format="markdown")
    assert (tmp_path / "out.data").read_text(encoding="utf-8") == result.to_markdown()
    with pytest.raises(ValueError, match="cannot tell the output format"):
        result.save(tmp_path / "out.data")
    with pytest.raises(ValueError, match="unknown output format"):
        result.save(tmp_path / "out.txt", format="docx")
    assert result.to_text() == result.text


def test_overlay_draws_lines_and_labels(tmp_path):
    result = sample_result()
    images = sample_images()
    img = result.render_overlay(images=images)
    assert img.size == (1000, 700) and img.mode == "RGB"
    a = np.asarray(img).astype(int)
    # the outline of the first line (confidence 0.97: green) is drawn on its top edge
    top = a[40, 70:200]
    assert ((top[:, 1] > top[:, 0] + 60)).mean() > 0.8
    # its label sits above it: dark text pixels where the page was white
    assert (a[10:38, 60:400].sum(axis=2) < 200).any()
    # low confidence (0.55) is red
    edge = a[240, 70:120]
    assert ((edge[:, 0] > edge[:, 1] + 60)).mean() > 0.8
    saved = result.render_overlay(tmp_path / "ov.png", images=images)
    assert len(saved) == 3 and sorted(p.name for p in tmp_path.iterdir()) == ["ov-1.png", "ov-2.png", "ov-3.png"]
    one = result.render_overlay(tmp_path / "p2.png", images=images, page=1)
    assert one.size == (800, 600) and Image.open(tmp_path / "p2.png").size == (800, 600)


def test_overlay_without_dejavu_uses_the_default_font(monkeypatch):
    monkeypatch.setattr(overlay_mod, "OVERLAY_FONT_PATHS", ())
    overlay_mod.overlay_font.cache_clear()
    try:
        img = sample_result().render_overlay(images=sample_images())
        assert img.size == (1000, 700)
    finally:
        overlay_mod.overlay_font.cache_clear()


def test_overlay_scales_to_a_larger_image():
    result = sample_result()
    big = [im.resize((im.width * 2, im.height * 2)) for im in sample_images()]
    img = result.render_overlay(images=big, labels=False)
    a = np.asarray(img).astype(int)
    assert img.size == (2000, 1400)
    assert (a[80, 140:400, 1] > a[80, 140:400, 0] + 60).mean() > 0.8  # line 1's top edge, scaled


# ----- real recognition: PDF round trip --------------------------------------------------------

@pytest.fixture(scope="module")
def printed_result():
    return inkread.recognize(PRINTED)


def test_pdf_round_trip_of_a_recognised_page(printed_result):
    result = printed_result
    data = result.to_pdf_bytes()  # reloads result.source
    doc = pdfium.PdfDocument(data)
    assert len(doc) == 1
    page = doc[0]
    width, height = page.get_size()
    assert (width, height) == pytest.approx(page_size_pt(1240, 731), abs=0.01)  # no dpi: a page
    textpage = page.get_textpage()
    extracted = " ".join(textpage.get_text_range().split())
    assert cer(" ".join(result.text.split()), extracted) < 0.01

    from inkread.export._textlayer import MAX_NARROWING

    # every word's characters lie on the word's box
    scale = width / result.pages[0].width
    chars = [(c, box) for c, box in _chars(textpage) if not c.isspace()]
    words = [w for line in result.pages[0].lines for w in line.words]
    assert "".join(c for c, _ in chars) == "".join(w.text.replace(" ", "") for w in words)
    k = 0
    misplaced = []
    for word in words:
        n = len(word.text.replace(" ", ""))
        boxes = [b for _, b in chars[k : k + n]]
        k += n
        xs, ys = [p[0] for p in word.bbox], [p[1] for p in word.bbox]
        want = (min(xs) * scale, height - max(ys) * scale, max(xs) * scale, height - min(ys) * scale)
        got = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        # starts where the word starts (points; a pixel here is 0.24 pt), ends at its end or a little
        # before it (narrowed to leave a gap to the next word), its middle inside the word's box
        width = want[2] - want[0]
        middle = (got[1] + got[3]) / 2
        if (
            abs(got[0] - want[0]) > 0.5
            or not want[2] - MAX_NARROWING * width - 0.5 <= got[2] <= want[2] + 0.5
            or not want[1] <= middle <= want[3]
        ):
            misplaced.append((word.text, want, got))
        # selecting the word's box (shrunk a little) gives back exactly the word
        l, b, r, t = want
        dy = (t - b) * 0.25
        assert textpage.get_text_bounded(l + 0.3, b + dy, r - 0.3, t - dy).strip() == word.text
    assert not misplaced


def test_pdf_takes_the_images_in_every_form(printed_result):
    from inkread.io import load_pages

    result = printed_result
    want = " ".join(result.text.split())
    forms = [PRINTED.read_bytes(), io.BytesIO(PRINTED.read_bytes()), load_pages(PRINTED),
             [np.asarray(Image.open(PRINTED).convert("RGB"))], Image.open(PRINTED), os.fspath(PRINTED)]
    for images in forms:
        doc = pdfium.PdfDocument(result.to_pdf_bytes(images, image_format="flate"))
        assert len(doc) == 1
        assert " ".join(doc[0].get_textpage().get_text_range().split()) == want


def test_pdf_builder_can_be_finished_twice():
    pdf = export.SearchablePdf(compress=False)
    result = sample_result()
    pdf.add_result(result, sample_images())
    first = pdf.to_bytes()
    assert pdf.to_bytes() == first
    pdf.add_page(None, sample_images()[0])
    assert len(pdfium.PdfDocument(pdf.to_bytes())) == 4 and pdf.page_count == 4


def _two_page_pdf(path: Path) -> Path:
    pdf = export.SearchablePdf()
    for image, _ in (WATER, INVOICE):
        pdf.add_page(None, Image.open(image).convert("RGB"), dpi=300)
    path.write_bytes(pdf.to_bytes())
    return path


def test_two_page_pdf_in_two_page_searchable_pdf_out(tmp_path):
    source = _two_page_pdf(tmp_path / "two.pdf")
    result = inkread.recognize(source)
    assert len(result.pages) == 2
    doc = pdfium.PdfDocument(result.to_pdf_bytes())  # pages rendered again from the source PDF
    src = pdfium.PdfDocument(source)
    assert len(doc) == 2
    for i, (_, truth) in enumerate((WATER, INVOICE)):
        assert doc[i].get_size() == pytest.approx(src[i].get_size(), abs=0.5)
        assert " ".join(doc[i].get_textpage().get_text_range().split()) == result.pages[i].text == truth


# ----- the command line ------------------------------------------------------------------------

def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([os.fspath(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_format_from_suffix(fake, capsys, tmp_path):
    code, _, err = run_cli(capsys, WATER[0], "-o", tmp_path / "w.hocr", "-q")
    assert code == 0, err
    root = etree.fromstring((tmp_path / "w.hocr").read_bytes())
    assert [w.text for w in root.iter() if w.get("class") == "ocrx_word"] == fake_read(WATER[0]).split()
    code, _, err = run_cli(capsys, WATER[0], INVOICE[0], "-o", tmp_path / "both.xml", "-q")
    assert code == 0, err
    export.validate_alto(tmp_path / "both.xml")
    assert (tmp_path / "both.xml").read_text(encoding="utf-8").count("<Page ") == 2


def test_cli_markdown_to_stdout_and_per_file_dir(fake, capsys, tmp_path):
    code, out, err = run_cli(capsys, WATER[0], "--format", "md")
    assert code == 0, err
    assert out == fake_read(WATER[0]) + "\n"
    code, _, err = run_cli(capsys, WATER[0], INVOICE[0], "-o", f"{tmp_path}/md/", "-f", "md", "-q")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "md").iterdir()) == ["dejavuserif_01.md", "dkg_01.md"]
    code, _, err = run_cli(capsys, WATER[0], "-o", f"{tmp_path}/pdfs/", "-f", "pdf", "-q")
    assert code == 0, err
    assert len(pdfium.PdfDocument(tmp_path / "pdfs" / "dkg_01.pdf")) == 1


def test_cli_pdf_and_overlay_of_a_two_page_pdf(fake, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("INKREAD_JOBS", "1")  # both pages in this process, where the fake is
    source = _two_page_pdf(tmp_path / "two.pdf")
    code, _, err = run_cli(capsys, source, "-o", tmp_path / "out.pdf", "--overlay", tmp_path / "ov.png", "-q")
    assert code == 0, err
    doc = pdfium.PdfDocument(tmp_path / "out.pdf")
    assert len(doc) == 2
    read = [fake_text(i, *Image.open(tmp_path / f"ov-{i + 1}.png").size) for i in range(2)]  # page i, its size
    assert [" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(2)] == read
    for i, (image, _) in enumerate((WATER, INVOICE), 1):
        got, want = Image.open(tmp_path / f"ov-{i}.png").size, Image.open(image).size
        assert abs(got[0] - want[0]) <= 1 and abs(got[1] - want[1]) <= 1  # rendered from the PDF


def test_cli_overlay_of_one_image(fake, capsys, tmp_path):
    code, out, err = run_cli(capsys, WATER[0], "--overlay", tmp_path / "check.png")
    assert code == 0, err
    assert out == fake_read(WATER[0]) + "\n"
    assert Image.open(tmp_path / "check.png").size == Image.open(WATER[0]).size


def test_cli_pdf_needs_an_output_file(capsys):
    code, _, err = run_cli(capsys, WATER[0], "--format", "pdf")
    assert code == 2 and "give -o OUT.pdf" in err


def test_cli_overlay_never_overwrites_the_input(capsys, tmp_path):
    image = tmp_path / "line.png"
    shutil.copy(WATER[0], image)
    before = image.read_bytes()
    code, _, err = run_cli(capsys, image, "--overlay", image)
    assert code == 2 and "refusing" in err
    assert image.read_bytes() == before


def test_cli_help_lists_the_formats(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    help_text = " ".join(out.split())
    assert all(f" {name}" in help_text for name in export.FORMATS) and "--overlay" in out


def test_cli_suffixes_and_formats_agree():
    assert [export.parse_format(name) for name in export.FORMATS] == list(export.FORMATS)
    assert set(export.SUFFIXES.values()) == set(export.FORMATS) == set(export.EXTENSIONS)


def test_cli_version_does_not_import_numpy():
    code = ("import sys; from inkread import cli, export; "
            "assert 'numpy' not in sys.modules and 'PIL' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_json_golden_is_the_json_output():
    assert json.loads(export.export(sample_result(), "json")) == sample_result().to_dict()


# ----- a PDF in, the same PDF out with a text layer -----------------------------------------------

def _vector_pdf(path: Path) -> Path:
    import pikepdf

    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(612, 792))
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(b"BT /F1 24 Tf 72 700 Td (Hello vector world) Tj ET")
    pdf.save(path)
    return path


def _scanned_pdf(path: Path) -> Path:
    image = Image.open(PRINTED).convert("RGB")
    image.save(path, format="PDF", resolution=150)
    return path


def _page_text(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def test_pdf_in_keeps_its_pages_and_gains_a_text_layer(tmp_path, capsys):
    """A searchable PDF made from a PDF re-rasterised every page at 300 dpi: 308 KB became 861 KB and
    the vector text and images were gone (issue 12). The input's pages are kept as they are."""
    import pikepdf

    scanned = _scanned_pdf(tmp_path / "scan.pdf")
    out = tmp_path / "scan-ocr.pdf"
    assert cli.main([str(scanned), "-o", str(out), "--mode", "printed"]) == 0
    with pikepdf.open(scanned) as a, pikepdf.open(out) as b:
        assert len(b.pages) == 1 and list(b.pages[0].mediabox) == list(a.pages[0].mediabox)
        original = list(a.pages[0].get_images().values())
        kept = list(b.pages[0].get_images().values())
        assert len(kept) == 1 and kept[0].read_raw_bytes() == original[0].read_raw_bytes()  # not re-encoded
    assert out.stat().st_size < 1.2 * scanned.stat().st_size
    truth = (PRINTED.with_suffix(".txt")).read_text(encoding="utf-8")
    assert cer(truth, _page_text(out)[0]) < 0.1  # the invisible words are there to search and copy
    # vector text: already searchable, so the page is kept exactly and gets no second layer
    vector = _vector_pdf(tmp_path / "vector.pdf")
    out2 = tmp_path / "vector-ocr.pdf"
    assert cli.main([str(vector), "-o", str(out2), "--mode", "printed"]) == 0
    capsys.readouterr()
    with pikepdf.open(vector) as a, pikepdf.open(out2) as b:
        assert b.pages[0].obj.Contents.read_bytes() == a.pages[0].obj.Contents.read_bytes()
        assert len(b.pages[0].get_images()) == 0  # no page image added
    assert _page_text(out2)[0].strip() == "Hello vector world"


def test_images_without_a_resolution_become_page_sized_pages(fake, tmp_path, capsys):
    """A 540x417 photo without DPI metadata became a 1.8-inch page (300 dpi assumed; issue 12)."""
    import pikepdf

    def page_inches(pdf_path):
        with pikepdf.open(pdf_path) as pdf:
            box = [float(v) for v in pdf.pages[0].mediabox]
        return round((box[2] - box[0]) / 72, 2), round((box[3] - box[1]) / 72, 2)

    small = tmp_path / "small.png"
    Image.open(WATER[0]).convert("RGB").resize((540, 417)).save(small)  # no dpi in the file
    big = tmp_path / "big.png"
    Image.new("RGB", (4000, 3000), "white").save(big)
    assert cli.main([str(small), "-o", str(tmp_path / "small.pdf")]) == 0
    assert page_inches(tmp_path / "small.pdf") == (7.5, 5.79)  # 72 dpi at the least
    assert cli.main([str(big), "-o", str(tmp_path / "big.pdf")]) == 0
    assert page_inches(tmp_path / "big.pdf") == (11.0, 8.25)  # a page, not a 13-inch poster
    assert cli.main([str(small), "-o", str(tmp_path / "told.pdf"), "--image-dpi", "150"]) == 0
    assert page_inches(tmp_path / "told.pdf") == (3.6, 2.78)
    said = tmp_path / "said.png"
    Image.open(small).save(said, dpi=(200, 200))  # a resolution of its own is kept
    assert cli.main([str(said), "-o", str(tmp_path / "said.pdf")]) == 0
    assert page_inches(tmp_path / "said.pdf") == (2.7, 2.08)
    capsys.readouterr()
