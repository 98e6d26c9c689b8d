"""The engine facade on real images and the real models: the README snippet, PDFs, threads, boxes in
original-image pixels, the result's serialisation, the public names; its plumbing (input kinds, page
selection, credentials without a URL) on the fake recogniser (tests/fakes.py)."""

from __future__ import annotations

import contextlib
import csv
import inspect
import io
import json
import logging
import re
import threading
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import inkread
import inkread as ocr
from inkread import exceptions, metrics
from inkread.exceptions import OcrException, PageSelectionError, UnsupportedLanguageError
from inkread.result import OcrResult
from fakes import fake_read, fake_text
from synth import render_note

README = Path(__file__).resolve().parents[1] / "README.md"

# A short note for the geometry tests (rendered with a handwriting font from tests/synth.py).
GEOMETRY_LINES = ["Shopping list", "apples and pears", "bread from the bakery", "call Maria at six"]


def _readme_python_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def readme_run(repo_root):
    """Run the README's Python snippet verbatim from the repository root; return its namespace and stdout."""
    snippet = _readme_python_snippet()
    namespace: dict = {}
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.chdir(repo_root)
        exec(compile(snippet, str(README), "exec"), namespace)  # noqa: S102 - our own README
    return namespace, out.getvalue()


@pytest.fixture(scope="module")
def readme_result(readme_run) -> OcrResult:
    return readme_run[0]["result"]


# ----- the README snippet ----------------------------------------------------------------------

def test_readme_snippet_is_the_documented_one():
    code = [l.split("#")[0].strip() for l in _readme_python_snippet().splitlines()]
    assert code == [
        "import inkread as ocr",
        "engine = ocr.OcrEngine()",
        'engine.load_image("examples/handwritten_note.jpg")',
        "engine.set_recognition_mode(ocr.RecognitionMode.HANDWRITTEN)",
        "engine.set_language(ocr.Language.SWEDISH)",
        "result = engine.recognize()",
        "print(result.text)",
    ]


def test_readme_snippet_reads_the_note(readme_run, note_truth):
    namespace, printed = readme_run
    result = namespace["result"]
    assert printed == result.text + "\n"
    assert result.mode == "handwritten" and result.language == "sv"
    assert namespace["engine"].options.language is ocr.Language.SWEDISH
    # measured CER 0.005 (one dropped space in "-bread")
    assert metrics.cer(note_truth, result.text) < 0.04
    assert 0.5 < result.confidence <= 1.0


def test_readme_snippet_keeps_lines_and_paragraphs(readme_result, note_truth):
    structure = metrics.line_structure(note_truth, readme_result.text)
    assert structure["hyp_lines"] == structure["ref_lines"] == 9
    assert structure["count_match"] and structure["order_ok"]
    # paragraphs: a blank line between each of the 4 paragraphs (1, 2, 2 and 4 lines)
    paragraphs = readme_result.text.split("\n\n")
    truth_paragraphs = note_truth.strip().split("\n\n")
    assert len(paragraphs) == len(truth_paragraphs) == 4
    assert [len(p.splitlines()) for p in paragraphs] == [len(p.splitlines()) for p in truth_paragraphs]
    assert "\n\n\n" not in readme_result.text
    assert len(readme_result.pages[0].paragraphs) == 4


# ----- engine settings and errors --------------------------------------------------------------

def test_load_image_of_a_missing_path_raises_file_not_found(tmp_path):
    engine = ocr.OcrEngine()
    with pytest.raises(FileNotFoundError):
        engine.load_image(str(tmp_path / "nope.jpg"))
    with pytest.raises(FileNotFoundError):
        engine.load_image(tmp_path / "nope.png")
    with pytest.raises(FileNotFoundError):
        ocr.recognize(tmp_path / "nope.png")


def test_recognize_with_nothing_loaded_raises():
    with pytest.raises(OcrException) as info:
        ocr.OcrEngine().recognize()
    assert "load_image" in str(info.value)


def test_set_language_spellings_are_equal():
    engine = ocr.OcrEngine()
    seen = []
    for spelling in ("fr", "french", "French", "fra", ocr.Language.FRENCH):
        engine.set_language(spelling)
        seen.append(engine.options.language)
    assert seen == [ocr.Language.FRENCH] * 5


