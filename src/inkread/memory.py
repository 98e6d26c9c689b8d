"""Memory a page's reading freed, handed back to the system.

glibc keeps freed blocks for reuse, and after a large array is freed it serves arrays up to that size
from its heap, where freeing them does not shrink the process: a process reading page after page grew
by ~30 MB a page and peaked 70 MB higher (bench/RESULTS.md), and the detector's buffers on a
34-megapixel receipt (an 87 MB input at 3,200 px, its activations) stayed held while the page's lines
were read. :func:`give_back` trims the heap after each page, and after the detection and orientation of
a page larger than the detector's largest input (4-10 ms a call; the memory handed back is faulted in
again at its next use, so a trim after every recognition batch cost a quarter of a page's time).
"""

from __future__ import annotations

import ctypes
from typing import Any

__all__ = ["give_back"]

_TRIM: Any = None


def give_back() -> None:
    """``malloc_trim(0)``: the heap's free pages returned to the system; a no-op where the C library
    is not glibc."""
    global _TRIM
    if _TRIM is None:
        try:
            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)
