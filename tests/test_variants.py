"""Test-time variants of line crops: slant estimation on rendered writing, x maps, real lines."""

import cv2
import numpy as np
import pytest

from inkread.metrics import cer
from inkread.backends.ppocr.variants import estimate_slant, make_variant

from synth import render_line


def _shear(img: np.ndarray, s: float) -> np.ndarray:
    """Lean the writing right by ``s`` (x moves by s per pixel of height above the middle)."""
    h, w = img.shape[:2]
    pad = int(abs(s) * h) + 1
    m = np.float32([[1, -s, s * h / 2 + pad], [0, 1, 0]])
    return cv2.warpAffine(img, m, (w + 2 * pad, h), borderValue=(255, 255, 255))


@pytest.fixture(scope="module")
def upright_line(printed_font):
    return np.asarray(render_line("Hillside limbs lift", printed_font, size=64, pad=10))


def test_upright_writing_has_no_slant(upright_line):
    assert abs(estimate_slant(upright_line)) <= 0.1
    assert make_variant("deslant", upright_line) is None  # nothing to straighten: no second reading


@pytest.mark.parametrize("lean", [0.3, -0.3, 0.5])
def test_slanted_writing_is_measured_and_straightened(upright_line, lean):
    leaning = _shear(upright_line, lean)
    assert estimate_slant(leaning) == pytest.approx(lean, abs=0.1)
    out, xmap = make_variant("deslant", leaning)
    assert abs(estimate_slant(out)) <= 0.1
    # the x map sends the straightened image's middle and edges back onto the leaning crop
    assert xmap(0.5) == pytest.approx(0.5, abs=0.02)
    assert 0.0 <= xmap(0.0) <= 0.05 and 0.95 <= xmap(1.0) <= 1.0


def test_framing_variants_change_the_height_only(upright_line):
    h, w = upright_line.shape[:2]
    tight, tmap = make_variant("tight", upright_line)
    loose, lmap = make_variant("loose", upright_line)
    assert tight.shape[1] == w == loose.shape[1] and tight.shape[0] < h < loose.shape[0]
    assert tmap(0.3) == 0.3 and lmap(0.7) == 0.7
    assert make_variant("tight", upright_line[:3]) is None  # too thin to frame


def test_reading_the_most_confident_variant_is_no_worse_on_real_lines(eval_samples, models, line_crop):
    """On real handwritten line crops of three collections, choosing among the variants by
    confidence reads no worse than the plain crop."""
    from inkread.backends.ppocr.decode import get_lexicon
    from inkread.backends.ppocr.reading import read_upright

    lines = [s for s in eval_samples if s.kind == "hw-line" and s.set in ("copiste", "stanford", "poilus")]
    lines = lines[::4][:12]
    if len(lines) < 12:
        pytest.skip("not enough handwritten line crops in the eval set")
    mask = models.class_mask("latin")
    plain, chosen = [], []
    for s in lines:
        crop = line_crop(s)
        lex = get_lexicon(s.language)
        truth = s.read_gt()
        plain.append(cer(truth, read_upright(models, [crop], mask, lex)[0][0].text))
        reading = read_upright(models, [crop], mask, lex, ("deslant", "tight", "loose"))[0][0]
        assert all(0.0 <= x <= 1.0 for x in reading.char_x) and len(reading.char_x) == len(reading.text)
        chosen.append(cer(truth, reading.text))
    assert np.mean(chosen) <= np.mean(plain) + 0.005
