"""Text-accuracy metrics: character and word error rates, and line structure.

Conventions (the same as the evaluation set's README):

* both sides are NFC-normalised and every run of whitespace (newlines included) becomes one space
  before CER/WER, so a page is scored as one string;
* line structure (how many lines, in which order) is scored separately by :func:`line_structure`;
* some sets are scored case-insensitively (:func:`casefold_for_set`).

Pure Python; uses ``rapidfuzz`` for the edit distance when it is installed (much faster), and a
plain dynamic-programming fallback otherwise. Both give identical results.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable, Sequence
from types import ModuleType
from typing import Any

__all__ = [
    "CASEFOLD_SETS",
    "normalize_text",
    "split_lines",
    "edit_distance",
    "cer",
    "wer",
    "line_structure",
    "casefold_for_set",
    "score",
]

_rf_levenshtein: ModuleType | None
try:  # optional accelerator
    from rapidfuzz.distance import Levenshtein as _rf_levenshtein
except ImportError:  # pragma: no cover - exercised when rapidfuzz is absent
    _rf_levenshtein = None

#: Sets of the evaluation set whose ground truth is scored case-insensitively.
# sroie: upper-case receipts; names: capital-letter names, scored upper-cased (the eval README)
CASEFOLD_SETS = frozenset({"sroie", "names"})


def normalize_text(text: str, *, casefold: bool = False) -> str:
    """NFC-normalise, optionally case-fold, collapse whitespace runs to one space, strip."""
    text = unicodedata.normalize("NFC", text)
    if casefold:
        # casefold() can decompose (e.g. "İ" -> "i̇"), so normalise again afterwards.
        text = unicodedata.normalize("NFC", text.casefold())
    return " ".join(text.split())


def split_lines(text: str, *, casefold: bool = False) -> list[str]:
    """Non-empty lines of ``text``, each normalised with :func:`normalize_text`."""
    lines = (normalize_text(line, casefold=casefold) for line in text.splitlines())
    return [line for line in lines if line]


def _levenshtein_py(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, item_a in enumerate(a, 1):
        current = [i]
        for j, item_b in enumerate(b, 1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (item_a != item_b),  # substitution / match
                )
            )
        previous = current
    return previous[-1]


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance (unit costs) between two strings or two sequences of tokens."""
    if _rf_levenshtein is not None:
        return int(_rf_levenshtein.distance(a, b))
    return _levenshtein_py(a, b)


def _rate(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> float:
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def cer(reference: str, hypothesis: str, *, casefold: bool = False) -> float:
    """Character error rate: edit distance / reference length, after :func:`normalize_text`.

    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise. The rate can exceed
    1.0 when the hypothesis is much longer than the reference.
    """
    return _rate(normalize_text(reference, casefold=casefold), normalize_text(hypothesis, casefold=casefold))


def _words(text: str, casefold: bool) -> list[str]:
    normalized = normalize_text(text, casefold=casefold)
    return normalized.split(" ") if normalized else []


def wer(reference: str, hypothesis: str, *, casefold: bool = False) -> float:
    """Word error rate: word-level edit distance / number of reference words.

    Words are the space-separated tokens after :func:`normalize_text` (punctuation stays attached).
    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    return _rate(_words(reference, casefold), _words(hypothesis, casefold))


def _align_lines(ref: list[str], hyp: list[str], costs: list[list[float]]) -> list[float]:
    """Monotone alignment of lines (edit distance over lines) -> the cost of each operation.

    Substituting reference line i by hypothesis line j costs ``min(1, CER(i, j))``; leaving a line
    of either side unpaired costs 1. Returns one cost per operation of a cheapest alignment
    (pairs and unpaired lines), preferring pairs on ties.
    """
    n, m = len(ref), len(hyp)
    # dp[i][j]: cheapest alignment of ref[:i] with hyp[:j]
    dp = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        dp[i][0] = float(i)
    for j in range(1, m + 1):
        dp[0][j] = float(j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            dp[i][j] = min(dp[i - 1][j - 1] + min(1.0, costs[i - 1][j - 1]), dp[i - 1][j] + 1.0, dp[i][j - 1] + 1.0)
    ops: list[float] = []
    i, j = n, m
    eps = 1e-12
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            pair = min(1.0, costs[i - 1][j - 1])
            if abs(dp[i][j] - (dp[i - 1][j - 1] + pair)) <= eps:
                ops.append(pair)
                i, j = i - 1, j - 1
                continue
        if i > 0 and abs(dp[i][j] - (dp[i - 1][j] + 1.0)) <= eps:
            ops.append(1.0)
            i -= 1
        else:
            ops.append(1.0)
            j -= 1
    ops.reverse()
    return ops


def line_structure(reference: str, hypothesis: str, *, casefold: bool = False) -> dict[str, Any]:
    """Compare the line structure of a page transcription with the reference.

    Only non-empty lines count (each whitespace-normalised). Returns::

        {"ref_lines": n, "hyp_lines": m, "count_match": n == m, "order_ok": bool, "line_cer": float}

    * ``order_ok``: every hypothesis line is matched to its best reference line (lowest CER; on a
      tie, the first one not before the previous match), the matched reference indices must be
      non-decreasing, and the line counts must match. Two empty sides are in order.
    * ``line_cer``: the lines are aligned monotonically (edit distance over lines, substitution
      cost = the pair's CER capped at 1, an unpaired line costs 1); ``line_cer`` is the mean cost
      over the alignment's operations, i.e. the mean CER of the aligned pairs where a line left
      without a partner counts as 1.0. 0.0 when both sides are empty.
    """
    ref = split_lines(reference, casefold=casefold)
    hyp = split_lines(hypothesis, casefold=casefold)
    n, m = len(ref), len(hyp)
    count_match = n == m
    costs = [[_rate(r, h) for h in hyp] for r in ref]

    order_ok = count_match
    if order_ok and n:
        previous = 0
        for j in range(m):
            column = [costs[i][j] for i in range(n)]
            best = min(column)
            ties = [i for i, c in enumerate(column) if c == best]
            later = [i for i in ties if i >= previous]
            match = later[0] if later else ties[0]
            if match < previous:
                order_ok = False
                break
            previous = match

    if n == 0 and m == 0:
        line_cer = 0.0
    else:
        ops = _align_lines(ref, hyp, costs)
        line_cer = sum(ops) / len(ops)

    return {"ref_lines": n, "hyp_lines": m, "count_match": count_match, "order_ok": order_ok, "line_cer": line_cer}


def casefold_for_set(set_name: str | None) -> bool:
    """Whether a set of the evaluation set is scored case-insensitively (``sroie``)."""
    return bool(set_name and set_name.strip().lower() in CASEFOLD_SETS)


def score(
    reference: str, hypothesis: str, *, set_name: str | None = None, casefold: bool | None = None
) -> dict[str, Any]:
    """All metrics for one sample: ``cer``, ``wer`` and the keys of :func:`line_structure`.

    ``casefold`` defaults to :func:`casefold_for_set` of ``set_name``.
    """
    if casefold is None:
        casefold = casefold_for_set(set_name)
    result: dict[str, Any] = {
        "cer": cer(reference, hypothesis, casefold=casefold),
        "wer": wer(reference, hypothesis, casefold=casefold),
    }
    result.update(line_structure(reference, hypothesis, casefold=casefold))
    return result
