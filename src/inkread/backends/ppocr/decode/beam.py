"""The prefix beam search with the lexicon inside it (:func:`beam_decode`)."""

from __future__ import annotations

import math

import numpy as np

from .lexicon import Lexicon, LexiconParams, _in_capitals


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def beam_decode(
    probs: np.ndarray,
    classes: np.ndarray,
    charset: list[str],
    lexicon: Lexicon,
    params: LexiconParams = LexiconParams(),
) -> tuple[str, float, list[int]]:
    """Decode ``probs`` (T x K probabilities over the class ids ``classes``; column 0 is blank).

    Returns the text, its mean per-character probability along the best path, and the frame of
    each emitted character.
    """
    ln = math.log
    alpha_ln = params.alpha * math.log(10)  # convert log10 scores into natural-log weight
    # beam entry: prefix -> [log p ending in blank, log p ending in non-blank, lm score, frames, probs]
    beams: dict[str, list] = {"": [0.0, -math.inf, 0.0, [], []]}
    blank_col = int(np.flatnonzero(classes == 0)[0])
    for t in range(probs.shape[0]):
        row = probs[t]
        p_blank = float(row[blank_col])
        if p_blank >= params.blank_skip:
            for entry in beams.values():
                total = _logsumexp(entry[0], entry[1])
                entry[0], entry[1] = total + ln(max(p_blank, 1e-12)), -math.inf
            continue
        cand = np.flatnonzero(row >= params.min_char_prob)
        nxt: dict[str, list] = {}

        def get(prefix: str, lm: float, frames: list, cps: list, nxt: dict[str, list] = nxt) -> list:
            e = nxt.get(prefix)
            if e is None:
                e = [-math.inf, -math.inf, lm, frames, cps]
                nxt[prefix] = e
            return e

        for prefix, (pb, pnb, lm, frames, cps) in beams.items():
            total = _logsumexp(pb, pnb)
            # stay: blank
            e = get(prefix, lm, frames, cps)
            e[0] = _logsumexp(e[0], total + ln(max(p_blank, 1e-12)))
            last = prefix[-1] if prefix else None
            for c in cand:
                if c == blank_col:
                    continue
                ch = charset[int(classes[c])]
                pc = float(row[c])
                if ch == " " and pc < params.min_space_prob:
                    continue  # too little evidence of a gap for the words it would make to decide
                lpc = ln(max(pc, 1e-12))
                if ch == last:
                    # repeat without blank collapses into the same prefix
                    e = get(prefix, lm, frames, cps)
                    e[1] = _logsumexp(e[1], pnb + lpc)
                    # a real repeat needs a blank in between
                    new = prefix + ch
                    e2 = get(new, lm, frames + [t], cps + [pc])
                    e2[1] = _logsumexp(e2[1], pb + lpc)
                    continue
                new = prefix + ch
                new_lm = lm
                if ch == " ":
                    word = prefix.rsplit(" ", 1)[-1]
                    new_lm += alpha_ln * lexicon.word_score(word, params.oov, params.caps_neutral)
                elif (
                    not lexicon.is_prefix(partial := new.rsplit(" ", 1)[-1])
                    and lexicon.is_prefix(prefix.rsplit(" ", 1)[-1])
                    and not (params.caps_neutral and _in_capitals(partial))
                ):
                    new_lm -= params.prefix_penalty
                e2 = get(new, new_lm, frames + [t], cps + [pc])
                e2[1] = _logsumexp(e2[1], total + lpc)
        ranked = sorted(nxt.items(), key=lambda kv: _logsumexp(kv[1][0], kv[1][1]) + kv[1][2], reverse=True)
        beams = dict(ranked[: params.beam])

    def final(item):
        prefix, (pb, pnb, lm, _f, _c) = item
        word = prefix.rsplit(" ", 1)[-1]
        return _logsumexp(pb, pnb) + lm + alpha_ln * lexicon.word_score(word, params.oov, params.caps_neutral)

    prefix, (_pb, _pnb, _lm, frames, cps) = max(beams.items(), key=final)
    conf = float(np.mean(cps)) if cps else 0.0
    return prefix, conf, frames
