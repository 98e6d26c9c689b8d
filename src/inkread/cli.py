"""The ``inkread`` command line.

``inkread FILE|DIR ... [options]`` recognises images and PDFs; ``inkread COMMAND ...`` runs a
subcommand (``inkread languages``). The first argument picks a subcommand only when it names one
and is not an existing path, so a file called ``languages`` can still be read (or write
``inkread ./languages`` / ``inkread -- languages``).

Adding a subcommand: build a :class:`Command` (name, one-line help, a function that adds its
arguments to an ``argparse`` parser, a function that runs it and returns the exit code) and pass it
to :func:`register_command`. Import heavy modules inside ``run`` so ``inkread --version`` stays fast.

Errors never show a traceback: each becomes one ``inkread: error: ...`` line on stderr and an exit
code from :data:`EXIT_CODES` (set ``INKREAD_DEBUG=1`` to see tracebacks too).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ._version import __version__
from . import exceptions as exc_mod
from .exceptions import OcrException
from .failure import (DEBUG_ENV, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, EXIT_WRITE, CliError, Failure,
                      OutputError, debug_enabled, error_line, exit_code_for)
from .options import MAX_PIXELS_DEFAULT, PDF_DPI_DEFAULT

__all__ = [
    "main",
    "Command",
    "COMMANDS",
    "register_command",
    "CliError",
    "EXIT_CODES",
    "exit_code_for",
    "error_line",
]

PROG = "inkread"

EXIT_OK = 0
EXIT_SOME_FAILED = 15

BACKEND = "pp-ocrv6"


# (code, meaning) for --help; built from the exception classes so it cannot drift from them.
EXIT_CODES: list[tuple[int, str]] = [
    (EXIT_OK, "success"),
    (OcrException.exit_code, "other recognition error"),
    (EXIT_USAGE, "usage error, missing input file, or the output would overwrite an input"),
    (exc_mod.InputError.exit_code, "input unusable (unreadable file, folder without images)"),
    (exc_mod.EmptyInputError.exit_code, "empty input file"),
    (exc_mod.UnsupportedFormatError.exit_code, "not a supported image or PDF"),
    (exc_mod.CorruptInputError.exit_code, "truncated or damaged file"),
    (exc_mod.EncryptedPdfError.exit_code, "password-protected PDF"),
    (exc_mod.ImageTooLargeError.exit_code, "image over the pixel limit (see --max-pixels)"),
    (exc_mod.PageSelectionError.exit_code, "bad --pages, or pages the file does not have"),
    (exc_mod.UnsupportedLanguageError.exit_code, "unsupported --lang (see 'inkread languages')"),
    (exc_mod.MissingDependencyError.exit_code, "a model or package is missing"),
    (exc_mod.AuthenticationError.exit_code, "bad or missing service credentials"),
    (exc_mod.ServiceUnavailableError.exit_code, "the OCR service cannot be reached"),
    (exc_mod.OcrTimeoutError.exit_code, "timed out"),
    (exc_mod.OcrCancelledError.exit_code, "cancelled"),
    (exc_mod.TooManyPagesError.exit_code, "more pages to read than --max-pages allows"),
    (EXIT_SOME_FAILED, "some inputs failed: others succeeded, or they failed in different ways"),
    (EXIT_INTERNAL, f"internal error (a bug; rerun with {DEBUG_ENV}=1 for the traceback)"),
    (EXIT_WRITE, "an output file could not be written"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
]


def _exit_code_table() -> str:
    return "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES)


# ----------------------------------------------------------------------------------------------
# Error reporting


def _debug() -> bool:
    return debug_enabled()


class _Reporter:
    """Writes to stdout/stderr, stepping around a progress bar when one is shown."""

    def __init__(self) -> None:
        self.bar: Any = None

    def out(self, text: str) -> None:
        self._write(text, sys.stdout)

    def err(self, text: str) -> None:
        self._write(text + "\n", sys.stderr)

    def _write(self, text: str, stream: TextIO) -> None:
        if self.bar is not None and not self.bar.disable:
            self.bar.write(text, file=stream, end="")
        else:
            stream.write(text)
        stream.flush()

    def error(self, error: BaseException, path: os.PathLike[str] | str | None = None) -> int:
        self.err(f"{PROG}: error: {error_line(error, path)}")
        if _debug():
            text = error.traceback_text if isinstance(error, Failure) else "".join(traceback.format_exception(error))
            self.err(text.rstrip())
        return exit_code_for(error)


# ----------------------------------------------------------------------------------------------
# Subcommands


@dataclass(frozen=True)
class Command:
    """A subcommand: ``inkread NAME ...``."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None

    def parser(self) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(
            prog=f"{PROG} {self.name}",
            description=self.description or self.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        self.add_arguments(parser)
        return parser


COMMANDS: dict[str, Command] = {}


def register_command(command: Command) -> Command:
    """Make ``inkread NAME`` run ``command`` (replacing any command of that name)."""
    COMMANDS[command.name] = command
    return command


def _languages_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", "-f", choices=("text", "json"), default="text",
                        help="a table (default) or a JSON array")


