"""The progress bar (pages, rate, ETA; log lines and warnings printed above it), the JSON Lines
report, and the summary line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..failure import OutputError, error_line, exit_code_for


class _Bar:
    """The progress bar, counting pages with rate and ETA. Its total comes from a thread that walks
    the inputs ahead of the work and counts their pages (the batch itself never waits for it), or
    from the pages the batch has opened, whichever is more."""

    def __init__(self, args: argparse.Namespace, multi: bool) -> None:
        import threading

        show = not args.quiet and (args.progress or (multi and sys.stderr.isatty()))
        self.bar: Any = None
        self.lock = threading.Lock()
        self.counted = self.opened = 0
        self.closed = False
        if show:
            from tqdm import tqdm

            self.bar = tqdm(total=0, file=sys.stderr, unit="page", dynamic_ncols=True, leave=False)

    def count_ahead(self, inputs: Sequence[str], recursive: bool, exclude: Sequence[Path], pages: Any) -> None:
        if self.bar is None or any(raw in ("-", "@-") for raw in inputs):
            return
        import threading

        def count() -> None:
            from ..batch import iter_inputs
            from ..io import count_pages

            for f in iter_inputs(inputs, recursive=recursive, exclude=exclude):
                try:
                    n = count_pages(f.path)
                except Exception:  # noqa: BLE001 - the batch reports it
                    continue
                with self.lock:
                    if self.closed:
                        return
                    self.counted += sum(p < n for p in pages) if pages is not None else n
                    self._total()

        threading.Thread(target=count, name="inkread-count-pages", daemon=True).start()

    def _total(self) -> None:
        total = max(self.counted, self.opened)
        if total != self.bar.total:
            self.bar.total = total
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            with self.lock:
                self.closed = True
                self.bar.close()

    def found(self, pages: int) -> None:
        if self.bar is not None:
            with self.lock:
                self.opened += pages
                self._total()

    def read(self, pages: int, label: str) -> None:
        if self.bar is not None:
            with self.lock:
                self.bar.set_postfix_str(label, refresh=False)
                self.bar.update(pages)


class _Report:
    """``--report run.jsonl``: one JSON line per input, written (and flushed) as each one ends."""

    def __init__(self, path: str | None, append: bool) -> None:
        self.fh: Any = None
        self.path = path
        if path is not None:
            try:
                self.fh = open(path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115
            except OSError as error:
                raise OutputError(f"cannot write the report {path}: {error.strerror or error}") from error

    def row(self, done: Any, status: str, outputs: Sequence[Path], error: BaseException | None) -> None:
        if self.fh is None:
            return
        row = {
            "input": done.input.shown,
            "pages": done.pages,
            "status": status,
            "error_kind": None,
            "message": None,
            "exit_code": 0,
            "seconds": round(done.seconds, 3),
            "outputs": [os.fspath(p) for p in outputs],
            "warnings": done.notes,
        }
        if error is not None:
            row.update(
                error_kind=getattr(error, "kind", None) or type(error).__name__,
                message=error_line(error),
                exit_code=exit_code_for(error),
            )
        self.fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.fh.flush()

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


@contextlib.contextmanager
def _around_bar(bar: Any) -> Any:
    """While the progress bar is drawn, log records and Python warnings (a library's, or inkread's
    own in this process) are printed above it, not through it."""
    if bar is None:
        yield
        return
    import logging

    from tqdm.contrib.logging import logging_redirect_tqdm

    logging.captureWarnings(True)
    try:
        with logging_redirect_tqdm():
            yield
    finally:
        logging.captureWarnings(False)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} m {secs} s" if hours else f"{minutes} m {secs} s"
