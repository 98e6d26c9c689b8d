"""Fakes for tests that exercise inkread's plumbing (engine, batch, CLI, service) without its models:
:class:`FakeRecognizer` reads every page as one line naming the page and its size, through the
backend registry, exactly where a real backend would.

In this process::

    with fake_backend() as fake:
        result = inkread.recognize("note.png")      # read by the fake, no model loaded
        assert fake.pages == [0]

In any inkread process started with ``INKREAD_PLUGINS=fakes`` and ``tests/`` on ``PYTHONPATH`` (the
CLI in a subprocess, ``serve``'s worker processes): :func:`backends` replaces PP-OCRv6 with the fake;
``INKREAD_FAKE_DELAY`` (seconds a page) makes it a slow one, ``INKREAD_FAKE_CRASH`` (a 0-based page
index) a crashing one.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inkread.backends import PLUGINS_ENV, Capabilities, PageReading, register_backend
from inkread.result import Line, Page, Word

__all__ = ["FakeRecognizer", "fake_backend", "backends", "fake_env", "fake_page", "fake_read", "fake_text"]


class FakeRecognizer:
    label = "fake"
    capabilities = Capabilities(handwriting=True)

    def __init__(self, name: str = "ppocr", delay: float = 0.0, crash_on: int | None = None) -> None:
        self.name = name
        self.delay = delay
        self.crash_on = crash_on
        self.pages: list[int] = []
        self.options: list[Any] = []
        self.warmed = 0

    def check_language(self, options: Any) -> None:
        pass

    def warmup(self) -> None:
        self.warmed += 1

    def read_page(self, page: Any, options: Any, *, osd: Any) -> PageReading:
        self.pages.append(page.index)
        self.options.append(options)
        if self.delay:
            time.sleep(self.delay)
        if self.crash_on is not None and page.index == self.crash_on:
            raise RuntimeError(f"the fake recogniser crashed on page {page.index + 1}")
        return PageReading(fake_page(page.index, page.width, page.height, options.mode.value),
                           {"recognize": self.delay})


def fake_text(index: int, width: int, height: int) -> str:
    """What the fake reads on a page (a test compares its output with this)."""
    return f"page {index + 1} {width}x{height}"


def fake_page(index: int, width: int, height: int, mode: str) -> Page:
    """One line at the top left of the page, its words placed left to right by their characters,
    shaped like printed text (a character about 0.6 line heights wide: the engine's check for text in
    another script finds nothing odd in it)."""
    text = fake_text(index, width, height)
    top, bottom = 0.0, float(min(height, 10))
    step = min(width / len(text), 0.6 * (bottom - top))

    def box(x0: float, x1: float) -> list[tuple[float, float]]:
        return [(x0, top), (x1, top), (x1, bottom), (x0, bottom)]

    words, at = [], 0
    for word in text.split(" "):
        words.append(Word(word, box(at * step, (at + len(word)) * step), 0.9))
        at += len(word) + 1
    return Page(index=index, width=width, height=height, mode=mode,
                lines=[Line(text, box(0.0, len(text) * step), 0.9, words)])


def fake_read(path: Any, index: int = 0) -> str:
    """What the fake reads on page ``index`` of the image at ``path``."""
    from PIL import Image

    with Image.open(path) as im:
        return fake_text(index, *im.size)


def backends() -> list[FakeRecognizer]:
    """The plugin entry (``INKREAD_PLUGINS=fakes``): the fake in PP-OCRv6's place."""
    crash = os.environ.get("INKREAD_FAKE_CRASH")
    return [FakeRecognizer("ppocr", delay=float(os.environ.get("INKREAD_FAKE_DELAY") or 0),
                           crash_on=int(crash) if crash else None)]


def fake_env(**extra: str) -> dict[str, str]:
    """``os.environ`` plus what makes a child inkread process read with the fake."""
    tests = str(Path(__file__).resolve().parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, PLUGINS_ENV: "fakes", "PYTHONPATH": tests + (os.pathsep + path if path else ""), **extra}


@contextlib.contextmanager
def fake_backend(name: str = "ppocr", **kwargs: Any) -> Iterator[FakeRecognizer]:
    """A :class:`FakeRecognizer` registered as backend ``name`` for the ``with`` block."""
    fake = FakeRecognizer(name, **kwargs)
    previous = register_backend(fake)
    try:
        yield fake
    finally:
        if previous is not None:
            register_backend(previous)
