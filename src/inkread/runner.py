"""Batch runs: files streamed in, split into pages, read by one process, a pool of processes or Ray,
and put back together per file, in input order.

The unit of work is one page (:class:`PageTask`), so a 300-page PDF spreads over every worker as
well as a drawer of photos does. Three runners read pages, all with the same ``map_unordered(tasks)``:

* :class:`InlineRunner`: this process, one page after the other (``--jobs 1``, or one page in all);
* :class:`PoolRunner`: ``jobs`` worker processes, each loading the models once, with onnxruntime's
  threads set so that jobs x threads is the number of cores;
* :class:`inkread.raybatch.RayRunner`: actors of a Ray cluster (``--ray``).

The pages, their reading and the two local runners are in :mod:`inkread.workers` (imported here too);
this module drives a runner and puts the pages back together.

:func:`run_batch` drives one: it counts each file's pages as the files stream in (never listing them
all first), keeps a bounded number of pages in flight, and yields one :class:`FileDone` per file in
input order, as soon as the file and every one before it are finished.

    >>> from inkread.batch import iter_inputs
    >>> from inkread.options import RecognitionOptions
    >>> for done in run_batch(iter_inputs(["scans/"]), RecognitionOptions(), PoolRunner(2)):  # doctest: +SKIP
    ...     print(done.input.shown, done.result.text if done.ok else done.error)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from .batch import InputFile, empty_folder_error
from .exceptions import OcrTimeoutError, PageSelectionError
from .options import RecognitionOptions
from .result import OcrResult
from .workers import (
    InlineRunner,
    PageOutcome,
    PageTask,
    PoolRunner,
    read_page,
    threads_per_worker,
    usable_cores,
)

__all__ = [
    "PageTask",
    "PageOutcome",
    "FileDone",
    "Runner",
    "InlineRunner",
    "PoolRunner",
    "run_batch",
    "usable_cores",
    "threads_per_worker",
    "read_page",
]


@dataclass
class FileDone:
    """One input's outcome: its result (pages in order), or the error, or skipped (``--resume``)."""

    input: InputFile
    result: OcrResult | None = None
    error: BaseException | None = None
    pages: int = 0
    seconds: float = 0.0
    skipped: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.skipped


class Runner(Protocol):
    def map_unordered(self, tasks: Iterator[PageTask]) -> Iterator[PageOutcome]: ...

    def close(self) -> None: ...


# ----------------------------------------------------------------------------------------------
# Driving a runner


def select_pages(
    path: str, pages: tuple[int, ...] | None, label: str, max_pages: int | None = None
) -> tuple[list[int], str | None]:
    """The pages of ``path`` to read and a warning for selected pages it does not have.

    ``--pages 1-3`` on a 2-page PDF reads pages 1-2 and warns (as Tesseract and OCRmyPDF users
    expect); a selection none of whose pages exist is a :class:`PageSelectionError`; more pages
    than ``max_pages`` a :class:`TooManyPagesError` (before any is read).
    """
    from . import io as inkio

    count = inkio.count_pages(path)
    have = list(range(count)) if pages is None else [p for p in pages if 0 <= p < count]
    inkio.check_page_count(len(have), max_pages, label)
    if pages is None:
        return have, None
    missing = [p for p in pages if not 0 <= p < count]
    plural = "page" if count == 1 else "pages"
    if not have:
        raise PageSelectionError(
            f"{label} has {count} {plural}; none of the pages asked for exist", hint=f"--pages takes numbers 1..{count}"
        )
    if not missing:
        return have, None
    shown = ", ".join(str(p + 1) for p in missing[:5]) + (", ..." if len(missing) > 5 else "")
    return have, f"{label} has {count} {plural}: page{'s' if len(missing) > 1 else ''} {shown} skipped"


def merge_results(parts: list[OcrResult]) -> OcrResult:
    """One result of several one-page results, pages in the order given, timings added up."""
    from .backends.base import add_seconds

    first = parts[0]
    return OcrResult(
        pages=[p for part in parts for p in part.pages],
        language=first.language,
        mode=first.mode,
        source=first.source,
        timings=add_seconds(*(part.timings for part in parts)),
    )


