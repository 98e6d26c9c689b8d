"""Running ``inkread FILE|DIR ...``: options from the arguments, the runner (in-process, worker
processes, Ray, or the remote service), and the batch loop that writes each input's outputs."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..exceptions import OcrException
from ..failure import CliError, OutputError, error_line
from .codes import EXIT_OK, EXIT_SOME_FAILED, PROG, _Reporter
from .parser import _PREPROCESS_HELP, positive_int
from .progress import _around_bar, _Bar, _duration, _Report
from .sinks import _check_not_input, _is_multi, _plan_sinks, same_file


def _options(args: argparse.Namespace) -> Any:
    from ..options import RecognitionOptions

    given: dict[str, Any] = {name: getattr(args, name) for name in _PREPROCESS_HELP}
    given.update(
        mode=args.mode,
        language=args.lang,
        pages=args.pages,
        pdf_dpi=args.dpi,
        engine=args.engine,
        rotate=args.rotate,
        max_pages=args.max_pages,
        time_limit=args.time_limit,
        max_pixels=args.max_pixels,
        existing_text=args.existing_text,
        model=args.model,
    )
    if args.max_pixels is not None:
        _trust_pixel_limit(args.max_pixels)
    options = RecognitionOptions.from_fields(given)
    if options.model and not os.environ.get("INKREAD_URL"):  # a file here (remotely: a service's name)
        from ..backends import check_handwriting_model

        # checked once, before any file is read; absolute, so worker processes and Ray actors find it
        options = options.updated(model=check_handwriting_model(options.model))
    return options


def _quiet_pillow() -> None:
    """The command line's own max_pixels check (before any pixel is decoded) is the limit: Pillow's
    DecompressionBombWarning for 89.5 to 120 MP images is only noise on the terminal."""
    import warnings

    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _trust_pixel_limit(max_pixels: int) -> None:
    """``--max-pixels`` is the user's say: lift Pillow's own bomb limit to it (this process only;
    its warning below that limit is already off, see :func:`_quiet_pillow`)."""
    from PIL import Image

    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels


def _batch_exit_code(codes: Sequence[int], total: int) -> int:
    if not codes:
        return EXIT_OK
    if len(codes) == total and len(set(codes)) == 1:
        return codes[0]
    return EXIT_SOME_FAILED


def _write_overlays(args: argparse.Namespace, f: Any, result: Any, start: int, multi: bool) -> int:
    """Draw ``--overlay`` images for one input; returns how many were written."""
    from ..export import overlay_paths, save_overlays

    numbered = True if multi else None
    for target in overlay_paths(args.overlay, len(result.pages), start=start, numbered=numbered):
        if same_file(target, f.path):
            raise OutputError(f"refusing to write the overlay {target}: it is the input file {f.shown}")
    try:
        save_overlays(result, args.overlay, images=f.path, pdf_dpi=args.dpi, start=start, numbered=numbered)
    except (OcrException, OSError, ValueError) as error:
        raise OutputError(f"cannot write the overlay for {f.shown}: {error_line(error)}") from error
    return len(result.pages)


def _jobs(args: argparse.Namespace) -> int:
    if args.jobs is not None:
        return args.jobs
    env = os.environ.get("INKREAD_JOBS", "").strip()
    if env:
        try:
            return positive_int(env)
        except argparse.ArgumentTypeError as error:
            raise CliError(f"INKREAD_JOBS: {error}") from None
    from ..runner import usable_cores

    return usable_cores()


def _preflight(options: Any) -> None:
    """Refuse once, before any file is read, what would fail every file: a language no backend
    reads, or a Tesseract language pack that is not installed."""
    from ..backends import backend_for

    backend_for(options.language, options.engine).check_language(options)


def _spool_stdin(stack: contextlib.ExitStack) -> Path:
    """``-`` as input: stdin's bytes in a private temporary file (removed at the end)."""
    from ..io import MAX_STREAM_BYTES

    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="inkread-stdin-")))
    path = folder / "stdin"
    source = sys.stdin.buffer
    total = 0
    with open(path, "wb") as fh:
        while chunk := source.read(1 << 20):
            total += len(chunk)
            if total > MAX_STREAM_BYTES:
                raise CliError(f"stdin: more than {MAX_STREAM_BYTES:,} bytes", exit_code=3)
            fh.write(chunk)
    return path


def _runner(args: argparse.Namespace, options: Any, files: Any, remote: bool) -> tuple[Any, Any, bool]:
    """The runner for this batch (and the files, peeked at): in this process for one page or
    ``--jobs 1`` or a remote engine, a pool of ``--jobs`` processes, or Ray with ``--ray``."""
    import itertools

    from ..runner import InlineRunner, PoolRunner

    jobs = _jobs(args)
    if args.ray is not None:
        from ..raybatch import RayRunner

        return RayRunner(options, args.ray, actors=jobs), files, True
    if remote or jobs == 1:
        return InlineRunner(options), files, not remote
    head = list(itertools.islice(files, 2))
    files = itertools.chain(head, files)
    if len(head) < 2:
        pages = 1
        if head and head[0].path.is_file():
            from ..io import count_pages

            with contextlib.suppress(Exception):
                pages = count_pages(head[0].path)
        if options.pages is not None:
            pages = min(pages, len(options.pages))
        if pages < 2:
            return InlineRunner(options), files, True
    return PoolRunner(options, jobs), files, True


