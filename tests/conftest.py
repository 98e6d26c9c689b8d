"""Fixtures shared by the test modules: repository paths, the evaluation set, fonts, the models.

The real models load once per process (``inkread.backends.ppocr.models.get_models()``); tests that recognise
images share them through the ``models`` fixture (or simply by calling the public API).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from inkread import evalset
from synth import find_handwriting_font, find_printed_font, font_install_hint

REPO = Path(__file__).resolve().parents[1]
TESTS_DIR = REPO / "tests"
EXAMPLES_DIR = REPO / "examples"
SYNTH_DATA_DIR = TESTS_DIR / "data" / "synth"
DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR


@pytest.fixture(scope="session")
def synth_data_dir() -> Path:
    """Font-independent synthetic renders committed under tests/data/synth (see its README)."""
    return SYNTH_DATA_DIR


@pytest.fixture(scope="session")
def note_path() -> Path:
    """The README's example: a handwritten note (4 paragraphs, 9 written lines)."""
    return EXAMPLES_DIR / "handwritten_note.jpg"


@pytest.fixture(scope="session")
def note_truth() -> str:
    return (EXAMPLES_DIR / "handwritten_note.txt").read_text(encoding="utf-8")


@pytest.fixture
def fake():
    """The fake recogniser (tests/fakes.py) in PP-OCRv6's place for the test: each page reads as
    "page N WxH", no model loaded. For tests of the plumbing around recognition."""
    from fakes import fake_backend

    with fake_backend() as recognizer:
        yield recognizer


@pytest.fixture(scope="session")
def models():
    """The process-wide PP-OCRv6 models (loaded on first use)."""
    from inkread.backends.ppocr.models import get_models

    return get_models()


# ----- the evaluation set ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """``$INKREAD_EVAL_DIR`` or ``<repo>/../shared/eval``; the test is skipped when neither exists."""
    try:
        return evalset.resolve_eval_dir(None, default=DEFAULT_EVAL_DIR)
    except FileNotFoundError as exc:
        pytest.skip(f"evaluation set not available ({exc}); put it at {DEFAULT_EVAL_DIR} "
                    f"or set ${evalset.EVAL_DIR_ENV} (CI has it)")


@pytest.fixture(scope="session")
def eval_samples(eval_dir: Path) -> list[evalset.Sample]:
    """Every sample of the evaluation set, in manifest order."""
    samples = evalset.load_manifest(eval_dir)
    if not samples:
        pytest.skip(f"evaluation set at {eval_dir} lists no samples")
    return samples


@pytest.fixture(scope="session")
def line_crop() -> Callable[[evalset.Sample], np.ndarray]:
    """``line_crop(sample)``: a line sample's image (RGB) fitted to its ink band the way the
    handwriting profile fits a one-line image before reading it."""
    import cv2

    from inkread.options import RecognitionMode
    from inkread.backends.ppocr.crops import fit_line
    from inkread.backends.ppocr.profiles import PROFILES

    margin = PROFILES[RecognitionMode.HANDWRITTEN].line_margin

    def crop(sample: evalset.Sample):
        img = cv2.cvtColor(cv2.imread(str(sample.image_path)), cv2.COLOR_BGR2RGB)
        return fit_line(img, margin)[0]

    return crop


# ----- fonts for synthetic renders ------------------------------------------------------------

@pytest.fixture(scope="session")
def handwriting_font() -> Callable[[str], Path]:
    """``handwriting_font("Rufscript")``: that family's font file, or skip the test with an install hint."""

    def get(family: str) -> Path:
        path = find_handwriting_font(family)
        if path is None:
            pytest.skip(font_install_hint(family))
        return path

    return get


@pytest.fixture(scope="session")
def printed_font() -> Path:
    """DejaVu Serif (or another regular printed font), or skip."""
    path = find_printed_font()
    if path is None:
        pytest.skip(font_install_hint("DejaVu Serif"))
    return path


# ----- small helpers shared as fixtures -------------------------------------------------------

@pytest.fixture(scope="session")
def file_digest() -> Callable[[Path], str]:
    """sha256 of a file's bytes."""

    def digest(path: Path) -> str:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()

    return digest
