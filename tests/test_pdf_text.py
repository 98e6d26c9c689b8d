"""The searchable PDF read back by every text extractor, pages turned upright, and PDFs that already
have text (issue 26).

- The golden sample (``tests/data/golden``, ``test_export.sample_result``) and real OCR results
  (``tests/data/pdftext/*.json``: ``inkread examples/printed_page.png --mode printed -f json`` and
  ``inkread examples/handwritten_note.jpg -f json``) made into PDFs give back the result's words in
  the result's order with poppler's ``pdftotext`` (with and without ``-layout``), PDFium and
  pdfminer.six; a paragraph is one block (no blank line inside it) in plain ``pdftotext``.
- A page read turned (``Page.rotation``) is upright in the PDF: an image's pixels turned, a PDF
  page's ``/Rotate`` set; the words follow.
- ``existing_text``: a born-digital page passes through (kept, not read, one line on stderr),
  ``--force-ocr`` rasterises and replaces its text, ``--redo-ocr`` replaces only an OCR layer.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest

import inkread
from fakes import fake_text
from inkread import cli, export
from inkread.exceptions import InvalidOptionError
from inkread.export.pdf import SearchablePdf
from inkread.metrics import edit_distance
from inkread.options import RecognitionOptions
from inkread.orientation import map_back
from inkread.result import Line, OcrResult, Page, Word
from test_export import sample_images, sample_result

DATA = Path(__file__).resolve().parent / "data" / "pdftext"
REAL = sorted(DATA.glob("*.json"))
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")


@pytest.fixture(autouse=True)
def _local_engine(monkeypatch):
    monkeypatch.delenv("INKREAD_URL", raising=False)


def pdftotext(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdfium_text(path: Path) -> list[str]:
    doc = pdfium.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def extracted(path: Path) -> dict[str, str]:
    """The document's text as each extractor gives it."""
    from pdfminer.high_level import extract_text

    return {
        "pdftotext": pdftotext(path),
        "pdftotext -layout": pdftotext(path, "-layout"),
        "pdfium": "\n".join(pdfium_text(path)),
        "pdfminer": extract_text(str(path)),
    }


def blank_images(result: OcrResult) -> list[np.ndarray]:
    return [np.full((p.height, p.width, 3), 255, np.uint8) for p in result.pages]


# ----- the text layer, read back ---------------------------------------------------------------


@needs_poppler
def test_the_golden_sample_reads_back_word_for_word(tmp_path):
    pytest.importorskip("pdfminer", reason="pdfminer.six is not installed (pip install '.[test]')")
    result = sample_result()
    path = tmp_path / "sample.pdf"
    path.write_bytes(export.to_pdf_bytes(result, sample_images()))
    want = result.text.split()
    for name, text in extracted(path).items():
        if name == "pdftotext -layout":  # the page as laid out: the second column's line beside the first's
            assert sorted(text.split()) == sorted(want), name
        else:
            assert text.split() == want, name


@needs_poppler
@pytest.mark.parametrize("json_path", REAL, ids=[p.stem for p in REAL])
def test_real_results_read_back_word_for_word(tmp_path, json_path):
    """Word error 0 with every extractor (before issue 26, pdftotext joined 4 of 1,084 words of two
    book pages: 'But,for'), and each paragraph is one block in plain pdftotext (it broke paragraphs
    where the font size changed from line to line)."""
    pytest.importorskip("pdfminer", reason="pdfminer.six is not installed (pip install '.[test]')")
    result = OcrResult.from_dict(json.loads(json_path.read_text(encoding="utf-8")))
    path = tmp_path / "real.pdf"
    path.write_bytes(export.to_pdf_bytes(result, blank_images(result), image_format="flate"))
    want = result.text.split()
    assert len(want) > 20
    errors = {name: edit_distance(want, text.split()) for name, text in extracted(path).items()}
    assert errors == dict.fromkeys(errors, 0)
    blocks = [" ".join(block.split()) for block in pdftotext(path).replace("\f", "").split("\n\n")]
    for lines in result.pages[0].paragraphs:
        paragraph = " ".join(" ".join(line.text for line in lines).split())
        assert any(paragraph in block for block in blocks), paragraph


