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
import textwrap
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from . import exceptions as exc_mod
from .exceptions import OcrException

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
EXIT_USAGE = 2
EXIT_SOME_FAILED = 15
EXIT_INTERNAL = 70
EXIT_WRITE = 74
EXIT_INTERRUPTED = 130

BACKEND = "pp-ocrv6"
DEBUG_ENV = "INKREAD_DEBUG"


class CliError(Exception):
    """A problem with the command line itself (not with one input); ``exit_code`` as the CLI exits."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class OutputError(CliError):
    """An output file could not be written."""

    exit_code = EXIT_WRITE


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
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def exit_code_for(error: BaseException) -> int:
    """The exit code the CLI uses for ``error``."""
    if isinstance(error, (OcrException, CliError)):
        return int(error.exit_code)
    if isinstance(error, FileNotFoundError):
        return EXIT_USAGE
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, OSError):  # unreadable input: permission denied, a directory, I/O error
        return exc_mod.InputError.exit_code
    return EXIT_INTERNAL


def error_line(error: BaseException, path: os.PathLike[str] | str | None = None) -> str:
    """One line (no prefix) describing ``error``, naming ``path`` unless the message already does."""
    where = os.fspath(path) if path is not None else None
    if isinstance(error, (OcrException, CliError)):
        text = str(error)
    elif isinstance(error, OSError) and error.strerror:
        name = error.filename if error.filename is not None else where
        text = f"{os.fsdecode(name)}: {error.strerror}" if name is not None else error.strerror
        if error.filename is not None:
            where = None
    elif isinstance(error, OSError):
        text = str(error) or type(error).__name__
    else:
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        text = f"internal error: {detail} (this is a bug; run with {DEBUG_ENV}=1 to see the traceback)"
    if where and where not in text:
        text = f"{where}: {text}"
    return " ".join(text.split())  # one line, whatever the message held


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
            self.err("".join(traceback.format_exception(error)).rstrip())
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
    from .backends import BACKEND_LABELS, backend_modes
    from .languages import supported_languages

    rows = [
        {"code": i.code, "name": i.name, "iso3": i.iso3, "script": i.script,
         "backend": BACKEND_LABELS[i.backends[0]],  # what --engine auto uses
         "backends": [BACKEND_LABELS[b] for b in i.backends], "tesseract": i.tesseract,
         "modes": list(backend_modes(i.backends[0]))}
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


# ----------------------------------------------------------------------------------------------
# The recognition parser


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
                      (.json, .hocr/.html -> hocr, .xml/.alto -> alto, .pdf, .md; else text).
                      pdf: a searchable PDF (the page images with an invisible text layer).
  --overlay IMG.png   also draw each page's recognised lines and their text, to check by eye
                      (several pages: IMG-1.png, IMG-2.png ...).
                      Files are written atomically; an input is never overwritten.
  Folders are read recursively in natural order; hidden files are skipped. A bad file is
  reported on stderr and the others are still read.

exit codes:
{_exit_code_table()}

examples:
  inkread note.jpg
  inkread --mode printed --lang fr --pages 1-3 letter.pdf
  inkread scans/ -o texts/
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
    rec.add_argument("--pages", "-p", metavar="RANGE",
                     help="pages to read, 1-based, e.g. 1-3,5 (default: all)")
    rec.add_argument("--dpi", type=positive_int, default=300, metavar="N",
                     help="resolution PDF pages are rendered at (default: 300)")
    rec.add_argument("--max-pixels", type=positive_int, default=None, metavar="N",
                     help="refuse pages larger than this many pixels (default: 120000000)")

    pre = parser.add_argument_group("preprocessing (each: --X on, --no-X off, unset: the default)")
    for name, text in _PREPROCESS_HELP.items():
        pre.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=None, help=text)

    out = parser.add_argument_group("output")
    out.add_argument("--format", "-f", choices=("text", "json", "hocr", "alto", "pdf", "md"), default=None,
                     help="text (default), json, hocr, alto (ALTO XML v4), pdf (searchable) or md "
                          "(Markdown); inferred from -o OUT's suffix when not given")
    out.add_argument("--overlay", metavar="IMG", help="also write the page image with the recognised "
                     "lines drawn and labelled (IMG-1.png, IMG-2.png ... for several pages)")
    out.add_argument("--output", "-o", metavar="OUT", help="write to this file or directory")
    out.add_argument("--recursive", action=argparse.BooleanOptionalAction, default=True,
                     help="search folders recursively (default: yes)")
    out.add_argument("--progress", action="store_true",
                     help="show a progress bar even when stderr is not a terminal")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return parser


# ----------------------------------------------------------------------------------------------
# Output planning and writing


def _suffix_format(path: Path) -> str | None:
    from .export.formats import format_for_path

    return format_for_path(path)


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_not_input(target: Path, inputs: Sequence[Path]) -> None:
    for path in inputs:
        if _same_file(target, path):
            raise CliError(
                f"refusing to write {target}: it is the input file {path}",
                hint="choose another -o",
            )


def _output_names(relatives: Sequence[Path], ext: str) -> list[Path]:
    """``a/x.jpg -> a/x.txt``; names that would clash keep their extension (``x.jpg.txt``), then
    get a number (``x.jpg-2.txt``). Compared case-insensitively, for case-insensitive disks."""

    def key(p: Path) -> str:
        return p.as_posix().casefold()

    names = [r.with_name(r.stem + ext) if r.suffix else r.with_name(r.name + ext) for r in relatives]
    counts: dict[str, int] = {}
    for n in names:
        counts[key(n)] = counts.get(key(n), 0) + 1
    names = [r.with_name(r.name + ext) if counts[key(n)] > 1 else n for r, n in zip(relatives, names)]
    taken: set[str] = set()
    result = []
    for n in names:
        candidate, i = n, 2
        while key(candidate) in taken:
            candidate = n.with_name(f"{n.name[: -len(ext)]}-{i}{ext}")
            i += 1
        taken.add(key(candidate))
        result.append(candidate)
    return result


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` via a temporary file in the same folder and a rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o7777 if path.is_file() else _default_mode()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8") if isinstance(text, str) else text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(f"cannot write {path}: {reason}") from error


def _render_text(result: Any) -> str:
    text = result.text
    return text + "\n" if text else ""


def _render_json(result: Any) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2)


def _render(fmt: str, result: Any, path: Path, pdf_dpi: float) -> str | bytes:
    """One input's result as a whole file in ``fmt`` (the page images are read again for pdf)."""
    if fmt == "json":
        return _render_json(result) + "\n"
    if fmt == "text":
        return _render_text(result)
    from .export import export

    try:
        return export(result, fmt, images=path, pdf_dpi=pdf_dpi) if fmt == "pdf" else export(result, fmt)
    except (OcrException, OSError, ValueError) as error:
        raise OutputError(f"cannot make the {fmt} output for {path}: {error_line(error)}") from error


