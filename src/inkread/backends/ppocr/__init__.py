"""The PP-OCRv6 backend: inkread's own page reader on the ONNX models shipped in the ``rapidocr``
wheel, printed text and handwriting, every option honoured.

The package, in the order a page goes through it:

* :mod:`.models`: the ONNX sessions (detector, recognisers, orientation classifier) and CTC decoding
  of one batch of line crops (greedy, or the lexicon search of :mod:`.decode`);
* :mod:`.page`: one page: preprocess, detect (:mod:`.detect`), turn upright, lay out, cut crops
  (:mod:`.crops`), read them (test-time :mod:`.variants`, :mod:`.tidy` after the lexicon),
  checkboxes (:mod:`.checkboxes`), result lines;
* :mod:`.profiles`: what each mode changes (:class:`~.profiles.ModeProfile`), injected here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ...memory import give_back
from ..base import Capabilities, PageReading, add_seconds
from .profiles import PROFILES, ModeProfile

__all__ = ["PpOcrRecognizer", "ModeProfile", "PROFILES"]


class PpOcrRecognizer:
    """Reads pages with the process-wide models and ``profiles`` (default: :data:`PROFILES`; an
    ablation or a test passes its own)."""

    name = "ppocr"
    label = "pp-ocrv6"
    capabilities = Capabilities(handwriting=True, preprocess=True, lexicon=True, checkboxes=True)

    def __init__(self, profiles: Mapping[Any, ModeProfile] | None = None) -> None:
        self.profiles = dict(profiles if profiles is not None else PROFILES)

    def check_language(self, options: Any) -> None:
        pass  # the models ship with the package

    def warmup(self) -> None:
        from .models import get_models

        get_models()

    def read_page(self, page: Any, options: Any, *, osd: Callable[[], Any]) -> PageReading:
        from .language import recognize_page_auto
        from .models import get_models
        from .page import recognize_page

        t0 = time.perf_counter()
        models = get_models()
        loaded = {"models": time.perf_counter() - t0}
        # language="auto": the language found from a first reading (.language)
        reader = recognize_page_auto if getattr(options.language, "auto", False) else recognize_page
        read, seconds = reader(page.image, options, models, index=page.index, profiles=self.profiles)
        give_back()  # what the page freed (inkread.memory)
        return PageReading(read, add_seconds(loaded, seconds))
