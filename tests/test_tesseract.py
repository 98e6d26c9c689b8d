"""The Tesseract backend: printed pages in Greek, Russian, Arabic, Hindi, Hebrew, Thai, Korean, Georgian,
Tamil, Bengali and Telugu rendered with real fonts and read through the engine (and a Chinese page through the
default engine, PP-OCRv6); right-to-left text in logical order; missing binary / language data; routing
between PP-OCRv6 and Tesseract (``engine`` option, ``--engine``, ``inkread languages``).

The pages are rendered with Pillow; Arabic, Hebrew, Hindi, Thai, Tamil and Bengali need complex-text
shaping (libraqm, which Pillow's wheels bundle): without it those renders are skipped, as are languages
whose traineddata or font is not installed (each skip names the Debian package; scripts/apt-packages.txt lists them all).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, features

import inkread as ocr
from inkread import cli
from inkread.backends import select_backend
from inkread.backends import tesseract as tess
from inkread.backends.tesseract_tsv import page_from_words
from inkread.exceptions import MissingDependencyError, OcrException, UnsupportedLanguageError
from inkread.languages import Language, supported_languages
from inkread.metrics import cer
from inkread.options import RecognitionOptions

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None,
                                reason="tesseract is not installed (apt-get install tesseract-ocr)")

FONTS = "/usr/share/fonts/truetype"

# language -> (lines, font file, Debian font package, right-to-left)
PAGES = {
    "el": (["Η γρήγορη καφέ αλεπού πηδάει πάνω από",
            "τον τεμπέλη σκύλο στο πράσινο δάσος.",
            "Καλημέρα σας, τι κάνετε σήμερα;"],
           f"{FONTS}/dejavu/DejaVuSans.ttf", "fonts-dejavu-core", False),
    "ru": (["Съешь же ещё этих мягких французских",
            "булок да выпей чаю. Москва зимой",
            "красива, а летом в парке тепло."],
           f"{FONTS}/dejavu/DejaVuSerif.ttf", "fonts-dejavu-core", False),
    "ar": (["ذهب الطالب إلى المدرسة في الصباح الباكر",
            "وقرأ الكتاب الجديد مع أصدقائه في المكتبة",
            "ثم عاد إلى البيت بعد الظهر"],
           f"{FONTS}/kacst/KacstOffice.ttf", "fonts-kacst", True),
    "hi": (["भारत एक विशाल देश है जिसमें",
            "अनेक भाषाएँ बोली जाती हैं।",
            "हम सब मिलकर पढ़ते और लिखते हैं।"],
           f"{FONTS}/lohit-devanagari/Lohit-Devanagari.ttf", "fonts-lohit-deva", False),
    "he": (["השמש זורחת מעל העיר הגדולה",
            "הילדים הולכים לבית הספר בבוקר",
            "אנחנו קוראים ספרים בספרייה"],
           f"{FONTS}/culmus/FrankRuehlCLM-Medium.ttf", "culmus", True),
    "th": (["วันนี้อากาศดีมาก เราไปเที่ยวทะเล",
            "นักเรียนอ่านหนังสือในห้องสมุด",
            "แม่ทำอาหารอร่อยให้ทุกคนกิน"],
           f"{FONTS}/tlwg/Garuda.ttf", "fonts-tlwg-garuda-ttf", False),
    "ko": (["대한민국의 수도는 서울입니다.",
            "오늘은 날씨가 맑고 따뜻합니다.",
            "우리는 도서관에서 책을 읽었다."],
           f"{FONTS}/wqy/wqy-microhei.ttc", "fonts-wqy-microhei", False),
    "ka": (["საქართველო ლამაზი ქვეყანაა.",
            "თბილისი არის საქართველოს დედაქალაქი.",
            "ჩვენ ვსწავლობთ ქართულ ენას."],
           f"{FONTS}/dejavu/DejaVuSans.ttf", "fonts-dejavu-core", False),
    "ta": (["தமிழ் ஒரு பழமையான மொழி ஆகும்.",
            "சென்னை தமிழ்நாட்டின் தலைநகரம்.",
            "நாங்கள் பள்ளியில் படிக்கிறோம்."],
           f"{FONTS}/lohit-tamil/Lohit-Tamil.ttf", "fonts-lohit-taml", False),
    "bn": (["আমি বাংলায় গান গাই।",
            "ঢাকা বাংলাদেশের রাজধানী শহর।",
            "আমরা প্রতিদিন বই পড়ি।"],
           f"{FONTS}/lohit-bengali/Lohit-Bengali.ttf", "fonts-lohit-beng-bengali", False),
    "te": (["తెలుగు ఒక ద్రావిడ భాష.",
            "హైదరాబాద్ తెలంగాణ రాజధాని.",
            "మేము పుస్తకాలు చదువుతాము."],
           f"{FONTS}/lohit-telugu/Lohit-Telugu.ttf", "fonts-lohit-telu", False),
    # read by PP-OCRv6 (engine="auto" routes Chinese there), not Tesseract: see test_chinese_page_...
    "zh": (["今天天气很好，我们去公园散步。",
            "北京是中华人民共和国的首都。",
            "他每天早上六点起床读书。"],
           f"{FONTS}/wqy/wqy-microhei.ttc", "fonts-wqy-microhei", False),
}
NEEDS_SHAPING = {"ar", "hi", "he", "th", "ta", "bn", "te"}
MEASURED: dict[str, float] = {}

# The CER each page must stay under: measured on these renders (Tesseract 5.3, Debian 12), then a margin,
# never above 5%. Measured: el/ru/ar/hi see the original bar; he 0.000, ka 0.000, bn 0.014 (one letter:
# ঢ read as প), zh 0.000 (PP-OCRv6), th 0.022 (after joining Thai TSV words without spaces),
# ta 0.000 (after dropping idle zero-width non-joiners), te 0.013 (a '.' read ',').
MAX_CER = {"el": 0.05, "ru": 0.05, "ar": 0.05, "hi": 0.05, "he": 0.02, "ka": 0.02, "bn": 0.04, "zh": 0.02,
           "th": 0.05, "ko": 0.05, "ta": 0.05, "te": 0.04}

# Pages the Tesseract backend does not yet read under 5% (measured CER in the reason); strict, so the
# day the backend is fixed these turn into failures that ask for the mark to go.
_KNOWN_BAD: dict[str, str] = {}  # (Korean was here at CER 0.115: spaced from the TSV's syllable boxes)
TESSERACT_PAGES = [pytest.param(lang, marks=pytest.mark.xfail(strict=True, reason=_KNOWN_BAD[lang]))
                   if lang in _KNOWN_BAD else lang
                   for lang in PAGES if select_backend(lang) == "tesseract"]


def _require(language: str) -> None:
    info = Language.parse(language).info
    if info.tesseract not in tess.installed_languages():
        pytest.skip(f"{info.name} traineddata not installed: apt-get install -y {tess.package_for(info.tesseract)}")


def render_page(language: str, size: int = 40) -> tuple[np.ndarray, list[str]]:
    """A printed page (RGB array) of ``PAGES[language]``, right-aligned for right-to-left text."""
    lines, font_path, package, rtl = PAGES[language]
    if not Path(font_path).exists():
        pytest.skip(f"font {font_path} not installed: apt-get install -y {package}")
    if language in NEEDS_SHAPING and not features.check("raqm"):
        pytest.skip(f"Pillow has no libraqm: cannot shape {language} text (apt-get install -y libraqm0)")
    font = ImageFont.truetype(font_path, size)
    width, step = 1400, int(size * 1.8)
    image = Image.new("RGB", (width, 80 + step * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for k, line in enumerate(lines):
        kwargs = {"language": language}
        if rtl:
            kwargs["direction"] = "rtl"
            x = width - 60 - draw.textlength(line, font=font, **kwargs)
        else:
            x = 60
        draw.text((x, 40 + k * step), line, font=font, fill="black", **kwargs)
    return np.asarray(image), lines


# ----- reading rendered pages -------------------------------------------------------------------

@pytest.mark.parametrize("language", TESSERACT_PAGES)
def test_printed_page_is_read_with_cer_under_5_percent(language):
    _require(language)
    image, lines = render_page(language)
    result = ocr.recognize(image, language=language)
    page = result.pages[0]
    rate = cer("\n".join(lines), result.text)
    MEASURED[language] = rate
    print(f"\n{language}: CER {rate:.4f} ({len(page.lines)} lines) {result.text!r}")
    assert rate < MAX_CER[language] <= 0.05, result.text
    assert "models" not in result.timings  # Tesseract read it, not PP-OCRv6
    assert page.mode == "printed" and (page.width, page.height) == (image.shape[1], image.shape[0])
    assert len(page.lines) == len(lines)
    for line in page.lines:
        assert 0.0 <= line.confidence <= 1.0 and line.words
        if language == "th":  # written without spaces: words join directly, spaces only at wide gaps
            assert line.text.replace(" ", "") == "".join(w.text for w in line.words)
        else:
            assert line.text == " ".join(w.text for w in line.words)
        for word in line.words:
            assert 0.0 <= word.confidence <= 1.0
            assert all(0 <= x <= page.width and 0 <= y <= page.height for x, y in word.bbox)
    # line boxes hold their words and follow each other down the page
    tops = [min(y for _, y in l.bbox) for l in page.lines]
    assert tops == sorted(tops)
    assert 0 < result.confidence <= 1.0


def test_right_to_left_text_comes_out_in_logical_order():
    _require("ar")
    image, lines = render_page("ar")
    page = ocr.recognize(image, language="arabic", engine="tesseract").pages[0]
    first = page.lines[0]
    # logical order: the line starts with the first word typed, which is drawn rightmost
    assert first.text.startswith(lines[0].split()[0]), first.text
    assert first.words[0].text == lines[0].split()[0]
    lefts = [min(x for x, _ in w.bbox) for w in first.words]
    assert lefts == sorted(lefts, reverse=True)  # words in reading order: right to left on the page
    assert min(x for x, _ in first.words[0].bbox) > page.width / 2
    # characters inside a word are in logical order too (not mirrored)
    assert first.words[1].text == lines[0].split()[1] == "الطالب"
    assert Language.ARABIC.info.rtl and not Language.GREEK.info.rtl


def test_hebrew_comes_out_in_logical_order():
    _require("he")
    image, lines = render_page("he")
    page = ocr.recognize(image, language="hebrew").pages[0]
    first = page.lines[0]
    typed = lines[0].split()
    # the first word typed is drawn rightmost and comes out first; letters are not mirrored
    assert first.text == lines[0], first.text
    assert [w.text for w in first.words] == typed and typed[0] == "השמש"
    lefts = [min(x for x, _ in w.bbox) for w in first.words]
    assert lefts == sorted(lefts, reverse=True)
    assert min(x for x, _ in first.words[0].bbox) > page.width / 2
    assert Language.HEBREW.info.rtl and select_backend("he") == "tesseract"


def test_chinese_page_is_read_by_the_default_engine():
    """Chinese is PP-OCRv6's (engine="auto" routes it there), so its page is checked through that engine."""
    assert select_backend("zh") == "ppocr" and select_backend("ja") == "ppocr"
    image, lines = render_page("zh")
    result = ocr.recognize(image, language="zh")
    rate = cer("\n".join(lines), result.text)
    MEASURED["zh"] = rate
    print(f"\nzh: CER {rate:.4f} {result.text!r}")
    assert "models" in result.timings  # PP-OCRv6 read it
    assert rate < MAX_CER["zh"], result.text
    assert len(result.pages[0].lines) == len(lines)


