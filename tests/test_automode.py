"""AUTO decides once (issue 24; backends/ppocr/automode.py): a quick look at a page's largest lines
decides handwriting or print, and the page is read once, as the explicit mode reads it. Real dev pages,
the real models; the page reader's calls counted."""

from __future__ import annotations

import cv2
import pytest

import inkread as ocr


@pytest.mark.parametrize("sample_id", ["stanford_p001", "copiste_p000"])
def test_auto_reads_a_handwritten_page_once(sample_id, eval_samples, monkeypatch):
    """A quick look at the page's largest lines decides; the page is read once, as handwriting, and
    reads as HANDWRITTEN reads it."""
    from inkread.backends.ppocr import page as page_module

    sample = next(s for s in eval_samples if s.id == sample_id)
    image = cv2.cvtColor(cv2.imread(str(sample.image_path)), cv2.COLOR_BGR2RGB)
    decided = "handwritten"
    explicit = ocr.recognize(image, mode=decided, language=sample.language)
    calls = []
    real = page_module._read_page

    def counted(*args, **kwargs):
        calls.append(args[4])  # the profile
        return real(*args, **kwargs)

    monkeypatch.setattr(page_module, "_read_page", counted)
    auto = ocr.recognize(image, mode="auto", language=sample.language)
    assert auto.pages[0].mode == decided
    assert calls == [page_module.PROFILES[ocr.RecognitionMode(decided)]]
    assert auto.text == explicit.text


def test_auto_reads_a_printed_page_once(eval_samples, monkeypatch):
    from inkread.backends.ppocr import page as page_module

    sample = next(s for s in eval_samples if s.kind == "print-page" and s.set == "fondue-en-print")
    image = cv2.cvtColor(cv2.imread(str(sample.image_path)), cv2.COLOR_BGR2RGB)
    calls = []
    real = page_module._read_page
    monkeypatch.setattr(page_module, "_read_page", lambda *a, **k: calls.append(a[4]) or real(*a, **k))
    auto = ocr.recognize(image, mode="auto", language=sample.language)
    assert auto.pages[0].mode == "printed"
    assert calls == [page_module.PROFILES[ocr.RecognitionMode.PRINTED]]
