"""Lexicon-guided CTC beam search on hand-made probability matrices, and on a real line."""

import numpy as np
import pytest

from inkread.decode import LexiconParams, beam_decode, get_lexicon
from inkread.metrics import cer

CHARSET = ["<blank>", "h", "o", "u", "a", "s", "e", " ", "1", "0", "5", "O", "P", "x", "r", "i", "t"]
IDX = {c: i for i, c in enumerate(CHARSET)}


def _frames(spec):
    """spec: list of {char: prob} per frame (the rest of the mass goes to blank)."""
    probs = np.zeros((len(spec) * 2, len(CHARSET)), dtype=np.float32)
    for t, frame in enumerate(spec):
        for ch, p in frame.items():
            probs[2 * t, IDX[ch]] = p
        probs[2 * t, 0] = max(0.0, 1 - sum(frame.values()))
        probs[2 * t + 1, 0] = 1.0  # a blank between characters
    return probs


def _decode(spec, language="en"):
    probs = _frames(spec)
    classes = np.arange(len(CHARSET))
    text, conf, frames = beam_decode(probs, classes, CHARSET, get_lexicon(language))
    return text, conf, frames


def _greedy(spec):
    return "".join(max(f, key=f.get) for f in spec)


def test_lexicon_turns_a_close_call_into_the_dictionary_word():
    # "hause" is the greedy reading; "house" is nearly as likely and a common English word.
    spec = [{"h": 0.95}, {"a": 0.5, "o": 0.45}, {"u": 0.9}, {"s": 0.9}, {"e": 0.9}]
    assert _greedy(spec) == "hause"
    assert _decode(spec)[0] == "house"


def test_a_confident_reading_is_not_overruled():
    spec = [{"h": 0.95}, {"a": 0.97, "o": 0.02}, {"u": 0.9}, {"s": 0.9}, {"e": 0.9}]
    assert _decode(spec)[0] == "hause"


def test_numbers_and_codes_are_never_corrected():
    # "1O5" could become "105" or a word; digits are scored neutrally, so the reading stays
    spec = [{"1": 0.9}, {"0": 0.6, "O": 0.35}, {"5": 0.9}]
    assert _decode(spec)[0] == "105"
    spec = [{"P": 0.9}, {"x": 0.9}, {"1": 0.9}, {"0": 0.9}]
    assert _decode(spec)[0] == "Px10"


def test_repeated_letters_need_a_blank_between_them():
    probs = np.zeros((6, len(CHARSET)), dtype=np.float32)
    for t, ch in enumerate(["s", "s", "<blank>", "s", "e", "e"]):
        probs[t, IDX[ch]] = 1.0
    text, _, frames = beam_decode(probs, np.arange(len(CHARSET)), CHARSET, get_lexicon("en"))
    assert text == "sse"
    assert frames == [0, 3, 4]


def test_confidence_and_frames_describe_the_path():
    spec = [{"h": 0.9}, {"o": 0.8}, {"u": 0.9}, {"s": 0.9}, {"e": 0.9}]
    text, conf, frames = _decode(spec)
    assert text == "house"
    assert frames == [0, 2, 4, 6, 8]
    assert 0.8 <= conf <= 0.9


def test_languages_without_a_word_list_have_no_lexicon():
    assert get_lexicon("mi") is None  # Maori: no wordfreq list
    assert get_lexicon("fr") is not None and get_lexicon("fr") is get_lexicon("fr")


def test_lexicon_decoding_reads_real_lines_no_worse(eval_samples, models, line_crop):
    """On real handwritten line crops the beam search's CER is no worse than greedy decoding."""
    lines = [s for s in eval_samples if s.kind == "hw-line" and s.set == "copiste"][:8]
    if len(lines) < 8:
        pytest.skip("not enough copiste line crops in the eval set")
    mask = models.class_mask("latin")
    greedy, guided = [], []
    for s in lines:
        crop = line_crop(s)
        truth = s.read_gt()
        greedy.append(cer(truth, models.recognize([crop], mask)[0].text))
        guided.append(cer(truth, models.recognize([crop], mask, lexicon=get_lexicon("fr"))[0].text))
    assert np.mean(guided) <= np.mean(greedy) + 0.005