def test_unsupported_language_is_refused_and_names_the_closest_ones():
    engine = ocr.OcrEngine()
    engine.set_language("de")
    with pytest.raises(ocr.exceptions.UnsupportedLanguageError) as info:
        engine.set_language("swedsh")
    assert issubclass(ocr.exceptions.UnsupportedLanguageError, ocr.exceptions.OcrException)
    message = str(info.value)
    assert "swedsh" in message and "sv (Swedish)" in message and "'inkread languages' lists all" in message
    assert "en (English)" not in message  # not every language on one line (issue 26)
    with pytest.raises(ocr.exceptions.UnsupportedLanguageError):
        engine.set_language("klingon")
    assert engine.options.language is ocr.Language.GERMAN  # the failed call changed nothing
    with pytest.raises(UnsupportedLanguageError):
        engine.recognize(np.zeros((10, 10, 3), np.uint8), language="klingon")


def test_set_recognition_mode_accepts_strings_and_refuses_nonsense():
    engine = ocr.OcrEngine()
    engine.set_recognition_mode("printed")
    assert engine.options.mode is ocr.RecognitionMode.PRINTED
    with pytest.raises(OcrException):
        engine.set_recognition_mode("sideways")
    assert engine.options.mode is ocr.RecognitionMode.PRINTED


def test_credentials_without_url_run_locally_and_log_once(fake, monkeypatch, caplog, synth_data_dir):
    monkeypatch.delenv("INKREAD_URL", raising=False)
    with caplog.at_level(logging.DEBUG, logger="inkread"):
        engine = ocr.OcrEngine(client_id="my-client-id", client_secret="s3cr3t-value")
        after_init = [r for r in caplog.records if r.name.startswith("inkread")]
        first = engine.recognize(synth_data_dir / "lines" / "rufscript_01.png", mode="handwritten")
        engine.recognize(synth_data_dir / "lines" / "dkg_01.png", mode="handwritten")
    records = [r for r in caplog.records if r.name.startswith("inkread")]
    assert engine.url is None
    assert len(after_init) == 1 and "credentials" in after_init[0].getMessage()
    assert len(records) == 1  # logged once, not on every call
    assert "s3cr3t-value" not in caplog.text  # the secret is never logged
    assert first.text == fake_read(synth_data_dir / "lines" / "rufscript_01.png") and fake.pages == [0, 0]  # read here


def test_one_shot_recognize_equals_the_engine(synth_data_dir):
    path = synth_data_dir / "ruled_note.png"
    meta = json.loads((synth_data_dir / "ruled_note.json").read_text())
    one_shot = ocr.recognize(str(path), mode=ocr.RecognitionMode.HANDWRITTEN, language="fr")
    engine = ocr.OcrEngine()
    engine.set_recognition_mode("handwritten")
    engine.set_language(ocr.Language.FRENCH)
    assert one_shot.mode == "handwritten" and one_shot.language == "fr"
    assert one_shot.to_dict()["pages"] == engine.recognize(path).to_dict()["pages"]
    truth = "\n".join(meta["lines"])
    assert metrics.cer(truth, one_shot.text) < 0.05  # measured 0.0
    assert one_shot.text.split("\n\n")[0].strip() == "To do"  # the heading is its own paragraph


# ----- input kinds -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["bytes", "file object", "PIL image", "numpy array"])
def test_every_input_kind_gives_the_same_text(kind, note_path, fake):
    if kind == "bytes":
        source = note_path.read_bytes()
    elif kind == "file object":
        source = io.BytesIO(note_path.read_bytes())
    elif kind == "PIL image":
        source = Image.open(note_path)
    else:
        source = np.asarray(Image.open(note_path).convert("RGB"))
    result = ocr.recognize(source, mode=ocr.RecognitionMode.HANDWRITTEN, language=ocr.Language.SWEDISH)
    from_path = ocr.recognize(note_path, mode=ocr.RecognitionMode.HANDWRITTEN, language=ocr.Language.SWEDISH)
    assert result.text == from_path.text == fake_read(note_path)
    assert fake.options[0].language == fake.options[1].language == ocr.Language.SWEDISH
    page, ref = result.pages[0], from_path.pages[0]
    assert (page.width, page.height) == (ref.width, ref.height)
    np.testing.assert_allclose(np.array([l.bbox for l in page.lines]), np.array([l.bbox for l in ref.lines]))


