"""The result tree: text with line breaks and paragraphs, confidences, dict/JSON round trips."""

from __future__ import annotations

import json

import pytest

from inkread.result import Line, OcrResult, Page, Word


def _line(text, paragraph=0, conf=0.9, y=0.0):
    words, x = [], 0.0
    for w in text.split():
        words.append(Word(w, [(x, y), (x + 10 * len(w), y), (x + 10 * len(w), y + 20), (x, y + 20)], conf))
        x += 10 * len(w) + 10
    return Line(text=text, bbox=[(0.0, y), (x, y), (x, y + 20), (0.0, y + 20)], confidence=conf,
                words=words, paragraph=paragraph)


def _page(index=0):
    return Page(index=index, width=800, height=600, mode="handwritten", angle=1.25, lines=[
        _line("Saturday errands", 0, 0.8, 10),
        _line("Call the plumber", 1, 0.9, 60),
        _line("before noon.", 1, 0.5, 90),
        _line("- milk", 2, 1.0, 140),
    ])


def test_page_text_keeps_lines_and_puts_blank_lines_between_paragraphs():
    page = _page()
    assert page.text == "Saturday errands\n\nCall the plumber\nbefore noon.\n\n- milk"
    assert [[l.text for l in p] for p in page.paragraphs] == [
        ["Saturday errands"], ["Call the plumber", "before noon."], ["- milk"]]


def test_paragraphs_follow_paragraph_numbers():
    page = Page(0, 10, 10, lines=[_line("b", 1), _line("a", 0), _line("c", 1)])
    assert [[l.text for l in p] for p in page.paragraphs] == [["a"], ["b", "c"]]


def test_result_text_of_several_pages_uses_form_feeds():
    result = OcrResult(pages=[_page(0), _page(1)], language="en", mode="handwritten")
    assert result.text == _page().text + "\n\f\n" + _page().text
    assert str(result) == result.text
    assert len(result.lines) == 8
    single = OcrResult(pages=[_page()], language="en", mode="auto")
    assert single.text == _page().text and "\f" not in single.text
    assert OcrResult(pages=[], language="en", mode="auto").text == ""


def test_confidence_is_weighted_by_characters():
    page = _page()
    chars = [len(l.text) for l in page.lines]
    expected = sum(c * l.confidence for c, l in zip(chars, page.lines)) / sum(chars)
    assert page.confidence == pytest.approx(expected)
    result = OcrResult(pages=[page, Page(1, 5, 5)], language="en", mode="auto")
    assert result.confidence == pytest.approx(expected)
    assert Page(0, 5, 5).confidence == 0.0
    assert OcrResult(pages=[], language="en", mode="auto").confidence == 0.0


def test_to_dict_round_trip():
    result = OcrResult(pages=[_page(0), _page(3)], language="fr", mode="handwritten", source="note.jpg",
                       timings={"detect": 0.123456, "total": 1.5})
    d = result.to_dict()
    assert d["text"] == result.text and d["language"] == "fr" and d["source"] == "note.jpg"
    assert d["pages"][1]["index"] == 3 and d["pages"][0]["angle"] == 1.25
    assert d["pages"][0]["lines"][1]["paragraph"] == 1
    assert d["pages"][0]["lines"][0]["words"][0]["text"] == "Saturday"
    back = OcrResult.from_dict(d)
    assert back.to_dict() == d
    assert back.text == result.text
    assert [p.index for p in back.pages] == [0, 3]
    assert back.pages[0].lines[2].words[1].bbox == result.pages[0].lines[2].words[1].bbox
    via_json = OcrResult.from_dict(json.loads(result.to_json()))
    assert via_json.to_dict() == d


def test_to_json_keeps_non_ascii_and_rounds():
    line = Line("Crème brûlée à 5 €", [(0.123, 0.456), (10.06, 0), (10, 5), (0, 5)], 0.876543)
    result = OcrResult(pages=[Page(0, 20, 20, lines=[line])], language="fr", mode="printed")
    text = result.to_json()
    assert "Crème brûlée à 5 €" in text
    d = json.loads(text)
    assert d["pages"][0]["lines"][0]["bbox"][0] == [0.1, 0.5]
    assert d["pages"][0]["lines"][0]["confidence"] == 0.8765
    assert json.loads(result.to_json(indent=None)) == d
    assert "\n" not in result.to_json(indent=None)


def test_repr_is_short():
    """repr(result) printed every polygon (issue 26): one short line per object now."""
    from inkread.result import Line, OcrResult, Page, Word

    words = [Word(f"word{k}", [(k, 0), (k + 1, 0), (k + 1, 1), (k, 1)], 0.9) for k in range(200)]
    line = Line(" ".join(w.text for w in words), [(0, 0), (200, 0), (200, 1), (0, 1)], 0.9, words)
    result = OcrResult([Page(0, 300, 40, [line] * 50, rotation=90)], "en", "printed", source="scan.png")
    text = repr(result)
    assert len(text) < 250 and "\n" not in text and "(" in text and "bbox" not in text
    assert "source='scan.png'" in text and "pages=1" in text and "lines=50" in text and "word0 word1" in text
    assert "rotation=90" in repr(result.pages[0]) and len(repr(result.pages[0])) < 200
    assert repr(line).startswith("Line('word0 word1") and len(repr(line)) < 120
    assert repr(words[0]) == "Word('word0', confidence=0.90)"
