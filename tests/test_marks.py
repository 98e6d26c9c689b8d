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
