"""The int8 text detector (``weights/det_int8.onnx``): made from the installed float detector, used
only beside it, finding the lines the float one finds on real pages."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from inkread.backends.ppocr.detect import DetectParams, detect_lines
from inkread.backends.ppocr.models import DET_MODEL, PaddleModels, model_dir
from inkread.backends.ppocr.quantized import DETECTOR_INT8, card, detector_path
from inkread.cache import file_sha256
from inkread.training.quantize import calibration_pages


def test_the_shipped_int8_detector_was_made_from_the_installed_one_and_is_used(monkeypatch):
    monkeypatch.delenv("INKREAD_INT8", raising=False)
    made = card(DETECTOR_INT8)
    assert made["base"] == DET_MODEL and made["base_sha256"] == file_sha256(model_dir() / DET_MODEL)
    assert made["command"].startswith("python -m inkread.training quantize")
    assert made["calibration"]["pages"] >= 10 and "hooker" not in made["calibration"]["sets"]
    assert detector_path(model_dir() / DET_MODEL) == DETECTOR_INT8


def test_another_float_detector_or_int8_off_reads_with_the_float_one(tmp_path: Path, monkeypatch):
    other = tmp_path / DET_MODEL
    other.write_bytes((model_dir() / DET_MODEL).read_bytes() + b"\0")  # another file: not what it was made from
    assert detector_path(other) == other
    monkeypatch.setenv("INKREAD_INT8", "0")
    assert detector_path(model_dir() / DET_MODEL) == model_dir() / DET_MODEL


def _boxes(models: PaddleModels, image: np.ndarray) -> list[np.ndarray]:
    return [b for b, _ in detect_lines(models, image, DetectParams())]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    (ax0, ay0), (ax1, ay1) = a.min(axis=0), a.max(axis=0)
    (bx0, by0), (bx1, by1) = b.min(axis=0), b.max(axis=0)
    w, h = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    inter = max(0.0, w) * max(0.0, h)
    return inter / ((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter)


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> tuple[PaddleModels, PaddleModels]:
    folder = tmp_path_factory.mktemp("float")
    for name in (DET_MODEL, "PP-OCRv6_rec_small.onnx", "ch_ppocr_mobile_v2.0_cls_mobile.onnx"):
        shutil.copy(model_dir() / name, folder / name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INKREAD_INT8", "0")
        floating = PaddleModels(folder, threads=1)
    return PaddleModels(threads=1), floating


def test_int8_finds_the_lines_the_float_detector_finds(both, examples_dir: Path, eval_samples):
    quantised, floating = both
    pages = [examples_dir / "handwritten_note.jpg", examples_dir / "printed_page.png"]
    pages += [s.image_path for s in eval_samples if s.kind == "hw-page"][::6]  # real hands: 3 pages
    assert len(pages) == 5
    for path in pages:
        image = np.ascontiguousarray(cv2.imread(str(path))[:, :, ::-1])
        exact, int8 = _boxes(floating, image), _boxes(quantised, image)
        found = sum(max((_iou(b, q) for q in int8), default=0.0) >= 0.5 for b in exact)
        assert found >= 0.95 * len(exact) and abs(len(int8) - len(exact)) <= max(2, 0.1 * len(exact)), (
            path.name,
            found,
            len(exact),
            len(int8),
        )


def test_calibration_pages_hold_lines_of_both_kinds(examples_dir: Path):
    fonts = sorted(Path("/usr/share/fonts/truetype/dejavu").glob("DejaVu*.ttf"))
    if not fonts:
        pytest.skip("no DejaVu fonts (apt-get install fonts-dejavu-core)")
    line = examples_dir / "handwritten_note.jpg"  # any image pastes as a "line"
    pages = list(calibration_pages([line], fonts, 3, seed=random.Random(1).randint(0, 9)))
    assert len(pages) == 3 and all(p.shape == (2000, 1500, 3) for p in pages)
    for page in pages:
        assert page.min() < 100 < page.max()  # ink on paper
