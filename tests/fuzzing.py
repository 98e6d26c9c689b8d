"""Fuzzing inkread's loaders with mutated real files (issue 14).

The corpus (``tests/data/fuzz/corpus``, made by ``make_corpus.py`` beside it) holds a small real
note in every format inkread reads; :func:`mutate` changes one the way fuzzers do (bit flips,
interesting bytes and integers, chunks deleted, duplicated, inserted or spliced in from another file,
truncation); :func:`check` feeds the result to the loaders a user reaches (``count_pages``, then
``load_pages`` of the first pages) and says what went wrong, if anything: every input must load
or raise an :class:`~inkread.exceptions.OcrException` (a typed error with a message), nothing else.

Used by ``tests/test_fuzz.py`` (a few hundred inputs, every run) and ``bench/bench_fuzz.py``
(thousands, each in a watched worker process, so that a hang or a crash of the interpreter is
caught too). Inputs that failed once are kept in ``tests/data/fuzz/crashes`` and checked every run.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np

__all__ = ["CORPUS", "CRASHES", "corpus", "crashes", "mutate", "check", "format_of", "fix_png_crcs"]

DATA = Path(__file__).resolve().parent / "data" / "fuzz"
CORPUS = DATA / "corpus"
CRASHES = DATA / "crashes"

_INTERESTING_8 = (0x00, 0x01, 0x7F, 0x80, 0xFF)
_INTERESTING_16 = (0, 1, 0x7FFF, 0x8000, 0xFFFF, 256, 1024, 4096, 32767, 65535)
_INTERESTING_32 = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 65536, 100_000, 1_000_000)


def corpus() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(CORPUS.iterdir()) if p.is_file()]


def crashes() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(CRASHES.iterdir()) if p.is_file() and p.suffix != ".md"]


def format_of(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def mutate(data: bytes, rng: random.Random, others: list[bytes] = ()) -> bytes:
    """1 to 8 havoc steps on ``data``; mostly near the start, where the headers are."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not buf:
            buf = bytearray(b"\0")
        n = len(buf)
        # headers matter most: half the positions fall in the first 256 bytes
        pos = rng.randrange(min(n, 256)) if rng.random() < 0.5 else rng.randrange(n)
        op = rng.randrange(10)
        if op == 0:  # flip a bit
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1:  # a random byte
            buf[pos] = rng.randrange(256)
        elif op == 2:  # an interesting byte
            buf[pos] = rng.choice(_INTERESTING_8)
        elif op == 3 and pos + 2 <= n:  # an interesting 16-bit number, either byte order
            buf[pos:pos + 2] = struct.pack(rng.choice("<>") + "H", rng.choice(_INTERESTING_16))
        elif op == 4 and pos + 4 <= n:
            buf[pos:pos + 4] = struct.pack(rng.choice("<>") + "I", rng.choice(_INTERESTING_32))
        elif op == 5:  # delete a chunk
            del buf[pos:pos + rng.randint(1, max(1, min(64, n - pos)))]
        elif op == 6:  # duplicate a chunk
            size = rng.randint(1, max(1, min(64, n - pos)))
            buf[pos:pos] = buf[pos:pos + size]
        elif op == 7:  # insert random bytes
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 8:  # truncate
            del buf[max(1, pos):]
        elif op == 9 and others:  # splice in a piece of another file
            other = rng.choice(others)
            start = rng.randrange(len(other))
            buf[pos:pos + rng.randint(0, 64)] = other[start:start + rng.randint(1, 256)]
    if rng.random() < 0.8:
        return fix_png_crcs(bytes(buf))
    return bytes(buf)


def fix_png_crcs(data: bytes) -> bytes:
    """Recompute the CRC of every PNG chunk whose length still fits, so that a mutation reaches the
    decoder instead of stopping at Pillow's checksum test."""
    import zlib

    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    buf = bytearray(data)
    pos = 8
    while pos + 12 <= len(buf):
        length = struct.unpack(">I", buf[pos:pos + 4])[0]
        end = pos + 8 + length
        if end + 4 > len(buf):
            break
        buf[end:end + 4] = struct.pack(">I", zlib.crc32(bytes(buf[pos + 4:end])) & 0xFFFFFFFF)
        pos = end + 4
    return bytes(buf)


def check(data: bytes, *, max_pages: int = 3) -> tuple[str, str]:
    """Load ``data`` as a user's file would be; (outcome, detail): ``("ok", "2 pages")``,
    ``("refused", "CorruptInputError")`` or ``("FAILED", "<exception type>: <message>")``."""
    from inkread import io as inkio
    from inkread.exceptions import OcrException

    try:
        count = inkio.count_pages(data)
        if not isinstance(count, int) or count < 1:
            return "FAILED", f"count_pages returned {count!r}"
        pages = inkio.load_pages(data, pages=range(min(count, max_pages)))
        for page in pages:
            image = page.image
            if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
                    and image.shape[2] == 3 and image.shape[0] > 0 and image.shape[1] > 0):
                return "FAILED", f"page {page.index} is not an RGB uint8 image: {getattr(image, 'shape', image)!r}"
        return "ok", f"{len(pages)} page{'s' if len(pages) != 1 else ''}"
    except OcrException as exc:
        if not str(exc).strip():
            return "FAILED", f"{type(exc).__name__} without a message"
        return "refused", type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - anything else is what the fuzzing looks for
        return "FAILED", f"{type(exc).__name__}: {str(exc)[:200]}"
