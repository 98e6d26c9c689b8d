"""Accuracy on real images with the real models: a fixed subset of the evaluation set, synthetic
handwriting-font notes, a printed page, and tight word and line crops.

Thresholds are CERs (``inkread.metrics``, whitespace collapsed, ``sroie`` case-folded), each set a
little above what the current code measures (the measured value is in the comment next to it), so a
regression fails and small numeric differences between machines do not. The subset is fixed and
deterministic (manifest order); never tune the code to these samples.
"""

from __future__ import annotations

import csv

import pytest

import inkread as ocr
from inkread import metrics
from inkread.evalset import Sample
from synth import render_line, render_note


def _mode_for(sample: Sample) -> ocr.RecognitionMode:
    return ocr.RecognitionMode.HANDWRITTEN if sample.is_handwritten else ocr.RecognitionMode.PRINTED


def _first_per_set(samples: list[Sample], kind: str, n: int) -> list[Sample]:
    """The first ``n`` samples of ``kind`` of every set, in manifest order."""
    out, counts = [], {}
    for s in samples:
        if s.kind == kind and counts.get(s.set, 0) < n:
            counts[s.set] = counts.get(s.set, 0) + 1
            out.append(s)
    return out


def _first(samples: list[Sample], kind: str, set_name: str, n: int) -> list[Sample]:
    return [s for s in samples if s.kind == kind and s.set == set_name][:n]


@pytest.fixture(scope="module")
def subset(eval_samples) -> dict[str, list[Sample]]:
    groups = {
        "hw-line": _first_per_set(eval_samples, "hw-line", 3),  # copiste, hooker, stanford, poilus
        "print-line": _first_per_set(eval_samples, "print-line", 4),  # uw3, sroie
        "copiste-page": _first(eval_samples, "hw-page", "copiste", 3),
        "hooker-page": _first(eval_samples, "hw-page", "hooker", 1),
        "fondue-page": _first(eval_samples, "print-page", "fondue-en-print", 1),
        "sroie-page": _first(eval_samples, "print-page", "sroie", 1),
    }
    expected = {"hw-line": 12, "print-line": 8, "copiste-page": 3, "hooker-page": 1, "fondue-page": 1,
                "sroie-page": 1}
    assert {k: len(v) for k, v in groups.items()} == expected, "the evaluation set lacks samples of some kind"
    return groups


@pytest.fixture(scope="module")
def read():
    """``read(sample)``: the sample's transcription in the mode matching its kind (cached per module)."""
    cache: dict[str, str] = {}
    engine = ocr.OcrEngine()

    def run(sample: Sample) -> str:
        if sample.id not in cache:
            result = engine.recognize(sample.image_path, mode=_mode_for(sample), language=sample.language)
            cache[sample.id] = result.text
        return cache[sample.id]

    return run


def _mean_cer(samples: list[Sample], read) -> tuple[float, dict[str, float]]:
    per = {s.id: metrics.score(s.read_gt(), read(s), set_name=s.set)["cer"] for s in samples}
    return sum(per.values()) / len(per), per


# ----- the evaluation set ----------------------------------------------------------------------

# kind of the subset -> highest mean CER allowed (measured mean CER of the current code)
EVAL_THRESHOLDS = {
    "hw-line": 0.31,  # measured 0.276 with the handwriting model (copiste 0-0.04, historical cursive 0-1.0); 0.320 with PP-OCRv6
    "print-line": 0.05,  # measured 0.009
}
PAGE_THRESHOLDS = {
    "copiste-page": 0.10,  # measured 0.067 (0.034, 0.098, 0.070) with the handwriting model; 0.140 with PP-OCRv6
    "hooker-page": 0.61,  # measured 0.567 (1890s cursive, a hand never trained on; untranscribed marks count as insertions)
    "fondue-page": 0.04,  # measured 0.001 (0.007 with the code of 4f22a3c)
    "sroie-page": 0.48,  # measured 0.436: the ground truth lists the receipt column by column
}


