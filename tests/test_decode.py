"""Lexicon-guided CTC beam search on hand-made probability matrices, and on a real line."""

import numpy as np
import pytest

from inkread.backends.ppocr.decode import LexiconParams, beam_decode, get_lexicon
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


# ----- word rescoring ------------------------------------------------------------------------------

import itertools  # noqa: E402
import math  # noqa: E402

from inkread.backends.ppocr.decode import ctc_align, ctc_log_likelihood, rescore_words  # noqa: E402

LETTERS = ["<blank>"] + list("abcdefghijklmnopqrstuvwxyz") + ["S", "J", "Z", " "]


def _matrix(frames, letters=LETTERS):
    """frames: list of {char: prob}; the rest of each frame's mass goes to blank, a little to every
    letter (a real recogniser never gives exactly zero)."""
    probs = np.full((len(frames), len(letters)), 1e-4, dtype=np.float64)
    for t, frame in enumerate(frames):
        for ch, p in frame.items():
            probs[t, letters.index(ch)] = p
        probs[t, 0] = max(1e-4, 1 - probs[t, 1:].sum())
    return probs / probs.sum(axis=1, keepdims=True)


def _read(frames_spec, language="en"):
    """Beam search, then rescoring, as the recogniser runs them."""
    probs = _matrix(frames_spec)
    classes = np.arange(len(LETTERS))
    lexicon = get_lexicon(language)
    text, _conf, frames = beam_decode(probs, classes, LETTERS, lexicon)
    return text, rescore_words(probs, classes, LETTERS, lexicon, text, frames)


def test_ctc_likelihood_sums_every_alignment():
    rng = np.random.default_rng(0)
    probs = rng.random((6, 4))
    probs /= probs.sum(axis=1, keepdims=True)

    def brute(seq):
        total = 0.0
        for path in itertools.product(range(4), repeat=6):
            out, prev = [], None
            for k in path:
                if k != 0 and k != prev:
                    out.append(k)
                prev = k
            if out == seq:
                total += math.prod(probs[t, k] for t, k in enumerate(path))
        return math.log(total) if total else -math.inf

    seqs = [[1], [1, 2], [1, 1], [2, 3, 1], [3, 3, 3], [1, 2, 3, 1], [], [1, 1, 1, 1]]
    got = ctc_log_likelihood(np.log(probs), seqs, 0)
    for seq, value in zip(seqs, got):
        assert value == pytest.approx(brute(seq), abs=1e-9) if math.isfinite(brute(seq)) else value == -math.inf
    # the Viterbi alignment puts each label on a frame, in order
    frames = ctc_align(np.log(probs), [1, 2], 0)
    assert frames == sorted(frames) and len(set(frames)) == 2


def test_rescoring_restores_a_letter_the_search_never_expanded():
    # a faint "p" the recogniser gives 1.5% on one frame, below what the beam search expands: it
    # reads the unknown "develoment"; the rescoring finds "development" one edit away and the
    # frames support it well enough for the word's frequency to decide
    spec = [{c: 0.9} for c in "develo"] + [{"p": 0.015}] + [{c: 0.9} for c in "ment"]
    beam, (text, frames) = _read(spec)
    assert beam == "develoment"
    assert text == "development"
    assert frames == sorted(frames) and len(frames) == len(text) and frames[6] == 6


def test_rescoring_joins_a_word_split_by_a_gap():
    spec = [{"w": 0.9}, {"i": 0.9}, {"n": 0.9}, {" ": 0.6}, {"d": 0.5, "o": 0.3}, {"o": 0.9}, {"w": 0.4, "u": 0.5},
            {"s": 0.9}]
    beam, (text, _frames) = _read(spec)
    assert " " in beam
    assert text == "windows"


def test_rescoring_leaves_confident_and_capitalised_words_alone():
    # an unknown word read with confidence stays (a name, a code)
    spec = [{"Z": 0.99}, {"u": 0.99}, {"r": 0.99}, {"o": 0.99}, {"v": 0.99}, {"e": 0.99}, {"c": 0.99}]
    assert _read(spec)[1][0] == "Zurovec"
    # a known capitalised word is never replaced by a commoner one ("San" Francisco is not "Son")
    spec = [{"S": 0.95}, {"a": 0.6, "o": 0.35}, {"n": 0.95}]
    assert _read(spec) == ("San", ("San", [0, 1, 2]))
    # nor is a word read below the confidence floor (illegible: any dictionary word is a guess)
    spec = [{"h": 0.3}, {"a": 0.3}, {"u": 0.3}, {"s": 0.3}, {"e": 0.3}]
    assert _read(spec)[1][0] == _read(spec)[0]


def test_word_rescoring_reads_real_lines_better(eval_samples, models, line_crop, monkeypatch):
    """On real handwritten line crops, rescoring the searched words lowers the word error rate and
    does not raise the character error rate."""
    from inkread.backends.ppocr import decode
    from inkread.metrics import wer

    lines = [s for s in eval_samples if s.kind == "hw-line" and s.set == "copiste"][:12]
    if len(lines) < 12:
        pytest.skip("not enough copiste line crops in the eval set")
    mask = models.class_mask("latin")
    crops = [line_crop(s) for s in lines]
    truths = [s.read_gt() for s in lines]

    def scores():
        texts = [r.text for r in models.recognize(crops, mask, lexicon=get_lexicon("fr"))]
        return np.mean([cer(t, x) for t, x in zip(truths, texts)]), np.mean([wer(t, x) for t, x in zip(truths, texts)])

    with_cer, with_wer = scores()
    monkeypatch.setattr(decode, "rescore_words", lambda *a, **k: (a[4], a[5]))
    without_cer, without_wer = scores()
    # measured: WER 0.543 -> 0.429, CER 0.124 -> 0.106 on these 12 crops
    assert with_wer < without_wer, (with_wer, without_wer)
    assert with_cer <= without_cer + 0.002, (with_cer, without_cer)


