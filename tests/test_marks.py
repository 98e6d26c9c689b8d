"""Checkboxes and bullets: synthetic notes with drawn boxes, read by the real pipeline."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

import inkread as ocr
from inkread.backends.ppocr.checkboxes import find_checkboxes, normalise_bullet
from synth import render_note, require_handwriting_font


def _draw_box(draw, x, cy, size, ticked):
    draw.rectangle([x, cy - size // 2, x + size, cy + size // 2], outline=(20, 20, 20), width=4)
    if ticked:
        draw.line([x + 6, cy, x + size // 2, cy + size // 2 - 6, x + size - 4, cy - size // 2 + 4],
                  fill=(20, 20, 20), width=5)


@pytest.fixture(scope="module")
def checklist_image():
    font = require_handwriting_font(0)
    img, boxes = render_note(["Packing list", "    passport", "    charger", "    tickets"], font, size=48, seed=1)
    draw = ImageDraw.Draw(img)
    for k, (x0, y0, x1, y1) in enumerate(boxes[1:]):
        size = int((y1 - y0) * 0.6)
        _draw_box(draw, max(10, x0 - size - 30), (y0 + y1) // 2, size, ticked=(k == 1))
    return img


def test_checkboxes_become_markers(checklist_image):
    lines = ocr.recognize(checklist_image, mode="handwritten").text.splitlines()
    assert lines[0].lower().startswith("packing")
    assert [l[:3] for l in lines[1:]] == ["[ ]", "[x]", "[ ]"]
    assert "passport" in lines[1] and "charger" in lines[2] and "tickets" in lines[3]


def test_find_checkboxes_ignores_text_and_blobs():
    img = Image.new("RGB", (400, 120), "white")
    draw = ImageDraw.Draw(img)
    draw.ellipse([20, 40, 50, 70], fill="black")  # a filled bullet
    draw.rectangle([100, 40, 130, 70], fill="black")  # a solid square
    draw.rectangle([200, 40, 230, 70], outline="black", width=3)  # an empty box
    found = find_checkboxes(np.asarray(img), line_height=40)
    assert len(found) == 1
    assert found[0].box[0] == pytest.approx(200, abs=3) and not found[0].checked


@pytest.mark.parametrize("raw,expected", [
    ("· milk", "• milk"), ("●eggs", "• eggs"), ("- bread", "- bread"), ("1. one", "1. one"), ("·", "·"),
])
def test_normalise_bullet(raw, expected):
    assert normalise_bullet(raw) == expected


def test_checkboxes_found_band_by_band_are_the_whole_pages():
    """A tall form searched in bands (a 34-megapixel receipt's whole-page contours took 100-150 MB)
    gives the boxes a whole-page search gives, those across a band's edge included, each once."""
    img = Image.new("RGB", (700, 3100), "white")
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(5)
    tops = [30, 500, 1000, 1010, 1020, 1500, 2040, 2048, 2600, 3050]  # across the edges at 1024 and 2048
    for k, top in enumerate(tops):
        x = 40 + 150 * (k % 4)
        draw.rectangle([x, top, x + 32, top + 32], outline=(20, 20, 20), width=3)
        if k % 3 == 0:
            draw.line([x + 6, top + 16, x + 14, top + 26, x + 28, top + 6], fill=(20, 20, 20), width=4)
    noisy = np.asarray(img).astype(np.int16) + rng.integers(-12, 12, (3100, 700, 1))
    page = np.clip(noisy, 0, 255).astype(np.uint8)
    banded = find_checkboxes(page, line_height=40)
    whole = find_checkboxes(page, line_height=40, band=10**6)
    assert sorted((b.box, b.checked) for b in banded) == sorted((b.box, b.checked) for b in whole)
    assert len(banded) == len(tops)
    assert sorted(round(b.box[1]) for b in banded) == pytest.approx(tops, abs=3)
    assert [b.checked for b in sorted(banded, key=lambda b: b.box[1])] == [k % 3 == 0 for k in range(len(tops))]
