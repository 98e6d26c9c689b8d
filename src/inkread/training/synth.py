"""Synthetic handwritten lines for what the real lines lack: modern hands, English, and the Latin-script
languages inkread reads (``åäöøæßñç...``), rendered from each language's real word frequencies
(wordfreq) with the handwriting fonts Debian packages. Two fonts are never used here: they render the
notes the model is measured on (``HELD_OUT_FONTS``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["TRAIN_FONTS", "HELD_OUT_FONTS", "LANGUAGES", "available_fonts", "random_text", "render", "synthetic_lines"]

# (file, Debian package). Capitals-only designs (fonts-bwht) are left out: their lowercase is a capital.
TRAIN_FONTS = (
    ("/usr/share/fonts/truetype/kristi/Kristi.ttf", "fonts-kristi"),
    ("/usr/share/fonts/truetype/fifthhorseman/dkg.ttf", "fonts-dkg-handwriting"),
    ("/usr/share/fonts/truetype/fifthhorseman/dkgIt.ttf", "fonts-dkg-handwriting"),
    ("/usr/share/fonts/truetype/fifthhorseman/dkgBd.ttf", "fonts-dkg-handwriting"),
    ("/usr/share/fonts/truetype/breip/Breip.ttf", "fonts-breip"),
    ("/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf", "fonts-comic-neue"),
    ("/usr/share/fonts/opentype/comic-neue/ComicNeue-Italic.otf", "fonts-comic-neue"),
    ("/usr/share/fonts/opentype/comic-neue/ComicNeue-Light.otf", "fonts-comic-neue"),
    ("/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf", "fonts-humor-sans"),
    ("/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf", "fonts-dancingscript"),
    ("/usr/share/fonts/opentype/dancingscript/DancingScript-Bold.otf", "fonts-dancingscript"),
    ("/usr/share/fonts/truetype/ecolier-court/Ecolier-court.ttf", "fonts-ecolier-court"),
    ("/usr/share/fonts/truetype/sjfonts/SteveHand.ttf", "fonts-sjfonts"),
    ("/usr/share/fonts/truetype/sjfonts/Delphine.ttf", "fonts-sjfonts"),
    ("/usr/share/fonts/opentype/kaushanscript/KaushanScript-Regular.otf", "fonts-kaushanscript"),
    ("/usr/share/fonts/truetype/leckerli-one/LeckerliOne-Regular.ttf", "fonts-leckerli-one"),
)
HELD_OUT_FONTS = (
    ("/usr/share/fonts/truetype/rufscript/Rufscript010.ttf", "fonts-rufscript"),
    ("/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf", "fonts-femkeklaver"),
)

# language -> share of the synthetic lines. English leads: no real modern English hand is in the data.
LANGUAGES = {
    "en": 0.30,
    "de": 0.09,
    "es": 0.08,
    "sv": 0.07,
    "it": 0.06,
    "pt": 0.06,
    "fr": 0.05,
    "nl": 0.05,
    "da": 0.04,
    "nb": 0.04,
    "fi": 0.04,
    "pl": 0.04,
    "cs": 0.03,
    "tr": 0.03,
    "is": 0.02,
}

_PUNCT_END = [".", ".", ".", ",", ";", ":", "!", "?", ""]


@dataclass(frozen=True)
class _Font:
    path: str
    chars: frozenset[str]


@cache
def _cmap(path: str) -> frozenset[str]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    return frozenset(chr(c) for c in font.getBestCmap())


def available_fonts(fonts=TRAIN_FONTS) -> list[_Font]:
    """The fonts of ``fonts`` installed here, with the characters each has a glyph for."""
    return [_Font(p, _cmap(p)) for p, _pkg in fonts if Path(p).is_file()]


@cache
def _words(lang: str) -> tuple[list[str], np.ndarray]:
    from wordfreq import top_n_list, word_frequency

    words = [w for w in top_n_list(lang, 30000) if w.isalpha() or "'" in w or "-" in w]
    freq = np.array([word_frequency(w, lang) for w in words], dtype=np.float64)
    freq = freq**0.6  # flatten Zipf a little: rare words and their letters show up too
    return words, freq / freq.sum()


def random_text(lang: str, rng: np.random.Generator) -> str:
    """A line of 2-9 words of ``lang`` drawn by frequency, with capitals, punctuation and numbers."""
    words, p = _words(lang)
    n = int(rng.integers(2, 10))
    out = list(rng.choice(words, size=n, p=p))
    if rng.random() < 0.5:
        out[0] = out[0][:1].upper() + out[0][1:]
    for i in range(1, n):
        if rng.random() < 0.08:  # a name or a noun written with a capital
            out[i] = out[i][:1].upper() + out[i][1:]
    if rng.random() < 0.15:
        k = int(rng.integers(0, n))
        out[k] = rng.choice(
            [
                str(int(rng.integers(1, 100))),
                str(int(rng.integers(1900, 2030))),
                f"{int(rng.integers(1, 31))}/{int(rng.integers(1, 13))}",
                f"{rng.integers(1, 500)},{rng.integers(10, 99)}",
                f"{rng.integers(1, 24)}:{rng.integers(10, 59)}",
            ]
        )
    if rng.random() < 0.03:
        out = [w.upper() for w in out]
    text = " ".join(out)
    if rng.random() < 0.25 and n > 3:  # a comma inside
        words_ = text.split(" ")
        k = int(rng.integers(1, n - 1))
        words_[k] += ","
        text = " ".join(words_)
    text += str(rng.choice(_PUNCT_END))
    if rng.random() < 0.05:
        text = f'"{text}"'
    if rng.random() < 0.05:
        text = f"({text})"
    return text


def render(text: str, font: _Font, rng: np.random.Generator) -> np.ndarray:
    """The line as greyscale uint8, cropped to its ink plus a few pixels, as the real line crops are."""
    size = int(rng.integers(34, 64))
    pil_font = ImageFont.truetype(font.path, size)
    # whole pixels (the stubs say float for a fractional stroke width; there is no stroke here)
    left, top, right, bottom = cast("tuple[int, int, int, int]", pil_font.getbbox(text))
    pad = int(size * 0.4)
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    paper = int(rng.integers(200, 256))
    ink = int(rng.integers(0, 90))
    img = Image.new("L", (max(8, w), max(8, h)), paper)
    draw = ImageDraw.Draw(img)
    x: float  # advanced by the words' (fractional) lengths
    x, y = pad - left, pad - top
    # pen pressure: words drawn one by one with a small baseline and spacing wobble
    for word in text.split(" "):
        dy = rng.normal(0, size * 0.03)
        draw.text((x, y + dy), word, font=pil_font, fill=ink)
        gap = max(pil_font.getlength(" "), size * 0.22)
        x += pil_font.getlength(word) + gap * rng.uniform(0.8, 1.4)
    arr = np.asarray(img)
    if rng.random() < 0.5:  # a slight rotation of the whole line
        import cv2

        angle = rng.normal(0, 1.2)
        m = cv2.getRotationMatrix2D((arr.shape[1] / 2, arr.shape[0] / 2), angle, 1.0)
        arr = cv2.warpAffine(arr, m, (arr.shape[1], arr.shape[0]), borderValue=paper)
    ys, xs = np.nonzero(arr < (paper + ink) / 2)
    if len(ys) == 0:
        return arr
    margin = 4
    return arr[max(0, ys.min() - margin) : ys.max() + margin + 1, max(0, xs.min() - margin) : xs.max() + margin + 1]


def synthetic_lines(n: int, seed: int, fonts=TRAIN_FONTS, languages=LANGUAGES):
    """``n`` (image, text, language) triples, the same for the same seed and fonts."""
    rng = np.random.default_rng(seed)
    usable = available_fonts(fonts)
    if not usable:
        raise RuntimeError("no handwriting font installed: apt-get install " + " ".join(sorted({p for _, p in fonts})))
    langs = list(languages)
    probs = np.array([languages[k] for k in langs])
    probs = probs / probs.sum()
    made = 0
    while made < n:
        lang = str(rng.choice(langs, p=probs))
        text = random_text(lang, rng)
        font = usable[int(rng.integers(0, len(usable)))]
        if not set(text) - {" "} <= font.chars:
            continue
        yield render(text, font, rng), text, lang
        made += 1
