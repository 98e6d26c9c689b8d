"""No line lost, in any script: printed pages rendered in twelve scripts, each in two fonts Debian
packages (Chinese and Korean share one), read through the engine (PP-OCRv6 or Tesseract, as
``--engine auto`` chooses): every line's text is found with CER <= 10% (issue 12; a three-line Arabic
page once came back with two)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, features

import inkread as ocr
from inkread.backends import select_backend
from inkread.backends import tesseract as tess
from inkread.languages import Language
from inkread.metrics import cer

T = "/usr/share/fonts/truetype"
RTL = {"ar", "fa", "he"}

# language -> (lines, [(font file, Debian package)])
PAGES = {
    "ar": (["ذهب الطالب إلى المدرسة في الصباح الباكر", "وقرأ الكتاب الجديد مع أصدقائه",
            "ثم عاد إلى البيت بعد الظهر"],
           [(f"{T}/kacst/KacstOffice.ttf", "fonts-kacst"), (f"{T}/kacst/KacstBook.ttf", "fonts-kacst")]),
    "fa": (["امروز هوا آفتابی و گرم است", "ما در کتابخانه کتاب می‌خوانیم", "فردا به پارک خواهیم رفت"],
           # FarsiWeb's Nazli and FreeFarsi: the Kacst fonts have no ی, گ, ک or پ (they drew boxes)
           [(f"{T}/farsiweb/nazli.ttf", "fonts-farsiweb"), (f"{T}/freefarsi/FreeFarsi.ttf", "fonts-freefarsi")]),
    "he": (["הילדים הלכו לבית הספר בבוקר", "הם קראו ספר חדש בספרייה", "אחר הצהריים חזרו הביתה"],
           [(f"{T}/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
            (f"{T}/culmus/FrankRuehlCLM-Medium.ttf", "culmus")]),
    "ru": (["Съешь же ещё этих мягких французских булок", "да выпей чаю. Москва зимой красива,",
            "а летом в парке тепло и зелено."],
           [(f"{T}/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"), (f"{T}/dejavu/DejaVuSerif.ttf", "fonts-dejavu-core")]),
    "sr-cyrl": (["Добар дан, како сте данас?", "Београд је главни град Србије.", "Читам књигу у парку."],
                [(f"{T}/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
                 (f"{T}/dejavu/DejaVuSerif.ttf", "fonts-dejavu-core")]),
    "el": (["Η γρήγορη καφέ αλεπού πηδάει πάνω από", "τον τεμπέλη σκύλο στο πράσινο δάσος.",
            "Καλημέρα σας, τι κάνετε σήμερα;"],
           [(f"{T}/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"), (f"{T}/dejavu/DejaVuSerif.ttf", "fonts-dejavu-core")]),
    "hi": (["भारत एक विशाल देश है जिसमें", "अनेक भाषाएँ बोली जाती हैं।", "हम सब मिलकर पढ़ते और लिखते हैं।"],
           [(f"{T}/lohit-devanagari/Lohit-Devanagari.ttf", "fonts-lohit-deva"),
            (f"{T}/samyak/Samyak-Devanagari.ttf", "fonts-samyak-deva")]),
    "th": (["วันนี้อากาศดีมาก", "เราไปเที่ยวทะเลกัน", "แล้วกินข้าวที่ร้านอาหาร"],
           [(f"{T}/tlwg/Garuda.ttf", "fonts-tlwg-garuda-ttf"), (f"{T}/tlwg/Loma.ttf", "fonts-tlwg-loma-ttf")]),
    "ko": (["대한민국의 수도는 서울입니다.", "오늘은 날씨가 맑고 따뜻합니다.", "우리는 도서관에서 책을 읽었다."],
           [(f"{T}/wqy/wqy-microhei.ttc", "fonts-wqy-microhei"), (f"{T}/nanum/NanumGothic.ttf", "fonts-nanum")]),
    "zh": (["今天天气很好，我们去公园散步。", "图书馆里有很多新书。", "明天我们一起去北京。"],
           [(f"{T}/wqy/wqy-microhei.ttc", "fonts-wqy-microhei"), (f"{T}/wqy/wqy-zenhei.ttc", "fonts-wqy-zenhei")]),
    "te": (["తెలుగు ఒక ద్రావిడ భాష.", "హైదరాబాద్ తెలంగాణ రాజధాని.", "మేము పుస్తకాలు చదువుతాము."],
           [(f"{T}/lohit-telugu/Lohit-Telugu.ttf", "fonts-lohit-telu"),
            (f"{T}/teluguvijayam/Mandali-Regular.ttf", "fonts-teluguvijayam")]),
    "en": (["The quick brown fox jumps over the lazy dog.", "Pack my box with five dozen liquor jugs.",
            "Sphinx of black quartz, judge my vow.", "How vexingly quick daft zebras jump!"],
           [(f"{T}/dejavu/DejaVuSerif.ttf", "fonts-dejavu-core"), (f"{T}/dejavu/DejaVuSans.ttf", "fonts-dejavu-core")]),
}
# Measured on this machine (strict: the day one reads right, the mark must go)
KNOWN_BAD = {
    "hi-Samyak-Devanagari": "every line found; one misread by a conjunct (CER 0.11: 'विशाल' read 'विज्ञाल'): "
                            "Tesseract's Hindi in this font",
}
CASES = [pytest.param(lang, font, pkg, id=f"{lang}-{Path(font).stem}",
                      marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BAD[f"{lang}-{Path(font).stem}"])]
                      if f"{lang}-{Path(font).stem}" in KNOWN_BAD else [])
         for lang, (_lines, fonts) in PAGES.items() for font, pkg in fonts]


def _render(lines: list[str], font_path: str, language: str, size: int = 44) -> np.ndarray:
    font = ImageFont.truetype(font_path, size)
    width, step = 1500, int(size * 1.9)
    image = Image.new("RGB", (width, 90 + step * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for k, line in enumerate(lines):
        kwargs = {"direction": "rtl", "language": language} if language in RTL else {}
        x = width - 70 - draw.textlength(line, font=font, **kwargs) if language in RTL else 70
        draw.text((x, 45 + k * step), line, font=font, fill="black", **kwargs)
    return np.asarray(image)


@pytest.mark.parametrize("language,font,package", CASES)
def test_every_line_is_read(language, font, package):
    if not Path(font).exists():
        pytest.skip(f"font not installed: apt-get install -y {package}")
    if language in RTL and not features.check("raqm"):
        pytest.skip("Pillow has no libraqm to shape right-to-left text")
    info = Language.parse(language).info
    if select_backend(language) == "tesseract" and info.tesseract not in tess.installed_languages():
        pytest.skip(f"apt-get install -y {tess.package_for(info.tesseract)}")
    lines, _fonts = PAGES[language]
    result = ocr.recognize(_render(lines, font, language), language=language, mode="printed")
    got = [line.text for line in result.lines]
    for line in lines:
        assert min((cer(line, g) for g in got), default=1.0) <= 0.10, (line, got)
    assert result.pages[0].unread == []


@pytest.mark.parametrize("language,font,package", [pytest.param(*c.values, id=c.id) for c in CASES])
def test_every_font_draws_its_page(language, font, package):
    """A font without a glyph draws a box, and a page of boxes tests nothing (the Kacst fonts had
    no ی, گ, ک or پ: the Persian 'page' was a third boxes)."""
    import unicodedata

    TTFont = pytest.importorskip("fontTools.ttLib").TTFont
    if not Path(font).exists():
        pytest.skip(f"font not installed: apt-get install -y {package}")
    cmap = TTFont(font, fontNumber=0).getBestCmap()
    text = "".join(PAGES[language][0])
    missing = {ch for ch in text if unicodedata.category(ch) not in ("Zs", "Cf") and ord(ch) not in cmap}
    assert not missing, sorted(missing)
