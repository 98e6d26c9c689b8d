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
_PUNCT = ".,;:!?()[]{}\"“”«»…"  # stripped off a word's ends before it is judged
# A known word scores log10(frequency) + WORD_OFFSET: positive for words commoner than one in a
# million, which the search rewards over leaving a gap unread. Two words read where one was written
# carry the offset twice: a merge is judged on their joint frequency (one offset taken off).
WORD_OFFSET = 6.0


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
    # Word rescoring after the search (rescore_words): for a word read with mean character
    # probability >= rescore_min_conf, the dictionary words within one edit of it (up to three
    # letters), two (up to seven) or rescore_edits (beyond; 3 rather than 2: page CER 0.236 ->
    # 0.235), among the rescore_vocab commonest, scored by the recogniser's CTC likelihood
    # over the word's frames plus rescore_alpha x the word score. alpha 1.0 makes the score the
    # log-posterior: ln P(frames | word) + ln P(word) (+ a constant). Chosen on the dev set (hw-line
    # / hw-page, bench/RESULTS.md): alpha 0.7 / 0.85 / 1.0 / 1.25 / 1.5 -> page CER 0.2301 / 0.2303 /
    # 0.2296 / 0.2304 / 0.2337, WER 0.543 / 0.533 / 0.529 / 0.524 / 0.529 (line CER 0.287 at 0.7
    # and 1.0); the confidence floor 0.6 / 0.7 / 0.8 at alpha 1.0 -> page CER 0.234 / 0.230 / 0.230,
    # WER 0.530 / 0.529 / 0.548: it keeps the rescoring off illegible words (historical cursive),
    # where any dictionary word is a guess.
    rescore_edits: int = 3  # 0 switches the rescoring off
    rescore_alpha: float = 1.0
    rescore_min_conf: float = 0.7
    # candidates per word, closest first (ties: shorter, then commoner): 30 / 100 / 300 -> page CER
    # 0.235 / 0.232 / 0.232; the 150,000 commonest words instead of 50,000: 0.235, 30% slower
    rescore_limit: int = 100
    rescore_vocab: int = 50_000
    rescore_elided: bool = True  # the word after an elision is scored too (l'hitee -> l'hôtel)
    rescore_merge: bool = True  # also two adjacent words read as one dictionary word ("Win dous")
    # An unknown lowercase word as read, against its dictionary neighbours, scores as a word of
    # frequency 1e-12 (the search's oov, -2.5, only keeps it from being left unread): a string no
    # dictionary knows is far less likely written than misread. -2.5 / -4.5 / -6 / -8 -> page CER
    # 0.2296 / 0.2278 / 0.2272 / 0.2273, WER 0.529 / 0.524 / 0.523 / 0.523 (dev set).
    rescore_oov: float = -6.0
    # A capitalised word no dictionary knows (a rare name, or a misread word: "Franeisco",
    # "Endians") scores as frequency 1e-7, a little below the search's neutral 0 (1e-6). Words in
    # capitals throughout (acronyms) stay neutral. 0 / -1 / -2.5 -> page CER 0.2272 / 0.2256 /
    # 0.2250, WER 0.523 / 0.519 / 0.517; -2.5 starts replacing names read right (Tiefer -> Tirer).
    rescore_name: float = -1.0
    # Case of a capital whose handwritten shape is its lowercase letter's, larger (decide_case): a
    # word mid-sentence is lowercased where the recogniser's likelihood of the lowercase spelling is
    # within case_margin + the lowercase word's score (log10 frequency + WORD_OFFSET) of the
    # capital's. None switches it off.
    case_margin: float | None = 0.5