def _run_languages(args: argparse.Namespace) -> int:
    from .backends import get_backend
    from .languages import supported_languages

    rows = [
        {"code": i.code, "name": i.name, "iso3": i.iso3, "script": i.script,
         "backend": get_backend(i.backends[0]).label,  # what --engine auto uses
         "backends": [get_backend(b).label for b in i.backends], "tesseract": i.tesseract,
         "modes": list(get_backend(i.backends[0]).capabilities.modes)}
        for i in supported_languages()
    ]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    table = [("CODE", "NAME", "BACKEND", "MODES")] + [
        (r["code"], r["name"], ",".join(r["backends"]), ", ".join(r["modes"])) for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3] for row in table]
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


register_command(Command(
    name="languages",
    help="list the languages inkread reads",
    add_arguments=_languages_arguments,
    run=_run_languages,
    description="List the languages inkread reads: code (for --lang), name, backends (the one "
                "--engine auto uses first) and modes.",
))


def _lazy(module: str, name: str) -> Callable:
    """``inkread.<module>.<name>``, imported on first call: heavy subcommands cost --version nothing."""

    def call(*args):
        import importlib

        return getattr(importlib.import_module(f"inkread.{module}"), name)(*args)

    return call


register_command(Command(
    name="eval",
    help="score inkread on images with ground-truth .txt (CER/WER report)",
    add_arguments=_lazy("evaluate", "add_arguments"),
    run=_lazy("evaluate", "run"),
))

register_command(Command(
    name="serve",
    help="run the OCR web service (API, Aspose-compatible API, web page)",
    add_arguments=_lazy("service.commands", "add_serve_arguments"),
    run=_lazy("service.commands", "run_serve"),
    description="Run the OCR web service: token endpoint, /v1 API, Aspose OCR Cloud v5 API, web page at /.",
))

register_command(Command(
    name="clients",
    help="manage the web service's API clients (add, list, revoke)",
    add_arguments=_lazy("service.commands", "add_clients_arguments"),
    run=_lazy("service.commands", "run_clients"),
    description="Manage the web service's API clients: 'add NAME' prints a new id and secret once; "
                "'list'; 'revoke ID'.",
))

register_command(Command(
    name="keys",
    help="manage the web service's token signing key (rotate)",
    add_arguments=_lazy("service.commands", "add_keys_arguments"),
    run=_lazy("service.commands", "run_keys"),
    description="'rotate' replaces the key that signs access tokens: every token issued before is refused "
                "at once by every replica sharing the database; clients fetch new tokens with their secrets.",
))


# ----------------------------------------------------------------------------------------------
# The recognition parser


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0 (shared by every subcommand)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (shared by every subcommand)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


_PREPROCESS_HELP = {
    "binarize": "black-and-white thresholding (default: off)",
    "upscale": "enlarge small text (default: auto)",
    "contrast": "boost low contrast (default: auto)",
    "denoise": "median-filter noise (default: off)",
    "deskew": "straighten small skews (default: auto)",
}


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``inkread FILE|DIR ... [options]``."""
    commands = "\n".join(f"  {name:<12}{cmd.help}" for name, cmd in COMMANDS.items())
    epilog = f"""\