@needs_poppler
@pytest.mark.slow
def test_dev_book_pages_made_into_a_pdf_read_back_word_for_word(eval_samples, tmp_path):
    """Two of the dev set's printed book pages (fondue-en-print), read and made into a searchable PDF
    with their own images: word error 0 with every extractor (bench/bench_pdf_text.py measures all
    the dev print pages). Receipts (sroie) are not here: their columns and tilted rows are read in
    each extractor's own reading order, not the result's (RESULTS: the text layer)."""
    pytest.importorskip("pdfminer", reason="pdfminer.six is not installed (pip install '.[test]')")
    pages = [s for s in eval_samples if s.set == "fondue-en-print"][:2]
    assert pages
    for sample in pages:
        result = inkread.recognize(sample.image_path, mode="printed", language="en")
        path = tmp_path / f"{sample.id}.pdf"
        path.write_bytes(result.to_pdf_bytes())
        want = result.text.split()
        errors = {name: edit_distance(want, text.split()) for name, text in extracted(path).items()}
        assert errors == dict.fromkeys(errors, 0), (sample.id, errors)


def _frames(data: bytes) -> list[bytes]:
    """The uncompressed text layer's show-text operators, as bytes."""
    return [line for line in data.split(b"\n") if line.endswith(b" Tj")]


def test_a_space_between_words_fills_the_gap_and_one_font_size_a_paragraph():
    """Each word is fitted to its box and followed by one space glyph as wide as the gap to the next
    word (not a trailing space squeezed into the word's box); a gap too narrow for poppler to see
    is widened by narrowing the word before it; every line of a paragraph has the same size."""
    h, cw = 30, 16
    words = [
        Word("But,", [(0, 0), (4 * cw, 0), (4 * cw, h), (0, h)], 0.9),
        Word("for", [(4 * cw + 1, 0), (7 * cw + 1, 0), (7 * cw + 1, h), (4 * cw + 1, h)], 0.9),
    ]
    line1 = Line("But, for", [(0, 0), (7 * cw + 1, 0), (7 * cw + 1, h), (0, h)], 0.9, words, 0)
    line2 = Line("all of", [(0, 40), (100, 40), (100, 72), (0, 72)], 0.9, [], 0)  # taller: same size still
    page = Page(0, 400, 200, [line1, line2])
    data = SearchablePdf(compress=False)
    data.add_page(page, np.full((200, 400, 3), 255, np.uint8), dpi=72)
    pdf = data.to_bytes()
    assert pdf.count(b" Tf\n") == 1  # one paragraph, one size
    shows = _frames(pdf)
    assert [s.rsplit(b"<", 1)[1] for s in shows[:3]] == [b"004200750074002C> Tj", b"0020> Tj", b"0066006F0072> Tj"]
    x = [float(s.split(b" Tm")[0].split()[-2]) for s in shows[:3]]
    assert x[0] == 0 and x[2] == pytest.approx(4 * cw + 1)
    assert 0 < x[1] < 4 * cw  # the comma's word narrowed: a gap poppler sees, filled by the space


# ----- pages turned upright --------------------------------------------------------------------


def _sideways() -> tuple[OcrResult, np.ndarray]:
    """A page given turned a quarter anticlockwise (read after turning it 90 degrees clockwise):
    800 x 300 upright, 300 x 800 as given, one line of two words."""
    upright = [(100, 100), (500, 100), (500, 140), (100, 140)]
    w1, w2 = [(100, 100), (280, 100), (280, 140), (100, 140)], [(320, 100), (500, 100), (500, 140), (320, 140)]

    def back(poly):
        return [tuple(map(float, p)) for p in map_back(np.array(poly, float), 90, 300, 800)]

    line = Line("sideways page", back(upright), 0.9, [Word("sideways", back(w1), 0.9), Word("page", back(w2), 0.9)])
    image = np.full((300, 800, 3), 255, np.uint8)
    image[100:140, 100:500] = 0  # the line's ink, upright
    given = np.ascontiguousarray(np.rot90(image, 1))  # as given: turned anticlockwise
    return OcrResult([Page(0, 300, 800, [line], rotation=90)], "en", "printed"), given


