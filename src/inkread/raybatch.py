"""The batch on Ray: ``inkread INPUT... -o OUT --ray [ADDRESS]`` (needs ``pip install 'inkread[ray]'``).

A Ray Data pipeline reads the pages: a dataset of :class:`~inkread.runner.PageTask` rows (path and
page number) -> ``map_batches`` with :class:`PageReader`, a callable class whose actors each load the
engine once -> the driver, which puts the pages back together and writes every output, the report
and the summary exactly as the local pool does (:func:`inkread.runner.run_batch`).

``ADDRESS`` is what ``ray.init`` takes: empty or ``local`` starts a Ray on this machine; ``auto``
joins the cluster this machine belongs to; ``ray://head:10001`` connects a Ray Client. On a
cluster every node must see the input files at the same paths (a shared or network file system):
the actors read them by path, and only the small results travel back.

Each actor asks for half a CPU: on a 2-core machine, actors holding whole CPUs starve Ray Data's
own read tasks and the job stalls. onnxruntime in each actor gets ``cores // actors`` threads.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pickle
import warnings
from collections.abc import Iterator
from dataclasses import asdict
from itertools import islice
from typing import Any

from .exceptions import MissingDependencyError
from .failure import Failure
from .options import RecognitionOptions
from .workers import PageOutcome, PageTask, read_page, threads_per_worker

__all__ = ["RayRunner", "PageReader", "CPUS_PER_ACTOR"]

CPUS_PER_ACTOR = 0.5
#: Pages per Ray dataset: the driver streams the inputs in chunks this big (each chunk starts the
#: actors once, so keep it large).
CHUNK = 4096


class PageReader:
    """A Ray Data actor: one engine, loaded once, reading the pages of the batches it is given."""

    def __init__(self, options: RecognitionOptions, threads: int) -> None:
        os.environ["INKREAD_THREADS"] = str(threads)
        from .engine import OcrEngine

        self.engine = OcrEngine()
        self.kwargs = options.as_kwargs()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        outcomes = []
        for seq, path, page in zip(batch["seq"], batch["path"], batch["page"]):
            task = PageTask(int(seq), str(path), int(page))
            outcomes.append(pickle.dumps(read_page(self.engine, task, self.kwargs, capture=True)))
        return {"outcome": np.array(outcomes, dtype=object)}


def _reader_class(options: RecognitionOptions, threads: int) -> type:
    """A :class:`PageReader` with its arguments built in: shipped with the class itself, not as
    constructor arguments in the object store (which Ray warns about for restartable actors)."""

    class Reader(PageReader):
        def __init__(self) -> None:
            super().__init__(options, threads)

    return Reader


def _batch_of(task: PageTask) -> dict[str, list[Any]]:
    """One page as the batch :class:`PageReader` takes."""
    return {"seq": [task.seq], "path": [task.path], "page": [task.page]}


def _unread(chunk: list[PageTask], seen: set[tuple[int, int]], error: Exception) -> Iterator[PageOutcome]:
    """A failure for each page of ``chunk`` not in ``seen``: Ray stopped before reading it."""
    line = f"Ray stopped before reading this page: {type(error).__name__}: {error}"
    for task in chunk:
        if (task.seq, task.page) not in seen:
            yield PageOutcome(
                task.seq,
                task.page,
                None,
                Failure(f"{task.path}: {' '.join(line.split())[:500]}", 70, type(error).__name__),
            )


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as error:
        raise MissingDependencyError("--ray needs Ray Data", hint="pip install 'inkread[ray]'") from error
    return ray


class RayRunner:
    """Reads pages on Ray actors (``actors`` of them, half a CPU each)."""

    def __init__(self, options: RecognitionOptions, address: str | None = None, actors: int = 2) -> None:
        _ray()  # refuse now when Ray is not installed
        self.options = options
        self.address = address
        self.actors = max(1, actors)
        self.started = False  # this runner started Ray (and shuts it down)
        self.ready = False
        self.threads = 1

    def _start(self) -> None:
        """Start or join Ray: only once there is a page to read (a --resume run that skips every
        input never pays for it)."""
        ray = _ray()
        for name in ("ray", "ray.data"):  # its INFO lines would break inkread's progress bar
            logging.getLogger(name).setLevel(logging.ERROR)
        if not ray.is_initialized():
            address = None if self.address in (None, "", "local") else self.address
            said = io.StringIO()
            try:
                with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
                    ray.init(
                        address=address,
                        include_dashboard=False,
                        log_to_driver=False,
                        configure_logging=False,
                        logging_level="ERROR",
                    )
            except Exception as error:
                from .exceptions import ServiceUnavailableError

                raise ServiceUnavailableError(
                    f"cannot start or join Ray at {address or 'a local instance'}: {error}",
                    hint=said.getvalue().strip()[-300:] or None,
                ) from error
            self.started = True
        if not str(self.address).startswith("ray://"):  # Ray Data (not over Ray Client: _on_actors)
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False  # inkread draws its own bar, in pages
            ctx.verbose_stats_logs = False
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.threads = threads_per_worker(self.actors, cores=min(cpus, os.cpu_count() or cpus))

    def map_unordered(self, tasks: Iterator[PageTask]) -> Iterator[PageOutcome]:
        ray = _ray()
        while True:
            chunk = list(islice(tasks, CHUNK))
            if not chunk:
                return
            if not self.ready:
                self._start()
                self.ready = True
            if str(self.address).startswith("ray://"):
                yield from self._on_actors(chunk)
                continue
            ds = ray.data.from_items([asdict(t) for t in chunk])
            actors = ray.data.ActorPoolStrategy(size=min(self.actors, len(chunk)))
            with warnings.catch_warnings():
                # max_restarts=0: an actor that dies fails its pages (below) instead of being restarted
                # from a class kept in the object store, which Ray's core worker warns about on stderr
                # for every actor; Ray 2.60 marks the keyword deprecated (pyproject pins ray < 2.64)
                warnings.simplefilter("ignore", DeprecationWarning)
                ds = ds.map_batches(
                    _reader_class(self.options, self.threads),
                    batch_size=1,
                    compute=actors,
                    num_cpus=CPUS_PER_ACTOR,
                    max_restarts=0,
                )
            seen: set[tuple[int, int]] = set()
            try:
                for row in ds.iter_rows():
                    outcome = pickle.loads(row["outcome"])
                    seen.add((outcome.seq, outcome.page))
                    yield outcome
            except Exception as error:  # noqa: BLE001 - the cluster failed: every page not read fails
                yield from _unread(chunk, seen, error)

    def _on_actors(self, chunk: list[PageTask]) -> Iterator[PageOutcome]:
        """The pages of ``chunk`` read on a pool of plain Ray actors: through Ray Client (``ray://``),
        whose driver has no core worker for Ray Data's executor ('Worker' object has no attribute
        'core_worker'); remote actors and waiting on their results work over it."""
        ray = _ray()
        from ray.util import ActorPool

        reader = ray.remote(num_cpus=CPUS_PER_ACTOR, max_restarts=0)(_reader_class(self.options, self.threads))
        actors = [reader.remote() for _ in range(min(self.actors, len(chunk)))]
        seen: set[tuple[int, int]] = set()
        try:
            pool = ActorPool(actors)
            for row in pool.map_unordered(lambda actor, t: actor.__call__.remote(_batch_of(t)), chunk):
                outcome = pickle.loads(row["outcome"][0])
                seen.add((outcome.seq, outcome.page))
                yield outcome
        except Exception as error:  # noqa: BLE001 - the cluster failed: every page not read fails
            yield from _unread(chunk, seen, error)
        finally:
            for actor in actors:
                ray.kill(actor)

    def close(self) -> None:
        if self.started:
            _ray().shutdown()
            self.started = False