commands:
{commands}
  (run 'inkread COMMAND --help' for a command's options)

where results go:
  one file            its text on stdout (a JSON object with --format json)
  several files/DIR   each text under a '==> path <==' header (a JSON array with --format json;
                      one document with all the pages with --format hocr|alto|pdf)
  -o OUT              OUT is a directory (it exists, ends in '/', or several inputs without a
                      known suffix): one OUT/<name>.txt|.json|.hocr|.xml|.pdf|.md per input, folder
                      structure kept; otherwise OUT is one file, format taken from its suffix
                      (.txt, .json, .hocr/.html -> hocr, .xml/.alto -> alto, .pdf, .md, .tsv;
                      no suffix: text; another suffix is an error unless --format says).
  -o -                stdout, in any format (pdf too)
                      pdf: a searchable PDF (the page images with an invisible text layer).
  --overlay IMG.png   also draw each page's recognised lines and their text, to check by eye
                      (several pages: IMG-1.png, IMG-2.png ...).
                      Files are written atomically; an input is never overwritten.
  Folders are read recursively in natural order; hidden files are skipped. A bad file is
  reported on stderr and the others are still read. '-' reads stdin; '@list.txt' reads the
  paths listed in list.txt (one a line); a quoted pattern ('scans/**/*.jpg') is expanded.
  Several inputs end with a summary line on stderr (not with --quiet).

environment:
  INKREAD_JOBS           default for --jobs
  INKREAD_THREADS        onnxruntime threads per process (default: cores / jobs)
  INKREAD_URL            read on this inkread service instead of locally (with the two below)
  INKREAD_CLIENT_ID      the service's client id
  INKREAD_CLIENT_SECRET  the service's client secret
  INKREAD_DB             'inkread serve' / 'inkread clients': the task and client database
  INKREAD_DEBUG          1: print tracebacks with errors

exit codes:
{_exit_code_table()}

examples:
  inkread note.jpg
  inkread --mode printed --lang fr --pages 1-3 letter.pdf
  inkread scans/ -o texts/
  inkread scans/ -o out/ --format text,pdf,alto --jobs 2 --resume --report run.jsonl
  cat note.jpg | inkread - -o -
  inkread scan.pdf -o scan-ocr.pdf --sidecar scan.txt
  inkread page.png --format json | jq .text
  inkread scan.pdf -o scan-searchable.pdf
  inkread note.jpg -o note.md --overlay note-check.png
"""
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=(f"{PROG} [options] FILE|DIR [FILE|DIR ...]\n"
               f"       {PROG} COMMAND [options]   (commands: {', '.join(COMMANDS)})"),
        description="Offline OCR for handwritten notes and printed pages (images and PDFs).",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="FILE|DIR",
                        help="images or PDFs to read; folders are searched for them")
    parser.add_argument("--version", "-V", action="version", version=f"{PROG} {__version__}")

    rec = parser.add_argument_group("recognition")
    rec.add_argument("--mode", "-m", choices=("auto", "handwritten", "printed"), default="auto",
                     help="what kind of writing to expect (default: auto, decided per page)")
    rec.add_argument("--lang", "--language", "-l", dest="lang", default="en", metavar="LANG",
                     help="language code or name, e.g. en, fr, german (default: en; "
                          "see 'inkread languages')")
    rec.add_argument("--engine", "-e", choices=("auto", "ppocr", "tesseract"), default="auto",
                     help="which backend reads: auto (default: PP-OCRv6 where it reads the language, "
                          "else Tesseract), ppocr or tesseract")
    rec.add_argument("--rotate", default="auto", metavar="auto|off|0|90|180|270",
                     help="turn pages upright: auto (default) decides each page's orientation from the page; "
                          "off reads them as they are; a number turns every page that far clockwise")
    rec.add_argument("--pages", "-p", metavar="RANGE",
                     help="pages to read, 1-based, e.g. 1-3,5 (default: all)")
    rec.add_argument("--dpi", type=positive_int, default=PDF_DPI_DEFAULT, metavar="N",
                     help=f"resolution PDF pages are rendered at (default: {PDF_DPI_DEFAULT})")
    rec.add_argument("--max-pixels", type=positive_int, default=None, metavar="N",
                     help=f"refuse pages larger than this many pixels (default: {MAX_PIXELS_DEFAULT})")
    rec.add_argument("--max-pages", type=positive_int, default=None, metavar="N",
                     help="refuse a document with more pages to read than this, before reading any (default: 500)")
    rec.add_argument("--time-limit", type=positive_float, default=None, metavar="SECONDS",
                     help="stop reading a document (between pages) once it has taken this long; it fails (exit 14)")

    pre = parser.add_argument_group("preprocessing (each: --X on, --no-X off, unset: the default)")
    for name, text in _PREPROCESS_HELP.items():
        pre.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=None, help=text)

    out = parser.add_argument_group("output")
    out.add_argument("--format", "-f", metavar="FMT[,FMT...]", default=None,
                     help="text (default; also txt), json, hocr, alto (ALTO XML v4), pdf (searchable), md "
                          "(Markdown) or tsv (Tesseract's TSV); several at once with -o DIR/ "
                          "(--format text,pdf,alto); inferred from -o OUT's suffix when not given")
    out.add_argument("--overlay", metavar="IMG", help="also write the page image with the recognised "
                     "lines drawn and labelled (IMG-1.png, IMG-2.png ... for several pages)")
    out.add_argument("--output", "-o", metavar="OUT", help="write to this file or directory ('-': stdout)")
    out.add_argument("--image-dpi", type=positive_int, default=None, metavar="N",
                     help="pdf output: the resolution of images that do not say theirs (default: the one "
                          "that makes the image a page, 11 inches on its longer side)")
    out.add_argument("--sidecar", metavar="FILE", help="also write the plain text to FILE (beside -o OUT.pdf, "
                     "like OCRmyPDF's --sidecar; '-': stdout)")
    out.add_argument("--recursive", action=argparse.BooleanOptionalAction, default=True,
                     help="search folders recursively (default: yes)")
    out.add_argument("--progress", action="store_true",
                     help="show a progress bar even when stderr is not a terminal")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")

    batch = parser.add_argument_group("batches")
    batch.add_argument("--jobs", "-j", type=positive_int, default=None, metavar="N",
                       help="worker processes, each reading pages with its own models (default: "
                            "$INKREAD_JOBS, else the number of usable cores; one page is read in-process)")
    batch.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="read the pages on Ray (pip install 'inkread[ray]'): no ADDRESS starts a local "
                            "Ray; 'auto' or ray://HOST:10001 joins a cluster (inputs on a shared file system); "
                            "--jobs actors")
    batch.add_argument("--resume", "--skip-existing", dest="resume", action="store_true",
                       help="with -o DIR/: skip inputs whose outputs are already there and newer than them")
    batch.add_argument("--report", metavar="FILE.jsonl",
                       help="write a JSON line per input as it ends: input, pages, status, error_kind, "
                            "message, exit_code, seconds, outputs, warnings (appended to with --resume)")
    return parser


# ----------------------------------------------------------------------------------------------
# Output planning and writing


def _suffix_format(path: Path) -> str | None:
    from .export.formats import format_for_path

    return format_for_path(path)


def same_file(a: Path, b: Path) -> bool:
    from .batch import same_file as same

    return same(a, b)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` atomically (see :func:`inkread.outputs.write_atomic`)."""
    from .outputs import write_atomic as write

    write(path, text)


def _check_not_input(target: Path, inputs: Sequence[Path]) -> None:
    for path in inputs:
        if same_file(target, path):
            raise CliError(
                f"refusing to write {target}: it is the input file {path}",
                hint="choose another -o",
            )


# ----------------------------------------------------------------------------------------------
# Running a recognition batch


def _options(args: argparse.Namespace) -> Any:
    from .io import parse_page_range
    from .languages import Language
    from .options import RecognitionMode, RecognitionOptions

    changes: dict[str, Any] = {
        "mode": RecognitionMode.parse(args.mode),
        "language": Language.parse(args.lang),
        "pdf_dpi": args.dpi,
        "engine": args.engine,
        "rotate": args.rotate,
    }
    if args.pages is not None:
        changes["pages"] = tuple(parse_page_range(args.pages))
    if args.max_pages is not None:
        changes["max_pages"] = args.max_pages
    if args.time_limit is not None:
        changes["time_limit"] = args.time_limit
    if args.max_pixels is not None:
        changes["max_pixels"] = args.max_pixels
        _trust_pixel_limit(args.max_pixels)
    for name in _PREPROCESS_HELP:
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    return RecognitionOptions().updated(**changes)


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


def _formats(args: argparse.Namespace) -> list[str] | None:
    """``--format text,pdf,alto`` as format names (``txt`` is ``text``); ``None`` when not given."""
    if args.format is None:
        return None
    from .export.formats import parse_format

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
    from .batch import _GLOB_CHARS

    return len(args.inputs) > 1 or any(
        os.path.isdir(p) or (not os.path.exists(p) and (p.startswith("@") or _GLOB_CHARS & set(p)))
        for p in args.inputs)


def _single_format(path: Path, given: list[str] | None) -> str:
    if given:
        return given[0]
    fmt = _suffix_format(path)
    if fmt is None and path.suffix:
        from .export.formats import SUFFIXES

        raise CliError(f"-o {path}: no output format for the suffix {path.suffix!r}",
                       hint=f"use one of {', '.join(sorted(SUFFIXES))}, or say --format")
    return fmt or "text"


def _plan_sinks(args: argparse.Namespace, multi: bool, explicit: Sequence[Path], reporter: _Reporter) -> list[Any]:
    """The outputs this run writes (checked against the inputs named on the command line; each
    per-input file is checked against its own input when it is written)."""
    from .outputs import Sink

    formats = _formats(args)
    out_fn = reporter.out
    sinks: list[Sink] = []
    if args.overlay is not None:
        _check_not_input(Path(args.overlay), explicit)
    if args.output is None or args.output == "-":
        if formats and len(formats) > 1:
            raise CliError("several formats need a folder to write them to", hint="give -o DIR/")
        fmt = formats[0] if formats else "text"
        if fmt == "pdf" and args.output is None:
            raise CliError("--format pdf writes a file", hint="give -o OUT.pdf (or -o - for stdout)")
        sinks.append(Sink(fmt, multi=multi, pdf_dpi=args.dpi, image_dpi=args.image_dpi, out=out_fn))
    else:
        out = Path(args.output)
        is_dir = out.is_dir() or args.output.endswith(("/", os.sep)) or (
            multi and _suffix_format(out) is None and not out.suffix) or (formats is not None and len(formats) > 1)
        if is_dir:
            if out.exists() and not out.is_dir():
                raise CliError(f"-o {out}: several inputs need a directory, but {out} is a file",
                               hint="give a directory, or a name with a format's suffix (.txt, .json, .hocr, "
                                    ".xml, .pdf, .md, .tsv) for one combined file")
            sinks.extend(Sink(fmt, multi=multi, folder=out, pdf_dpi=args.dpi, image_dpi=args.image_dpi)
                         for fmt in formats or ["text"])
        else:
            if out.exists() and not out.is_file():
                raise CliError(f"cannot write {out}: it exists and is not a regular file")
            _check_not_input(out, explicit)
            sinks.append(Sink(_single_format(out, formats), multi=multi, target=out, pdf_dpi=args.dpi,
                              image_dpi=args.image_dpi))
    if args.sidecar is not None:
        if args.sidecar == "-":
            if any(s.folder is None and s.target is None for s in sinks):
                raise CliError("--sidecar - and the main output would both go to stdout")
            sinks.append(Sink("text", multi=multi, pdf_dpi=args.dpi, image_dpi=args.image_dpi, out=out_fn))
        else:
            side = Path(args.sidecar)
            _check_not_input(side, explicit)
            sinks.append(Sink(_single_format(side, ["text"] if not side.suffix else None), multi=multi,
                              target=side, pdf_dpi=args.dpi, image_dpi=args.image_dpi))
    if args.resume and not all(s.folder is not None for s in sinks):
        raise CliError("--resume needs the outputs in a folder", hint="give -o DIR/")
    return sinks


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
            from .batch import iter_inputs
            from .io import count_pages

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
        row = {"input": done.input.shown, "pages": done.pages, "status": status,
               "error_kind": None, "message": None, "exit_code": 0,
               "seconds": round(done.seconds, 3), "outputs": [os.fspath(p) for p in outputs],
               "warnings": done.notes}
        if error is not None:
            row.update(error_kind=getattr(error, "kind", None) or type(error).__name__,
                       message=error_line(error), exit_code=exit_code_for(error))
        self.fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.fh.flush()

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def _batch_exit_code(codes: Sequence[int], total: int) -> int:
    if not codes:
        return EXIT_OK
    if len(codes) == total and len(set(codes)) == 1:
        return codes[0]
    return EXIT_SOME_FAILED


def _write_overlays(args: argparse.Namespace, f: Any, result: Any, start: int, multi: bool) -> int:
    """Draw ``--overlay`` images for one input; returns how many were written."""
    from .export import overlay_paths, save_overlays

    numbered = True if multi else None
    for target in overlay_paths(args.overlay, len(result.pages), start=start, numbered=numbered):
        if same_file(target, f.path):
            raise OutputError(f"refusing to write the overlay {target}: it is the input file {f.shown}")
    try:
        save_overlays(result, args.overlay, images=f.path, pdf_dpi=args.dpi, start=start, numbered=numbered)
    except (OcrException, OSError, ValueError) as error:
        raise OutputError(f"cannot write the overlay for {f.shown}: {error_line(error)}") from error
    return len(result.pages)


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


def _jobs(args: argparse.Namespace) -> int:
    if args.jobs is not None:
        return args.jobs
    env = os.environ.get("INKREAD_JOBS", "").strip()
    if env:
        try:
            return positive_int(env)
        except argparse.ArgumentTypeError as error:
            raise CliError(f"INKREAD_JOBS: {error}") from None
    from .runner import usable_cores

    return usable_cores()


def _preflight(options: Any) -> None:
    """Refuse once, before any file is read, what would fail every file: a language no backend
    reads, or a Tesseract language pack that is not installed."""
    from .backends import backend_for

    backend_for(options.language, options.engine).check_language(options)


def _spool_stdin(stack: contextlib.ExitStack) -> Path:
    """``-`` as input: stdin's bytes in a private temporary file (removed at the end)."""
    from .io import MAX_STREAM_BYTES

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

    from .runner import InlineRunner, PoolRunner

    jobs = _jobs(args)
    if args.ray is not None:
        from .raybatch import RayRunner

        return RayRunner(options, args.ray, actors=jobs), files, True
    if remote or jobs == 1:
        return InlineRunner(options), files, not remote
    head = list(itertools.islice(files, 2))
    files = itertools.chain(head, files)
    if len(head) < 2:
        pages = 1
        if head and head[0].path.is_file():
            from .io import count_pages

            with contextlib.suppress(Exception):
                pages = count_pages(head[0].path)
        if options.pages is not None:
            pages = min(pages, len(options.pages))
        if pages < 2:
            return InlineRunner(options), files, True
    return PoolRunner(options, jobs), files, True


def run_recognize(args: argparse.Namespace, reporter: _Reporter) -> int:
    import time

    from .batch import InputFile, iter_inputs
    from .runner import run_batch

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
                    for note in done.notes:
                        reporter.err(f"{PROG}: warning: {note}")
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
        line = (f"{PROG}: {counts['pages']:,} page{'' if counts['pages'] == 1 else 's'} from "
                f"{counts['files'] - counts['failed'] - counts['skipped']:,} of {counts['files']:,} file{plural} "
                f"in {_duration(time.perf_counter() - t0)}")
        if counts["skipped"]:
            line += f", {counts['skipped']:,} skipped (outputs already complete)"
        if counts["failed"]:
            line += f", {counts['failed']:,} failed" + (f": see {args.report}" if args.report else "")
        reporter.err(line)
    return _batch_exit_code(codes, counts["files"] - counts["skipped"])


# ----------------------------------------------------------------------------------------------
# Entry point


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace | int:
    """Parse, turning argparse's exits (--help, --version, usage errors) into a return code."""
    try:
        return parser.parse_args(list(argv))
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)