def test_a_small_line_crop_is_read_and_boxed_in_its_own_pixels():
    _require("ru")
    lines, font_path, package, _ = PAGES["ru"]
    if not Path(font_path).exists():
        pytest.skip(f"apt-get install -y {package}")
    font = ImageFont.truetype(font_path, 20)
    image = Image.new("RGB", (520, 32), "white")
    ImageDraw.Draw(image).text((6, 4), "Москва зимой красива", font=font, fill="black")
    page = tess.recognize_page(np.asarray(image), "ru")
    assert page.text == "Москва зимой красива"
    xs = [x for w in page.lines[0].words for x, _ in w.bbox]
    ys = [y for w in page.lines[0].words for _, y in w.bbox]
    assert 0 <= min(xs) and max(xs) <= 520 and 0 <= min(ys) and max(ys) <= 32  # upscaled, mapped back


def test_engine_override_reads_a_ppocr_language_with_tesseract(printed_font):
    font = ImageFont.truetype(os.fspath(printed_font), 36)
    image = Image.new("RGB", (900, 120), "white")
    ImageDraw.Draw(image).text((40, 40), "Le château de ma mère", font=font, fill="black")
    result = ocr.recognize(image, language="fr", engine="tesseract")
    assert "models" not in result.timings and result.pages[0].mode == "printed"
    assert cer("Le château de ma mère", result.text) < 0.05, result.text