class Lexicon:
    """Word frequencies and the set of word prefixes of one language."""

    def __init__(self, language: str, size: int = 150_000) -> None:
        from wordfreq import top_n_list, word_frequency

        self.language = language
        words = top_n_list(language, size)
        self._freq = word_frequency
        self.words = words  # most frequent first
        self._by_length: dict[int, list[str]] | None = None
        self._pools: dict[tuple[int, int], list[str]] = {}
        self._vocab = 0
        self._near_cache: dict[tuple, list[str]] = {}
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
        core = token.strip(_PUNCT)
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
                score = sum(math.log10(f) for f in freqs) / max(1, len(freqs)) + WORD_OFFSET
            elif core[0].isupper():
                score = 0.0  # probably a name: neither reward nor punish
            else:
                score = LexiconParams.oov
        if len(self._cache) > 200_000:  # a long-running service reads many words: bounded, like the others
            self._cache.clear()
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

    def frequency(self, word: str) -> float:
        """The word's frequency in the language (0 when unknown)."""
        return self._freq(word, self.language)

    def known(self, word: str) -> bool:
        return self.frequency(word) > 0

    def near(self, word: str, max_edits: int, limit: int, vocab: int = 150_000) -> list[str]:
        """Up to ``limit`` of the ``vocab`` commonest words within ``max_edits`` edits of ``word``,
        closest first."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        cache_key = (word, max_edits, limit, vocab)
        hit = self._near_cache.get(cache_key)
        if hit is not None:
            return hit
        if self._by_length is None or self._vocab != vocab:
            by: dict[int, list[str]] = {}
            for w in self.words[:vocab]:
                if w.isalpha():
                    by.setdefault(len(w), []).append(w)
            self._by_length, self._vocab, self._pools = by, vocab, {}
        key = (len(word), max_edits)
        pool = self._pools.get(key)
        if pool is None:
            pool = []
            for n in range(max(1, len(word) - max_edits), len(word) + max_edits + 1):
                pool.extend(self._by_length.get(n, ()))
            self._pools[key] = pool
        found = process.extract(word, pool, scorer=Levenshtein.distance, score_cutoff=max_edits,
                                limit=limit)
        out = [w for w, _d, _i in found]
        if len(self._near_cache) > 100_000:
            self._near_cache.clear()
        self._near_cache[cache_key] = out
        return out

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
        if self.frequency(best) < ratio * max(self.frequency(word), 1e-9):
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


# ----- word rescoring: dictionary words near a read word, scored by the recogniser itself ---------


def ctc_log_likelihood(logp: np.ndarray, labels: list[list[int]], blank: int) -> np.ndarray:
    """log P(label sequence | frames) under CTC for each of ``labels`` (column indices of ``logp``,
    T x K log probabilities), summed over every alignment; -inf where a sequence cannot fit."""
    n = len(labels)
    longest = max((len(l) for l in labels), default=0)
    states = 2 * longest + 1
    lab = np.full((n, states), blank, dtype=np.int64)
    can_skip = np.zeros((n, states), dtype=bool)
    last = np.zeros(n, dtype=np.int64)
    for i, seq in enumerate(labels):
        lab[i, 1 : 2 * len(seq) : 2] = seq
        for j in range(1, len(seq)):
            can_skip[i, 2 * j + 1] = seq[j] != seq[j - 1]
        last[i] = 2 * len(seq)
    probs = np.exp(logp)
    alpha = np.zeros((n, states))
    alpha[:, 0] = probs[0, blank]
    if longest:
        alpha[:, 1] = probs[0, lab[:, 1]]
    valid = np.arange(states)[None, :] <= last[:, None]  # states past a shorter sequence's end
    alpha *= valid
    ll = np.zeros(n)
    scale = alpha.sum(axis=1)
    ll += np.log(np.maximum(scale, 1e-300))
    alpha /= np.maximum(scale, 1e-300)[:, None]
    for t in range(1, logp.shape[0]):
        nxt = alpha.copy()
        nxt[:, 1:] += alpha[:, :-1]
        nxt[:, 2:] += np.where(can_skip[:, 2:], alpha[:, :-2], 0.0)
        nxt *= probs[t][lab]
        nxt *= valid
        scale = nxt.sum(axis=1)
        ll += np.log(np.maximum(scale, 1e-300))
        alpha = nxt / np.maximum(scale, 1e-300)[:, None]
    end = alpha[np.arange(n), last] + np.where(last > 0, alpha[np.arange(n), np.maximum(last - 1, 0)], 0.0)
    with np.errstate(divide="ignore"):
        return ll + np.log(end)


def ctc_align(logp: np.ndarray, seq: list[int], blank: int) -> list[int]:
    """The first frame of each label of ``seq`` on the most probable CTC alignment (Viterbi)."""
    states = 2 * len(seq) + 1
    lab = np.full(states, blank, dtype=np.int64)
    lab[1::2] = seq
    skip = np.zeros(states, dtype=bool)
    for j in range(1, len(seq)):
        skip[2 * j + 1] = seq[j] != seq[j - 1]
    T = logp.shape[0]
    score = np.full(states, -np.inf)
    score[0] = logp[0, blank]
    if seq:
        score[1] = logp[0, lab[1]]
    back = np.zeros((T, states), dtype=np.int8)
    for t in range(1, T):
        stay = score
        step = np.concatenate([[-np.inf], score[:-1]])
        jump = np.where(skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        choice = np.argmax(np.stack([stay, step, jump]), axis=0)
        score = np.choose(choice, [stay, step, jump]) + logp[t, lab]
        back[t] = choice
    s = states - 1 if states == 1 or score[-1] >= score[-2] else states - 2
    path = [s]
    for t in range(T - 1, 0, -1):
        s -= int(back[t, s])
        path.append(s)
    path.reverse()
    first: dict[int, int] = {}
    for t, s in enumerate(path):
        if s % 2 == 1:
            first.setdefault(s // 2, t)
    return [first.get(j, 0) for j in range(len(seq))]


def _tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the space-separated tokens of ``text``."""
    spans, start = [], None
    for i, c in enumerate(text + " "):
        if c == " ":
            if start is not None:
                spans.append((start, i))
                start = None
        elif start is None:
            start = i
    return spans


