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
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..cli import positive_int
from ..exceptions import InputError  # noqa: F401 - where it was before the split
from .datasets import Dataset, load_dataset  # noqa: F401
from .diffs import diff_html, diff_text, thumbnail_data_uri, word_diff  # noqa: F401
from .report import (  # noqa: F401
    TSV_COLUMNS,
    _tsv,
    fmt_num,
    fmt_pct,
    markdown_table,
    render_html,
    render_summary,
    render_tsv,
    write_reports,
)
from .runners import (  # noqa: F401
    BASELINES,
    MODES,
    SYSTEMS,
    InkreadRunner,
    RapidOcrRunner,
    Runner,
    TesseractRunner,
    make_runner,
)
from .scoring import SCORE_KEYS, EvalReport, aggregate, evaluate  # noqa: F401

__all__ = [
    "SYSTEMS",
    "BASELINES",
    "MODES",
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
    parser.add_argument(
        "dataset", metavar="DATASET", help="folder of images + .txt, folder with manifest.tsv, or a manifest file"
    )
    parser.add_argument(
        "--mode",
        "-m",
        choices=MODES,
        default=None,
        help="inkread's recognition mode; matched = handwritten for hw-* kinds, "
        "printed for print-* (default: matched with a manifest, else auto)",
    )
    parser.add_argument(
        "--lang",
        "--language",
        "-l",
        dest="lang",
        default="en",
        metavar="LANG",
        help="language of samples whose manifest gives none (plain folders: all); default en",
    )
    parser.add_argument(
        "--baseline",
        "-b",
        action="append",
        default=None,
        metavar="NAMES",
        help=f"also score these systems, comma-separated: {', '.join(BASELINES)}",
    )
    parser.add_argument(
        "--kinds",
        metavar="KINDS",
        help="only these kinds, comma-separated (manifests: hw-line, hw-page, print-line, print-page)",
    )
    parser.add_argument("--sets", metavar="SETS", help="only these sets, comma-separated")
    parser.add_argument(
        "--limit", type=positive_int, default=None, metavar="N", help="the first N samples of each kind"
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="REPORT_DIR",
        default=None,
        help="report folder (default: ./inkread-eval-YYYYmmdd-HHMMSS)",
    )
    parser.add_argument(
        "--format",
        "-f",
        choices=("text", "json"),
        default="text",
        help="stdout: the summary as a table (default) or JSON",
    )
    parser.add_argument(
        "--tesseract", default="tesseract", metavar="BINARY", help="the tesseract binary for --baseline tesseract"
    )
    parser.add_argument(
        "--no-thumbnails",
        dest="thumbnails",
        action="store_false",
        help="leave the images out of report.html (smaller file)",
    )
    parser.add_argument(
        "--progress", action="store_true", help="show a progress bar even when stderr is not a terminal"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _parse_baselines(values: Sequence[str] | None) -> list[str]:
    from ..cli import CliError

    names: list[str] = []
    for value in values or []:
        names += [v.strip().lower() for v in value.split(",") if v.strip()]
    names = [n for n in names if n != "none"]
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise CliError(f"unknown baseline(s): {', '.join(unknown)}", hint="choose from " + ", ".join(BASELINES))
    return list(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    """Run ``inkread eval`` with parsed ``args``; errors propagate to the CLI's error handling."""
    import shlex

    baselines = _parse_baselines(args.baseline)
    dataset = load_dataset(args.dataset, kinds=args.kinds, sets=args.sets, language=args.lang, limit=args.limit)
    out_dir = Path(args.output) if args.output else Path(f"inkread-eval-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
    if out_dir.exists() and not out_dir.is_dir():
        from ..cli import CliError

        raise CliError(
            f"cannot write the report to {out_dir}: it exists and is not a folder", hint="give another -o REPORT_DIR"
        )

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
        report = evaluate(
            dataset,
            baselines=baselines,
            mode=args.mode,
            language=args.lang,
            tesseract=args.tesseract,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    report.summary["command"] = (
        " ".join(shlex.quote(a) for a in ["inkread", *sys.argv[1:]]) if Path(sys.argv[0]).name == "inkread" else None
    )
    paths = write_reports(report, out_dir, thumbnails=args.thumbnails)
    if args.format == "json":
        payload = {"summary": report.summary, "reports": {k: os.fspath(v) for k, v in paths.items()}}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_summary(report.summary, paths))
    sys.stdout.flush()
    return 0