def run_recognize(args: argparse.Namespace, reporter: _Reporter) -> int:
    import time

    from ..batch import InputFile, iter_inputs
    from ..runner import run_batch

    t0 = time.perf_counter()
    _quiet_pillow()
    options = _options(args)
    _preflight(options)
    multi = _is_multi(args)
    explicit = [Path(p) for p in args.inputs if p != "-" and os.path.exists(p)]
    sinks = _plan_sinks(args, multi, explicit, reporter)
    if args.report is not None:
        _check_not_input(Path(args.report), explicit)
    folders = [s.folder for s in sinks if s.folder is not None]
    for raw in args.inputs:  # a named file whose own output would replace it: refuse the run
        path = Path(raw)
        if raw != "-" and path.is_file():
            for sink in sinks:
                if sink.folder is not None:
                    _check_not_input(sink.folder / sink.preview(path), [path])
    remote = bool(os.environ.get("INKREAD_URL"))
    with contextlib.ExitStack() as stack:
        inputs: list[Any] = []
        for raw in args.inputs:
            if raw == "-":
                inputs.append(InputFile(_spool_stdin(stack), None, label="-"))
            else:
                inputs.append(raw)
        files = iter_inputs(inputs, recursive=args.recursive, exclude=folders)
        runner, files, by_page = _runner(args, options, files, remote)
        report = _Report(args.report, append=args.resume)
        stack.callback(report.close)

        def skip(f: Any) -> bool:
            for sink in sinks:
                target = sink.target_for(f)
                if target is not None and same_file(target, f.path):
                    return False  # reported when it is written
            return args.resume and all(s.complete(f) for s in sinks)

        bar = _Bar(args, multi)
        bar.count_ahead(args.inputs, args.recursive, folders, options.pages)
        reporter.bar = bar.bar
        codes: list[int] = []
        counts = {"files": 0, "pages": 0, "failed": 0, "skipped": 0}
        overlays = 0  # overlay images written so far (they are numbered across inputs)
        try:
            with _around_bar(bar.bar):
                for sink in sinks:
                    sink.start()
                for done in run_batch(files, options, runner, skip=skip, progress=bar, by_page=by_page):
                    counts["files"] += 1
                    from ..engine import merge_kept_notes

                    for note in merge_kept_notes(done.notes):
                        reporter.err(f"{PROG}: warning: {note.removeprefix(f'{PROG}: ')}")
                    if done.skipped:
                        counts["skipped"] += 1
                        for sink in sinks:
                            sink.forget(done.input)
                        report.row(done, "skipped", [], None)
                        continue
                    error = done.error
                    written: list[Path] = []
                    if error is None:
                        counts["pages"] += done.pages
                        try:
                            for sink in sinks:
                                target = sink.target_for(done.input)
                                if target is not None:
                                    _check_not_input(target, [done.input.path])
                                path = sink.add(done.input, done.result)
                                if path is not None and path not in written:
                                    written.append(path)
                            if args.overlay is not None:
                                overlays += _write_overlays(args, done.input, done.result, overlays, multi)
                        except (OutputError, CliError) as exc:
                            error = exc
                    else:
                        for sink in sinks:
                            sink.forget(done.input)
                    if error is not None:
                        counts["failed"] += 1
                        codes.append(reporter.error(error, done.input.shown))
                    report.row(done, "failed" if error is not None else "ok", written, error)
                for sink in sinks:
                    sink.finish()
        except OutputError as error:
            codes.append(reporter.error(error))
            return error.exit_code
        finally:
            bar.close()
            reporter.bar = None
    # the summary: for a person watching, or beside outputs written to files (not mixed into a pipe)
    summary = sys.stderr.isatty() or args.progress or args.report is not None or bool(folders)
    if multi and summary and not args.quiet and counts["files"]:
        plural = "" if counts["files"] == 1 else "s"
        line = (
            f"{PROG}: {counts['pages']:,} page{'' if counts['pages'] == 1 else 's'} from "
            f"{counts['files'] - counts['failed'] - counts['skipped']:,} of {counts['files']:,} file{plural} "
            f"in {_duration(time.perf_counter() - t0)}"
        )
        if counts["skipped"]:
            line += f", {counts['skipped']:,} skipped (outputs already complete)"
        if counts["failed"]:
            line += f", {counts['failed']:,} failed" + (f": see {args.report}" if args.report else "")
        reporter.err(line)
    return _batch_exit_code(codes, counts["files"] - counts["skipped"])