@needs_poppler
def test_a_sideways_image_page_is_upright_in_the_pdf(tmp_path):
    result, given = _sideways()
    path = tmp_path / "upright.pdf"
    path.write_bytes(export.to_pdf_bytes(result, [given], image_format="flate"))
    doc = pdfium.PdfDocument(str(path))
    page = doc[0]
    width, height = page.get_size()
    assert width > height  # landscape: the pixels were turned
    pixels = np.asarray(page.render(scale=800 / width).to_pil().convert("L"))
    assert pixels[110:130, 120:480].mean() < 60 and pixels[200:280, :].mean() > 200  # the ink where upright
    textpage = page.get_textpage()
    boxes = [textpage.get_charbox(i) for i in range(textpage.count_chars()) if textpage.get_text_range(i, 1).strip()]
    scale = width / 800
    for _left, bottom, _right, top in boxes:  # level, on the line's band (y from the top: 100..140 px)
        assert 100 * scale - 1 <= height - (bottom + top) / 2 <= 140 * scale + 1
    assert pdftotext(path).split() == ["sideways", "page"]


def test_a_sideways_pdf_page_gets_rotate_and_keeps_its_image(tmp_path):
    _, given = _sideways()
    scan = tmp_path / "scan.pdf"
    builder = SearchablePdf(image_format="flate")
    builder.add_page(None, given, dpi=300)
    scan.write_bytes(builder.to_bytes())
    result, _ = _sideways()
    out = tmp_path / "out.pdf"
    out.write_bytes(export.to_pdf_bytes(result, os.fspath(scan)))
    with pikepdf.open(scan) as a, pikepdf.open(out) as b:
        assert int(b.pages[0].obj.Rotate) == 90
        image_a = next(iter(a.pages[0].get_images().values())).read_raw_bytes()
        assert next(iter(b.pages[0].get_images().values())).read_raw_bytes() == image_a  # the page is kept
    doc = pdfium.PdfDocument(str(out))
    width, height = doc[0].get_size()
    assert width > height  # shown upright
    assert pdfium_text(out)[0].split() == ["sideways", "page"]
    if shutil.which("pdftotext"):
        assert pdftotext(out).split() == ["sideways", "page"]


# ----- PDFs that already have text -------------------------------------------------------------


def _vector_pages(path: Path, texts: list[str]) -> Path:
    pdf = pikepdf.new()
    for text in texts:
        page = pdf.add_blank_page(page_size=(612, 792))
        font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(
            b"BT /F1 24 Tf 72 700 Td (%s) Tj 0 -40 Td (second line) Tj ET" % text.encode()
        )
    pdf.save(path)
    return path


def _ocr_layer_page(path: Path) -> Path:
    """A scanned page with an earlier OCR layer (invisible text 'OLD LAYER')."""
    image = np.full((600, 800, 3), 255, np.uint8)
    image[100:140, 100:500] = 0
    line = Line("OLD LAYER", [(100, 100), (500, 100), (500, 140), (100, 140)], 0.9)
    builder = SearchablePdf(image_format="flate")
    builder.add_page(Page(0, 800, 600, [line]), image, dpi=100)
    path.write_bytes(builder.to_bytes())
    return path


def test_existing_text_is_an_option_named_as_ocrmypdf_names_it():
    assert RecognitionOptions().existing_text == "skip"
    for given, want in (("force-ocr", "force"), ("redo_ocr", "redo"), ("skip-text", "skip"), ("force", "force")):
        assert RecognitionOptions.from_fields({"existing_text": given}).existing_text == want
    with pytest.raises(InvalidOptionError, match="existing_text"):
        RecognitionOptions(existing_text="sometimes")
    with pytest.raises(InvalidOptionError):
        RecognitionOptions.from_fields({"existing_text": "sometimes"})


