"""The language's word list (``wordfreq``, offline) as the decoders see it: word scores, prefixes,
near words; and the parameters of the lexicon search and the rescoring (:class:`LexiconParams`)."""

from __future__ import annotations

import bisect
import math
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

_WORD_CHARS_EXTRA = "'’-"
_PUNCT = '.,;:!?()[]{}"“”«»…'  # stripped off a word's ends before it is judged
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
    # Words written in capitals throughout (names on forms, headings) score neutrally in the search,
    # as unknown names do: a dictionary's frequencies say little about them, and rewarding known
    # words split a name into them (LOGAN -> LOG AN, REMI -> RE MI, EDEN -> E D'EN).
    caps_neutral: bool = False
    # A space is only tried where the recogniser gives it at least this probability: every known
    # word the search completes is rewarded, so a faint gap could split a word it does not know into
    # common ones (Leconte -> le con te). min_char_prob (0.02): as every other character.
    min_space_prob: float = 0.02


class Lexicon:
    """Word frequencies and the set of word prefixes of one language, or of several (``"en+fr"``: a
    word scores its frequency in the language where it is commonest, and the candidates of the
    rescoring are each language's commonest words)."""

    def __init__(self, language: str, size: int = 150_000) -> None:
        from wordfreq import top_n_list, word_frequency

        self.language = language
        self.languages = tuple(language.split("+"))  # wordfreq's codes
        self._freq: Callable[[str, str], float] = word_frequency
        if len(self.languages) == 1:
            words = top_n_list(language, size)
        else:
            words, self._freq = _union(self.languages, size)
        self.words = words  # most frequent first
        self._by_length: dict[int, list[str]] | None = None
        self._pools: dict[tuple[int, int], list[str]] = {}
        self._vocab = 0
        self._near_cache: dict[tuple, list[str]] = {}
        self.sorted_words = sorted(set(words))  # prefix look-ups by bisection: no set of all prefixes
        self._cache: dict[str, float | None] = {}
        self._prefix_cache: dict[str, bool] = {}
        # unaccented spelling -> the most frequent accented word spelled with those letters. The
        # unaccented words themselves are not kept (a map of every word held 12 MB a language): where
        # one is commoner than its accented spellings, none of them is ``accented``'s ratio (> 1)
        # times commoner than it, so the answers are the same.
        self._accents: dict[str, str] = {}
        for word in words:  # most frequent first
            if word.isalpha():
                bare = _strip_accents(word)
                if bare != word:
                    self._accents.setdefault(bare, word)

    def word_score(self, token: str, oov: float = LexiconParams.oov, caps_neutral: bool = False) -> float:
        """log10 frequency of a written word (plus ``WORD_OFFSET``); 0 for tokens we must not judge
        (numbers, names, and with ``caps_neutral`` words in capitals throughout); ``oov`` for a
        lowercase word no dictionary knows."""
        if caps_neutral and _in_capitals(token):
            return 0.0
        score = self._score(token)
        return oov if score is None else score

    def _score(self, token: str) -> float | None:
        """``word_score`` with None for an unknown lowercase word (cached)."""
        core = token.strip(_PUNCT)
        if not core:
            return 0.0
        if core in self._cache:
            return self._cache[core]
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
                score = None
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

        vocab *= len(self.languages)  # each language's commonest words
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
        found = process.extract(word, pool, scorer=Levenshtein.distance, score_cutoff=max_edits, limit=limit)
        out = [w for w, _d, _i in found]
        if len(self._near_cache) > 100_000:
            self._near_cache.clear()
        self._near_cache[cache_key] = out
        return out

    def accented(self, word: str, ratio: float) -> str | None:
        """The accented spelling of a lowercase ``word`` read without any accent when it is at least
        ``ratio`` (more than 1) times more frequent than ``word`` as written; else None (an accent the recogniser
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


def _union(languages: tuple[str, ...], size: int) -> tuple[list[str], Callable[[str, str], float]]:
    """The ``size`` commonest words of each of ``languages``, commonest first (a word at its frequency
    in the language where it is commonest), and that frequency as ``word_frequency(word, _)``."""
    from wordfreq import get_frequency_list, word_frequency

    best: dict[str, float] = {}
    for code in languages:
        taken = 0
        for centibels, bucket in enumerate(get_frequency_list(code)):  # wordfreq's own buckets
            share = 10.0 ** (-centibels / 100)
            for word in bucket[: size - taken]:
                best[word] = max(best.get(word, 0.0), share)
            taken += len(bucket)
            if taken >= size:
                break

    def frequency(word: str, _language: str) -> float:
        return max(word_frequency(word, code) for code in languages)

    return sorted(best, key=lambda w: -best[w]), frequency


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _split_word(word: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
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
    """The lexicon of a language, or of several (``"en+fr"``: :class:`Lexicon`), built once; None where
    wordfreq has no list for any of them."""
    codes = [_WORDFREQ.get(c, c) for c in language.split("+")]
    code = "+".join(dict.fromkeys(c for c in codes if _has_list(c)))  # sh+sh (Bosnian and Croatian): one
    with _LEX_LOCK:
        if code not in _LEXICONS:
            _LEXICONS[code] = Lexicon(code) if code else None
        return _LEXICONS[code]


def _has_list(code: str) -> bool:
    """Whether wordfreq has a word list inkread decodes with for ``code``."""
    try:
        from wordfreq import available_languages
    except ImportError:
        return False
    return code in available_languages("best") and code not in ("zh", "ja", "ko")


def _mixed_case(word: str) -> bool:
    """Capitals after the first letter of a word not in capitals throughout: a code or acronym."""
    return not word.isupper() and any(c.isupper() for c in word[1:])


def _max_edits(length: int, cap: int) -> int:
    return min(cap, 1 if length <= 3 else 2 if length <= 7 else 3)


def _in_capitals(token: str) -> bool:
    """Whether a token has letters and all of them are capitals (``LOGAN``, ``E``, ``D'EN``)."""
    letters = [c for c in token if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)
