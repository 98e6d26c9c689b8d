"""AUTO decides once (issue 24; backends/ppocr/automode.py): a quick look at a page's largest lines
decides handwriting or print, and the page is read once, as the explicit mode reads it. Real dev pages,
the real models; the page reader's calls counted."""

from __future__ import annotations

import cv2
import pytest

import inkread as ocr
from inkread.backends.ppocr import page as page_module


@pytest.fixture
def page_reads(monkeypatch) -> list:
    """The mode profile of every reading of a page's lines (``page._read_page``) from here on."""
    profiles = []
    real = page_module._read_page

    def counted(*args, **kwargs):
        profiles.append(args[4])
        return real(*args, **kwargs)

    monkeypatch.setattr(page_module, "_read_page", counted)
    return profiles


def _image(sample):
    return cv2.cvtColor(cv2.imread(str(sample.image_path)), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("sample_id", ["stanford_p001", "copiste_p000"])
def test_auto_reads_a_handwritten_page_once(sample_id, eval_samples, page_reads):
    """A quick look at the page's largest lines decides; the page is read once, as handwriting, and
    reads as HANDWRITTEN reads it."""
    sample = next(s for s in eval_samples if s.id == sample_id)
    explicit = ocr.recognize(_image(sample), mode="handwritten", language=sample.language)
    page_reads.clear()
    auto = ocr.recognize(_image(sample), mode="auto", language=sample.language)
    assert auto.pages[0].mode == "handwritten"
    assert page_reads == [page_module.PROFILES[ocr.RecognitionMode.HANDWRITTEN]]
    assert auto.text == explicit.text


def test_auto_reads_a_printed_page_once(eval_samples, page_reads):
    sample = next(s for s in eval_samples if s.kind == "print-page" and s.set == "fondue-en-print")
    auto = ocr.recognize(_image(sample), mode="auto", language=sample.language)
    assert auto.pages[0].mode == "printed"
    assert page_reads == [page_module.PROFILES[ocr.RecognitionMode.PRINTED]]