def test_an_unknown_word_read_surely_still_yields_to_a_close_dictionary_word():
    # "houxe": the recogniser is sure of the x (the s it gives one in a million), yet no dictionary
    # knows "houxe": scored as a word of frequency 1e-12 it yields to "house"; scored as the
    # search's unknown word (-2.5) it would stand
    # (an s costs two frames' worth of 1e-4, about 18 nats: more than the -2.5 score's gap to
    # "house", less than the 1e-12 word's)
    spec = [{c: 0.95} for c in "hou"] + [{"x": 0.99}, {"x": 0.99}, {"e": 0.95}]
    beam, (text, _frames) = _read(spec)
    assert beam == "houxe"
    assert text == "house"
    probs, classes = _matrix(spec), np.arange(len(LETTERS))
    lenient = LexiconParams(rescore_oov=LexiconParams.oov)
    assert rescore_words(probs, classes, LETTERS, get_lexicon("en"), beam, [0, 1, 2, 3, 5], lenient)[0] == "houxe"


CASED = ["<blank>"] + list("abcdefghijklmnopqrstuvwxyz") + list("CPS") + [" ", "."]


def _cased(text, first_letter_probs):
    """Two frames per character of ``text``, the character's and a blank; the character at each
    index of ``first_letter_probs`` gets the given {char: prob}, every other one 0.95."""
    spec = [frame for k, ch in enumerate(text) for frame in (first_letter_probs.get(k, {ch: 0.95}), {})]
    return _matrix(spec, CASED), np.arange(len(CASED)), [2 * k for k in range(len(text))]


def test_capitals_shaped_like_their_lowercase_letter_are_lowercased_mid_sentence():
    from inkread.backends.ppocr.decode import decide_case

    fr = get_lexicon("fr")
    # "une Commune": the recogniser hesitated between C and c, and "commune" is a common word
    probs, classes, frames = _cased("une Commune", {4: {"C": 0.55, "c": 0.4}})
    assert decide_case(probs, classes, CASED, fr, "une Commune", frames) == ("une commune", False)
    # a surely read capital stays, even where the lowercase word exists ("Paris", "paris")
    probs, classes, frames = _cased("par Paris", {4: {"P": 0.999, "p": 5e-4}})
    assert decide_case(probs, classes, CASED, fr, "par Paris", frames) == ("par Paris", False)
    # after a full stop the capital starts a sentence
    probs, classes, frames = _cased("fin. Commune", {5: {"C": 0.55, "c": 0.4}})
    assert decide_case(probs, classes, CASED, fr, "fin. Commune", frames)[0] == "fin. Commune"
    # a line's first word is left to its page, which knows whether a sentence ends before it
    probs, classes, frames = _cased("Commune de", {0: {"C": 0.55, "c": 0.4}})
    assert decide_case(probs, classes, CASED, fr, "Commune de", frames) == ("Commune de", True)
    # switched off
    probs, classes, frames = _cased("une Commune", {4: {"C": 0.55, "c": 0.4}})
    off = LexiconParams(case_margin=None)
    assert decide_case(probs, classes, CASED, fr, "une Commune", frames, off) == ("une Commune", False)


def test_an_unknown_capitalised_word_is_a_rare_name_or_a_misreading():
    # "Endians": the I got 1.7% (the search never expanded it); no dictionary knows "Endians", and as
    # a name it scores below an average word (1e-7), so "Indians" wins by a nat or two; scored as
    # neutral (0, the search's value for names) it would stand
    spec = [{"E": 0.9, "I": 0.017}] + [{c: 0.95} for c in "ndians"]
    alphabet = ["<blank>"] + list("abcdefghijklmnopqrstuvwxyz") + ["E", "I", " "]
    probs = _matrix(spec, alphabet)
    classes, lexicon = np.arange(len(alphabet)), get_lexicon("en")
    beam, _conf, frames = beam_decode(probs, classes, alphabet, lexicon)
    assert beam == "Endians"
    assert rescore_words(probs, classes, alphabet, lexicon, beam, frames)[0] == "Indians"
    neutral = LexiconParams(rescore_name=0.0)
    assert rescore_words(probs, classes, alphabet, lexicon, beam, frames, neutral)[0] == "Endians"


def test_words_in_capitals_are_not_split_into_dictionary_words():
    """A name in capitals (LOGAN) with a faint gap the recogniser half reads as a space: rewarding
    known words split it into 'LOG AN'; with caps_neutral words in capitals score as names do."""
    charset = ["<blank>", "L", "O", "G", "A", "N", " "]
    spec = [{"L": 0.95}, {"O": 0.95}, {"G": 0.95}, {" ": 0.4}, {"A": 0.95}, {"N": 0.95}]
    probs = np.zeros((len(spec) * 2, len(charset)), dtype=np.float32)
    for t, frame in enumerate(spec):
        for ch, p in frame.items():
            probs[2 * t, charset.index(ch)] = p
        probs[2 * t, 0] = 1 - sum(frame.values())
        probs[2 * t + 1, 0] = 1.0
    classes = np.arange(len(charset))
    lexicon = get_lexicon("fr")
    split = beam_decode(probs, classes, charset, lexicon, LexiconParams(caps_neutral=False))[0]
    whole = beam_decode(probs, classes, charset, lexicon, LexiconParams(caps_neutral=True))[0]
    assert (split, whole) == ("LOG AN", "LOGAN")
    # lowercase words still get the dictionary's say
    assert lexicon.word_score("log", caps_neutral=True) > 0 == lexicon.word_score("LOG", caps_neutral=True)
