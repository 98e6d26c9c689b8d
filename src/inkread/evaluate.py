"""Score inkread on images with ground-truth text: ``inkread eval DATASET``.

A dataset is a folder of images with a ground-truth ``.txt`` beside each (``page1.png`` +
``page1.txt``), a folder with a ``manifest.tsv`` (the evaluation set's layout, see
:mod:`inkread.evalset`), or such a manifest file itself. Every sample is recognised by one
in-process :class:`~inkread.engine.OcrEngine` and, on request, by baseline systems (raw RapidOCR,
the Tesseract binary), and scored with :mod:`inkread.metrics`: CER, WER (whitespace collapsed;
``sroie`` case-folded), line-count accuracy, line order and line CER, and seconds per image.

Results are aggregated per kind, per kind and set, and overall, and written as a report folder:

* ``samples.tsv`` -- one row per sample and system, worst samples first;
* ``report.json`` -- ``{"summary": ..., "samples": [...]}``, samples worst first, with the
  reference, each system's output and its scores;
* ``report.html`` -- one self-contained page (inline CSS, embedded thumbnails, no scripts): the
  summary tables, then every sample, worst first, with a word-level diff of ground truth and output.

"Worst first": the samples inkread could not read at all, then by inkread's CER (then WER). A
sample that fails is scored as an empty output, counted in ``errors`` and listed; the run goes on.

The system runners here are also what ``bench/bench_pages.py`` runs in its worker processes, so the
benchmark and ``inkread eval`` read images the same way::

    >>> from inkread.evaluate import load_dataset, evaluate, write_reports  # doctest: +SKIP
    >>> dataset = load_dataset("../shared/eval", kinds="hw-page", limit=4)    # doctest: +SKIP
    >>> report = evaluate(dataset, baselines=["rapidocr"])                   # doctest: +SKIP
    >>> write_reports(report, "eval-report")                                 # doctest: +SKIP

Only the standard library and light inkread modules are imported at module level; models,
RapidOCR, Pillow and tqdm are imported when used.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import html
import io
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .exceptions import InputError, MissingDependencyError, OcrException
from .cli import positive_int

__all__ = [
    "SYSTEMS",
    "BASELINES",
    "MODES",
    "TESSERACT_LANGS",
    "Runner",
    "InkreadRunner",
    "RapidOcrRunner",
    "TesseractRunner",
    "make_runner",
    "Dataset",
    "EvalReport",
    "load_dataset",
    "evaluate",
    "aggregate",
    "word_diff",
    "diff_text",
    "diff_html",
    "thumbnail_data_uri",
    "render_summary",
    "render_html",
    "render_tsv",
    "write_reports",
    "markdown_table",
    "fmt_pct",
    "fmt_num",
    "add_arguments",
    "run",
]

#: Every system a run can score; ``inkread`` is always scored, the others are baselines.
SYSTEMS = ("inkread", "rapidocr", "tesseract")
BASELINES = ("rapidocr", "tesseract")
#: ``matched``: HANDWRITTEN for ``hw-*`` kinds, PRINTED for ``print-*`` kinds, AUTO otherwise.
MODES = ("auto", "handwritten", "printed", "matched")
#: Short language codes -> Tesseract language data names (others go through inkread.Language).
TESSERACT_LANGS = {"en": "eng", "fr": "fra", "de": "deu", "sv": "swe", "es": "spa", "it": "ita",
                   "nl": "nld", "pt": "por"}

RAPIDOCR_HINT = "pip install rapidocr onnxruntime"
TESSERACT_HINT = "apt-get install tesseract-ocr (or brew install tesseract)"

#: Per-sample scores, in the order the TSV and the tables show them.
SCORE_KEYS = ("cer", "wer", "line_cer", "ref_lines", "hyp_lines", "count_match", "order_ok")


# =============================================================================================
# System runners (shared with bench/bench_pages.py)


class Runner:
    """One OCR system: ``recognize(image_path, kind=..., language=...)`` -> plain text."""

    name = ""

    def recognize(self, image_path: str | os.PathLike[str], *, kind: str = "",
                  language: str | None = None) -> str:
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
        from .engine import OcrEngine
        from .options import RecognitionMode

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

    def recognize(self, image_path: str | os.PathLike[str], *, kind: str = "",
                  language: str | None = None) -> str:
        self.last_result = None
        result = self.engine.recognize(os.fspath(image_path), mode=self.mode_for(kind),
                                       language=language or None)
        self.last_result = result
        if hasattr(result, "text"):
            return str(result.text)
        if isinstance(result, (list, tuple)):  # one result per page
            return "\n".join(str(page.text) for page in result)
        return str(result)

    def describe(self) -> str:
        from ._version import __version__

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

    def recognize(self, image_path: str | os.PathLike[str], *, kind: str = "",
                  language: str | None = None) -> str:
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
    """The ``tesseract`` binary, one process per image (``--psm 7`` for ``*-line`` kinds, else 3)."""

    name = "tesseract"

    def __init__(self, binary: str = "tesseract", timeout: float = 600.0) -> None:
        found = shutil.which(binary)
        if found is None:
            raise MissingDependencyError(
                f"the tesseract baseline needs the tesseract binary ({binary!r} not found on PATH)",
                hint=TESSERACT_HINT,
            )
        self.binary = found
        self.timeout = timeout
        try:
            proc = subprocess.run([found, "--list-langs"], capture_output=True, text=True,
                                  check=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as error:
            raise MissingDependencyError(f"cannot run {found} --list-langs: {error}",
                                         hint=TESSERACT_HINT) from error
        self.installed = {line.strip() for line in proc.stdout.splitlines()[1:] if line.strip()}

    @staticmethod
    def tesseract_lang(language: str | None) -> str:
        """Tesseract's language data name for ``language`` (``en`` -> ``eng``); ``eng`` if unset."""
        key = (language or "en").strip()
        if key.lower() in TESSERACT_LANGS:
            return TESSERACT_LANGS[key.lower()]
        try:
            from .languages import Language

            info = Language.parse(key).info
            return info.tesseract or info.iso3
        except OcrException:
            return key  # maybe already a tesseract name ("chi_sim")

    def lang_for(self, language: str | None) -> str:
        lang = self.tesseract_lang(language)
        if lang not in self.installed:
            raise MissingDependencyError(
                f"tesseract has no {lang!r} language data",
                hint=f"apt-get install tesseract-ocr-{lang.replace('_', '-').lower()}",
            )
        return lang

    def recognize(self, image_path: str | os.PathLike[str], *, kind: str = "",
                  language: str | None = None) -> str:
        psm = "7" if kind.endswith("-line") else "3"
        cmd = [self.binary, os.fspath(image_path), "stdout", "-l", self.lang_for(language),
               "--psm", psm]
        proc = subprocess.run(cmd, capture_output=True, timeout=self.timeout)
        if proc.returncode != 0:
            detail = " ".join(proc.stderr.decode("utf-8", "replace").split())[-300:]
            raise RuntimeError(f"tesseract exited {proc.returncode}: {detail}")
        text = proc.stdout.decode("utf-8", "replace").replace("\f", "\n")
        return "\n".join(line for line in text.splitlines() if line.strip())

    def describe(self) -> str:
        try:
            proc = subprocess.run([self.binary, "--version"], capture_output=True, text=True,
                                  timeout=30)
            return (proc.stdout or proc.stderr).splitlines()[0].strip()
        except (OSError, subprocess.SubprocessError, IndexError):
            return "tesseract"