def test_pdf_of_the_note(tmp_path, note_path, note_truth):
    pdf = tmp_path / "note.pdf"
    with Image.open(note_path) as im:
        size = im.size
        im.save(pdf, resolution=300)  # rendered back at 300 dpi: the same pixel size
    result = ocr.recognize(pdf, mode="handwritten", language="sv")
    assert len(result.pages) == 1
    page = result.pages[0]
    assert abs(page.width - size[0]) <= 2 and abs(page.height - size[1]) <= 2
    # measured 0.005 (the JPEG inside the PDF is re-encoded: the reading differs from the JPEG's a little)
    assert metrics.cer(note_truth, result.text) < 0.05
    assert len(page.paragraphs) == 4


@pytest.fixture(scope="module")
def three_page_pdf(tmp_path_factory, synth_data_dir):
    labels = list(csv.DictReader((synth_data_dir / "lines" / "labels.tsv").open(encoding="utf-8"), delimiter="\t"))
    chosen = [row for row in labels if row["file"] in ("rufscript_01.png", "rufscript_02.png", "dkg_01.png")]
    images = [Image.open(synth_data_dir / "lines" / row["file"]).convert("RGB") for row in chosen]
    path = tmp_path_factory.mktemp("pdf") / "three.pdf"
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150)
    return path, [row["text"] for row in chosen]


def test_multi_page_pdf_with_pages(three_page_pdf, fake):
    path, _texts = three_page_pdf
    from inkread.io import iter_pages

    texts = [fake_text(p.index, p.width, p.height) for p in iter_pages(path)]  # what the fake reads
    result = ocr.recognize(path, pages=[2, 0], mode="handwritten")
    assert [p.index for p in result.pages] == [0, 2]
    assert [p.text for p in result.pages] == [texts[0], texts[2]] and fake.pages == [0, 2]
    assert result.text == texts[0] + "\n\f\n" + texts[2]
    engine = ocr.OcrEngine()
    engine.set_options(pages=(1,))
    only = engine.recognize(path, mode="handwritten")
    assert [p.index for p in only.pages] == [1] and only.text == texts[1]
    with pytest.raises(PageSelectionError):
        ocr.recognize(path, pages=[3])


# ----- threads ---------------------------------------------------------------------------------

def test_one_engine_shared_by_threads(synth_data_dir):
    lines = synth_data_dir / "lines"
    jobs = [
        (synth_data_dir / "ruled_note.png", "handwritten", "en"),
        (lines / "rufscript_01.png", "auto", "fr"),
        (lines / "dejavuserif_01.png", "printed", "de"),
        (lines / "kristi_01.png", "handwritten", "ja"),  # another script: another class mask
    ]
    engine = ocr.OcrEngine()
    engine.set_recognition_mode(ocr.RecognitionMode.PRINTED)
    engine.set_language("it")
    engine.load_image(lines / "dkg_01.png")
    defaults = engine.options

    sequential = [engine.recognize(path, mode=mode, language=lang) for path, mode, lang in jobs]
    for result, (_, mode, lang) in zip(sequential, jobs):
        assert result.mode == mode and result.language == lang

    barrier = threading.Barrier(4)

    def run(job):
        path, mode, lang = job
        barrier.wait(timeout=60)
        return engine.recognize(path, mode=mode, language=lang)

    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(run, jobs))
    for seq, conc in zip(sequential, concurrent):
        assert conc.mode == seq.mode and conc.language == seq.language
        assert conc.to_dict()["pages"] == seq.to_dict()["pages"]
    assert engine.options == defaults
    assert engine.options.mode is ocr.RecognitionMode.PRINTED and engine.options.language is ocr.Language.ITALIAN
    assert engine.recognize().text == "Water the plants"  # the loaded image is still the engine's


