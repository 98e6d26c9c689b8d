"""Fakes for tests that exercise inkread's plumbing (engine, batch, CLI, service) without its models:
:class:`FakeRecognizer` reads every page as one line naming the page and its size, through the
backend registry, exactly where a real backend would.

    with fake_backend() as fake:
        result = inkread.recognize("note.png")      # read by the fake, no model loaded
        assert fake.pages == [0]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from inkread.backends import Capabilities, register_backend
from inkread.result import Line, Page, Word

__all__ = ["FakeRecognizer", "fake_backend"]


class FakeRecognizer:
    label = "fake"
    capabilities = Capabilities(handwriting=True)

    def __init__(self, name: str = "ppocr") -> None:
        self.name = name
        self.pages: list[int] = []
        self.options: list[Any] = []
        self.warmed = 0

    def check_language(self, options: Any) -> None:
        pass

    def warmup(self) -> None:
        self.warmed += 1

    def read_page(self, page: Any, options: Any, *, timings: dict[str, float], osd: Any) -> Page:
        self.pages.append(page.index)
        self.options.append(options)
        text = f"page {page.index + 1} {page.width}x{page.height}"
        box = [(0.0, 0.0), (float(page.width), 0.0), (float(page.width), 10.0), (0.0, 10.0)]
        words = [Word(w, box, 0.9) for w in text.split()]
        return Page(index=page.index, width=page.width, height=page.height, mode=options.mode.value,
                    lines=[Line(text, box, 0.9, words)])


@contextlib.contextmanager
def fake_backend(name: str = "ppocr") -> Iterator[FakeRecognizer]:
    """A :class:`FakeRecognizer` registered as backend ``name`` for the ``with`` block."""
    fake = FakeRecognizer(name)
    previous = register_backend(fake)
    try:
        yield fake
    finally:
        if previous is not None:
            register_backend(previous)
