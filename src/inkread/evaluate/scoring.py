"""Running every system on every sample and scoring it (CER, WER, lines, order, seconds); aggregates
per kind, per kind and set, and overall; worst samples first."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..evalset import KINDS
from ..exceptions import OcrException
from .datasets import Dataset
from .diffs import diff_text, word_diff
from .runners import BASELINES, MODES, InkreadRunner, Runner, TesseractRunner, make_runner

#: Per-sample scores, in the order the TSV and the tables show them.
SCORE_KEYS = ("cer", "wer", "line_cer", "ref_lines", "hyp_lines", "count_match", "order_ok")


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
    return (0 if main["error"] else 1, -main["cer"], -main["wer"], -main["line_cer"], record["set"], record["id"])


def evaluate(
    dataset: Dataset | Sequence[Any],
    *,
    baselines: Sequence[str] = (),
    mode: str | None = None,
    language: str = "en",
    tesseract: str = "tesseract",
    timeout: float = 600.0,
    engine: Any = None,
    progress: Callable[[str, Any], None] | None = None,
) -> EvalReport:
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
        has_kinds = any(s.kind in KINDS for s in samples)
    if mode is None:
        mode = "matched" if has_kinds else "auto"
    if mode not in MODES:
        raise OcrException(f"unknown mode {mode!r}", hint="use one of: " + ", ".join(MODES))
    baselines = list(dict.fromkeys(baselines))
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise OcrException(f"unknown baseline(s): {', '.join(unknown)}", hint="choose from " + ", ".join(BASELINES))
    from ..languages import Language
    from ..metrics import casefold_for_set, score

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
            "id": sample.id,
            "set": sample.set,
            "kind": sample.kind,
            "language": sample.language or language,
            "mode": runners["inkread"].mode_for(sample.kind),  # type: ignore[attr-defined]
            "image": os.fspath(sample.image_path),
            "ground_truth": os.fspath(sample.gt_path),
            "casefold": casefold_for_set(sample.set),
            "reference": "",
            "systems": {},
        }
    gt_errors: dict[str, str] = {}
    for sample in samples:
        try:
            records[_sample_key(sample)]["reference"] = sample.read_gt()
        except (OSError, UnicodeDecodeError) as exc:
            gt_errors[_sample_key(sample)] = f"ground truth unreadable: {_error_text(exc)}"

    wall_started = time.perf_counter()
    for system in systems:
        runner = runners[system]
        for sample in samples:
            record = records[_sample_key(sample)]
            text, error, extra = "", "", {}
            started = time.perf_counter()
            try:
                text = runner.recognize(sample.image_path, kind=sample.kind, language=record["language"])
            except Exception as exc:  # noqa: BLE001 - one bad sample must not stop the run
                error = _error_text(exc)
            seconds = time.perf_counter() - started
            if not error and isinstance(runner, InkreadRunner) and runner.last_result is not None:
                modes = [getattr(p, "mode", "") for p in getattr(runner.last_result, "pages", [])]
                extra["resolved_mode"] = ",".join(m for m in modes if m)
            error = error or gt_errors.get(_sample_key(sample), "")
            scores = score(record["reference"], text, set_name=sample.set)
            record["systems"][system] = {"text": text, "seconds": seconds, "error": error, **scores, **extra}
            if progress is not None:
                progress(system, sample)
    wall = time.perf_counter() - wall_started

    ordered = sorted(records.values(), key=_worst_first)
    for rank, record in enumerate(ordered, 1):
        record["rank"] = rank
        for result in record["systems"].values():
            result["diff"] = diff_text(word_diff(record["reference"], result["text"], casefold=record["casefold"]))

    summary = _summarize(
        ordered, systems, runners, load_seconds, mode=mode, language=language, source=source, wall=wall
    )
    return EvalReport(summary=summary, samples=ordered)


def _summarize(
    records: list[dict[str, Any]],
    systems: list[str],
    runners: Mapping[str, Runner],
    load_seconds: Mapping[str, float],
    *,
    mode: str,
    language: str,
    source: Dataset | None,
    wall: float,
) -> dict[str, Any]:
    kinds = list(dict.fromkeys(r["kind"] for r in records))
    kinds = sorted(kinds, key=lambda k: (_KIND_ORDER.get(k, 99), k))

    def rows(system: str, pick: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [r["systems"][system] for r in records if pick(r)]

    def of_kind(k: str) -> Callable[[dict[str, Any]], bool]:
        return lambda r: r["kind"] == k

    def of_set(k: str, n: str) -> Callable[[dict[str, Any]], bool]:
        return lambda r: r["kind"] == k and r["set"] == n

    overall = {s: aggregate(rows(s, lambda r: True)) for s in systems}
    by_kind = {k: {s: aggregate(rows(s, of_kind(k))) for s in systems} for k in kinds}
    by_set: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in kinds:
        sets = sorted({r["set"] for r in records if r["kind"] == kind})
        by_set[kind] = {name: {s: aggregate(rows(s, of_set(kind, name))) for s in systems} for name in sets}
    errors = [
        {
            "system": s,
            "id": r["id"],
            "set": r["set"],
            "kind": r["kind"],
            "error": r["systems"][s]["error"],
            "image": r["image"],
        }
        for s in systems
        for r in records
        if r["systems"][s]["error"]
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
        "system_info": {s: {"version": runners[s].describe(), "load_seconds": load_seconds[s]} for s in systems},
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "n": len(records),
        "kinds": kinds,
        "wall_seconds": wall,
        "overall": overall,
        "by_kind": by_kind,
        "by_set": by_set,
        "errors": errors,
    }
    return summary


_KIND_ORDER = {"hw-page": 0, "print-page": 1, "hw-line": 2, "hw-word": 3, "print-line": 4, "page": 5}
