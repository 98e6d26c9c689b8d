"""The Tesseract backend: the system's ``tesseract`` binary (Tesseract 5), printed text in 100+ languages.

Each page image is written to a private temporary PNG (user files are never touched or passed on) and
read with ``tesseract IMG stdout -l CODE --psm N tsv``. Tesseract's TSV rows (page > block > paragraph >
line > word, pixel boxes, confidences 0..100) become the project's result tree: one ``Line`` per
Tesseract line in Tesseract's order, ``Line.paragraph`` from its (block, paragraph) numbers, word
boxes in original-image pixels and confidences 0..1.

Right-to-left text (Arabic, Hebrew ...): Tesseract returns each word's characters in logical order and
a line's words in reading order (the rightmost first), so joining them with spaces gives the text in
logical order, the order a person types it (checked on rendered Arabic in tests/test_tesseract.py).

``TESSERACT`` in the environment names another binary; ``TESSDATA_PREFIX`` is honoured by Tesseract.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..exceptions import MissingDependencyError, OcrException, OcrTimeoutError
from ..languages import Language, LanguageInfo
from ..result import Line, Page, Word

__all__ = ["recognize_page", "installed_languages", "tesseract_binary", "package_for", "parse_tsv",
           "TesseractWord"]

log = logging.getLogger("inkread")

TIMEOUT_S = 600.0  # one page


def package_for(code: str) -> str:
    """The Debian package holding traineddata ``code`` (``chi_sim`` -> ``tesseract-ocr-chi-sim``)."""
    return "tesseract-ocr-" + code.replace("_", "-").lower()


def tesseract_binary(name: str | None = None) -> str:
    """The path of the tesseract binary (``name``, else ``$TESSERACT``, else ``tesseract``);
    MissingDependencyError naming the package when there is none."""
    name = name or os.environ.get("TESSERACT") or "tesseract"
    found = shutil.which(name)
    if not found:
        raise MissingDependencyError(
            f"the tesseract binary ({name}) is not installed",
            hint="apt-get install tesseract-ocr (Debian/Ubuntu package tesseract-ocr)",
        )
    return found


def list_langs(binary: str) -> frozenset[str]:
    """The traineddata names ``binary --list-langs`` reports (cached per binary and data folder)."""
    return _list_langs(binary, os.environ.get("TESSDATA_PREFIX"))


@functools.lru_cache(maxsize=8)
def _list_langs(binary: str, tessdata: str | None) -> frozenset[str]:
    try:
        proc = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        raise MissingDependencyError(f"cannot run {binary} --list-langs: {error}",
                                     hint="apt-get install tesseract-ocr") from error
    # "List of available languages in "/usr/share/tesseract-ocr/5/tessdata/" (9):" then one per line
    lines = (proc.stdout or proc.stderr).splitlines()
    return frozenset(l.strip() for l in lines if l.strip() and not l.startswith("List of"))


def installed_languages(*, refresh: bool = False) -> frozenset[str]:
    """Tesseract's installed traineddata names (``tesseract --list-langs``, cached per binary)."""
    binary = tesseract_binary()
    if refresh:
        _list_langs.cache_clear()
    return list_langs(binary)


def check_language(language: Language | str) -> str:
    """Tesseract's code for ``language``; :class:`MissingDependencyError` when Tesseract or its data
    for the language is not installed (checked once, before a batch reads anything)."""
    tesseract_binary()
    return _check_language(Language.parse(language).info)


def _check_language(info: LanguageInfo) -> str:
    code = info.tesseract
    if not code:
        raise MissingDependencyError(f"Tesseract has no model for {info.name} ({info.code})",
                                     hint="read it with engine='ppocr'")
    if code not in installed_languages():
        if code not in installed_languages(refresh=True):  # installed since we last looked?
            raise MissingDependencyError(
                f"Tesseract's {info.name} data ({code}.traineddata) is not installed",
                hint=f"apt-get install {package_for(code)}",
            )
    return code


@dataclass
class TesseractWord:
    """One word row of Tesseract's TSV."""

    block: int
    par: int
    line: int
    word: int
    left: int
    top: int
    width: int
    height: int
    conf: float  # 0..100
    text: str