def test_a_born_digital_pdf_passes_through_unread(fake, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("INKREAD_JOBS", "1")
    source = _vector_pages(tmp_path / "digital.pdf", ["Hello vector world", "Page two here"])
    before = source.read_bytes()
    out = tmp_path / "out.pdf"
    assert cli.main([str(source), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    kept = [line for line in err.splitlines() if "already" in line]
    assert kept and all("not read (--force-ocr" in line for line in kept)
    assert source.read_bytes() == before  # the input is never touched
    with pikepdf.open(source) as a, pikepdf.open(out) as b:
        assert len(b.pages) == 2
        for pa, pb in zip(a.pages, b.pages):
            assert pb.obj.Contents.read_bytes() == pa.obj.Contents.read_bytes() and not pb.get_images()
    assert [" ".join(t.split()) for t in pdfium_text(out)] == [
        "Hello vector world second line",
        "Page two here second line",
    ]
    result = inkread.recognize(source)  # the page's own text is the result's
    assert [p.text_source for p in result.pages] == ["pdf", "pdf"]
    assert [t for t in result.pages[0].text.split("\n") if t] == ["Hello vector world", "second line"]
    assert json.loads(result.to_json())["pages"][0]["text_source"] == "pdf"


@pytest.mark.slow
def test_a_born_digital_pdf_passes_through_in_under_5_percent_of_the_time_to_read_it(tmp_path):
    """The real models: two pages of 30 printed lines each, kept (their own text) and read (--force-ocr)."""
    import time

    texts = [f"Line {k} of page {p}: the quick brown fox jumps over the lazy dog" for p in (1, 2) for k in range(30)]
    pdf = pikepdf.new()
    for p in range(2):
        page = pdf.add_blank_page(page_size=(612, 792))
        font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        body = b" ".join(b"(%s) Tj 0 -22 Td" % t.encode() for t in texts[30 * p : 30 * p + 30])
        page.obj.Contents = pdf.make_stream(b"BT /F1 12 Tf 50 740 Td " + body + b" ET")
    source = tmp_path / "digital.pdf"
    pdf.save(source)
    engine = inkread.OcrEngine(mode="printed")
    engine.warmup()
    engine.recognize(source)  # the PDF readers' first imports (a fresh venv compiles them) are not the pass-through
    t0 = time.perf_counter()
    kept = engine.recognize(source)
    t1 = time.perf_counter()
    read = engine.recognize(source, existing_text="force")
    t2 = time.perf_counter()
    assert [line.text for page in kept.pages for line in page.lines] == texts  # its text, unchanged
    assert len(read.lines) >= 50  # it was really read
    print(f"kept in {t1 - t0:.3f} s, read in {t2 - t1:.2f} s")
    assert t1 - t0 < 0.05 * (t2 - t1), (t1 - t0, t2 - t1)


def test_force_ocr_rasterises_and_replaces_the_text(fake, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("INKREAD_JOBS", "1")
    source = _vector_pages(tmp_path / "digital.pdf", ["Hello vector world"])
    out = tmp_path / "out.pdf"
    assert cli.main([str(source), "-o", str(out), "--force-ocr", "-q"]) == 0
    assert "already" not in capsys.readouterr().err
    with pikepdf.open(out) as b:
        assert len(b.pages[0].get_images()) == 1  # rasterised
    read = " ".join(pdfium_text(out)[0].split())
    assert read.startswith("page 1 ") and "Hello" not in read  # the new text only
    result = inkread.recognize(source, existing_text="force")
    assert result.pages[0].text_source == "ocr" and result.text == fake_text(
        0, result.pages[0].width, result.pages[0].height
    )


def test_redo_ocr_replaces_only_an_earlier_ocr_layer(fake, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("INKREAD_JOBS", "1")
    scanned = _ocr_layer_page(tmp_path / "layer.pdf")
    digital = _vector_pages(tmp_path / "digital.pdf", ["Hello vector world"])
    mixed = tmp_path / "mixed.pdf"
    with pikepdf.open(scanned) as a, pikepdf.open(digital) as b:
        a.pages.append(b.pages[0])
        a.save(mixed)
    assert "OLD LAYER" in pdfium_text(mixed)[0]
    # by default both pages keep their text
    assert [p.text_source for p in inkread.recognize(mixed).pages] == ["pdf", "pdf"]
    out = tmp_path / "redo.pdf"
    assert cli.main([str(mixed), "-o", str(out), "--redo-ocr"]) == 0
    err = capsys.readouterr().err
    assert "page 2 already has text" in err and "page 1 " not in err
    texts = [" ".join(t.split()) for t in pdfium_text(out)]
    assert "OLD" not in texts[0] and texts[0].startswith("page 1 ")  # the old layer gone, the new one there
    assert texts[1] == "Hello vector world second line"  # visible text kept
    with pikepdf.open(mixed) as a, pikepdf.open(out) as b:
        image_a = next(iter(a.pages[0].get_images().values())).read_raw_bytes()
        assert next(iter(b.pages[0].get_images().values())).read_raw_bytes() == image_a  # not rasterised again


def test_a_pdf_page_with_its_own_rotate_gets_its_layer_where_it_is_shown(tmp_path):
    """An input page with /Rotate (a scan stored sideways and shown upright) was rasterised again
    (its text layer could not be laid over it); now the layer is laid over the page as it is shown."""
    image = np.full((300, 800, 3), 255, np.uint8)  # as shown: 800 x 300, the line at the top left
    image[100:140, 100:500] = 0
    stored = SearchablePdf(image_format="flate")
    stored.add_page(None, np.ascontiguousarray(np.rot90(image, 1)), dpi=100)  # stored turned anticlockwise
    scan = tmp_path / "rotated.pdf"
    with pikepdf.open(io.BytesIO(stored.to_bytes())) as pdf:
        pdf.pages[0].obj.Rotate = 90  # shown turned clockwise: upright
        pdf.save(scan)
    shown = inkread.io.load_pages(scan, pdf_dpi=100)[0].image
    assert shown.shape[:2] == (300, 800) and shown[110:130, 120:480].mean() < 60
    words = [Word("shown", [(100, 100), (280, 100), (280, 140), (100, 140)], 0.9),
             Word("upright", [(320, 100), (500, 100), (500, 140), (320, 140)], 0.9)]
    line = Line("shown upright", [(100, 100), (500, 100), (500, 140), (100, 140)], 0.9, words)
    result = OcrResult([Page(0, 800, 300, [line])], "en", "printed", source=os.fspath(scan))
    out = tmp_path / "out.pdf"
    out.write_bytes(export.to_pdf_bytes(result))
    with pikepdf.open(out) as pdf:
        assert int(pdf.pages[0].obj.Rotate) == 90 and len(pdf.pages[0].get_images()) == 1  # kept, not rasterised
    assert pdfium_text(out)[0].split() == ["shown", "upright"]
    # the words where the page shows their ink: select the band of the line as shown
    doc = pdfium.PdfDocument(str(out))
    page = doc[0]
    rendered = np.asarray(page.render(scale=100 / 72).to_pil().convert("L"))
    assert rendered.shape == (300, 800) and rendered[110:130, 120:480].mean() < 60
    textpage = page.get_textpage()
    for i in range(textpage.count_chars()):
        if textpage.get_text_range(i, 1).strip():
            left, bottom, right, top = textpage.get_charbox(i)  # user space; shown = (y, x) turned
            x_shown, y_shown = (bottom + top) / 2 * 100 / 72, (left + right) / 2 * 100 / 72
            assert 95 <= x_shown <= 505 and 95 <= y_shown <= 145, (x_shown, y_shown)
