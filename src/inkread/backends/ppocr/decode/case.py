"""Capitals shaped like their lowercase letter (``C``, ``S``, ``M`` ...) lowercased mid-sentence where the
recogniser's likelihood allows it."""

from __future__ import annotations

import numpy as np

from .lexicon import _PUNCT, Lexicon, LexiconParams
from .rescore import _Rescorer, _tokens, ctc_log_likelihood

# Capitals written as their lowercase letter, only larger: the recogniser's case is a guess on size.
_CASE_AMBIGUOUS = frozenset("CKMOPSUVWXZ")
_SENTENCE_END = ".!?:…"


def ends_sentence(token: str) -> bool:
    """Whether a word ends a sentence (or opens a list or quotation after a colon)."""
    core = token.rstrip("»\"”)’'")
    return not core or core[-1] in _SENTENCE_END


def decide_case(
    probs: np.ndarray,
    classes: np.ndarray,
    charset: list[str],
    lexicon: Lexicon,
    text: str,
    frames: list[int],
    params: LexiconParams = LexiconParams(),
) -> tuple[str, bool]:
    """Lowercase the capitalised words of a handwritten line whose capital has the lowercase letter's
    shape (``C``, ``S``, ``M``, ``P``, ...) where they stand mid-sentence and the recogniser's own
    probabilities give the lowercase spelling almost as much likelihood as the capital's, less
    the more common the lowercase word (``une Commune`` -> ``une commune``; ``de Participation``);
    names keep their capital (``par Chris``, ``à Cachan``: the capital is read surely, or the word
    is rare lowercase). Returns the text (same length) and whether its first word is such a word:
    the line alone cannot say whether it starts a sentence, its page can."""
    if params.case_margin is None or not text:
        return text, False
    r = _Rescorer(probs, classes, charset, lexicon, params)
    out = list(text)
    first_lower = False
    spans = _tokens(text)
    for i, (start, end) in enumerate(spans):
        token = text[start:end]
        lead = len(token) - len(token.lstrip(_PUNCT))
        core = token[lead:].rstrip(_PUNCT)
        if len(core) < 2 or core[0] not in _CASE_AMBIGUOUS or not core[1:].islower() or not core.isalpha():
            continue
        lower = core.lower()
        if not lexicon.known(lower) or lower[0] not in r.column:
            continue
        t0, t1 = r.window(frames, start, end)
        if t1 <= t0:
            continue
        ll = ctc_log_likelihood(r.logp[t0:t1], [[r.column[c] for c in core], [r.column[c] for c in lower]], r.blank)
        if not np.isfinite(ll[1]) or ll[0] - ll[1] > params.case_margin + lexicon.word_score(lower, params.oov):
            continue
        if i == 0:
            first_lower = True
        elif not ends_sentence(text[spans[i - 1][0] : spans[i - 1][1]]):
            out[start + lead] = lower[0]
    return "".join(out), first_lower
