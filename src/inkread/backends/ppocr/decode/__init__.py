"""CTC decoding with a word lexicon inside the search, not after it.

A prefix beam search over the recogniser's per-frame probabilities; when a word is completed its
frequency in the language (``wordfreq``, which ships its lists offline) is added to the path's score,
and a word that is no prefix of any known word is penalised while it is being spelled. Numbers, codes
and capitalised words (names) are never pushed towards dictionary words: they are scored neutrally.

Parts: :mod:`.lexicon` (word scores, :class:`LexiconParams`), :mod:`.beam` (the search), :mod:`.rescore`
(words rescored after it), :mod:`.case` (capitals read from their size).
"""

from __future__ import annotations

from .beam import beam_decode  # noqa: F401
from .case import decide_case, ends_sentence  # noqa: F401
from .lexicon import WORD_OFFSET, Lexicon, LexiconParams, _split_word, _strip_accents, get_lexicon  # noqa: F401
from .rescore import ctc_align, ctc_log_likelihood, rescore_words  # noqa: F401

__all__ = ["Lexicon", "LexiconParams", "beam_decode", "get_lexicon"]
