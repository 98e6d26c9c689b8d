"""The Tesseract backend: the system's Tesseract 5 (driven by :mod:`.tesseract`) for the languages
PP-OCRv6 does not read, printed text only, with inkread's checks around it: the page's turn (its
OSD where sure, else both readings compared) and coverage (every line PP-OCRv6's detector finds is
read, or reported unread: :mod:`inkread.coverage`). It ignores the preprocessing, lexicon and
checkbox options (:class:`~.base.Capabilities`)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from .base import Capabilities, PageReading

__all__ = ["TesseractRecognizer", "OSD_SURE"]

#: Tesseract OSD's orientation confidence from which its turn is taken
OSD_SURE = 1.5


class TesseractRecognizer:
    name = "tesseract"
    label = "tesseract"
    capabilities = Capabilities()

    def check_language(self, options: Any) -> None:
        from . import tesseract

        tesseract.check_language(options.language)

    def warmup(self) -> None:
        pass  # a process per page: nothing to load ahead

    def read_page(self, page: Any, options: Any, *, osd: Callable[[], Any]) -> PageReading:
        from ..coverage import cover, second_look
        from ..orientation import turn, turned_back
        from . import tesseract
        from .ppocr.page import text_regions

        t0 = time.perf_counter()

        def read(image: Any, index: int, line: bool | None = None) -> Any:
            return tesseract.recognize_page(image, options.language, index, mode=options.mode.value, line=line)

        upright_regions = functools.cache(lambda: text_regions(page.image))  # detected once, if at all
        rotation, first = self.rotation(page.image, options, lambda img: read(img, page.index), osd, upright_regions)
        image = turn(page.image, rotation)
        # every line the detector finds is read (or reported): Tesseract's segmentation drops some
        done = cover(
            first if first is not None else read(image, page.index),
            image,
            text_regions(image) if rotation else upright_regions(),
            lambda crop: read(crop, page.index, line=True),
        )
        done = second_look(done, image, lambda crop: read(crop, page.index, line=True))
        if rotation:
            done = turned_back(done, rotation, page.image.shape[1], page.image.shape[0])
        return PageReading(done, {"recognize": time.perf_counter() - t0})

    @staticmethod
    def rotation(
        image: Any, options: Any, read: Callable[[Any], Any], osd: Callable[[], Any], regions: Callable[[], Any]
    ) -> tuple[int, Any]:
        """The clockwise turn that makes a page Tesseract reads upright, and its reading when one was
        made on the way. Tesseract's OSD (``osd()``) decides where it is sure; where it cannot tell (a
        few lines of Arabic or Hindi: "too few characters"), the detector's boxes (``regions()``) say
        whether lines run across or up the page and Tesseract reads it both ways, the more confident
        reading winning."""
        if options.rotate != "auto":
            return int(options.rotate), None
        found = osd()
        if found is not None and found.rotate is not None and found.rotate_confidence >= OSD_SURE:
            return found.rotate, None
        from ..orientation import line_direction, turn

        sideways = line_direction(regions())[0]
        reads = {r: read(turn(image, r)) for r in ((90, 270) if sideways else (0, 180))}
        best = max(reads, key=lambda r: (reads[r].confidence, -r))
        return best, reads[best]