def rescore_words(probs: np.ndarray, classes: np.ndarray, charset: list[str], lexicon: "Lexicon",
                  text: str, frames: list[int], params: LexiconParams = LexiconParams()
                  ) -> tuple[str, list[int]]:
    """Replace read words by dictionary words near them in spelling when the recogniser's own
    probabilities, summed over every alignment in the word's frames, plus the word's frequency,
    favour the dictionary word; first, two adjacent words by one word spelled like both together.
    Returns the text and the frame of each of its characters. Numbers, codes (mixed case), known
    capitalised words (names) and words read below ``params.rescore_min_conf`` are left alone."""
    if not text or params.rescore_edits <= 0:
        return text, frames
    r = _Rescorer(probs, classes, charset, lexicon, params)
    if params.rescore_merge:
        text, frames = r.merge_pass(text, list(frames))
    return r.word_pass(text, list(frames))


class _Rescorer:
    """The rescoring of one line's reading: its probabilities, their columns and the lexicon."""

    def __init__(self, probs, classes, charset, lexicon, params):
        self.probs, self.lexicon, self.params = probs, lexicon, params
        self.logp = np.log(np.maximum(probs, 1e-10))
        self.column = {charset[int(c)]: j for j, c in enumerate(classes)}
        self.blank = self.column.get("<blank>", 0)
        self.alpha_ln = params.rescore_alpha * math.log(10)
        self.frame_best = probs.max(axis=1)  # the surest class's probability in each frame

    def window(self, frames, start, end):
        """The frames of characters ``start:end``: after the space before them, up to the one after."""
        t0 = frames[start - 1] + 1 if start > 0 else 0
        t1 = frames[end] if end < len(frames) else self.probs.shape[0]
        return t0, t1

    def sure_enough(self, frames, start, end) -> bool:
        if self.params.rescore_min_conf <= 0:
            return True
        conf = float(self.frame_best[frames[start:end]].mean())
        return conf >= self.params.rescore_min_conf

    def candidates(self, core: str, like: str) -> list[str]:
        p = self.params
        found = self.lexicon.near(core.lower(), _max_edits(len(core), p.rescore_edits), p.rescore_limit,
                                  p.rescore_vocab)
        out = []
        for cand in found:
            cased = cand.upper() if like.isupper() and len(like) > 1 else (
                cand[:1].upper() + cand[1:] if like[:1].isupper() else cand)
            if all(c in self.column for c in cased):
                out.append(cased)
        return out

    def best(self, t0, t1, original: str, original_lm: float, options: list[str]) -> str | None:
        """The option that beats ``original`` on frames t0..t1, or None."""
        options = [o for o in options if o != original]
        if not options or t1 - t0 < 1:
            return None
        window = self.logp[t0:t1]
        seqs = [[self.column[c] for c in o] for o in [original] + options]
        ll = ctc_log_likelihood(window, seqs, self.blank)
        lm = np.array([original_lm] + [self.lexicon.word_score(o) for o in options])
        scores = ll + self.alpha_ln * lm
        k = int(np.argmax(scores))
        if k == 0:
            return None
        return ([original] + options)[k]

    def replace(self, text, frames, start, end, t0, t1, word):
        window = self.logp[t0:t1]
        new_frames = [t0 + f for f in ctc_align(window, [self.column[c] for c in word], self.blank)]
        return text[:start] + word + text[end:], frames[:start] + new_frames + frames[end:]

    def word_pass(self, text, frames):
        p = self.params
        for start, end in reversed(_tokens(text)):
            token = text[start:end]
            lead = len(token) - len(token.lstrip(_PUNCT))
            trail = len(token) - len(token.rstrip(_PUNCT))
            core = token[lead : len(token) - trail]
            if p.rescore_elided:
                # an elided article or pronoun stays as read; the word after the apostrophe is scored
                cut = max(core.rfind("'"), core.rfind("’")) + 1
                if 0 < cut <= 4:
                    lead, core = lead + cut, core[cut:]
            if not core or not core.isalpha() or not all(c in self.column for c in token):
                continue
            if core[0].isupper() and self.lexicon.known(core.lower()) or _mixed_case(core):
                continue  # a known capitalised word (a name: "San", "John"), or a code ("BAnQ")
            if not self.sure_enough(frames, start, end):
                continue
            t0, t1 = self.window(frames, start, end)
            opts = [token[:lead] + c + token[len(token) - trail :] for c in self.candidates(core, core)]
            lm = self.lexicon.word_score(token)
            if lm == LexiconParams.oov:  # an unknown lowercase word
                lm = p.rescore_oov
            elif lm == 0.0 and core[1:].islower():  # an unknown capitalised word (known ones were skipped)
                lm = p.rescore_name
            word = self.best(t0, t1, token, lm, opts)
            if word is not None:
                text, frames = self.replace(text, frames, start, end, t0, t1, word)
        return text, frames

    def merge_pass(self, text, frames):
        spans = _tokens(text)
        k = len(spans) - 2
        while k >= 0:
            (s1, e1), (s2, e2) = spans[k], spans[k + 1]
            a, b = text[s1:e1], text[s2:e2]
            ok = (a.isalpha() and b.rstrip(_PUNCT).isalpha() and not _mixed_case(a + b.lower())
                  and all(c in self.column for c in a + b) and self.sure_enough(frames, s1, e2))
            if ok:
                core_b = b.rstrip(_PUNCT)
                trail = b[len(core_b):]
                t0, t1 = self.window(frames, s1, e2)
                # a merge keeps every letter's worth of both parts: dropping one part is no merge
                opts = [c + trail for c in self.candidates(a + core_b, a) if len(c) >= len(a) + len(core_b)]
                word = self.best(t0, t1, text[s1:e2],
                                 self.lexicon.word_score(a) + self.lexicon.word_score(b) - WORD_OFFSET, opts)
                if word is not None:
                    text, frames = self.replace(text, frames, s1, e2, t0, t1, word)
                    spans = _tokens(text)
                    k = min(k, len(spans) - 2)
                    k -= 1
                    continue
            k -= 1
        return text, frames