def parse_tsv(tsv: str) -> list[TesseractWord]:
    """The word rows (level 5) of ``tesseract ... tsv`` output, in Tesseract's order; empty words dropped."""
    rows = tsv.splitlines()
    words: list[TesseractWord] = []
    for row in rows[1:] if rows and rows[0].startswith("level") else rows:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = "\t".join(cols[11:]).strip()
        if not text:
            continue
        try:
            nums = [int(c) for c in cols[2:10]]
            conf = float(cols[10])
        except ValueError:
            continue
        block, par, line, word, left, top, width, height = nums
        words.append(TesseractWord(block, par, line, word, left, top, width, height, conf, text))
    return words


# Characters Tesseract's models give for a look-alike of the script's own letter (ell.traineddata reads
# Greek mu as the micro sign).
_LOOKALIKES: dict[str, dict[int, str]] = {"greek": {0x00B5: "\u03bc"}}


_ZERO_WIDTH = "\u200b\u200c\u200d"
# Scripts whose lines Tesseract's TSV splits into many "words" (Thai: often one per character; Hangul:
# one per syllable): their pieces are joined without a space unless the gap between them is wide.
_UNSPACED_SCRIPTS = frozenset({"thai", "lao", "khmer", "myanmar", "tibetan", "han", "japanese", "hangul"})


# Scripts whose word rows in Tesseract's TSV are single syllables while its plain text output spaces
# the words right (Hangul: '대한 민국의' from the gaps between the TSV's boxes, '대한민국의' in its text)
_OWN_SPACING = frozenset({"hangul"})


def _respace(page: Page, text: str, fixes: dict | None = None) -> Page:
    """``page``'s lines with the spaces of Tesseract's own text output, where a text line holds
    exactly the same characters as the page's line (otherwise the line is left as it is)."""
    from dataclasses import replace

    def bare(s: str) -> str:
        return "".join(s.split())

    own = [" ".join(t.split()) for t in text.splitlines() if t.strip()]
    own = [_drop_idle_joiners(unicodedata.normalize("NFC", t.translate(fixes) if fixes else t)) for t in own]
    lines, k = [], 0
    for line in page.lines:
        at = next((j for j in range(k, len(own)) if bare(own[j]) == bare(line.text)), None)
        words = _regroup(line.words, own[at].split()) if at is not None else None
        if words is None:
            lines.append(line)
            continue
        lines.append(replace(line, text=own[at], words=words))
        k = at + 1
    return replace(page, lines=lines)


def _regroup(pieces: list[Word], words: list[str]) -> list[Word] | None:
    """``pieces`` (syllable rows, in order) joined into ``words``: boxes united, confidences
    weighted by characters; ``None`` when they do not add up."""
    out: list[Word] = []
    i = 0
    for word in words:
        taken: list[Word] = []
        while i < len(pieces) and len("".join(p.text for p in taken)) < len(word):
            taken.append(pieces[i])
            i += 1
        if "".join(p.text for p in taken) != word:
            return None
        xs = [x for p in taken for x, _ in p.bbox]
        ys = [y for p in taken for _, y in p.bbox]
        conf = sum(p.confidence * len(p.text) for p in taken) / max(1, len(word))
        out.append(Word(text=word, bbox=_box(min(xs), min(ys), max(xs), max(ys)), confidence=conf))
    return out if i == len(pieces) else None


def _drop_idle_joiners(text: str) -> str:
    """Zero-width (non-)joiners with no letter after them join nothing (tam.traineddata writes a ZWNJ
    after every word-final pulli, before punctuation too)."""
    return "".join(c for i, c in enumerate(text)
                   if c not in _ZERO_WIDTH or (i + 1 < len(text) and text[i + 1].isalpha()))


