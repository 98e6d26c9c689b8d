"""The Tesseract backend: the system's ``tesseract`` binary (Tesseract 5), printed text in 100+ languages.

Each page image is written to a private temporary PNG (user files are never touched or passed on) and
read with ``tesseract IMG stdout -l CODE --psm N tsv``. Tesseract's TSV rows (page > block > paragraph >
line > word, pixel boxes, confidences 0..100) become the project's result tree (in :mod:`.tesseract_tsv`):
one ``Line`` per Tesseract line in Tesseract's order, ``Line.paragraph`` from its (block, paragraph)
numbers, word boxes in original-image pixels and confidences 0..1.

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
from dataclasses import dataclass
from typing import cast

import numpy as np

from ..exceptions import MissingDependencyError, OcrException, OcrTimeoutError
from ..languages import Language, LanguageChoice, LanguageInfo, parse_languages
from ..result import Page
from .tesseract_tsv import LOOKALIKES, OWN_SPACING, TesseractWord, page_from_words, parse_tsv, respace

__all__ = ["recognize_page", "installed_languages", "tesseract_binary", "package_for", "parse_tsv", "TesseractWord"]

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
        raise MissingDependencyError(
            f"cannot run {binary} --list-langs: {error}", hint="apt-get install tesseract-ocr"
        ) from error
    # "List of available languages in "/usr/share/tesseract-ocr/5/tessdata/" (9):" then one per line
    lines = (proc.stdout or proc.stderr).splitlines()
    return frozenset(l.strip() for l in lines if l.strip() and not l.startswith("List of"))


def installed_languages(*, refresh: bool = False) -> frozenset[str]:
    """Tesseract's installed traineddata names (``tesseract --list-langs``, cached per binary)."""
    binary = tesseract_binary()
    if refresh:
        _list_langs.cache_clear()
    return list_langs(binary)


def check_language(language: Language | LanguageChoice | str) -> str:
    """Tesseract's code for ``language``; :class:`MissingDependencyError` when Tesseract or its data
    for the language is not installed (checked once, before a batch reads anything)."""
    tesseract_binary()
    return _check_language(parse_languages(language).info)


def _check_language(info: LanguageInfo) -> str:
    code = info.tesseract
    if not code:
        raise MissingDependencyError(
            f"Tesseract has no model for {info.name} ({info.code})", hint="read it with engine='ppocr'"
        )
    for part in code.split("+"):  # several languages: eng+fra
        if part not in installed_languages() and part not in installed_languages(refresh=True):
            # (refreshed: installed since we last looked?)
            raise MissingDependencyError(
                f"Tesseract's {info.name if part == code else part} data ({part}.traineddata) is not installed",
                hint=f"apt-get install {package_for(part)}",
            )
    return code


def _is_single_line(image: np.ndarray) -> bool:
    """A crop of one printed line: wide and low, with one band of ink."""
    h, w = image.shape[:2]
    if h > 160 or w < 2 * h:
        return False
    gray: np.ndarray = image if image.ndim == 2 else image[..., :3].mean(axis=2)
    ink = gray < (float(gray.max()) + float(gray.min())) / 2
    rows = cast(np.ndarray, ink.any(axis=1))  # an array along axis 1 (numpy's stubs add a scalar)
    # count the bands of inked rows
    bands = int(rows[0]) + int(np.count_nonzero(rows[1:] & ~rows[:-1]))
    return bands <= 1


def run_tesseract(
    binary: str,
    path: str,
    code: str,
    psm: int,
    output: str = "tsv",
    *,
    timeout: float = TIMEOUT_S,
    one_thread: bool = True,
) -> str:
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


def recognize_page(
    image: np.ndarray,
    language: Language | LanguageChoice | str,
    index: int = 0,
    *,
    mode: str = "printed",
    line: bool | None = None,
) -> Page:
    """Read one page image (RGB or gray, uint8) with Tesseract; boxes refer to ``image``'s pixels.

    ``mode`` is advisory: Tesseract reads print, and handwriting is read as print (with a warning).
    ``line``: the image is one line (``--psm 7``); ``None``: decide from its shape and ink.
    """
    from PIL import Image

    info = parse_languages(language).info
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
        pil = pil.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)
    with tempfile.TemporaryDirectory(prefix="inkread-tess-") as tmp:
        path = os.path.join(tmp, "page.png")
        pil.save(path, format="PNG", dpi=(300, 300))
        tsv = run_tesseract(binary, path, code, psm)
        page = page_from_words(parse_tsv(tsv), scale, index, width, height, info.script)
        if single and not any(l.text.strip() for l in page.lines):
            # --psm 7 finds no line in some crops Tesseract reads fine as raw text (an Arabic line
            # whose dots and marks it took for separate lines): --psm 13, the line as it is
            psm = 13
            page = page_from_words(
                parse_tsv(run_tesseract(binary, path, code, psm)), scale, index, width, height, info.script
            )
        if psm == 3 and page.confidence < RETRY_BELOW:
            # Automatic page segmentation sometimes shatters a page into blobs (Hangul did, on a plain
            # rendered page); read it again as one uniform block and keep the more confident reading.
            block = page_from_words(
                parse_tsv(run_tesseract(binary, path, code, 6)), scale, index, width, height, info.script
            )
            if block.confidence > page.confidence:
                page, psm = block, 6
        if info.script in OWN_SPACING and page.lines:
            page = respace(page, run_tesseract(binary, path, code, psm, output="txt"), LOOKALIKES.get(info.script))
    return page


# Below this mean confidence a page read with automatic segmentation (--psm 3) is read again as one
# block (--psm 6). Clean print reads at 0.9+.
RETRY_BELOW = 0.6


# Tesseract OSD's script names -> inkread's (LanguageInfo.script)
_OSD_SCRIPTS = {
    "han": "han",
    "hans": "han",
    "hant": "han",
    "katakana": "japanese",
    "hiragana": "japanese",
    "japanese": "japanese",
    "hangul": "hangul",
    "korean": "hangul",
}


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
            proc = subprocess.run(
                [binary, path, "stdout", "--psm", "0"],
                capture_output=True,
                timeout=TIMEOUT_S,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            )
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