def _run(argv: Sequence[str], reporter: _Reporter) -> int:
    if argv and argv[0] in COMMANDS and not os.path.exists(argv[0]):
        command = COMMANDS[argv[0]]
        args = _parse(command.parser(), argv[1:])
        return args if isinstance(args, int) else command.run(args)
    if argv and not argv[0].startswith("-") and not os.path.exists(argv[0]) and "." not in argv[0] \
            and "/" not in argv[0] and os.sep not in argv[0]:
        import difflib

        close = difflib.get_close_matches(argv[0], list(COMMANDS), n=1, cutoff=0.75)
        if close:
            raise CliError(f"{argv[0]}: no such file or command", hint=f"did you mean 'inkread {close[0]}'?")
    args = _parse(build_parser(), argv)
    return args if isinstance(args, int) else run_recognize(args, reporter)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code (never raises)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    reporter = _Reporter()
    try:
        return _run(argv, reporter)
    except KeyboardInterrupt:
        reporter.bar = None
        reporter.err(f"{PROG}: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `inkread scans/ | head`: stop quietly
        with contextlib.suppress(Exception):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13  # killed by SIGPIPE, as a shell reports it
    except Exception as error:  # noqa: BLE001 - last resort: one line, never a traceback
        reporter.bar = None
        return reporter.error(error)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