class _Sink:
    """Where results go: stdout (streamed), one file (written at the end), or one file each."""

    def __init__(self, reporter: _Reporter, fmt: str, multi: bool, target: Path | None,
                 per_file: dict[Path, Path] | None, pdf_dpi: float = 300) -> None:
        self.reporter = reporter
        self.fmt = fmt
        self.multi = multi
        self.target = target  # one output file
        self.per_file = per_file  # input path -> output path
        self.count = 0
        self.buffer: list[str] = []
        self.pdf_dpi = pdf_dpi  # PDF inputs were rendered at this dpi (to render them again for pdf)
        self.documents: list[Any] = []  # hocr/alto: every result, written as one document at the end
        self.pdf: Any = None  # pdf: the searchable PDF being built, a page at a time

    def _emit(self, text: str) -> None:
        if self.target is not None:
            self.buffer.append(text)
        else:
            self.reporter.out(text)

    def start(self) -> None:
        if self.per_file is None and self.multi and self.fmt == "json":
            self._emit("[")

    def add(self, path: Path, result: Any) -> None:
        if self.per_file is not None:
            write_atomic(self.per_file[path], _render(self.fmt, result, path, self.pdf_dpi))
        elif self.fmt == "pdf":
            from .export import SearchablePdf

            if self.pdf is None:
                self.pdf = SearchablePdf()
            try:
                self.pdf.add_result(result, images=path, pdf_dpi=self.pdf_dpi)
            except (OcrException, OSError, ValueError) as error:
                raise OutputError(f"cannot add {path} to the PDF: {error_line(error)}") from error
        elif self.fmt in ("hocr", "alto"):
            self.documents.append(result)
        elif self.fmt == "json":
            body = _render_json(result)
            if self.multi:
                body = ("," if self.count else "") + "\n" + textwrap.indent(body, "  ")
            else:
                body += "\n"
            self._emit(body)
        elif self.fmt == "md":
            from .export import to_markdown

            if self.multi:
                self._emit(("\n" if self.count else "") + f"<!-- ==> {path} <== -->\n\n")
            self._emit(to_markdown(result))
        else:
            if self.multi:
                self._emit(("\n" if self.count else "") + f"==> {path} <==\n")
            self._emit(_render_text(result))
        self.count += 1

    def finish(self) -> None:
        if self.per_file is None and self.multi and self.fmt == "json":
            self._emit(("\n" if self.count else "") + "]\n")
        if self.documents:
            from .export import export

            self._emit(export(self.documents, self.fmt))  # type: ignore[arg-type]
        if self.pdf is not None and self.target is not None and self.count:
            write_atomic(self.target, self.pdf.to_bytes())
        elif self.target is not None and self.count:
            write_atomic(self.target, "".join(self.buffer))


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
    }
    if args.pages is not None:
        changes["pages"] = tuple(parse_page_range(args.pages))
    if args.max_pixels is not None:
        changes["max_pixels"] = args.max_pixels
        _trust_pixel_limit(args.max_pixels)
    for name in _PREPROCESS_HELP:
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    return RecognitionOptions().updated(**changes)


