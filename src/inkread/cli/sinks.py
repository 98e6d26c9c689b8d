"""Where results go: the outputs planned from ``-o``, ``--format``, ``--sidecar`` (never an input file)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..failure import CliError
from .codes import _Reporter


def _suffix_format(path: Path) -> str | None:
    from ..export.formats import format_for_path

    return format_for_path(path)


def same_file(a: Path, b: Path) -> bool:
    from ..batch import same_file as same

    return same(a, b)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` atomically (see :func:`inkread.outputs.write_atomic`)."""
    from ..outputs import write_atomic as write

    write(path, text)


def _check_not_input(target: Path, inputs: Sequence[Path]) -> None:
    for path in inputs:
        if same_file(target, path):
            raise CliError(f"refusing to write {target}: it is the input file {path}", hint="choose another -o")


def _formats(args: argparse.Namespace) -> list[str] | None:
    """``--format text,pdf,alto`` as format names (``txt`` is ``text``); ``None`` when not given."""
    if args.format is None:
        return None
    from ..export.formats import parse_format

    names: list[str] = []
    for part in str(args.format).split(","):
        try:
            fmt = parse_format(part)
        except ValueError as error:
            raise CliError(str(error)) from None
        if fmt not in names:
            names.append(fmt)
    return names


def _is_multi(args: argparse.Namespace) -> bool:
    """Several inputs (or a folder, a pattern, a list): outputs get per-input sections or files."""
    from ..batch import _GLOB_CHARS

    return len(args.inputs) > 1 or any(
        os.path.isdir(p) or (not os.path.exists(p) and (p.startswith("@") or _GLOB_CHARS & set(p))) for p in args.inputs
    )


def _single_format(path: Path, given: list[str] | None) -> str:
    if given:
        return given[0]
    fmt = _suffix_format(path)
    if fmt is None and path.suffix:
        from ..export.formats import SUFFIXES

        raise CliError(
            f"-o {path}: no output format for the suffix {path.suffix!r}",
            hint=f"use one of {', '.join(sorted(SUFFIXES))}, or say --format",
        )
    return fmt or "text"


def _plan_sinks(args: argparse.Namespace, multi: bool, explicit: Sequence[Path], reporter: _Reporter) -> list[Any]:
    """The outputs this run writes (checked against the inputs named on the command line; each
    per-input file is checked against its own input when it is written)."""
    from ..export.formats import FOLDER_FORMATS
    from ..outputs import Sink

    formats = _formats(args)
    folder_only = [f for f in formats or [] if f in FOLDER_FORMATS]  # several files per input (gt)
    out_fn = reporter.out
    sinks: list[Sink] = []
    if args.overlay is not None:
        _check_not_input(Path(args.overlay), explicit)
    if args.output is None or args.output == "-":
        if formats and len(formats) > 1:
            raise CliError("several formats need a folder to write them to", hint="give -o DIR/")
        fmt = formats[0] if formats else "text"
        if folder_only:
            raise CliError(f"--format {folder_only[0]} writes several files a page", hint="give -o DIR/")
        if fmt == "pdf" and args.output is None:
            raise CliError("--format pdf writes a file", hint="give -o OUT.pdf (or -o - for stdout)")
        sinks.append(Sink(fmt, multi=multi, pdf_dpi=args.dpi, image_dpi=args.image_dpi, out=out_fn))
    else:
        out = Path(args.output)
        is_dir = (
            out.is_dir()
            or args.output.endswith(("/", os.sep))
            or (multi and _suffix_format(out) is None and not out.suffix)
            or (formats is not None and len(formats) > 1)
            or bool(folder_only)
        )
        if is_dir:
            if folder_only and out.exists() and not out.is_dir():
                raise CliError(f"-o {out}: --format {folder_only[0]} writes a folder, but {out} is a file")
            if out.exists() and not out.is_dir():
                raise CliError(
                    f"-o {out}: several inputs need a directory, but {out} is a file",
                    hint="give a directory, or a name with a format's suffix (.txt, .json, .hocr, "
                    ".xml, .pdf, .md, .tsv) for one combined file",
                )
            sinks.extend(
                Sink(fmt, multi=multi, folder=out, pdf_dpi=args.dpi, image_dpi=args.image_dpi)
                for fmt in formats or ["text"]
            )
        else:
            if out.exists() and not out.is_file():
                raise CliError(f"cannot write {out}: it exists and is not a regular file")
            _check_not_input(out, explicit)
            sinks.append(
                Sink(_single_format(out, formats), multi=multi, target=out, pdf_dpi=args.dpi, image_dpi=args.image_dpi)
            )
    if args.sidecar is not None:
        if args.sidecar == "-":
            if any(s.folder is None and s.target is None for s in sinks):
                raise CliError("--sidecar - and the main output would both go to stdout")
            sinks.append(Sink("text", multi=multi, pdf_dpi=args.dpi, image_dpi=args.image_dpi, out=out_fn))
        else:
            side = Path(args.sidecar)
            _check_not_input(side, explicit)
            sinks.append(
                Sink(
                    _single_format(side, ["text"] if not side.suffix else None),
                    multi=multi,
                    target=side,
                    pdf_dpi=args.dpi,
                    image_dpi=args.image_dpi,
                )
            )
    if args.resume and not all(s.folder is not None for s in sinks):
        raise CliError("--resume needs the outputs in a folder", hint="give -o DIR/")
    return sinks