def _join_words(words: list[Word], script: str) -> str:
    if script not in _UNSPACED_SCRIPTS or len(words) < 2:
        return " ".join(w.text for w in words)
    heights = sorted(w.bbox[2][1] - w.bbox[0][1] for w in words)
    gap_for_space = 0.5 * heights[len(heights) // 2]
    parts = [words[0].text]
    for prev, cur in zip(words, words[1:]):
        gap = min(abs(cur.bbox[0][0] - prev.bbox[1][0]), abs(prev.bbox[0][0] - cur.bbox[1][0]))
        parts.append((" " if gap > gap_for_space else "") + cur.text)
    return "".join(parts)


def _box(left: float, top: float, right: float, bottom: float) -> list[tuple[float, float]]:
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def _page_from_words(words: list[TesseractWord], scale: float, index: int, width: int, height: int,
                     script: str = "") -> Page:
    """Group word rows into lines (by block, paragraph, line number) in Tesseract's order."""
    fixes = _LOOKALIKES.get(script)
    groups: dict[tuple[int, int, int], list[TesseractWord]] = {}
    for w in words:
        groups.setdefault((w.block, w.par, w.line), []).append(w)
    paragraphs: dict[tuple[int, int], int] = {}
    lines: list[Line] = []
    for (block, par, _line), members in groups.items():
        out_words = []
        for w in members:
            x0, y0 = w.left / scale, w.top / scale
            x1, y1 = (w.left + w.width) / scale, (w.top + w.height) / scale
            conf = min(1.0, max(0.0, w.conf / 100.0))
            text = unicodedata.normalize("NFC", w.text.translate(fixes) if fixes else w.text)
            text = _drop_idle_joiners(text)
            out_words.append(Word(text=text, bbox=_box(x0, y0, x1, y1), confidence=conf))
        text = _join_words(out_words, script)
        chars = sum(len(w.text) for w in out_words)
        conf = sum(w.confidence * len(w.text) for w in out_words) / max(1, chars)
        xs = [p[0] for w in out_words for p in w.bbox]
        ys = [p[1] for w in out_words for p in w.bbox]
        para = paragraphs.setdefault((block, par), len(paragraphs))
        lines.append(Line(text=text, bbox=_box(min(xs), min(ys), max(xs), max(ys)), confidence=conf,
                          words=out_words, paragraph=para, handwritten=False))
    return Page(index=index, width=width, height=height, lines=lines, mode="printed")


def _is_single_line(image: np.ndarray) -> bool:
    """A crop of one printed line: wide and low, with one band of ink."""
    h, w = image.shape[:2]
    if h > 160 or w < 2 * h:
        return False
    gray = image if image.ndim == 2 else image[..., :3].mean(axis=2)
    ink = gray < (float(gray.max()) + float(gray.min())) / 2
    rows = ink.any(axis=1)
    # count the bands of inked rows
    bands = int(rows[0]) + int(np.count_nonzero(rows[1:] & ~rows[:-1]))
    return bands <= 1


def run_tesseract(binary: str, path: str, code: str, psm: int, output: str = "tsv", *,
                  timeout: float = TIMEOUT_S, one_thread: bool = True) -> str:
    """``binary path stdout -l code --psm psm [tsv]``: its standard output. ``one_thread`` limits
    OpenMP to one thread (inkread reads one page per process, where more threads only slow it down;
    the evaluation's baseline runs Tesseract as a user would, without it)."""
    env = dict(os.environ)
    if one_thread:
        env.setdefault("OMP_THREAD_LIMIT", "1")
    cmd = [binary, path, "stdout", "-l", code, "--psm", str(psm)] + (["tsv"] if output == "tsv" else [])
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as error:
        raise OcrTimeoutError(f"tesseract took longer than {timeout:.0f} s on one page") from error
    except OSError as error:
        raise MissingDependencyError(f"cannot run {binary}: {error}", hint="apt-get install tesseract-ocr") from error
    if proc.returncode != 0:
        detail = " ".join(proc.stderr.decode("utf-8", "replace").split())[-300:]
        raise OcrException(f"tesseract exited with status {proc.returncode}: {detail}")
    return proc.stdout.decode("utf-8", "replace")


def recognize_page(image: np.ndarray, language: Language | str, index: int = 0, *,
                   mode: str = "printed", line: bool | None = None) -> Page:
    """Read one page image (RGB or gray, uint8) with Tesseract; boxes refer to ``image``'s pixels.

    ``mode`` is advisory: Tesseract reads print, and handwriting is read as print (with a warning).
    ``line``: the image is one line (``--psm 7``); ``None``: decide from its shape and ink.
    """
    from PIL import Image

    info = Language.parse(language).info
    binary = tesseract_binary()
    code = _check_language(info)
    if mode == "handwritten" and line is None:
        log.warning("inkread: Tesseract reads printed text; %s handwriting is read as print", info.name)
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    height, width = image.shape[:2]
    single = _is_single_line(image) if line is None else line
    psm = 7 if single else 3
    pil = Image.fromarray(image)
    scale = 1.0
    if single and height < 48:  # Tesseract wants an x-height of 20+ px: enlarge a small line crop
        scale = 64.0 / max(1, height)
        pil = pil.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.LANCZOS)
    with tempfile.TemporaryDirectory(prefix="inkread-tess-") as tmp:
        path = os.path.join(tmp, "page.png")
        pil.save(path, format="PNG", dpi=(300, 300))
        tsv = run_tesseract(binary, path, code, psm)
        page = _page_from_words(parse_tsv(tsv), scale, index, width, height, info.script)
        if single and not any(l.text.strip() for l in page.lines):
            # --psm 7 finds no line in some crops Tesseract reads fine as raw text (an Arabic line
            # whose dots and marks it took for separate lines): --psm 13, the line as it is
            psm = 13
            page = _page_from_words(parse_tsv(run_tesseract(binary, path, code, psm)), scale, index, width, height,
                                    info.script)
        if psm == 3 and page.confidence < RETRY_BELOW:
            # Automatic page segmentation sometimes shatters a page into blobs (Hangul did, on a plain
            # rendered page); read it again as one uniform block and keep the more confident reading.
            block = _page_from_words(parse_tsv(run_tesseract(binary, path, code, 6)), scale, index, width, height,
                                     info.script)
            if block.confidence > page.confidence:
                page, psm = block, 6
        if info.script in _OWN_SPACING and page.lines:
            page = _respace(page, run_tesseract(binary, path, code, psm, output="txt"), _LOOKALIKES.get(info.script))
    return page