# ----- boxes, words, confidences ---------------------------------------------------------------

def _inside_polygon(point, polygon, tolerance=1.5) -> bool:
    contour = np.asarray(polygon, dtype=np.float32).reshape(-1, 1, 2)
    return cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), True) >= -tolerance


def _check_geometry(result: OcrResult, width: int, height: int, true_boxes, truth_lines):
    page = result.pages[0]
    assert (page.width, page.height) == (width, height)
    assert len(page.lines) == len(truth_lines) == len(true_boxes)
    assert 0.0 <= result.confidence <= 1.0
    for line, (x0, y0, x1, y1), truth in zip(page.lines, true_boxes, truth_lines):
        assert metrics.cer(truth, line.text, casefold=True) < 0.2, (truth, line.text)
        poly = np.asarray(line.bbox)
        assert poly.shape == (4, 2)
        assert (poly[:, 0] >= -0.5).all() and (poly[:, 0] <= width + 0.5).all()
        assert (poly[:, 1] >= -0.5).all() and (poly[:, 1] <= height + 0.5).all()
        cx, cy = poly.mean(axis=0)
        assert x0 <= cx <= x1 and y0 <= cy <= y1, (line.text, (cx, cy), (x0, y0, x1, y1))
        # the polygon covers most of the ink box's height and width
        assert poly[:, 1].min() <= y0 + 0.3 * (y1 - y0) and poly[:, 1].max() >= y1 - 0.3 * (y1 - y0)
        assert poly[:, 0].min() <= x0 + 0.1 * (x1 - x0) and poly[:, 0].max() >= x1 - 0.1 * (x1 - x0)
        assert 0.0 <= line.confidence <= 1.0
        assert line.words
        assert " ".join(w.text for w in line.words) == line.text
        previous_x = -1.0
        for word in line.words:
            assert word.text and 0.0 <= word.confidence <= 1.0
            assert len(word.bbox) == 4
            for corner in word.bbox:
                assert _inside_polygon(corner, line.bbox), (word.text, corner, line.bbox)
            wx = np.mean([p[0] for p in word.bbox])
            assert wx > previous_x  # words left to right
            previous_x = wx


def test_boxes_on_a_note_rotated_2_degrees(handwriting_font):
    font = handwriting_font("Rufscript")
    img, boxes = render_note(GEOMETRY_LINES, font, size=44, rotation_deg=2.0, noise=0.02, seed=3)
    result = ocr.recognize(img, mode="handwritten")
    _check_geometry(result, img.width, img.height, boxes, GEOMETRY_LINES)
    assert 1.0 <= result.pages[0].angle <= 3.0  # measured 1.87: the skew found and removed


@pytest.fixture(scope="module")
def small_note_file(tmp_path_factory, handwriting_font, file_digest):
    """A small note (longer side < 400 px, so the engine upscales it) saved as a user's file."""
    img, boxes = render_note(GEOMETRY_LINES, handwriting_font("Rufscript"), size=18, margin=20, seed=3)
    assert max(img.size) < 400
    path = tmp_path_factory.mktemp("user") / "small note.png"
    img.save(path)
    before = (file_digest(path), path.stat().st_mtime_ns, path.stat().st_size)
    result = ocr.OcrEngine().recognize(str(path), mode="handwritten")
    return path, before, result, img, boxes


def test_boxes_on_a_small_upscaled_note(small_note_file):
    _, _, result, img, boxes = small_note_file
    _check_geometry(result, img.width, img.height, boxes, GEOMETRY_LINES)
    assert metrics.cer("\n".join(GEOMETRY_LINES), result.text) < 0.05  # measured 0.0


def test_the_users_file_is_not_modified(small_note_file, file_digest):
    path, (digest, mtime, size), result, _, _ = small_note_file
    assert result.pages[0].lines  # it was read
    assert (file_digest(path), path.stat().st_mtime_ns, path.stat().st_size) == (digest, mtime, size)
    assert sorted(p.name for p in path.parent.iterdir()) == ["small note.png"]  # nothing written beside it


