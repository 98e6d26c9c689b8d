"""The PP-OCRv6 backend: inkread's own page reader (:mod:`inkread.pipeline`) on the shipped ONNX
models (:mod:`inkread.models`), printed text and handwriting, every option honoured."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .base import Capabilities

__all__ = ["PpOcrRecognizer"]


class PpOcrRecognizer:
    name = "ppocr"
    label = "pp-ocrv6"
    capabilities = Capabilities(handwriting=True, preprocess=True, lexicon=True, checkboxes=True)

    def check_language(self, options: Any) -> None:
        pass  # the models ship with the package

    def warmup(self) -> None:
        from ..models import get_models

        get_models()

    def read_page(self, page: Any, options: Any, *, timings: dict[str, float], osd: Callable[[], Any]) -> Any:
        from ..models import get_models
        from ..pipeline import recognize_page

        t0 = time.perf_counter()
        models = get_models()
        timings["models"] = timings.get("models", 0.0) + time.perf_counter() - t0
        return recognize_page(page.image, options, models, index=page.index, timings=timings)