@pytest.mark.parametrize("kind", list(EVAL_THRESHOLDS))
def test_eval_line_crops(kind, subset, read):
    mean, per = _mean_cer(subset[kind], read)
    assert mean < EVAL_THRESHOLDS[kind], per


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(PAGE_THRESHOLDS))
def test_eval_pages(kind, subset, read):
    mean, per = _mean_cer(subset[kind], read)
    assert mean < PAGE_THRESHOLDS[kind], per


@pytest.mark.slow
@pytest.mark.parametrize("index", range(3))
def test_copiste_page_line_count_and_order(index, subset, read):
    """Each written line of a lined-paper page comes out as one line, in order (measured: 16/16,
    19/19, 18/18 lines, in order)."""
    sample = subset["copiste-page"][index]
    structure = metrics.line_structure(sample.read_gt(), read(sample))
    assert structure["hyp_lines"] == structure["ref_lines"], structure
    assert structure["order_ok"], structure
    assert structure["line_cer"] < 0.3, structure  # measured 0.125, 0.244, 0.187


@pytest.mark.slow
def test_printed_book_page_line_structure(subset, read):
    sample = subset["fondue-page"][0]
    structure = metrics.line_structure(sample.read_gt(), read(sample))
    assert structure["count_match"] and structure["order_ok"], structure  # measured 39/39, in order


# ----- names in capitals (hw-word): a hand never trained on -------------------------------------


# measured 0.014 / 0.081 (bench/bench_fusion.py; the handwriting model alone read 0.095 / 0.790 before
# the capital-word rules, PP-OCRv6 in the same pipeline 0.026 / 0.145)
NAMES_CER, NAMES_WER = 0.025, 0.13


def test_names_in_capitals(eval_samples):
    """Capital-letter names written on forms (the names set, scored upper-cased): read whole, in
    capitals, never split into dictionary words nor turned over (SOLA was read '1105' upside down,
    FERET as 'FE RET', DOMINIQUE as 'DOMiNIQUE'). Every name of the set, as given."""
    names = [s for s in eval_samples if s.kind == "hw-word"]
    assert len(names) >= 60
    engine = ocr.OcrEngine()
    cers, wers, turned = [], [], []
    for s in names:
        result = engine.recognize(s.image_path, mode="handwritten", language=s.language)
        truth = s.read_gt()
        cers.append(metrics.cer(truth, result.text, casefold=True))
        wers.append(metrics.wer(truth, result.text, casefold=True))
        if result.pages[0].rotation:
            turned.append(s.id)
    assert not turned
    assert sum(cers) / len(cers) < NAMES_CER, sum(cers) / len(cers)
    assert sum(wers) / len(wers) < NAMES_WER, sum(wers) / len(wers)


# ----- synthetic notes -------------------------------------------------------------------------

NOTE = [
    "Weekend plans",
    "",
    "Take the train to Lyon on Saturday",
    "and meet Paul near the station.",
    "",
    "Buy a gift for his sister",
    "before the shops close at six.",
]
# font family -> highest CER allowed (measured, in both HANDWRITTEN and AUTO mode, seeds 0-2)
NOTE_THRESHOLDS = {
    "Rufscript": 0.05,  # measured 0.007 (seed 0; 0.007-0.036 over seeds 0-2)
    "Kristi": 0.11,  # measured 0.066 ("r" read as "h"/"n": Satunday, sisten)
    "DkgHandwriting": 0.06,  # measured 0.015 (a stray stroke before two lines)
}


@pytest.fixture(scope="module")
def note_readings(handwriting_font):
    """(family, mode) -> OcrResult of the synthetic note, rendered once per family."""
    cache: dict = {}

    def get(family: str, mode: str):
        if (family, mode) not in cache:
            img, _ = render_note(NOTE, handwriting_font(family), size=40, rotation_deg=1.0, noise=0.02,
                                 jitter=0.5, blur=0.6, seed=0)
            cache[family, mode] = ocr.recognize(img, mode=mode)
        return cache[family, mode]

    return get


