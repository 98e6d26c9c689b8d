"""CTC decoding with a word lexicon inside the search, not after it.

A prefix beam search over the recogniser's per-frame probabilities; when a word is completed its
frequency in the language (``wordfreq``, which ships its lists offline) is added to the path's score,
and a word that is no prefix of any known word is penalised while it is being spelled. Numbers, codes
and capitalised words (names) are never pushed towards dictionary words: they are scored neutrally.
"""

from __future__ import annotations

import bisect
import math
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np

__all__ = ["Lexicon", "LexiconParams", "beam_decode", "get_lexicon"]

_WORD_CHARS_EXTRA = "'’-"


@dataclass(frozen=True)
class LexiconParams:
    beam: int = 8
    # Chosen on the dev set's hw-line crops (CER 0.329 greedy -> 0.313; print-line 0.0126 -> 0.0111);
    # wider beams and more candidates per frame gained nothing (bench/RESULTS.md).
    alpha: float = 0.35  # weight of log10 word frequency
    oov: float = -2.5  # log10-like score of an unknown lowercase word (before alpha)
    prefix_penalty: float = 3.0  # natural-log penalty when a partial word leaves the lexicon's prefixes
    min_char_prob: float = 0.02  # characters below this probability in a frame are not expanded
    blank_skip: float = 0.995  # frames where blank is this sure only extend blanks


class Lexicon:
    """Word frequencies and the set of word prefixes of one language."""

    def __init__(self, language: str, size: int = 150_000) -> None:
        from wordfreq import top_n_list, word_frequency

        self.language = language
        words = top_n_list(language, size)
        self._freq = word_frequency
        self.sorted_words = sorted(set(words))  # prefix look-ups by bisection: no set of all prefixes
        self._cache: dict[str, float] = {}
        self._prefix_cache: dict[str, bool] = {}
        # unaccented spelling -> the most frequent word spelled with those letters (accents restored)
        self._accents: dict[str, str] = {}
        for word in words:  # most frequent first
            if word.isalpha():
                self._accents.setdefault(_strip_accents(word), word)

    def word_score(self, token: str) -> float:
        """log10 frequency of a written word; 0 for tokens we must not judge (numbers, names)."""
        core = token.strip(".,;:!?()[]{}\"“”«»…")
        if not core:
            return 0.0
        cached = self._cache.get(core)
        if cached is not None:
            return cached
        if any(c.isdigit() for c in core) or not any(c.isalpha() for c in core):
            score = 0.0
        else:
            parts = [p for p in _split_word(core.lower()) if p]
            freqs = [self._freq(p, self.language) for p in parts]
            if all(f > 0 for f in freqs):
                score = sum(math.log10(f) for f in freqs) / max(1, len(freqs)) + 6.0
            elif core[0].isupper():
                score = 0.0  # probably a name: neither reward nor punish
            else:
                score = LexiconParams.oov
        self._cache[core] = score
        return score

    def is_prefix(self, partial: str) -> bool:
        p = partial.lower()
        piece = _split_word(p)[-1] if p else p
        if not piece or not piece.isalpha():
            return True
        known = self._prefix_cache.get(piece)
        if known is None:
            i = bisect.bisect_left(self.sorted_words, piece)
            known = i < len(self.sorted_words) and self.sorted_words[i].startswith(piece)
            if len(self._prefix_cache) < 200_000:
                self._prefix_cache[piece] = known
        return known


    def accented(self, word: str, ratio: float) -> str | None:
        """The accented spelling of a lowercase ``word`` read without any accent when it is at least
        ``ratio`` times more frequent than ``word`` as written; else None (an accent the recogniser
        did read is kept: Vietnamese ``má`` must not become the commoner ``mà``)."""
        bare = _strip_accents(word)
        if bare != word:
            return None
        best = self._accents.get(bare)
        if best is None or best == word:
            return None
        if self._freq(best, self.language) < ratio * max(self._freq(word, self.language), 1e-9):
            return None
        return best


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _split_word(word: str) -> list[str]:
    out, cur = [], []
    for c in word:
        if c in _WORD_CHARS_EXTRA:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return out


_LEXICONS: dict[str, Lexicon | None] = {}
_LEX_LOCK = threading.Lock()

# inkread language code -> wordfreq language code
_WORDFREQ = {"no": "nb", "sr-latn": "sh", "bs": "sh", "hr": "sh", "tl": "fil", "zh-tw": "zh"}


def get_lexicon(language: str) -> Lexicon | None:
    """The lexicon of a language, built once; None where wordfreq has no list for it."""
    code = _WORDFREQ.get(language, language)
    with _LEX_LOCK:
        if code not in _LEXICONS:
            try:
                from wordfreq import available_languages

                _LEXICONS[code] = Lexicon(code) if code in available_languages("best") and code not in (
                    "zh", "ja", "ko") else None
            except ImportError:
                _LEXICONS[code] = None
        return _LEXICONS[code]


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def beam_decode(probs: np.ndarray, classes: np.ndarray, charset: list[str], lexicon: Lexicon,
                params: LexiconParams = LexiconParams()) -> tuple[str, float, list[int]]:
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

        def get(prefix: str, lm: float, frames: list, cps: list) -> list:
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
                    new_lm += alpha_ln * lexicon.word_score(word)
                elif not lexicon.is_prefix(new.rsplit(" ", 1)[-1]) and lexicon.is_prefix(
                        prefix.rsplit(" ", 1)[-1]):
                    new_lm -= params.prefix_penalty
                e2 = get(new, new_lm, frames + [t], cps + [pc])
                e2[1] = _logsumexp(e2[1], total + lpc)
        ranked = sorted(nxt.items(), key=lambda kv: _logsumexp(kv[1][0], kv[1][1]) + kv[1][2], reverse=True)
        beams = dict(ranked[: params.beam])

    def final(item):
        prefix, (pb, pnb, lm, _f, _c) = item
        word = prefix.rsplit(" ", 1)[-1]
        return _logsumexp(pb, pnb) + lm + alpha_ln * lexicon.word_score(word)

    prefix, (_pb, _pnb, _lm, frames, cps) = max(beams.items(), key=final)
    conf = float(np.mean(cps)) if cps else 0.0
    return prefix, conf, frames
