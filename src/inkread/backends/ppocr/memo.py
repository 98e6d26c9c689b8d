"""The networks' outputs kept for a second reading of the same page: inside ``with remembered():``, an
input a network has already run on (the same bytes, the same network) gives back what it gave, without
running it again. A page read first to find its language and then in that language
(:mod:`inkread.autolang`) runs the detector, the classifier and the recognisers once: the second
reading only decodes again (with the language's lexicon). Outside ``remembered()`` nothing is kept.

The memory is the calling context's own (a :class:`~contextvars.ContextVar`): threads reading other
pages never share it, and it goes with the ``with`` block. What the recogniser leaves is kept as the
decoder needs it (the allowed classes' columns only: 589 of PP-OCRv6's 18,710 for Latin), a few MB a page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import numpy as np

__all__ = ["remembered", "recall", "digest"]

T = TypeVar("T")


class Memory(dict[Any, Any]):
    """What ``remembered()`` keeps, and how often it answered (``hits``) or ran the network (``runs``)."""

    hits = 0
    runs = 0


_MEMORY: ContextVar[Memory | None] = ContextVar("inkread_ppocr_memory", default=None)


@contextmanager
def remembered() -> Iterator[Memory]:
    """Keep the networks' outputs for the inputs they run on until the block ends (nested: the outer
    block's memory goes on)."""
    outer = _MEMORY.get()
    if outer is not None:
        yield outer
        return
    memory = Memory()
    token = _MEMORY.set(memory)
    try:
        yield memory
    finally:
        _MEMORY.reset(token)


def digest(array: np.ndarray) -> bytes:
    """A short fingerprint of an array's shape, type and bytes."""
    data = np.ascontiguousarray(array)
    fingerprint = hashlib.blake2b(f"{data.shape}{data.dtype.str}".encode(), digest_size=16)
    fingerprint.update(data)  # type: ignore[arg-type]  # a contiguous array is a buffer
    return fingerprint.digest()


def recall(tag: tuple[Any, ...], array: np.ndarray, compute: Callable[[], T]) -> T:
    """``compute()``: what a network gives for the input ``array`` (``tag`` names the network and
    anything else its output depends on), kept inside ``remembered()`` and given back from there."""
    memory = _MEMORY.get()
    if memory is None:
        return compute()
    key = (tag, digest(array))
    if key in memory:
        memory.hits += 1
        return memory[key]
    memory.runs += 1
    memory[key] = value = compute()
    return value