# ----- the TSV parser ----------------------------------------------------------------------------

TSV = "\n".join([
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
    "1\t1\t0\t0\t0\t0\t0\t0\t400\t300\t-1\t",
    "2\t1\t1\t0\t0\t0\t10\t10\t200\t50\t-1\t",
    "3\t1\t1\t1\t0\t0\t10\t10\t200\t50\t-1\t",
    "4\t1\t1\t1\t1\t0\t10\t10\t200\t20\t-1\t",
    "5\t1\t1\t1\t1\t1\t10\t10\t80\t20\t96.5\tHello",
    "5\t1\t1\t1\t1\t2\t100\t10\t110\t20\t90\tworld",
    "5\t1\t1\t1\t2\t1\t10\t40\t60\t20\t95\t ",  # an empty word: dropped
    "5\t1\t1\t2\t1\t1\t10\t80\t60\t20\t50\tNext",
    "5\t1\t2\t1\t1\t1\t10\t200\t60\t20\t0\tblock",
])


def test_tsv_becomes_lines_words_and_paragraphs():
    words = tess.parse_tsv(TSV)
    assert [w.text for w in words] == ["Hello", "world", "Next", "block"]
    page = page_from_words(words, 2.0, 3, 200, 150)  # the image was read at twice its size
    assert page.index == 3 and page.text == "Hello world\n\nNext\n\nblock"
    first = page.lines[0]
    assert first.words[0].bbox == [(5.0, 5.0), (45.0, 5.0), (45.0, 15.0), (5.0, 15.0)]
    assert first.bbox == [(5.0, 5.0), (105.0, 5.0), (105.0, 15.0), (5.0, 15.0)]
    assert first.words[0].confidence == pytest.approx(0.965)
    assert first.confidence == pytest.approx((0.965 * 5 + 0.9 * 5) / 10)
    assert [l.paragraph for l in page.lines] == [0, 1, 2]
    assert tess.parse_tsv("") == []


def test_greek_micro_sign_is_read_as_mu():
    words = tess.parse_tsv("5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t90\tτεµπέλη")
    assert page_from_words(words, 1.0, 0, 10, 10, "greek").text == "τεμπέλη"