@dataclass
class _FileJob:
    input: InputFile
    pages: list[int] = field(default_factory=list)
    outcomes: dict[int, PageOutcome] = field(default_factory=dict)
    error: BaseException | None = None
    skipped: bool = False
    notes: list[str] = field(default_factory=list)
    sent: int = 0  # pages handed to the runner (no more once the file has failed)

    @property
    def finished(self) -> bool:
        return (
            self.skipped
            or (self.error is not None and len(self.outcomes) >= self.sent)
            or len(self.outcomes) == len(self.pages)
        )

    def done(self) -> FileDone:
        outcomes = [self.outcomes[p] for p in self.pages if p in self.outcomes]
        notes = self.notes + [n for o in outcomes for n in o.notes]
        seconds = sum(o.seconds for o in outcomes)
        error = self.error or next((o.error for o in outcomes if o.error is not None), None)
        if self.skipped or error is not None:
            return FileDone(self.input, None, error, len(self.pages), seconds, self.skipped, notes)
        result = merge_results([o.result for o in outcomes if o.result is not None])
        return FileDone(self.input, result, None, len(result.pages), seconds, False, notes)


class Progress(Protocol):
    def found(self, pages: int) -> None: ...

    def read(self, pages: int, label: str) -> None: ...  # noqa: E704


def run_batch(
    files: Iterable[InputFile],
    options: RecognitionOptions,
    runner: Runner,
    *,
    skip: Callable[[InputFile], bool] | None = None,
    progress: Progress | None = None,
    by_page: bool = True,
) -> Iterator[FileDone]:
    """Read ``files`` with ``runner``; one :class:`FileDone` per file, in input order.

    ``by_page``: one task per page (the pages that exist of those ``options.pages`` asks for);
    otherwise one task per file (a remote engine: the service reads the whole file).

    A file that cannot be opened, a folder without images, a page that fails: each becomes that
    file's error and the batch goes on. ``skip(file)`` true: the file is not read (``skipped``).
    """
    jobs: dict[int, _FileJob] = {}
    emitted = 0

    def tasks() -> Iterator[PageTask]:
        for seq, f in enumerate(files):
            job = jobs[seq] = _FileJob(f)
            if f.path.is_dir():
                job.error = empty_folder_error(f.path)
                continue
            if skip is not None and skip(f):
                job.skipped = True
                continue
            if not by_page:
                job.pages = [-1]
                if progress is not None:
                    progress.found(1)
                yield PageTask(seq, os.fspath(f.path), -1)
                continue
            try:
                job.pages, warning = select_pages(os.fspath(f.path), options.pages, f.shown, options.max_pages)
            except Exception as exc:  # noqa: BLE001 - missing, unreadable, not an image: this file only
                job.error = exc
                continue
            if warning:
                job.notes.append(warning)
            if progress is not None:
                progress.found(len(job.pages))
            for page in job.pages:
                if job.error is not None:  # out of time: its other pages are not read
                    break
                job.sent += 1
                yield PageTask(seq, os.fspath(f.path), page)

    def drain() -> Iterator[FileDone]:
        nonlocal emitted
        while emitted in jobs and jobs[emitted].finished:
            yield jobs.pop(emitted).done()
            emitted += 1

    try:
        for outcome in runner.map_unordered(tasks()):
            job = jobs[outcome.seq]
            job.outcomes[outcome.page] = outcome
            if (
                options.time_limit is not None
                and job.error is None
                and len(job.outcomes) < len(job.pages)
                and sum(o.seconds for o in job.outcomes.values()) > options.time_limit
            ):
                job.error = OcrTimeoutError(
                    f"{job.input.shown}: reading stopped after {len(job.outcomes)} of {len(job.pages)} pages: "
                    f"it ran past the document's {options.time_limit:g} s (time_limit)",
                    hint="raise --time-limit, or choose fewer pages",
                )
            if progress is not None:
                progress.read(1, job.input.path.name)
            yield from drain()
        yield from drain()
    finally:
        runner.close()