def make_runner(system: str, *, mode: str = "matched", tesseract: str = "tesseract",
                timeout: float = 600.0, engine: Any = None) -> Runner:
    """The runner for ``system`` (one of :data:`SYSTEMS`)."""
    if system == "inkread":
        return InkreadRunner(mode, engine=engine)
    if system == "rapidocr":
        return RapidOcrRunner()
    if system == "tesseract":
        return TesseractRunner(tesseract, timeout)
    raise ValueError(f"unknown system {system!r} (choose from {', '.join(SYSTEMS)})")


# =============================================================================================
# Datasets


@dataclass
class Dataset:
    """The samples to score, and where they came from."""

    path: Path  # what the user named (folder or manifest file), resolved
    samples: list[Any]  # inkread.evalset.Sample
    manifest: Path | None = None  # the manifest read, if any
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def has_kinds(self) -> bool:
        return self.manifest is not None


def _csv_values(values: Iterable[str] | str | None) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = values.split(",")
    cleaned = [v.strip() for v in values if v and v.strip()]
    return cleaned or None


def _load_manifest_file(manifest: Path, *, sets: list[str] | None,
                        kinds: list[str] | None) -> list[Any]:
    """Samples of a manifest file named anything (images/ and gt/ beside it)."""
    from . import evalset

    try:
        return evalset.load_manifest(manifest, sets=sets, kinds=kinds)
    except ValueError as exc:
        raise InputError(f"{manifest}: not a manifest ({exc})",
                         hint="tab-separated with a header row: id, set, kind, language") from None