# ----- missing pieces ----------------------------------------------------------------------------

def _uninstalled_language() -> Language:
    installed = tess.installed_languages()
    if "amh" not in installed:
        return Language.AMHARIC
    for info in supported_languages():
        if info.backends == ("tesseract",) and info.tesseract not in installed:
            return Language.parse(info.code)
    pytest.skip("every Tesseract language pack is installed")


def test_missing_language_pack_names_its_package():
    language = _uninstalled_language()
    code = language.info.tesseract
    image = np.full((60, 200, 3), 255, dtype=np.uint8)
    with pytest.raises(MissingDependencyError) as info:
        ocr.recognize(image, language=language)
    err = info.value
    assert f"apt-get install {tess.package_for(code)}" in str(err)
    assert language.info.name in err.message and err.exit_code == 11
    assert tess.package_for("chi_sim") == "tesseract-ocr-chi-sim"


def test_missing_binary_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("TESSERACT", os.fspath(tmp_path / "no-such-tesseract"))
    with pytest.raises(MissingDependencyError) as info:
        ocr.recognize(np.full((60, 200, 3), 255, dtype=np.uint8), language="el")
    assert "tesseract-ocr" in str(info.value)


def test_user_files_are_not_touched(tmp_path):
    _require("el")
    image, _ = render_page("el")
    path = tmp_path / "page.png"
    Image.fromarray(image).save(path)
    before = sorted(os.listdir(tmp_path)), path.read_bytes()
    assert ocr.recognize(path, language="el").text
    assert (sorted(os.listdir(tmp_path)), path.read_bytes()) == before


# ----- routing -----------------------------------------------------------------------------------

def test_routing_table():
    assert select_backend("fr") == "ppocr" and select_backend("en") == "ppocr"
    assert select_backend("el") == "tesseract" and select_backend("ar") == "tesseract"
    assert select_backend("fr", "tesseract") == "tesseract"
    assert select_backend("el", "tesseract") == "tesseract"
    assert select_backend("fr", "ppocr") == "ppocr" and select_backend("fr", "pp-ocrv6") == "ppocr"
    with pytest.raises(UnsupportedLanguageError) as info:
        select_backend("el", "ppocr")
    assert "tesseract" in str(info.value) and "Greek" in str(info.value)
    with pytest.raises(UnsupportedLanguageError) as info:
        select_backend("rm", "tesseract")  # Romansh: PP-OCRv6 only
    assert "ppocr" in str(info.value)


def test_engine_option_is_parsed_and_validated():
    assert RecognitionOptions().engine == "auto"
    assert RecognitionOptions(engine="PaddleOCR").engine == "ppocr"
    assert RecognitionOptions().updated(engine="tesseract").to_dict()["engine"] == "tesseract"
    with pytest.raises(OcrException):
        RecognitionOptions(engine="cuneiform")


def test_asking_ppocr_for_a_language_it_does_not_read_is_refused_before_reading():
    with pytest.raises(UnsupportedLanguageError) as info:
        ocr.recognize(np.full((60, 200, 3), 255, dtype=np.uint8), language="el", engine="ppocr")
    assert "tesseract" in str(info.value) and info.value.exit_code == 10


def test_language_table_covers_tesseract():
    infos = supported_languages()
    tesseract_langs = {i.tesseract for i in infos if i.tesseract}
    assert len(infos) >= 120 and len(tesseract_langs) >= 115
    assert {"ell", "rus", "ara", "hin", "heb", "kor", "tha", "amh", "chi_sim", "fil"} <= tesseract_langs
    assert all(i.backends[0] == "ppocr" for i in infos if "ppocr" in i.backends)
    assert Language.parse("greek") is Language.GREEK and Language.parse("rus") is Language.RUSSIAN
    assert Language.parse("sr") is Language.SERBIAN_LATIN and Language.parse("sr-cyrl") is Language.SERBIAN_CYRILLIC


def test_cli_languages_lists_backends_and_modes(capsys):
    assert cli.main(["languages", "--format", "json"]) == 0
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["fr"]["backends"] == ["pp-ocrv6", "tesseract"] and "handwritten" in rows["fr"]["modes"]
    assert rows["el"]["backend"] == "tesseract" and rows["el"]["modes"] == ["auto", "printed"]
    assert rows["rm"]["backends"] == ["pp-ocrv6"]
    assert cli.main(["languages"]) == 0
    table = {l.split()[0]: l for l in capsys.readouterr().out.splitlines()[1:] if l.strip()}  # a blank, then a note
    assert "tesseract" in table["ar"] and "pp-ocrv6" not in table["ar"]


def test_cli_engine_flag(capsys, tmp_path):
    _require("el")
    image, lines = render_page("el")
    path = tmp_path / "greek.png"
    Image.fromarray(image).save(path)
    assert cli.main([os.fspath(path), "--lang", "el", "--engine", "ppocr"]) == UnsupportedLanguageError.exit_code
    capsys.readouterr()
    assert cli.main([os.fspath(path), "--lang", "greek", "--engine", "tesseract", "-q"]) == 0
    out = capsys.readouterr().out
    assert cer("\n".join(lines), out) < 0.05, out