@pytest.mark.parametrize("mode", ["handwritten", "auto"])
@pytest.mark.parametrize("family", list(NOTE_THRESHOLDS))
def test_synthetic_note(family, mode, note_readings):
    result = note_readings(family, mode)
    truth = "\n".join(NOTE)
    assert metrics.cer(truth, result.text) < NOTE_THRESHOLDS[family], result.text
    structure = metrics.line_structure(truth, result.text)
    assert structure["count_match"] and structure["order_ok"], (structure, result.text)
    assert result.mode == mode


def test_synthetic_note_paragraphs(note_readings):
    """A heading and two 2-line paragraphs, blank lines between (regression: the median pitch of such
    a short note is the paragraph gap, and no paragraph was found before c6590db)."""
    for mode in ("handwritten", "auto"):
        result = note_readings("Rufscript", mode)
        assert [len(p) for p in result.pages[0].paragraphs] == [1, 2, 2], result.text
        assert result.text.count("\n\n") == 2


def test_printed_synthetic_page(printed_font):
    lines = ["Minutes of the board meeting", "", "The committee approved the budget for 2025",
             "and agreed to review the contract in March.", "", "Next meeting: Thursday 14 May, room 3B."]
    img, _ = render_note(lines, printed_font, size=32, noise=0.01, ink=(0, 0, 0), bg=(255, 255, 255), seed=0)
    result = ocr.recognize(img, mode=ocr.RecognitionMode.PRINTED)
    assert metrics.cer("\n".join(lines), result.text) < 0.02, result.text  # measured 0.0
    assert result.pages[0].mode == "printed"
    assert metrics.line_structure("\n".join(lines), result.text)["count_match"]


@pytest.mark.parametrize("family, size", [("Comic Neue", 28), ("femkeklaver", 40)])
def test_round_first_letters_are_not_checkboxes(family, size, handwriting_font):
    """Regression (fixed in 47802bb): the closed bowl of 'a' / 'o' starting a line was taken for a
    ticked checkbox ('[x] apples and pears', '[x] oranges' with these fonts and sizes)."""
    lines = ["apples and pears", "oranges", "dates", "eggs", "grapes", "quinces", "beans"]
    img, _ = render_note(lines, handwriting_font(family), size=size, margin=20, seed=3)
    text = ocr.recognize(img, mode="handwritten").text
    assert "[" not in text, text
    assert metrics.cer("\n".join(lines), text, casefold=True) < 0.08, text


# ----- tight crops -----------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["Tuesday", "kitchen"])
@pytest.mark.parametrize("family", ["Rufscript", "DkgHandwriting"])
def test_tight_word_crop(family, word, handwriting_font):
    img = render_line(word, handwriting_font(family), size=48, pad=0)  # no margin at all
    text = ocr.recognize(img, mode="handwritten").text
    assert metrics.cer(word, text) <= 1 / len(word), text  # measured exact (CER 0) for all four


@pytest.mark.parametrize("family", ["Rufscript", "DkgHandwriting"])
def test_tight_line_crop(family, handwriting_font):
    line = "Pick up the parcel on Friday"
    img = render_line(line, handwriting_font(family), size=48, pad=0)
    result = ocr.recognize(img, mode="handwritten")
    assert len(result.pages[0].lines) == 1
    assert metrics.cer(line, result.text) < 0.08, result.text  # measured 0.0 for both


def test_committed_line_crops(synth_data_dir):
    """The font-independent line crops in tests/data/synth/lines (10 px padding), in AUTO mode."""
    rows = list(csv.DictReader((synth_data_dir / "lines" / "labels.tsv").open(encoding="utf-8"), delimiter="\t"))
    assert len(rows) >= 6
    engine = ocr.OcrEngine()
    per = {r["file"]: metrics.cer(r["text"], engine.recognize(synth_data_dir / "lines" / r["file"]).text)
           for r in rows}
    assert sum(per.values()) / len(per) < 0.04, per  # measured 0.006 (Kristi: "Dinneh")
    assert max(per.values()) < 0.1, per  # measured 0.038
    # read exactly (measured): the CLI, batch and engine tests asserted these texts before their
    # plumbing moved to the fake recogniser
    assert [per[n] for n in ("rufscript_02.png", "dkg_01.png", "dejavuserif_01.png")] == [0.0, 0.0, 0.0], per
    assert engine.recognize(synth_data_dir / "lines" / "rufscript_01.png", mode="handwritten").text == \
        "Meeting moved to 3pm"