def test_the_users_array_and_image_are_not_modified(small_note_file):
    _, _, _, img, _ = small_note_file
    array = np.asarray(img).copy()
    before = array.copy()
    pil = img.copy()
    pil_bytes = pil.tobytes()
    a = ocr.recognize(array, mode="handwritten", upscale="on", contrast="on", denoise="on", binarize="on")
    b = ocr.recognize(pil, mode="handwritten")
    np.testing.assert_array_equal(array, before)
    assert pil.tobytes() == pil_bytes and pil.size == img.size and pil.mode == img.mode
    assert a.pages[0].lines and b.pages[0].lines


def test_result_round_trips_through_dict_and_json(readme_result):
    d = readme_result.to_dict()
    assert d["text"] == readme_result.text and d["mode"] == "handwritten" and d["language"] == "sv"
    assert {"detect", "recognize", "total"} <= set(d["timings"])
    back = OcrResult.from_dict(json.loads(readme_result.to_json()))
    assert back.to_dict() == d
    assert back.text == readme_result.text
    assert len(back.lines) == len(readme_result.lines)
    for a, b in zip(back.lines, readme_result.lines):
        np.testing.assert_allclose(np.array(a.bbox), np.array(b.bbox), atol=0.051)
        assert [w.text for w in a.words] == [w.text for w in b.words]
        assert a.paragraph == b.paragraph


# ----- public names ----------------------------------------------------------------------------

def test_package_all_is_complete_and_importable():
    names = set(inkread.__all__)
    assert len(names) == len(inkread.__all__)  # no duplicates
    for name in inkread.__all__:
        assert hasattr(inkread, name), name
    public = {name for name, value in vars(inkread).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert public <= names, public - names
    namespace: dict = {}
    exec("from inkread import *", namespace)  # noqa: S102
    assert names <= set(namespace)
    assert isinstance(inkread.__version__, str) and inkread.__version__


def test_exceptions_all_lists_every_exception_class():
    classes = {name for name, value in vars(exceptions).items()
               if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == exceptions.__name__}
    assert set(exceptions.__all__) == classes
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        assert issubclass(cls, OcrException)
        err = cls("message", hint="do this")
        assert str(err) == "message (do this)" and isinstance(cls.exit_code, int)
    codes = [getattr(exceptions, n).exit_code for n in exceptions.__all__]
    assert len(set(codes)) == len(codes)  # one exit code per kind of error


def test_blank_slivers_are_read_fast_and_empty():
    """A blank 3 x 4000 image once became a 64000-pixel-wide recogniser input (seconds of work)."""
    import time

    import numpy as np

    import inkread as ocr

    engine = ocr.OcrEngine()
    engine.recognize(np.full((40, 40, 3), 255, np.uint8))  # models loaded outside the timing
    for shape in [(3, 4000), (2, 2000), (4000, 3)]:
        start = time.perf_counter()
        result = engine.recognize(np.full(shape + (3,), 255, np.uint8))
        assert result.text == ""
        assert time.perf_counter() - start < 1.0


def test_the_engine_reads_through_the_backend_registry(tmp_path):
    """The engine knows no backend by name (issue 15): it asks the registry for the one that reads the
    language and hands it each page; a fake registered as "ppocr" reads instead, no model loaded."""
    from fakes import fake_backend
    from synth import blank_pdf

    from inkread.backends import backend_for, get_backend

    assert backend_for("en").name == "ppocr" and backend_for("el").name == "tesseract"
    assert get_backend("ppocr").capabilities.lexicon and not get_backend("tesseract").capabilities.lexicon
    assert get_backend("tesseract").capabilities.modes == ("auto", "printed")
    with fake_backend() as fake:
        engine = inkread.OcrEngine()
        engine.warmup()
        result = engine.recognize(blank_pdf(3), pages=[0, 2], mode="handwritten", pdf_dpi=30)
        assert fake.warmed == 1 and fake.pages == [0, 2]
        assert result.text == "page 1 200x260\n\f\npage 3 200x260"  # form feed between pages
        assert all(o.mode.value == "handwritten" for o in fake.options)
    assert backend_for("en").label == "pp-ocrv6"  # the real one is back