# Capitals written as their lowercase letter, only larger: the recogniser's case is a guess on size.
_CASE_AMBIGUOUS = frozenset("CKMOPSUVWXZ")
_SENTENCE_END = ".!?:…"


def ends_sentence(token: str) -> bool:
    """Whether a word ends a sentence (or opens a list or quotation after a colon)."""
    core = token.rstrip("»\"”)’'")
    return not core or core[-1] in _SENTENCE_END


def decide_case(probs: np.ndarray, classes: np.ndarray, charset: list[str], lexicon: "Lexicon", text: str,
                frames: list[int], params: LexiconParams = LexiconParams()) -> tuple[str, bool]:
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
        if not np.isfinite(ll[1]) or ll[0] - ll[1] > params.case_margin + lexicon.word_score(lower):
            continue
        if i == 0:
            first_lower = True
        elif not ends_sentence(text[spans[i - 1][0] : spans[i - 1][1]]):
            out[start + lead] = lower[0]
    return "".join(out), first_lower


def _mixed_case(word: str) -> bool:
    """Capitals after the first letter of a word not in capitals throughout: a code or acronym."""
    return not word.isupper() and any(c.isupper() for c in word[1:])


def _max_edits(length: int, cap: int) -> int:
    return min(cap, 1 if length <= 3 else 2 if length <= 7 else 3)