def load_dataset(path: str | os.PathLike[str], *, kinds: Iterable[str] | str | None = None,
                 sets: Iterable[str] | str | None = None, language: str = "en",
                 limit: int | None = None) -> Dataset:
    """Read a dataset: a folder with a ``manifest.tsv``, a manifest file, or a plain folder.

    Plain folders: every image with a sibling ``<stem>.txt`` (recursively); each sample gets kind
    ``page`` and ``language``, and its sub-folder as set. ``kinds`` / ``sets`` filter (``kinds``
    only applies to manifests); ``limit`` keeps the first N samples of each kind, in order.

    Raises ``FileNotFoundError`` for a missing path, :class:`~inkread.exceptions.InputError` for a
    path that is not a dataset or holds no samples.
    """
    from . import evalset

    raw = Path(path).expanduser()
    if not raw.exists():
        raise FileNotFoundError(f"dataset not found: {raw}")
    kinds_list, sets_list = _csv_values(kinds), _csv_values(sets)
    manifest: Path | None = None
    if raw.is_file():
        if raw.suffix.lower() not in (".tsv", ".txt", ".csv") and raw.name != "manifest.tsv":
            raise InputError(f"{raw}: not a dataset",
                             hint="give a folder of images with a .txt beside each, a folder with "
                                  "a manifest.tsv, or the manifest file")
        manifest = raw.resolve()
        samples = _load_manifest_file(manifest, sets=sets_list, kinds=kinds_list)
    elif (raw / "manifest.tsv").is_file():
        manifest = (raw / "manifest.tsv").resolve()
        samples = evalset.load_manifest(raw, sets=sets_list, kinds=kinds_list)
    else:
        samples = evalset.load_samples(raw, sets=sets_list, folder_language=language)

    if not samples:
        what = "images with a ground-truth .txt beside them" if manifest is None else "samples"
        detail = []
        if manifest is not None and (kinds_list or sets_list):
            everything = _load_manifest_file(manifest, sets=None, kinds=None)
            if kinds_list:
                detail.append(f"kinds {','.join(kinds_list)} (it has "
                              f"{', '.join(sorted({s.kind for s in everything})) or 'none'})")
            if sets_list:
                detail.append(f"sets {','.join(sets_list)} (it has "
                              f"{', '.join(sorted({s.set for s in everything})) or 'none'})")
        elif sets_list:
            detail.append(f"sets {','.join(sets_list)}")
        raise InputError(
            f"no {what} in {raw}" + (" for " + "; ".join(detail) if detail else ""),
            hint=None if manifest is not None else
            "each image needs its ground truth as <same name>.txt, or give a manifest.tsv",
        )
    if limit is not None:
        counts: dict[str, int] = {}
        kept = []
        for sample in samples:
            counts[sample.kind] = counts.get(sample.kind, 0) + 1
            if counts[sample.kind] <= limit:
                kept.append(sample)
        samples = kept
    return Dataset(path=raw.resolve(), samples=samples, manifest=manifest,
                   filters={"kinds": kinds_list, "sets": sets_list, "limit": limit})


