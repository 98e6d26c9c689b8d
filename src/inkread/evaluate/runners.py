"""The systems a run scores, each behind one ``Runner``: inkread in-process, raw RapidOCR, the Tesseract
binary (also what ``bench/bench_pages.py`` runs in its worker processes)."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

from ..exceptions import MissingDependencyError, OcrException

#: Every system a run can score; ``inkread`` is always scored, the others are baselines.
SYSTEMS = ("inkread", "rapidocr", "tesseract")
BASELINES = ("rapidocr", "tesseract")
#: ``matched``: HANDWRITTEN for ``hw-*`` kinds, PRINTED for ``print-*`` kinds, AUTO otherwise.
MODES = ("auto", "handwritten", "printed", "matched")

RAPIDOCR_HINT = "pip install rapidocr onnxruntime"


class Runner:
    """One OCR system: ``recognize(image_path, kind=..., language=...)`` -> plain text."""

    name = ""

    def recognize(self, image_path: str | os.PathLike[str], *, kind: str = "", language: str | None = None) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        """Name and version, for reports."""
        return self.name


def _package_version(package: str) -> str:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:  # noqa: BLE001 - not installed, or no metadata
        return "?"


class InkreadRunner(Runner):
    """inkread itself: ``OcrEngine().recognize(path, mode=..., language=...).text``.

    ``mode`` is one of :data:`MODES`; ``matched`` picks HANDWRITTEN for ``hw-*`` kinds and PRINTED
    for ``print-*`` kinds. The local models are loaded in the constructor, so load time is not
    counted in the first sample's seconds. ``last_result`` keeps the latest :class:`OcrResult`.
    """

    name = "inkread"

    def __init__(self, mode: str = "auto", engine: Any = None) -> None:
        from ..engine import OcrEngine
        from ..options import RecognitionMode

        self.mode = mode if mode == "matched" else RecognitionMode.parse(mode).value
        self.engine = engine if engine is not None else OcrEngine()
        self.last_result: Any = None
        if hasattr(self.engine, "warmup"):  # a local engine loads its models now
            self.engine.warmup()

    def mode_for(self, kind: str) -> str:
        """The recognition mode used for a sample of ``kind``."""
        if self.mode != "matched":
            return self.mode
        if kind.startswith("hw-"):
            return "handwritten"
        if kind.startswith("print-"):
            return "printed"
        return "auto"

    def recognize(self, image_path: str | os.PathLike[str], *, kind: str = "", language: str | None = None) -> str:
        self.last_result = None
        result = self.engine.recognize(os.fspath(image_path), mode=self.mode_for(kind), language=language or None)
        self.last_result = result
        if hasattr(result, "text"):
            return str(result.text)
        if isinstance(result, (list, tuple)):  # one result per page
            return "\n".join(str(page.text) for page in result)
        return str(result)

    def describe(self) -> str:
        from .._version import __version__

        return f"inkread {__version__}"


class RapidOcrRunner(Runner):
    """Raw RapidOCR with its default models: one detected box = one line, sorted by top edge."""

    name = "rapidocr"

    def __init__(self) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as error:
            raise MissingDependencyError(
                f"the rapidocr baseline needs the rapidocr package ({error})", hint=RAPIDOCR_HINT
            ) from error
        # RapidOCR logs a few INFO lines per model as it loads (and resets its logger's level
        # while doing so): keep them off stderr.
        previous = logging.root.manager.disable
        logging.disable(logging.INFO)
        try:
            self.engine = RapidOCR()
        finally:
            logging.disable(previous)
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)

    def recognize(self, image_path: str | os.PathLike[str], *, kind: str = "", language: str | None = None) -> str:
        path = Path(image_path)
        if not path.is_file():  # RapidOCR would try to read it as a URL or array
            raise FileNotFoundError(f"no such file: {path}")
        out = self.engine(os.fspath(path))
        boxes = getattr(out, "boxes", None)
        texts = getattr(out, "txts", None)
        if boxes is None or texts is None or len(texts) == 0:
            return ""
        keyed = []
        for box, text in zip(boxes, texts):
            ys = [float(point[1]) for point in box]
            xs = [float(point[0]) for point in box]
            keyed.append((min(ys), min(xs), str(text)))
        keyed.sort(key=lambda item: (item[0], item[1]))
        return "\n".join(text for _, _, text in keyed)

    def describe(self) -> str:
        return f"rapidocr {_package_version('rapidocr')}"


class TesseractRunner(Runner):
    """The ``tesseract`` binary as a user runs it, one process per image (``--psm 7`` for ``*-line``
    kinds, else 3), through inkread's Tesseract driver (:mod:`inkread.backends.tesseract`: the binary,
    its languages, the call) but none of inkread's work on top: the raw text."""

    name = "tesseract"

    def __init__(self, binary: str = "tesseract", timeout: float = 600.0) -> None:
        from ..backends import tesseract as driver

        self.binary = driver.tesseract_binary(binary)
        self.timeout = timeout
        self.installed = driver.list_langs(self.binary)

    @staticmethod
    def tesseract_lang(language: str | None) -> str:
        """Tesseract's language data name for ``language`` (``en`` -> ``eng``); ``eng`` if unset."""
        key = (language or "en").strip()
        try:
            from ..languages import Language

            info = Language.parse(key).info
            return info.tesseract or info.iso3
        except OcrException:
            return key  # maybe already a tesseract name ("chi_sim")

    def lang_for(self, language: str | None) -> str:
        from ..backends.tesseract import package_for

        lang = self.tesseract_lang(language)
        if lang not in self.installed:
            raise MissingDependencyError(
                f"tesseract has no {lang!r} language data", hint=f"apt-get install {package_for(lang)}"
            )
        return lang

    def recognize(self, image_path: str | os.PathLike[str], *, kind: str = "", language: str | None = None) -> str:
        from ..backends.tesseract import run_tesseract

        psm = 7 if kind.endswith(("-line", "-word")) else 3
        text = run_tesseract(
            self.binary,
            os.fspath(image_path),
            self.lang_for(language),
            psm,
            output="txt",
            timeout=self.timeout,
            one_thread=False,
        ).replace("\f", "\n")
        return "\n".join(line for line in text.splitlines() if line.strip())

    def describe(self) -> str:
        try:
            proc = subprocess.run([self.binary, "--version"], capture_output=True, text=True, timeout=30)
            return (proc.stdout or proc.stderr).splitlines()[0].strip()
        except (OSError, subprocess.SubprocessError, IndexError):
            return "tesseract"


def make_runner(
    system: str, *, mode: str = "matched", tesseract: str = "tesseract", timeout: float = 600.0, engine: Any = None
) -> Runner:
    """The runner for ``system`` (one of :data:`SYSTEMS`)."""
    if system == "inkread":
        return InkreadRunner(mode, engine=engine)
    if system == "rapidocr":
        return RapidOcrRunner()
    if system == "tesseract":
        return TesseractRunner(tesseract, timeout)
    raise ValueError(f"unknown system {system!r} (choose from {', '.join(SYSTEMS)})")
