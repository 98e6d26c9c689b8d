"""The engine facade: the one object scripts talk to, local today, remote when given a service URL."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from .exceptions import OcrException
from .languages import Language
from .options import RecognitionMode, RecognitionOptions
from .result import OcrResult

__all__ = ["OcrEngine", "recognize"]

log = logging.getLogger("inkread")


class OcrEngine:
    """Recognise text in images and PDFs.

    >>> import inkread as ocr
    >>> engine = ocr.OcrEngine()
    >>> engine.load_image("examples/handwritten_note.jpg")
    >>> engine.set_recognition_mode(ocr.RecognitionMode.HANDWRITTEN)
    >>> print(engine.recognize().text)  # doctest: +SKIP

    The models are loaded once per process, on first use. ``recognize(source, **options)`` takes
    everything per call and touches no shared state, so one engine can serve many threads; the
    ``load_image`` / ``set_*`` calls keep the cloud-SDK style working for single-threaded scripts.
    """

    def __init__(self, client_id: str | None = None, client_secret: str | None = None,
                 url: str | None = None, *, options: RecognitionOptions | None = None, **kwargs: Any) -> None:
        self._options = options or RecognitionOptions()
        if kwargs:
            self._options = self._options.updated(**kwargs)
        self._source: Any = None
        self._lock = threading.Lock()
        self.client_id = client_id
        self._client_secret = client_secret
        self.url = url or os.environ.get("INKREAD_URL") or None
        if (client_id or client_secret) and not self.url:
            log.info("inkread: no service URL configured; running locally, client credentials not used")

    # ----- cloud-SDK style settings ---------------------------------------------------------
    @property
    def options(self) -> RecognitionOptions:
        return self._options

    def load_image(self, source: Any) -> None:
        """Remember an image (path, bytes, file object, PIL image or numpy array) for ``recognize()``.

        A missing path raises ``FileNotFoundError`` now, not at recognition time.
        """
        if isinstance(source, (str, os.PathLike)):
            if not os.path.exists(source):
                raise FileNotFoundError(f"no such file: {os.fspath(source)}")
        self._source = source

    def set_recognition_mode(self, mode: RecognitionMode | str) -> None:
        self._options = self._options.updated(mode=RecognitionMode.parse(mode))

    def set_language(self, language: Language | str) -> None:
        self._options = self._options.updated(language=Language.parse(language))

    def set_options(self, **options: Any) -> None:
        """Change default options (``pages``, ``binarize``, ``upscale`` ...) for later calls."""
        self._options = self._options.updated(**options)

    # ----- recognition ----------------------------------------------------------------------
    def recognize(self, source: Any = None, **options: Any) -> OcrResult:
        """Recognise ``source`` (or the image given to ``load_image``) with these per-call options."""
        if source is None:
            source = self._source
        if source is None:
            raise OcrException("no image to recognise", hint="call load_image(path) or pass the image to recognize()")
        opts = self._options.updated(**options) if options else self._options
        if self.url:
            from .client import RemoteBackend  # the remote engine

            return RemoteBackend.for_engine(self).recognize(source, opts)
        return recognize_local(source, opts)


def recognize_local(source: Any, options: RecognitionOptions) -> OcrResult:
    """Load ``source`` and run every selected page through the local backend that reads the language:
    PP-OCRv6 (``inkread.pipeline``) where it does, Tesseract elsewhere; ``options.engine`` overrides."""
    from . import io as inkio
    from .backends import select_backend

    backend = select_backend(options.language, options.engine)  # refuse before reading anything
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pages = inkio.load_pages(source, pages=options.pages, max_pixels=options.max_pixels, pdf_dpi=options.pdf_dpi)
    t1 = time.perf_counter()
    timings["load"] = t1 - t0
    if backend == "tesseract":
        from .backends import tesseract

        from .coverage import cover
        from .pipeline import text_regions

        def read(image, index, line=None):
            return tesseract.recognize_page(image, options.language, index, mode=options.mode.value, line=line)

        # every line the detector finds is read (or reported): Tesseract's segmentation drops some
        result_pages = [cover(read(p.image, p.index), p.image, text_regions(p.image),
                              lambda crop, i=p.index: read(crop, i, line=True)) for p in pages]
        timings["recognize"] = time.perf_counter() - t1
    else:
        from .models import get_models
        from .pipeline import recognize_page

        models = get_models()
        timings["models"] = time.perf_counter() - t1
        result_pages = [recognize_page(p.image, options, models, index=p.index, timings=timings) for p in pages]
    timings["total"] = time.perf_counter() - t0
    src = pages[0].source if pages else ""
    return OcrResult(pages=result_pages, language=options.language.value, mode=options.mode.value,
                     source=src, timings=timings)


def recognize(source: Any, **options: Any) -> OcrResult:
    """One-shot helper: ``inkread.recognize("note.jpg", mode="handwritten", language="fr")``."""
    return OcrEngine().recognize(source, **options)