# ----- show-through ----------------------------------------------------------------------------

def test_show_through_from_the_back_of_the_sheet_is_not_read(handwriting_font):
    """Thin paper: the back page's writing shows through, mirrored and faint. HANDWRITTEN mode does
    not read boxes whose ink is far fainter than the page's own writing (it lists them in ``unread``);
    the page's lines still read."""
    import numpy as np
    from PIL import Image, ImageOps

    font = handwriting_font("Rufscript")
    front = ["Dear Anna, thank you", "for the lovely flowers", "we planted them today", "with love, Maud"]
    back = ["Monday morning market", "buy onions and rice", "call the garage again", "pay the rent"]
    img, _ = render_note(front, font, size=40, line_spacing=2.2, margin=40, bg=(245, 240, 228), ink=(20, 20, 60))
    ghost, _ = render_note(back, font, size=40, line_spacing=2.2, margin=40, bg=(245, 240, 228),
                           ink=(205, 200, 190), width=img.width)
    ghost = ImageOps.mirror(ghost).crop((0, 0, img.width, img.height)).resize(img.size)
    # the back's lines fall between the front's (shifted by a third of the line pitch)
    shifted = np.full_like(np.asarray(img), (245, 240, 228))
    g = np.asarray(ghost)
    dy = int(40 * 2.2 / 2)
    shifted[dy:] = g[: g.shape[0] - dy]
    page = np.minimum(np.asarray(img), shifted)
    result = ocr.recognize(Image.fromarray(page), mode="handwritten")
    text = result.text
    assert metrics.line_structure("\n".join(front), text)["count_match"], text
    assert metrics.cer("\n".join(front), text) < 0.12, text
    # not read, but not lost without a word either: the faint lines are reported as unread (issue 23),
    # each between two of the page's lines
    unread = result.pages[0].unread
    assert 2 <= len(unread) <= len(back), unread
    tops = sorted(min(y for _, y in line.bbox) for line in result.pages[0].lines)
    for region in unread:
        middle = sum(y for _, y in region) / len(region)
        assert not any(abs(middle - (t + 20)) < 10 for t in tops), (region, tops)


# ----- the case of a line's first word --------------------------------------------------------

@pytest.mark.parametrize("first_line, expected", [
    ("la ville et sa", "commune de"),  # mid-sentence: the page lowercases the flagged capital
    ("la ville et sa.", "Commune de"),  # after a full stop it starts a sentence
])
def test_a_lines_first_capital_is_decided_by_the_page(first_line, expected, handwriting_font, models, monkeypatch):
    """A capital shaped like its lowercase letter that opens a line (the recogniser's case is a
    guess there, decode.decide_case flags it) is lowercased where the page's text before it does
    not end a sentence. Real detection and layout on a rendered note; the recogniser's readings are
    given, so that only the page's decision is tested."""
    import numpy as np

    from inkread.backends.ppocr import page as reader
    from inkread.backends.ppocr.models import Reading
    from inkread.options import RecognitionMode, RecognitionOptions

    font = handwriting_font("Rufscript")
    img, _ = render_note(["la ville et sa", "Commune de"], font, size=40, margin=40)

    def read(models_, crops, *args, **kwargs):
        assert len(crops) == 2, "the note's two lines, one crop each"
        # crops come in detection order: the wider one is the longer first line
        texts = [first_line, "Commune de"] if crops[0].shape[1] > crops[1].shape[1] else ["Commune de", first_line]
        readings = [Reading(t, 0.9, [(k + 0.5) / len(t) for k in range(len(t))], [0.9] * len(t)) for t in texts]
        readings[texts.index("Commune de")].first_lower = True
        return readings, [False, False]

    monkeypatch.setattr(reader, "read_upright", read)
    page, _seconds = reader.recognize_page(np.asarray(img), RecognitionOptions(mode=RecognitionMode.HANDWRITTEN), models)
    assert page.text.split("\n") == [first_line, expected]
    assert page.lines[1].words[0].text == expected.split()[0]
