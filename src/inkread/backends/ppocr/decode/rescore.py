"""Word rescoring after the search: dictionary words near a read word, scored by the recogniser's own
CTC likelihood over the word's frames plus the word's frequency."""

from __future__ import annotations

import math

import numpy as np

from .lexicon import _PUNCT, WORD_OFFSET, Lexicon, LexiconParams, _max_edits, _mixed_case


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


def rescore_words(
    probs: np.ndarray,
    classes: np.ndarray,
    charset: list[str],
    lexicon: Lexicon,
    text: str,
    frames: list[int],
    params: LexiconParams = LexiconParams(),
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
        found = self.lexicon.near(
            core.lower(), _max_edits(len(core), p.rescore_edits), p.rescore_limit, p.rescore_vocab
        )
        out = []
        for cand in found:
            cased = (
                cand.upper()
                if like.isupper() and len(like) > 1
                else (cand[:1].upper() + cand[1:] if like[:1].isupper() else cand)
            )
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
        lm = np.array([original_lm] + [self.lexicon.word_score(o, self.params.oov) for o in options])
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
            lm = self.lexicon.word_score(token, oov=math.nan)
            if math.isnan(lm):  # an unknown lowercase word
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
            ok = (
                a.isalpha()
                and b.rstrip(_PUNCT).isalpha()
                and not _mixed_case(a + b.lower())
                and all(c in self.column for c in a + b)
                and self.sure_enough(frames, s1, e2)
            )
            if ok:
                core_b = b.rstrip(_PUNCT)
                trail = b[len(core_b) :]
                t0, t1 = self.window(frames, s1, e2)
                # a merge keeps every letter's worth of both parts: dropping one part is no merge
                opts = [c + trail for c in self.candidates(a + core_b, a) if len(c) >= len(a) + len(core_b)]
                word = self.best(
                    t0,
                    t1,
                    text[s1:e2],
                    self.lexicon.word_score(a, self.params.oov)
                    + self.lexicon.word_score(b, self.params.oov)
                    - WORD_OFFSET,
                    opts,
                )
                if word is not None:
                    text, frames = self.replace(text, frames, s1, e2, t0, t1, word)
                    spans = _tokens(text)
                    k = min(k, len(spans) - 2)
                    k -= 1
                    continue
            k -= 1
        return text, frames