def test_korean_page_is_read_after_the_block_retry():
    """--psm 3 shattered this Hangul page into noise (CER 0.81); the low-confidence retry as one block
    (--psm 6) and gap-based joining of syllables bring it to 0.115 (spacing errors left, see _KNOWN_BAD)."""
    _require("ko")
    image, lines = render_page("ko")
    result = ocr.recognize(image, language="ko")
    assert cer("\n".join(lines), result.text) < 0.2, result.text
    assert len(result.pages[0].lines) == len(lines)


# ----- coverage: every line the detector finds is read, or reported ---------------------------

@pytest.mark.parametrize("language", ["ar", "he", "ru", "el", "hi"])
@pytest.mark.parametrize("size", [40, 56, 64])
def test_no_line_is_lost(language, size):
    """Tesseract's page segmentation dropped the longest line of the Arabic page at 56 and 64 px
    (CER 0.38, no warning); the detector's regions catch it and it is read on its own."""
    _require(language)
    image, lines = render_page(language, size)
    result = ocr.recognize(image, language=language)
    got = [line.text for line in result.lines]
    for line in lines:
        assert min(cer(line, g) for g in got) <= 0.10, (line, got)
    assert result.pages[0].unread == []


def test_regions_nothing_reads_are_reported(caplog):
    from inkread.coverage import cover
    from inkread.backends.ppocr.page import text_regions
    from inkread.result import Page

    _require("ar")
    image, _lines = render_page("ar", 56)
    blank = Page(index=0, width=image.shape[1], height=image.shape[0])
    with caplog.at_level("WARNING", logger="inkread"):
        page = cover(blank, image, text_regions(image), lambda crop: Page(index=0, width=1, height=1))
    assert len(page.unread) == 3 and page.lines == []
    assert "3 text region(s) could not be read" in caplog.text
    assert len(ocr.OcrResult(pages=[page], language="ar", mode="printed").to_dict()["pages"][0]["unread"]) == 3


# ----- the script on the page -----------------------------------------------------------------

SERBIAN = ["Добар дан, како сте данас?", "Београд је главни град Србије.", "Читам књигу у парку."]


def _cyrillic_page() -> np.ndarray:
    font = ImageFont.truetype(f"{FONTS}/dejavu/DejaVuSans.ttf", 40)
    image = Image.new("RGB", (1400, 260), "white")
    draw = ImageDraw.Draw(image)
    for k, line in enumerate(SERBIAN):
        draw.text((60, 40 + k * 70), line, font=font, fill="black")
    return np.asarray(image)


def test_serbian_is_read_in_the_script_on_the_page():
    """``--lang sr`` (Serbian, Latin by default) on a Cyrillic page went to the Latin model and gave
    '.' (issue 12); the page's script decides: Cyrillic pages are read as sr-cyrl."""
    if "srp" not in tess.installed_languages() or "osd" not in tess.installed_languages():
        pytest.skip("apt-get install -y tesseract-ocr-srp tesseract-ocr-osd")
    result = ocr.recognize(_cyrillic_page(), language="sr")
    assert cer("\n".join(SERBIAN), result.text) <= 0.05, result.text


def test_page_in_another_script_gets_a_warning(caplog):
    if "osd" not in tess.installed_languages():
        pytest.skip("apt-get install -y tesseract-ocr-osd")
    with caplog.at_level("WARNING", logger="inkread"):
        ocr.recognize(_cyrillic_page(), language="en")
    assert "seems to be written in Cyrillic script, but English (en) is written in Latin" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="inkread"):
        ocr.recognize(render_page("ru")[0], language="ru")
    assert "seems to be written" not in caplog.text


