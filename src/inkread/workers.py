"""Where a batch's pages are read: the unit of work (:class:`PageTask`) and what comes of it
(:class:`PageOutcome`), reading one page with an engine (:func:`read_page`), and the two local runners
that :func:`inkread.runner.run_batch` drives:

* :class:`InlineRunner`: this process, one page after the other;
* :class:`PoolRunner`: ``jobs`` worker processes, each loading the models once, with onnxruntime's
  threads set so that jobs x threads is the number of cores (:func:`threads_per_worker`).

The worker processes' set-up (``_init_worker``, ``_WORKER``) is shared with
:mod:`inkread.process_engine` (``serve --workers N``).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .failure import Failure
from .options import RecognitionOptions
from .result import OcrResult

__all__ = [
    "PageTask",
    "PageOutcome",
    "InlineRunner",
    "PoolRunner",
    "usable_cores",
    "threads_per_worker",
    "read_page",
]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def threads_per_worker(jobs: int, cores: int | None = None) -> int:
    """onnxruntime threads for each of ``jobs`` workers, so that jobs x threads <= cores."""
    return max(1, (cores or usable_cores()) // max(1, jobs))


@dataclass(frozen=True)
class PageTask:
    """Read page ``page`` (0-based) of the file ``path``; ``seq`` is the file's number in the run."""

    seq: int
    path: str
    page: int


@dataclass
class PageOutcome:
    """What a worker made of one :class:`PageTask`: a one-page result, or the error that stopped it."""

    seq: int
    page: int
    result: OcrResult | None = None
    error: BaseException | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # warnings and log lines the worker emitted


# ----------------------------------------------------------------------------------------------
# Reading one page (in whatever process the runner put it)


class _NoteHandler(logging.Handler):
    def __init__(self, notes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.append(record.getMessage())


def read_page(engine: Any, task: PageTask, options: dict[str, Any], *, capture: bool) -> PageOutcome:
    """Read one page with ``engine``. With ``capture`` (a worker process), the exception becomes a
    picklable :class:`~inkread.failure.Failure` and warnings and log records become ``notes`` for
    the driver to print (a worker writing to the terminal would break the progress bar)."""
    t0 = time.perf_counter()
    notes: list[str] = []
    handler = _NoteHandler(notes) if capture else None
    root = logging.getLogger()
    if handler is not None:
        root.addHandler(handler)
    # the pages kept unread (a PDF's own text) are notes in every process: the command line prints
    # them merged, one line a document, not one a page
    kept, kept_handler = logging.getLogger("inkread.kept"), _NoteHandler(notes)
    kept.addHandler(kept_handler)
    kept.propagate = False
    try:
        with warnings.catch_warnings(record=capture) as caught:
            try:
                kwargs = options if task.page < 0 else {**options, "pages": (task.page,)}
                result = engine.recognize(task.path, **kwargs)
                error = None
            except Exception as exc:  # noqa: BLE001 - reported per file, the batch goes on
                result, error = None, (Failure.of(exc, task.path) if capture else exc)
        if capture and caught:
            notes.extend(str(w.message) for w in caught)
    finally:
        if handler is not None:
            root.removeHandler(handler)
        kept.removeHandler(kept_handler)
        kept.propagate = True
    return PageOutcome(task.seq, task.page, result, error, time.perf_counter() - t0, notes)


class InlineRunner:
    """Reads every page in this process with one engine, in order (exceptions kept as raised)."""

    def __init__(self, options: RecognitionOptions, engine: Any = None) -> None:
        from .engine import OcrEngine

        self.engine = engine if engine is not None else OcrEngine()
        self.kwargs = options.as_kwargs()

    def map_unordered(self, tasks: Iterator[PageTask]) -> Iterator[PageOutcome]:
        for task in tasks:
            yield read_page(self.engine, task, self.kwargs, capture=False)

    def close(self) -> None:
        pass


# The worker process's engine and options, set once by _init_worker.
_WORKER: dict[str, Any] = {}


def _init_worker(options: RecognitionOptions, threads: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    from PIL import Image

    # the max_pixels check is the limit (as in the command line's own process)
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    os.environ["INKREAD_THREADS"] = str(threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:  # pragma: no cover - cv2 is a dependency
        pass
    from .engine import OcrEngine

    _WORKER["engine"] = OcrEngine()
    _WORKER["engine"].url = None  # workers read here, whatever INKREAD_URL says
    _WORKER["kwargs"] = options.as_kwargs()


def _worker_read(task: PageTask) -> PageOutcome:
    return read_page(_WORKER["engine"], task, _WORKER["kwargs"], capture=True)


class PoolRunner:
    """``jobs`` worker processes (spawned: no state shared with the driver), each loading the models
    once, at most ``2 x jobs`` pages in flight."""

    def __init__(self, options: RecognitionOptions, jobs: int, *, threads: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.jobs = jobs
        self.threads = threads or threads_per_worker(jobs)
        self.pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(options, self.threads),
        )

    def map_unordered(self, tasks: Iterator[PageTask]) -> Iterator[PageOutcome]:
        from concurrent.futures import FIRST_COMPLETED, wait

        window = 2 * self.jobs
        pending: dict[Any, PageTask] = {}
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                task = next(tasks, None)
                if task is None:
                    exhausted = True
                else:
                    pending[self.pool.submit(_worker_read, task)] = task
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    yield future.result()
                except Exception as exc:  # noqa: BLE001 - the worker died (killed, out of memory)
                    line = f"{task.path}: the worker process reading page {task.page + 1} stopped: {exc}"
                    yield PageOutcome(task.seq, task.page, None, Failure(line, 70, type(exc).__name__))

    def close(self) -> None:
        """Stop the workers (at once: what they were reading is not wanted any more)."""
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=5)