# =============================================================================================
# Scoring


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Means over per-sample scores (each a mapping with the keys of :func:`inkread.metrics.score`,
    ``seconds`` and ``error``).

    ``count_match`` / ``order_ok`` become shares of samples; ``seconds`` is the mean over samples
    without an error (``None`` when there are none); ``errors`` counts samples with an error.
    A sample that failed is scored as an empty output, so it counts in every other mean.
    """
    rows = list(rows)
    timed = [float(r["seconds"]) for r in rows if r.get("seconds") is not None and not r.get("error")]
    return {
        "n": len(rows),
        "cer": _mean([float(r["cer"]) for r in rows]),
        "wer": _mean([float(r["wer"]) for r in rows]),
        "line_cer": _mean([float(r["line_cer"]) for r in rows]),
        "count_match": _mean([1.0 if r["count_match"] else 0.0 for r in rows]),
        "order_ok": _mean([1.0 if r["order_ok"] else 0.0 for r in rows]),
        "seconds": _mean(timed),
        "errors": sum(1 for r in rows if r.get("error")),
    }


def _sample_key(sample: Any) -> str:
    return f"{sample.set}/{sample.id}"


def _error_text(error: BaseException) -> str:
    message = str(error)
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        message = f"{os.fsdecode(error.filename)}: {error.strerror}"
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return " ".join(text.split())[:500]


@dataclass
class EvalReport:
    """What :func:`evaluate` returns: a summary and the per-sample records, worst first."""

    summary: dict[str, Any]
    samples: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "samples": self.samples}


def _worst_first(record: Mapping[str, Any]) -> tuple:
    main = record["systems"]["inkread"]
    return (0 if main["error"] else 1, -main["cer"], -main["wer"], -main["line_cer"],
            record["set"], record["id"])


def evaluate(dataset: Dataset | Sequence[Any], *, baselines: Sequence[str] = (),
             mode: str | None = None, language: str = "en", tesseract: str = "tesseract",
             timeout: float = 600.0, engine: Any = None,
             progress: Callable[[str, Any], None] | None = None) -> EvalReport:
    """Recognise and score every sample with inkread and each of ``baselines``.

    ``mode``: one of :data:`MODES`; ``None`` means ``matched`` for a manifest (it has kinds) and
    ``auto`` for a plain folder. ``language`` is used for samples whose manifest gives none.
    Every runner is built (and every baseline checked) before any sample is read, so a missing
    baseline fails at once with :class:`~inkread.exceptions.MissingDependencyError`. A sample that
    cannot be read is scored as an empty output with its ``error`` set; the run goes on.
    ``progress(system, sample)`` is called after each sample.
    """
    if isinstance(dataset, Dataset):
        samples, has_kinds, source = list(dataset.samples), dataset.has_kinds, dataset
    else:
        samples, source = list(dataset), None
        has_kinds = any(s.kind in ("hw-line", "hw-page", "print-line", "print-page") for s in samples)
    if mode is None:
        mode = "matched" if has_kinds else "auto"
    if mode not in MODES:
        raise OcrException(f"unknown mode {mode!r}", hint="use one of: " + ", ".join(MODES))
    baselines = list(dict.fromkeys(baselines))
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise OcrException(f"unknown baseline(s): {', '.join(unknown)}",
                           hint="choose from " + ", ".join(BASELINES))
    from .languages import Language
    from .metrics import casefold_for_set, score

    Language.parse(language)  # a bad --lang fails now, not once per sample
    languages = {(s.language or language) for s in samples}

    systems = ["inkread", *baselines]
    runners: dict[str, Runner] = {}
    load_seconds: dict[str, float] = {}
    for system in reversed(systems):  # baselines first: a missing one fails before the long part
        started = time.perf_counter()
        runner = make_runner(system, mode=mode, tesseract=tesseract, timeout=timeout, engine=engine)
        if isinstance(runner, TesseractRunner):
            for lang in sorted(languages):
                runner.lang_for(lang)
        load_seconds[system] = time.perf_counter() - started
        runners[system] = runner

    records: dict[str, dict[str, Any]] = {}
    for sample in samples:
        records[_sample_key(sample)] = {
            "id": sample.id, "set": sample.set, "kind": sample.kind,
            "language": sample.language or language,
            "mode": runners["inkread"].mode_for(sample.kind),  # type: ignore[attr-defined]
            "image": os.fspath(sample.image_path), "ground_truth": os.fspath(sample.gt_path),
            "casefold": casefold_for_set(sample.set), "reference": "", "systems": {},
        }
    gt_errors: dict[str, str] = {}
    for sample in samples:
        try:
            records[_sample_key(sample)]["reference"] = sample.read_gt()
        except (OSError, UnicodeDecodeError) as error:
            gt_errors[_sample_key(sample)] = f"ground truth unreadable: {_error_text(error)}"

    wall_started = time.perf_counter()
    for system in systems:
        runner = runners[system]
        for sample in samples:
            record = records[_sample_key(sample)]
            text, error, extra = "", "", {}
            started = time.perf_counter()
            try:
                text = runner.recognize(sample.image_path, kind=sample.kind,
                                        language=record["language"])
            except Exception as exc:  # noqa: BLE001 - one bad sample must not stop the run
                error = _error_text(exc)
            seconds = time.perf_counter() - started
            if not error and isinstance(runner, InkreadRunner) and runner.last_result is not None:
                modes = [getattr(p, "mode", "") for p in getattr(runner.last_result, "pages", [])]
                extra["resolved_mode"] = ",".join(m for m in modes if m)
            error = error or gt_errors.get(_sample_key(sample), "")
            scores = score(record["reference"], text, set_name=sample.set)
            record["systems"][system] = {"text": text, "seconds": seconds, "error": error,
                                         **scores, **extra}
            if progress is not None:
                progress(system, sample)
    wall = time.perf_counter() - wall_started

    ordered = sorted(records.values(), key=_worst_first)
    for rank, record in enumerate(ordered, 1):
        record["rank"] = rank
        for result in record["systems"].values():
            result["diff"] = diff_text(word_diff(record["reference"], result["text"],
                                                 casefold=record["casefold"]))

    summary = _summarize(ordered, systems, runners, load_seconds, mode=mode, language=language,
                         source=source, wall=wall)
    return EvalReport(summary=summary, samples=ordered)


def _summarize(records: list[dict[str, Any]], systems: list[str], runners: Mapping[str, Runner],
               load_seconds: Mapping[str, float], *, mode: str, language: str,
               source: Dataset | None, wall: float) -> dict[str, Any]:
    kinds = list(dict.fromkeys(r["kind"] for r in records))
    kinds = sorted(kinds, key=lambda k: (_KIND_ORDER.get(k, 99), k))

    def rows(system: str, pick: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [r["systems"][system] for r in records if pick(r)]

    overall = {s: aggregate(rows(s, lambda r: True)) for s in systems}
    by_kind = {k: {s: aggregate(rows(s, lambda r, k=k: r["kind"] == k)) for s in systems}
               for k in kinds}
    by_set: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in kinds:
        sets = sorted({r["set"] for r in records if r["kind"] == kind})
        by_set[kind] = {
            name: {s: aggregate(rows(s, lambda r, k=kind, n=name: r["kind"] == k and r["set"] == n))
                   for s in systems}
            for name in sets
        }
    errors = [
        {"system": s, "id": r["id"], "set": r["set"], "kind": r["kind"],
         "error": r["systems"][s]["error"], "image": r["image"]}
        for s in systems for r in records if r["systems"][s]["error"]
    ]
    summary: dict[str, Any] = {
        "dataset": os.fspath(source.path) if source is not None else None,
        "manifest": os.fspath(source.manifest) if source is not None and source.manifest else None,
        "filters": dict(source.filters) if source is not None else {},
        "created": datetime.now().isoformat(timespec="seconds"),
        "command": None,
        "mode": mode,
        "default_language": language,
        "systems": systems,
        "system_info": {s: {"version": runners[s].describe(), "load_seconds": load_seconds[s]}
                        for s in systems},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "n": len(records),
        "kinds": kinds,
        "wall_seconds": wall,
        "overall": overall,
        "by_kind": by_kind,
        "by_set": by_set,
        "errors": errors,
    }
    return summary


_KIND_ORDER = {"hw-page": 0, "print-page": 1, "hw-line": 2, "print-line": 3, "page": 4}


# =============================================================================================
# Diffs and thumbnails


def word_diff(reference: str, hypothesis: str, *, casefold: bool = False
              ) -> list[tuple[str, list[str], list[str]]]:
    """Word-level diff of the two texts as scored (NFC, whitespace collapsed, optional case-fold).

    Returns ``(op, reference_words, hypothesis_words)`` with ``op`` one of ``equal``, ``delete``
    (words only in the reference), ``insert`` (only in the output) and ``replace``.
    """
    from .metrics import normalize_text

    ref = normalize_text(reference, casefold=casefold).split()
    hyp = normalize_text(hypothesis, casefold=casefold).split()
    matcher = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False)
    return [(op, ref[i1:i2], hyp[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes()]


def diff_text(ops: Sequence[tuple[str, list[str], list[str]]]) -> str:
    """A diff as one line, wdiff style: ``same [-only in reference-] {+only in output+}``."""
    parts = []
    for op, ref, hyp in ops:
        if op == "equal":
            parts.append(" ".join(ref))
            continue
        if ref:
            parts.append("[-" + " ".join(ref) + "-]")
        if hyp:
            parts.append("{+" + " ".join(hyp) + "+}")
    return " ".join(parts)


def diff_html(ops: Sequence[tuple[str, list[str], list[str]]]) -> str:
    """A diff as HTML: ``<del>`` for words missing from the output, ``<ins>`` for extra words."""
    parts = []
    for op, ref, hyp in ops:
        if op == "equal":
            parts.append(html.escape(" ".join(ref)))
            continue
        if ref:
            parts.append("<del>" + html.escape(" ".join(ref)) + "</del>")
        if hyp:
            parts.append("<ins>" + html.escape(" ".join(hyp)) + "</ins>")
    return " ".join(parts)


def thumbnail_data_uri(path: str | os.PathLike[str], *, max_width: int = 400,
                       max_height: int = 800, quality: int = 70) -> str | None:
    """A small JPEG of the image's first page as a ``data:`` URI, or ``None`` if it cannot be read."""
    try:
        from PIL import Image

        from .io import load_pages

        page = load_pages(os.fspath(path), pages=[0])[0]
        image = Image.fromarray(page.image)
        image.thumbnail((max_width, max_height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=quality, optimize=True)
    except Exception:  # noqa: BLE001 - a report without a picture is still a report
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# =============================================================================================
# Rendering


def fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def fmt_num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   text_columns: int = 2) -> list[str]:
    """A Markdown table (the first ``text_columns`` left-aligned, the rest right-aligned)."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < text_columns else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


_DETAIL_HEADER = ["n", "CER", "WER", "line CER", "line count =", "order ok", "s / image", "errors"]


def _detail_cells(agg: Mapping[str, Any]) -> list[str]:
    return [str(agg["n"]), fmt_pct(agg["cer"]), fmt_pct(agg["wer"]), fmt_pct(agg["line_cer"]),
            fmt_pct(agg["count_match"]), fmt_pct(agg["order_ok"]), fmt_num(agg["seconds"]),
            str(agg["errors"])]


def _compare_rows(summary: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    systems = summary["systems"]
    header = ["kind", "n"] + [f"{s} CER" for s in systems] + [f"{s} WER" for s in systems]
    groups = [(k, summary["by_kind"][k]) for k in summary["kinds"]]
    if len(groups) != 1:
        groups.append(("all", summary["overall"]))
    rows = []
    for name, aggs in groups:
        first = aggs[systems[0]]
        rows.append([name, str(first["n"])] + [fmt_pct(aggs[s]["cer"]) for s in systems]
                    + [fmt_pct(aggs[s]["wer"]) for s in systems])
    return header, rows


def render_summary(summary: Mapping[str, Any], reports: Mapping[str, Path | str] | None = None) -> str:
    """The summary as Markdown-ish text: CER/WER per kind, details per kind and per set, errors."""
    systems = summary["systems"]
    filters = summary.get("filters") or {}
    n_kind = ", ".join(f"{k}: {summary['by_kind'][k][systems[0]]['n']}" for k in summary["kinds"])
    lines = [f"# inkread eval: {summary.get('dataset') or 'samples'}", ""]
    scope = f"{summary['n']} samples ({n_kind})"
    if filters.get("limit"):
        scope += f", first {filters['limit']} per kind"
    lines.append(f"{scope}; mode {summary['mode']}; systems {', '.join(systems)}; "
                 f"{summary['wall_seconds']:.0f} s")
    lines.append("")
    header, rows = _compare_rows(summary)
    lines += markdown_table(header, rows, 1) + [""]

    lines += ["## By kind", ""]
    rows = []
    for kind in summary["kinds"]:
        for system in systems:
            rows.append([kind, system] + _detail_cells(summary["by_kind"][kind][system]))
    if len(summary["kinds"]) != 1:
        for system in systems:
            rows.append(["all", system] + _detail_cells(summary["overall"][system]))
    lines += markdown_table(["kind", "system"] + _DETAIL_HEADER, rows) + [""]

    lines += ["## By set", ""]
    rows = []
    for kind in summary["kinds"]:
        for set_name, aggs in summary["by_set"][kind].items():
            for system in systems:
                rows.append([kind, set_name, system] + _detail_cells(aggs[system]))
    lines += markdown_table(["kind", "set", "system"] + _DETAIL_HEADER, rows, 3) + [""]

    loads = ", ".join(f"{s} {summary['system_info'][s]['load_seconds']:.1f} s" for s in systems)
    lines.append(f"Means over samples; CER/WER after NFC and collapsing whitespace (sroie "
                 f"case-folded); s / image excludes model loading ({loads}) and failed samples.")
    if summary["errors"]:
        lines += ["", f"## Errors ({len(summary['errors'])}, scored as empty output)", ""]
        lines += [f"- {e['system']} {e['set']}/{e['id']}: {e['error']}" for e in summary["errors"]]
    if reports:
        lines += ["", "Reports:"] + [f"  {path}" for path in reports.values()]
    return "\n".join(lines) + "\n"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:1200px;
padding:0 1em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
.meta{color:#555}table{border-collapse:collapse;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right;vertical-align:top}
th{background:#f4f4f6}td.t,th.t{text-align:left}
.sample{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.sample h3{margin:.2em 0 .5em;font-size:1.05em}.sample h3 .k{color:#666;font-weight:normal}
.sample.error{border-color:#c33}.err{color:#b00;font-weight:600}
.body{display:flex;gap:1em;align-items:flex-start}.thumb{flex:0 0 auto;max-width:400px}
.thumb img{max-width:400px;border:1px solid #ccc}.noimg{color:#b00;font-style:italic}
.res{flex:1 1 auto;min-width:0}.diff{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;
background:#fafafa;border:1px solid #eee;padding:.4em .6em;margin:.3em 0 .8em;white-space:pre-wrap;
overflow-wrap:anywhere}
del{background:#fdd;color:#900;text-decoration:line-through}ins{background:#dfd;color:#060;
text-decoration:none}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fafafa;
border:1px solid #eee;padding:.4em .6em;margin:.2em 0}
.bad{color:#b00}.ok{color:#060}.legend del,.legend ins{padding:0 .2em}
"""