# RapidOCR's test images of one line (python/tests/test_files/cyrillic.png is 253x39 px; te.png), drawn
# again here with Debian fonts: one sentence fitted to the image, as small as theirs.
SMALL_LINES = {
    "sr-DejaVuSans": ("Добар дан, како сте данас?", f"{FONTS}/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
    "sr-DejaVuSerif": ("Ово је реченица на српском.", f"{FONTS}/dejavu/DejaVuSerif.ttf", "fonts-dejavu-core"),
    # the Latin model read this one as ', !' at confidence 0.99 (RapidOCR's image: '.' at 0.99)
    "sr-DejaVuSans-Bold": ("Добро јутро, Србијо!", f"{FONTS}/dejavu/DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
    "sr-latin": ("Dobar dan, kako ste danas?", f"{FONTS}/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
    "te-Lohit-Telugu": ("తెలుగు ఒక ద్రావిడ భాష", f"{FONTS}/lohit-telugu/Lohit-Telugu.ttf", "fonts-lohit-telu"),
    "te-Mandali": ("హైదరాబాద్ తెలంగాణ రాజధాని", f"{FONTS}/teluguvijayam/Mandali-Regular.ttf",
                   "fonts-teluguvijayam"),
}


def small_line(key: str, width: int = 253, height: int = 39) -> tuple[np.ndarray, str]:
    """``SMALL_LINES[key]`` drawn as large as fits a ``width`` x ``height`` image (RapidOCR's size)."""
    text, font_path, package = SMALL_LINES[key]
    if not Path(font_path).exists():
        pytest.skip(f"font {font_path} not installed: apt-get install -y {package}")
    if key.startswith("te") and not features.check("raqm"):
        pytest.skip("Pillow has no libraqm: cannot shape Telugu text")
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for size in range(height, 6, -1):
        font = ImageFont.truetype(font_path, size)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= width - 12 and bottom - top <= height - 8:
            break
    draw.text((6 - left, (height - (bottom - top)) // 2 - top), text, font=font, fill="black")
    return np.asarray(image), text


def _cyrillic_letters(text: str) -> int:
    return sum("\u0400" <= ch <= "\u04ff" for ch in text)


@pytest.mark.parametrize("key", ["sr-DejaVuSans", "sr-DejaVuSerif", "sr-DejaVuSans-Bold"])
def test_a_small_serbian_cyrillic_line_is_read_in_its_script(key, caplog):
    """Issue 23: RapidOCR's one-line Serbian Cyrillic test image (253x39, ``--lang sr``) came back as
    '.' at confidence 0.99: OSD cannot tell the script of one line ("too few characters"), so the
    Latin model read it and kept the few letters both scripts share. A sparse reading is read in
    the language's other script too, and the reading with more letters read surely wins."""
    _require("sr-cyrl")
    image, text = small_line(key)
    found = tess.osd(image)
    assert found is None or found.script is None or found.script == "cyrillic"  # OSD gives no answer
    with caplog.at_level("INFO", logger="inkread"):
        result = ocr.recognize(image, language="sr")
    assert cer(text, result.text) <= 0.08, result.text
    assert _cyrillic_letters(result.text) >= 0.8 * _cyrillic_letters(text)
    assert result.pages[0].unread == []
    assert "read as Serbian (Cyrillic)" in caplog.text


def test_a_small_serbian_latin_line_stays_latin():
    """The same size of line in Latin: read once, by the Latin model, with ``sr``; and with ``sr-cyrl``
    (Tesseract's Cyrillic model read it as 'Ообаг дап, Како зте дапа52' at confidence 0.67: unsure, so
    read in Latin too, which wins)."""
    _require("sr-cyrl")
    image, text = small_line("sr-latin")
    for language in ("sr", "sr-cyrl"):
        result = ocr.recognize(image, language=language)
        assert cer(text, result.text) <= 0.04, (language, result.text)
        assert _cyrillic_letters(result.text) == 0, (language, result.text)


@pytest.mark.parametrize("key", ["te-Lohit-Telugu", "te-Mandali"])
def test_a_small_telugu_line_is_read(key):
    """``--lang te`` failed with MissingDependencyError on a machine set up by the README (issue 23);
    with tesseract-ocr-tel installed (``scripts/setup.sh --languages all``), RapidOCR-sized Telugu
    lines are read."""
    _require("te")
    image, text = small_line(key)
    result = ocr.recognize(image, language="te")
    assert cer(text, result.text) <= 0.05, result.text
    assert result.pages[0].unread == []


def test_a_line_no_script_reads_as_letters_is_unread(monkeypatch, caplog):
    """A '.' for a line full of ink is no answer, however confident: when no script of the language
    reads a letter in it, its box goes to ``unread`` with a warning (the other lines stay)."""
    from inkread import engine
    from inkread.backends.base import PageReading
    from inkread.result import Line, Page

    seen = []

    def read_with(page, options, osd):
        seen.append(options.language.value)
        lines = [Line(".", [(0, 10), (240, 10), (240, 30), (0, 30)], 0.99),  # 12 heights wide: '.'
                 Line("* * *", [(100, 50), (160, 50), (160, 70), (100, 70)], 0.9)]  # a short mark: kept
        return PageReading(Page(page.index, 253, 80, lines, mode="printed"), {"recognize": 0.01})

    monkeypatch.setattr(engine, "_read_with", read_with)
    monkeypatch.setattr(tess, "osd", lambda image: None)
    with caplog.at_level("WARNING", logger="inkread"):
        result = ocr.recognize(np.full((80, 253, 3), 255, dtype=np.uint8), language="sr")
    assert seen == ["sr-latn", "sr-cyrl"]  # the doubtful reading was read in the other script too
    page = result.pages[0]
    assert [l.text for l in page.lines] == ["* * *"]
    assert page.unread == [[(0, 10), (240, 10), (240, 30), (0, 30)]]
    assert "1 line(s) read as no letter in any of the language's scripts" in caplog.text


def test_a_missing_script_pack_keeps_the_first_reading_and_names_its_package(monkeypatch, tmp_path, caplog):
    """Serbian asked, the page's Cyrillic pack missing: the Latin reading is kept and a warning names
    the exact apt package of the script it may be in (no error: the language asked for is readable)."""
    _require("sr-cyrl")
    image, _text = small_line("sr-DejaVuSans")
    tessdata = tmp_path / "tessdata"
    tessdata.mkdir()
    for code in ("eng", "osd"):  # a Tesseract with no Serbian
        (tessdata / f"{code}.traineddata").symlink_to(Path(_tessdata_dir()) / f"{code}.traineddata")
    monkeypatch.setenv("TESSDATA_PREFIX", os.fspath(tessdata))
    with caplog.at_level("WARNING", logger="inkread"):
        result = ocr.recognize(image, language="sr")
    assert _cyrillic_letters(result.text) == 0
    assert "may be in Cyrillic script" in caplog.text and "apt-get install tesseract-ocr-srp)" in caplog.text


def _tessdata_dir() -> str:
    """The folder ``tesseract --list-langs`` reads its data from."""
    import re
    import subprocess

    out = subprocess.run([tess.tesseract_binary(), "--list-langs"], capture_output=True, text=True).stdout
    match = re.search(r'"(.+?)/?"', out)
    if match is None:
        pytest.skip("cannot tell where Tesseract's data is")
    return match.group(1)


@pytest.mark.parametrize("language, package", [
    ("te", "tesseract-ocr-tel"), ("sr-cyrl", "tesseract-ocr-srp"), ("sr-latn", "tesseract-ocr-srp-latn"),
    ("zh-vert", "tesseract-ocr-chi-sim-vert"), ("ita-old", "tesseract-ocr-ita-old"), ("am", "tesseract-ocr-amh"),
])
def test_a_missing_pack_is_an_error_naming_its_exact_apt_package(language, package, monkeypatch, tmp_path, capsys):
    """Whatever is installed here: a Tesseract whose data folder holds no pack for the language."""
    tessdata = tmp_path / "tessdata"
    tessdata.mkdir()
    (tessdata / "eng.traineddata").symlink_to(Path(_tessdata_dir()) / "eng.traineddata")
    monkeypatch.setenv("TESSDATA_PREFIX", os.fspath(tessdata))
    info = Language.parse(language).info
    with pytest.raises(MissingDependencyError) as raised:
        ocr.recognize(np.full((60, 200, 3), 255, dtype=np.uint8), language=language, engine="tesseract")
    assert f"(apt-get install {package})" in str(raised.value) and info.name in raised.value.message
    assert tess.package_for(info.tesseract) == package
    path = tmp_path / "page.png"
    Image.new("RGB", (200, 60), "white").save(path)
    assert cli.main([os.fspath(path), "--lang", language, "--engine", "tesseract"]) == 11
    assert f"apt-get install {package}" in capsys.readouterr().err


@pytest.mark.parametrize("language", ["ar", "hi", "ru"])
@pytest.mark.parametrize("turned", [90, 180, 270])
def test_turned_tesseract_pages_are_read_upright(language, turned):
    """Tesseract's own OSD turns pages where it is sure (Russian); where it cannot tell (three lines
    of Arabic or Hindi: too few characters), the page is read both ways the detector allows."""
    from inkread.orientation import turn

    _require(language)
    image, lines = render_page(language)
    result = ocr.recognize(turn(image, turned), language=language)
    assert result.pages[0].rotation == (360 - turned) % 360
    assert cer("\n".join(lines), result.text) <= 0.05, result.text


def test_a_line_read_in_pieces_is_read_again_whole():
    """Korean at 44 px came back as three pieces of the first line ('4', '도는', '서울입니다.'), its left
    third unread: the pieces covered enough of the region's area to count as covered. A region left
    unread over a stretch wider than 2.5 of its heights is read again as one line, and that reading
    replaces the pieces when it holds more text; a re-read holding less keeps them."""
    import numpy as np

    from inkread.coverage import PART_GAP, cover
    from inkread.result import Line, Page

    def line(text, x0, x1, y0=50.0, y1=90.0):
        return Line(text, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], 0.9, [])

    image = np.full((140, 700, 3), 255, np.uint8)
    image[55:85, 70:670] = 0  # ink where the region is
    region = np.array([[68, 46], [679, 46], [679, 97], [68, 97]], dtype=np.float64)
    pieces = Page(index=0, width=700, height=140, lines=[line("4", 305, 341), line("도는", 349, 429),
                                                         line("서울입니다.", 446, 674)])
    assert (305 - 68) > PART_GAP * (97 - 46)  # the unread stretch: wider than the bar
    whole = Page(index=0, width=611, height=51, lines=[line("대한민국의 수도는 서울입니다.", 0, 600, 0, 40)])
    read = []
    fixed = cover(pieces, image, [region], lambda crop: read.append(crop.shape) or whole)
    assert [l.text for l in fixed.lines] == ["대한민국의 수도는 서울입니다."] and len(read) == 1
    assert fixed.lines[0].bbox[0][0] > 60  # placed back on the page
    shorter = Page(index=0, width=611, height=51, lines=[line("대한", 0, 100, 0, 40)])
    kept = cover(pieces, image, [region], lambda crop: shorter)
    assert [l.text for l in kept.lines] == ["4", "도는", "서울입니다."]
    full = Page(index=0, width=700, height=140, lines=[line("대한민국의 수도는 서울입니다.", 70, 674)])
    assert cover(full, image, [region], lambda crop: pytest.fail("a covered line is not read again")) is full


def test_a_line_read_in_layers_is_read_again_whole():
    """Thai in Garuda: Tesseract's page segmentation split the tone marks above a line off into a
    line of their own ('๓ ส ส') and read the rest without them ('วันนีอากาศ ดีมาก'); Persian in
    FreeFarsi shattered each line into fragments. Lines one above the other inside one detector
    region are read again as one line; the reading replaces them when it is at least as confident
    and keeps most of their text, so a region that truly holds two lines keeps them."""
    import numpy as np

    from inkread.coverage import cover
    from inkread.result import Line, Page

    def line(text, x0, y0, x1, y1, conf):
        return Line(text, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], conf, [])

    image = np.full((150, 450, 3), 255, np.uint8)
    image[50:110, 70:370] = 0
    region = np.array([[60, 36], [384, 36], [384, 117], [60, 117]], dtype=np.float64)
    layers = Page(index=0, width=450, height=150, lines=[line("๓ ส ส", 77, 49, 294, 73, 0.62),
                                                         line("วันนีอากาศ ดีมาก", 71, 52, 369, 112, 0.72)])
    whole = Page(index=0, width=336, height=93, lines=[line("วันนี้อากาศดีมาก", 10, 10, 320, 80, 0.93)])
    fixed = cover(layers, image, [region], lambda crop: whole)
    assert [l.text for l in fixed.lines] == ["วันนี้อากาศดีมาก"]
    # two true lines in one region read badly as one: less confident, so both are kept
    unsure = Page(index=0, width=336, height=93, lines=[line("วันนี้อา", 10, 10, 320, 80, 0.4)])
    assert [l.text for l in cover(layers, image, [region], lambda crop: unsure).lines] == ["๓ ส ส", "วันนีอากาศ ดีมาก"]
    # confident but most of the text gone: kept too
    short = Page(index=0, width=336, height=93, lines=[line("วัน", 10, 10, 320, 80, 0.95)])
    assert [l.text for l in cover(layers, image, [region], lambda crop: short).lines] == ["๓ ส ส", "วันนีอากาศ ดีมาก"]
    # side by side (two words of a line, or two columns' lines): not layered, not read again
    beside = Page(index=0, width=450, height=150, lines=[line("วันนี้", 70, 50, 200, 110, 0.9),
                                                         line("อากาศดีมาก", 215, 50, 370, 110, 0.9)])
    assert cover(beside, image, [region], lambda crop: pytest.fail("read again")) is beside


def test_an_unsure_line_is_read_again_larger():
    """Arabic in KacstOffice: 'وقرأ ... أصدقائه' read 'وفراً ... أصدقاته' at confidence 0.76 (dots
    taken wrong); the same line enlarged twice reads right at 0.87. A line under
    ``UNSURE_BELOW`` is read again on its own, twice as large; the reading replaces it when it is
    one line and more confident, its boxes mapped back onto the page."""
    import numpy as np

    from inkread.coverage import UNSURE_BELOW, second_look
    from inkread.result import Line, Page, Word

    def line(text, x0, y0, x1, y1, conf):
        box = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        return Line(text, box, conf, [Word(text, box, conf)])

    image = np.full((200, 600, 3), 255, np.uint8)
    image[40:80, 100:500] = 0
    page = Page(index=0, width=600, height=200, lines=[line("sure", 100, 120, 300, 160, 0.95),
                                                       line("unsure", 100, 40, 500, 80, UNSURE_BELOW - 0.05)])
    seen = []

    def reread(crop):
        seen.append(crop.shape[:2])
        return Page(index=0, width=crop.shape[1], height=crop.shape[0],
                    lines=[line("better", 12, 12, 812, 92, 0.9)])

    out = second_look(page, image, reread)
    assert [l.text for l in out.lines] == ["sure", "better"]
    assert seen == [(2 * (80 - 40 + 12), 2 * (500 - 100 + 12))]  # only the unsure line, twice its size
    assert out.lines[1].bbox[0] == (100.0, 40.0) and out.lines[1].words[0].bbox[2] == (500.0, 80.0)
    less = second_look(page, image, lambda crop: Page(index=0, width=1, height=1,
                                                      lines=[line("worse", 0, 0, 10, 10, 0.5)]))
    assert less is page
    two = second_look(page, image, lambda crop: Page(index=0, width=1, height=1,
                                                     lines=[line("a", 0, 0, 9, 9, 0.99), line("b", 0, 10, 9, 19, 0.99)]))
    assert two is page
    # large text gains nothing from enlarging (and a page-sized "line" would be enlarged four times over)
    from inkread.coverage import SMALL_LINE

    tall = Page(index=0, width=600, height=200, lines=[line("tall", 100, 10, 500, 10 + SMALL_LINE, 0.5)])
    assert second_look(tall, image, lambda crop: pytest.fail("read again")) is tall
