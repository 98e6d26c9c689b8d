"""inkread's own handwriting recogniser (``inkread/weights/hw_rec.onnx``, built by inkread.training):
it reads real handwritten lines better than PP-OCRv6, keeps the characters of languages its real
training lines never show, and is used only where it helps (HANDWRITTEN, Latin script).

Thresholds sit a little above what the shipped model measures (value in the comment beside each)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import inkread as ocr
from inkread import metrics
from inkread.backends.ppocr.models import HANDWRITING_MODEL
from inkread.options import RecognitionMode, RecognitionOptions
from inkread.backends.ppocr.page import recognize_page
from inkread.backends.ppocr.profiles import PROFILES
from synth import render_line, render_note


def _lines(eval_samples, sets, n):
    out = []
    for name in sets:
        out += [s for s in eval_samples if s.kind == "hw-line" and s.set == name][:n]
    return out


def _greedy_cer(models, crops, truths, model):
    mask = models.class_mask("latin")
    readings = models.recognize(crops, mask, model=model)
    return float(np.mean([metrics.cer(t, r.text) for t, r in zip(truths, readings)]))


def test_shipped_model_has_its_card():
    card = json.loads(HANDWRITING_MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["command"].startswith("python -m inkread.training")
    # shipped weights come only from the openly licensed collections and synthetic lines
    assert set(card["trained_on"][:2]) == {"copiste", "poilus"}
    assert not {"hooker", "stanford"} & set(card["trained_on"])
    assert card["greedy_cer"]["val"] < card["greedy_cer_ppocrv6"]["val"]
    assert (HANDWRITING_MODEL.parent / "README.md").is_file()  # the CC-BY attribution


def test_reads_real_lines_better_than_ppocr(models, eval_samples, line_crop):
    samples = _lines(eval_samples, ("copiste", "poilus"), 10)
    assert len(samples) == 20
    crops = [line_crop(s) for s in samples]
    truths = [s.read_gt() for s in samples]
    hw = _greedy_cer(models, crops, truths, "handwriting")
    pp = _greedy_cer(models, crops, truths, "ppocr")
    assert hw < 0.85 * pp, (hw, pp)  # measured 0.189 vs 0.268
    assert hw < 0.22  # measured 0.189


def test_unseen_collections_no_worse(models, eval_samples, line_crop):
    """Hands of collections never trained on (1890s and 1905 English letters)."""
    samples = _lines(eval_samples, ("stanford", "hooker"), 8)
    crops = [line_crop(s) for s in samples]
    truths = [s.read_gt() for s in samples]
    hw = _greedy_cer(models, crops, truths, "handwriting")
    pp = _greedy_cer(models, crops, truths, "ppocr")
    assert hw <= pp + 0.01, (hw, pp)  # measured 0.420 vs 0.484


def test_swedish_note_in_an_unseen_font(handwriting_font):
    """Nordic letters the real lines never show survive: a rendered note, font not used in training."""
    lines = ["Köp mjölk och bröd", "Ring Åsa på söndag", "Glöm inte nycklarna"]
    img, _ = render_note(lines, handwriting_font("femkeklaver"), size=52, jitter=1.0, noise=0.02, seed=4)
    result = ocr.recognize(np.asarray(img), mode="handwritten", language="sv")
    assert metrics.cer("\n".join(lines), result.text) < 0.10  # measured 0.070 (Åsa read as "sap")
    assert result.text.count("ö") >= 3


def test_accented_lines_in_unseen_fonts_no_worse_than_ppocr(models, handwriting_font):
    """German, Spanish and Swedish letters in fonts never trained on, read line by line."""
    texts = ["Grüße aus München, schön war's", "El niño comió piñas en España", "Fåglar sjöng över ängen",
             "Der Bär läuft über die Straße", "¿Dónde está la estación?", "Smörgås med räkor och ägg"]
    crops, truths = [], []
    for family in ("Rufscript", "femkeklaver"):
        for t in texts:
            crops.append(np.asarray(render_line(t, handwriting_font(family), size=48, pad=8)))
            truths.append(t)
    hw = _greedy_cer(models, crops, truths, "handwriting")
    pp = _greedy_cer(models, crops, truths, "ppocr")
    assert hw <= pp + 0.02, (hw, pp)


def test_chinese_in_handwriting_mode_reads_with_ppocr(models):
    """The handwriting model is Latin-only: other scripts keep PP-OCRv6 in every mode."""
    from pathlib import Path

    font = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    if not font.is_file():
        pytest.skip("apt-get install fonts-wqy-microhei")
    img = np.asarray(render_line("今天天气很好", font, size=48, pad=24))
    page, _seconds = recognize_page(img, RecognitionOptions(mode=RecognitionMode.HANDWRITTEN, language="zh"), models)
    assert metrics.cer("今天天气很好", page.text) < 0.2


def test_profiles_use_it_in_handwriting_only():
    """Handwriting is read by the handwriting model fused with PP-OCRv6 (hands it never saw read no
    worse than PP-OCRv6 did); print by PP-OCRv6 alone."""
    assert PROFILES[RecognitionMode.HANDWRITTEN].recogniser == "fused"
    assert 0.5 <= PROFILES[RecognitionMode.HANDWRITTEN].fusion < 1.0
    assert PROFILES[RecognitionMode.PRINTED].recogniser == "ppocr"


def test_fused_reads_names_better_than_either_model(models, eval_samples):
    """Capital-letter names, a hand neither model trained on: greedy decoding of the two models fused
    beats each of them alone (measured on the first 30 names: see the assertion's comment)."""
    import cv2

    names = [s for s in eval_samples if s.kind == "hw-word"][:30]
    crops = [cv2.cvtColor(cv2.imread(str(s.image_path)), cv2.COLOR_BGR2RGB) for s in names]
    truths = [s.read_gt().upper() for s in names]
    mask = models.class_mask("latin")

    def cer_of(model):
        readings = models.recognize(crops, mask, model=model)
        return float(np.mean([metrics.cer(t, r.text.upper()) for t, r in zip(truths, readings)]))

    fused, hw, pp = cer_of("fused"), cer_of("handwriting"), cer_of("ppocr")
    assert fused <= min(hw, pp) + 0.005, (fused, hw, pp)


def test_unknown_recogniser_is_an_error(models):
    with pytest.raises(ValueError, match="unknown recogniser"):
        models.recognize([np.full((48, 200, 3), 255, np.uint8)], model="nope")


def test_fused_posteriors_are_a_normalised_weighted_geometric_mean():
    from inkread.backends.ppocr.models import fuse_posteriors

    rng = np.random.default_rng(3)
    a = rng.dirichlet(np.ones(5), size=(2, 7)).astype(np.float32)
    b = rng.dirichlet(np.ones(5), size=(2, 7)).astype(np.float32)
    fused = fuse_posteriors(a, b, 0.7)
    assert fused.shape == a.shape and np.allclose(fused.sum(axis=-1), 1.0, atol=1e-5)
    expected = a**0.7 * b**0.3
    assert np.allclose(fused, expected / expected.sum(axis=-1, keepdims=True), atol=1e-5)
    assert np.allclose(fuse_posteriors(a, b, 1.0), a, atol=1e-5)  # all weight on one model: that model
    # a class both models call impossible stays impossible; one model's certainty is tempered by the other's
    a[0, 0] = [0.98, 0.02, 0, 0, 0]
    b[0, 0] = [0.4, 0.6, 0, 0, 0]
    assert fuse_posteriors(a, b, 0.5)[0, 0, 2:].max() < 1e-6
    with pytest.raises(ValueError, match="shapes"):
        fuse_posteriors(a, b[:, :5], 0.5)


def test_fusion_reads_the_shared_trunk_once_with_the_same_result(tmp_path, monkeypatch, eval_samples, line_crop):
    """The handwriting model is PP-OCRv6 with its last stage, neck and head retrained: one graph on
    their shared trunk gives both models' outputs (kept in the cache folder) and the same readings as
    running the two models apart."""
    from inkread.backends.ppocr import trunk
    from inkread.backends.ppocr.models import PaddleModels

    monkeypatch.setenv("INKREAD_CACHE", str(tmp_path))
    crops = [line_crop(s) for s in _lines(eval_samples, ("copiste", "hooker"), 3)]
    one = PaddleModels(threads=1)
    together = one.recognize(crops, model="fused")
    assert one._fused[str(HANDWRITING_MODEL)], "no shared-trunk graph was built"
    assert len(list(tmp_path.glob("fused*.onnx"))) == 1
    # the graph gives the handwriting model's own classes, not 18,710 columns that are all but zero there
    classes = one._fused[str(HANDWRITING_MODEL)][1].classes
    assert classes is not None and 0 in classes and 0 < len(classes) < len(one.charset) / 4
    apart_models = PaddleModels(threads=1)
    apart_models._fused[str(HANDWRITING_MODEL)] = False  # run the two models apart
    apart = apart_models.recognize(crops, model="fused")
    assert [r.text for r in together] == [r.text for r in apart]
    assert np.allclose([r.confidence for r in together], [r.confidence for r in apart], atol=1e-4)
    # a later process finds the graph in the cache, without building it again
    monkeypatch.setattr(trunk, "merged_model", lambda *a: pytest.fail("built again"))
    assert trunk.merged_model_path(one._folder / "PP-OCRv6_rec_small.onnx", HANDWRITING_MODEL) is not None


def test_models_without_a_shared_trunk_are_run_apart(tmp_path, monkeypatch):
    from inkread.backends.ppocr import trunk
    from inkread.backends.ppocr.models import CLS_MODEL, REC_MODEL, model_dir

    monkeypatch.setenv("INKREAD_CACHE", str(tmp_path))
    # the orientation classifier shares no layers with the recogniser
    assert trunk.merged_model_path(model_dir() / REC_MODEL, model_dir() / CLS_MODEL) is None