def _h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int) -> str:
    out = ["<table><thead><tr>"]
    out += [f'<th class="t">{_h(c)}</th>' if i < text_columns else f"<th>{_h(c)}</th>"
            for i, c in enumerate(header)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(
            f'<td class="t">{_h(c)}</td>' if i < text_columns else f"<td>{_h(c)}</td>"
            for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_html(report: EvalReport, *, thumbnails: bool = True) -> str:
    """The report as one self-contained HTML page (inline CSS, embedded JPEG thumbnails, no JS)."""
    summary, samples = report.summary, report.samples
    systems = summary["systems"]
    title = f"inkread eval — {summary.get('dataset') or 'samples'}"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_h(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{_h(title)}</h1>"]
    info = "; ".join(f"{_h(summary['system_info'][s]['version'])} (load "
                     f"{summary['system_info'][s]['load_seconds']:.1f} s)" for s in systems)
    out.append(f'<p class="meta">{summary["n"]} samples; mode {_h(summary["mode"])}; {info}; '
               f'{_h(summary["created"])}; {summary["wall_seconds"]:.0f} s in all.</p>')
    if summary.get("command"):
        out.append(f'<p class="meta">Command: <code>{_h(summary["command"])}</code></p>')

    out.append("<h2>Summary</h2>")
    header, rows = _compare_rows(summary)
    out.append(_html_table(header, rows, 1))
    out.append("<h3>By kind</h3>")
    rows = [[kind, system] + _detail_cells(summary["by_kind"][kind][system])
            for kind in summary["kinds"] for system in systems]
    if len(summary["kinds"]) != 1:
        rows += [["all", system] + _detail_cells(summary["overall"][system]) for system in systems]
    out.append(_html_table(["kind", "system"] + _DETAIL_HEADER, rows, 2))
    out.append("<h3>By set</h3>")
    rows = [[kind, set_name, system] + _detail_cells(aggs[system])
            for kind in summary["kinds"] for set_name, aggs in summary["by_set"][kind].items()
            for system in systems]
    out.append(_html_table(["kind", "set", "system"] + _DETAIL_HEADER, rows, 3))
    out.append('<p class="meta">Means over samples. CER/WER after NFC and collapsing every '
               'whitespace run to one space (sroie case-folded). <i>line CER</i>: mean CER over a '
               'monotone alignment of non-empty lines (an unpaired line counts 100%). <i>line count '
               '=</i>: share of samples with as many lines as the reference; <i>order ok</i>: also '
               'in reading order. <i>s / image</i> excludes model loading and failed samples.</p>')
    if summary["errors"]:
        out.append(f"<h2>Errors ({len(summary['errors'])})</h2><p>Scored as empty output.</p><ul>")
        out += [f'<li><a href="#{_h(_anchor(e))}">{_h(e["set"])}/{_h(e["id"])}</a> '
                f'({_h(e["system"])}): <span class="err">{_h(e["error"])}</span></li>'
                for e in summary["errors"]]
        out.append("</ul>")

    out.append(f"<h2>Samples, worst first ({len(samples)})</h2>")
    out.append('<p class="legend meta">Diff of ground truth and output, word by word, as scored: '
               '<del>only in the ground truth</del> <ins>only in the output</ins>.</p>')
    for record in samples:
        main = record["systems"]["inkread"]
        failed = any(r["error"] for r in record["systems"].values())
        out.append(f'<section class="sample{" error" if failed else ""}" id="{_h(_anchor(record))}" '
                   f'data-rank="{record["rank"]}" data-id="{_h(record["id"])}" '
                   f'data-set="{_h(record["set"])}" data-cer="{main["cer"]:.6f}">')
        resolved = main.get("resolved_mode")
        mode = record["mode"] + (f" → {resolved}" if resolved and resolved != record["mode"] else "")
        out.append(f'<h3>#{record["rank"]} {_h(record["id"])} <span class="k">{_h(record["set"])} · '
                   f'{_h(record["kind"])} · {_h(record["language"])} · mode {_h(mode)} · '
                   f'inkread CER {fmt_pct(main["cer"])}, WER {fmt_pct(main["wer"])}</span></h3>')
        out.append('<div class="body"><div class="thumb">')
        uri = thumbnail_data_uri(record["image"]) if thumbnails else None
        if uri:
            out.append(f'<img src="{uri}" alt="{_h(record["id"])}">')
        else:
            out.append(f'<p class="noimg">(no preview: {_h(Path(record["image"]).name)})</p>')
        out.append('</div><div class="res">')
        rows = []
        for system in systems:
            r = record["systems"][system]
            rows.append([system, fmt_pct(r["cer"]), fmt_pct(r["wer"]), fmt_pct(r["line_cer"]),
                         f'{r["hyp_lines"]}/{r["ref_lines"]}', "yes" if r["order_ok"] else "no",
                         fmt_num(r["seconds"])])
        out.append(_html_table(["system", "CER", "WER", "line CER", "lines out/ref", "order ok",
                                "s"], rows, 1))
        for system in systems:
            r = record["systems"][system]
            out.append(f"<div><b>{_h(system)}</b>")
            if r["error"]:
                out.append(f' <span class="err">error: {_h(r["error"])}</span>')
            ops = word_diff(record["reference"], r["text"], casefold=record["casefold"])
            out.append(f'<div class="diff">{diff_html(ops) or "<i>(both empty)</i>"}</div></div>')
        out.append("<details><summary>texts with their lines</summary>")
        out.append(f"<div><b>ground truth</b><pre>{_h(record['reference'])}</pre></div>")
        for system in systems:
            out.append(f"<div><b>{_h(system)}</b><pre>{_h(record['systems'][system]['text'])}</pre></div>")
        out.append("</details></div></div></section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _anchor(record: Mapping[str, Any]) -> str:
    return "s-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{record['set']}--{record['id']}")


TSV_COLUMNS = ["rank", "id", "set", "kind", "language", "system", "mode", "resolved_mode",
               *SCORE_KEYS, "seconds", "error", "image", "reference", "output", "diff"]


def _tsv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6f}"
    return " ".join(str(value).split())


def render_tsv(report: EvalReport) -> str:
    """One row per sample and system, samples worst first; texts with whitespace collapsed."""
    from .metrics import normalize_text

    lines = ["\t".join(TSV_COLUMNS)]
    for record in report.samples:
        for system, r in record["systems"].items():
            row = {**record, **r, "system": system, "output": normalize_text(r["text"]),
                   "reference": normalize_text(record["reference"]),
                   "mode": record["mode"] if system == "inkread" else ""}
            lines.append("\t".join(_tsv(row.get(c)) for c in TSV_COLUMNS))
    return "\n".join(lines) + "\n"


def write_reports(report: EvalReport, out_dir: str | os.PathLike[str], *,
                  thumbnails: bool = True) -> dict[str, Path]:
    """Write ``report.html``, ``report.json`` and ``samples.tsv`` into ``out_dir`` (created)."""
    from .cli import CliError, write_atomic

    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise CliError(f"cannot write the report to {folder}: it exists and is not a folder",
                       hint="give another -o REPORT_DIR")
    paths = {"html": folder / "report.html", "json": folder / "report.json",
             "tsv": folder / "samples.tsv"}
    write_atomic(paths["tsv"], render_tsv(report))
    write_atomic(paths["json"], json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n")
    write_atomic(paths["html"], render_html(report, thumbnails=thumbnails))
    return paths


# =============================================================================================
# The ``inkread eval`` command


DESCRIPTION = """\
Score inkread on images with ground-truth text: CER, WER, line-count accuracy, line order,
line CER and seconds per image, per kind, per set and overall, optionally side by side with
baselines (raw RapidOCR, Tesseract). Writes REPORT_DIR/report.html (summary, then every sample
worst first with its thumbnail and a diff of ground truth and output), report.json and
samples.tsv; prints the summary on stdout.

DATASET is a folder of images with a ground-truth .txt beside each (page1.png + page1.txt,
sub-folders become sets), a folder with a manifest.tsv (columns id, set, kind, language;
images/<set>/<id>.<ext> and gt/<set>/<id>.txt beside it), or that manifest file itself.
Scoring: NFC, every whitespace run collapsed to one space, the 'sroie' set case-folded; line
structure is scored separately."""

EPILOG = """\
examples:
  inkread eval scans/                       # scans/page1.png + scans/page1.txt ...
  inkread eval ../shared/eval --kinds hw-page --limit 4 --baseline rapidocr
  inkread eval ../shared/eval/manifest.tsv --sets sroie --format json -o sroie-report/

A sample whose image cannot be read is scored as an empty output, listed, and the run goes on.
A missing baseline stops the run before it starts, naming the package to install."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``inkread eval`` options."""
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.add_argument("dataset", metavar="DATASET",
                        help="folder of images + .txt, folder with manifest.tsv, or a manifest file")
    parser.add_argument("--mode", "-m", choices=MODES, default=None,
                        help="inkread's recognition mode; matched = handwritten for hw-* kinds, "
                             "printed for print-* (default: matched with a manifest, else auto)")
    parser.add_argument("--lang", "--language", "-l", dest="lang", default="en", metavar="LANG",
                        help="language of samples whose manifest gives none (plain folders: all); "
                             "default en")
    parser.add_argument("--baseline", "-b", action="append", default=None, metavar="NAMES",
                        help=f"also score these systems, comma-separated: {', '.join(BASELINES)}")
    parser.add_argument("--kinds", metavar="KINDS",
                        help="only these kinds, comma-separated (manifests: hw-line, hw-page, "
                             "print-line, print-page)")
    parser.add_argument("--sets", metavar="SETS", help="only these sets, comma-separated")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="the first N samples of each kind")
    parser.add_argument("--output", "-o", metavar="REPORT_DIR", default=None,
                        help="report folder (default: ./inkread-eval-YYYYmmdd-HHMMSS)")
    parser.add_argument("--format", "-f", choices=("text", "json"), default="text",
                        help="stdout: the summary as a table (default) or JSON")
    parser.add_argument("--tesseract", default="tesseract", metavar="BINARY",
                        help="the tesseract binary for --baseline tesseract")
    parser.add_argument("--no-thumbnails", dest="thumbnails", action="store_false",
                        help="leave the images out of report.html (smaller file)")
    parser.add_argument("--progress", action="store_true",
                        help="show a progress bar even when stderr is not a terminal")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")




def _parse_baselines(values: Sequence[str] | None) -> list[str]:
    from .cli import CliError

    names: list[str] = []
    for value in values or []:
        names += [v.strip().lower() for v in value.split(",") if v.strip()]
    names = [n for n in names if n != "none"]
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise CliError(f"unknown baseline(s): {', '.join(unknown)}",
                       hint="choose from " + ", ".join(BASELINES))
    return list(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    """Run ``inkread eval`` with parsed ``args``; errors propagate to the CLI's error handling."""
    import shlex

    baselines = _parse_baselines(args.baseline)
    dataset = load_dataset(args.dataset, kinds=args.kinds, sets=args.sets, language=args.lang,
                           limit=args.limit)
    out_dir = Path(args.output) if args.output else Path(
        f"inkread-eval-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
    if out_dir.exists() and not out_dir.is_dir():
        from .cli import CliError

        raise CliError(f"cannot write the report to {out_dir}: it exists and is not a folder",
                       hint="give another -o REPORT_DIR")

    total = len(dataset.samples) * (1 + len(baselines))
    bar = None
    if not args.quiet and (args.progress or sys.stderr.isatty()):
        from tqdm import tqdm

        bar = tqdm(total=total, file=sys.stderr, unit="image", dynamic_ncols=True, leave=False)

    def progress(system: str, sample: Any) -> None:
        if bar is not None:
            bar.set_postfix_str(f"{system} {sample.id}", refresh=False)
            bar.update(1)

    try:
        report = evaluate(dataset, baselines=baselines, mode=args.mode, language=args.lang,
                          tesseract=args.tesseract, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    report.summary["command"] = " ".join(shlex.quote(a) for a in ["inkread", *sys.argv[1:]]) \
        if Path(sys.argv[0]).name == "inkread" else None
    paths = write_reports(report, out_dir, thumbnails=args.thumbnails)
    if args.format == "json":
        payload = {"summary": report.summary, "reports": {k: os.fspath(v) for k, v in paths.items()}}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_summary(report.summary, paths))
    sys.stdout.flush()
    return 0