# Below this mean confidence a page read with automatic segmentation (--psm 3) is read again as one
# block (--psm 6). Clean print reads at 0.9+.
RETRY_BELOW = 0.6


# Tesseract OSD's script names -> inkread's (LanguageInfo.script)
_OSD_SCRIPTS = {"han": "han", "hans": "han", "hant": "han", "katakana": "japanese", "hiragana": "japanese",
                "japanese": "japanese", "hangul": "hangul", "korean": "hangul"}


@dataclass
class Osd:
    """What Tesseract's orientation and script detection (``--psm 0``) says of a page."""

    rotate: int | None  # clockwise degrees that make the page upright
    rotate_confidence: float
    script: str | None  # inkread's script name ("latin", "cyrillic", "arabic" ...)


def osd(image: np.ndarray) -> Osd | None:
    """Tesseract's OSD of ``image``, or ``None`` when it cannot tell (too little text, no
    osd.traineddata, no Tesseract)."""
    from PIL import Image

    try:
        binary = tesseract_binary()
        if "osd" not in installed_languages():
            return None
    except MissingDependencyError:
        return None
    pil = Image.fromarray(np.asarray(image))
    if max(pil.size) > 2400:  # OSD needs no more than this, and a 12 MP photo costs seconds
        pil.thumbnail((2400, 2400))
    with tempfile.TemporaryDirectory(prefix="inkread-osd-") as tmp:
        path = os.path.join(tmp, "page.png")
        pil.save(path, format="PNG", dpi=(300, 300))
        try:
            proc = subprocess.run([binary, path, "stdout", "--psm", "0"], capture_output=True, timeout=TIMEOUT_S,
                                  env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        except (OSError, subprocess.TimeoutExpired):
            return None
    fields = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    if not fields:
        return None
    try:
        rotate = int(fields["Rotate"]) % 360 if "Rotate" in fields else None
        confidence = float(fields.get("Orientation confidence", 0) or 0)
    except ValueError:
        rotate, confidence = None, 0.0
    name = fields.get("Script", "").lower()
    return Osd(rotate, confidence, _OSD_SCRIPTS.get(name, name) or None)