def _trust_pixel_limit(max_pixels: int) -> None:
    """``--max-pixels`` is the user's say: lift Pillow's own bomb limit to it (this process only)."""
    import warnings

    from PIL import Image

    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our max_pixels check rules


def _plan_sink(args: argparse.Namespace, files: Sequence[Any], reporter: _Reporter) -> _Sink:
    multi = len(args.inputs) > 1 or any(os.path.isdir(p) for p in args.inputs)
    inputs = [f.path for f in files]
    if args.overlay is not None:
        _check_not_input(Path(args.overlay), inputs)
    if args.output is None:
        if args.format == "pdf":
            raise CliError("--format pdf writes a file", hint="give -o OUT.pdf")
        return _Sink(reporter, args.format or "text", multi, None, None)
    out = Path(args.output)
    is_dir = out.is_dir() or args.output.endswith(("/", os.sep)) or (multi and _suffix_format(out) is None)
    if not is_dir:
        if out.exists() and not out.is_file():
            raise CliError(f"cannot write {out}: it exists and is not a regular file")
        _check_not_input(out, inputs)
        return _Sink(reporter, args.format or _suffix_format(out) or "text", multi, out, None, args.dpi)
    if out.exists() and not out.is_dir():
        raise CliError(f"-o {out}: several inputs need a directory, but {out} is a file",
                       hint="give a directory, or a name with a format's suffix (.txt, .json, .hocr, "
                            ".xml, .pdf, .md) for one combined file")
    fmt = args.format or "text"
    readable = [f for f in files if not f.path.is_dir()]
    from .export.formats import EXTENSIONS

    names = _output_names([f.relative for f in readable], EXTENSIONS[fmt])
    per_file = {f.path: out / name for f, name in zip(readable, names)}
    for target in per_file.values():
        _check_not_input(target, inputs)
    return _Sink(reporter, fmt, multi, None, per_file, args.dpi)


def _progress(args: argparse.Namespace, total: int) -> Any:
    show = not args.quiet and (args.progress or (total > 1 and sys.stderr.isatty()))
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="file", dynamic_ncols=True, leave=False)


def _batch_exit_code(codes: Sequence[int], total: int) -> int:
    if not codes:
        return EXIT_OK
    if len(codes) == total and len(set(codes)) == 1:
        return codes[0]
    return EXIT_SOME_FAILED


def _write_overlays(args: argparse.Namespace, path: Path, result: Any, start: int, multi: bool,
                    files: Sequence[Any]) -> int:
    """Draw ``--overlay`` images for one input; returns how many were written."""
    from .export import overlay_paths, save_overlays

    numbered = True if multi else None
    for target in overlay_paths(args.overlay, len(result.pages), start=start, numbered=numbered):
        for f in files:
            if _same_file(target, f.path):
                raise OutputError(f"refusing to write the overlay {target}: it is the input file {f.path}")
    try:
        save_overlays(result, args.overlay, images=path, pdf_dpi=args.dpi, start=start, numbered=numbered)
    except (OcrException, OSError, ValueError) as error:
        raise OutputError(f"cannot write the overlay for {path}: {error_line(error)}") from error
    return len(result.pages)


def run_recognize(args: argparse.Namespace, reporter: _Reporter) -> int:
    from .batch import iter_results, walk_inputs
    from .engine import OcrEngine

    options = _options(args)
    files = walk_inputs(args.inputs, recursive=args.recursive)
    sink = _plan_sink(args, files, reporter)
    engine = OcrEngine()  # one engine (and one model load) for the whole batch
    codes: list[int] = []
    overlays = 0  # overlay images written so far (they are numbered across inputs)
    reporter.bar = _progress(args, len(files))
    try:
        sink.start()
        if reporter.bar is not None and files:
            reporter.bar.set_postfix_str(files[0].path.name)  # the file being read
        for done, item in enumerate(iter_results(engine, files, options), 1):
            if item.error is not None:
                codes.append(reporter.error(item.error, item.path))
            else:
                try:
                    sink.add(item.path, item.result)
                    if args.overlay is not None:
                        overlays += _write_overlays(args, item.path, item.result, overlays, sink.multi, files)
                except OutputError as error:
                    codes.append(reporter.error(error))
            if reporter.bar is not None:
                if done < len(files):
                    reporter.bar.set_postfix_str(files[done].path.name, refresh=False)
                reporter.bar.update(1)
        sink.finish()
    except OutputError as error:
        codes.append(reporter.error(error))
        return error.exit_code
    finally:
        if reporter.bar is not None:
            reporter.bar.close()
            reporter.bar = None
    return _batch_exit_code(codes, len(files))


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
