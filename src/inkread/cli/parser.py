"""The parser of ``inkread FILE|DIR ... [options]`` and the argparse types every subcommand shares."""

from __future__ import annotations

import argparse

from .._version import __version__
from ..options import MAX_PIXELS_DEFAULT, PDF_DPI_DEFAULT
from .codes import PROG, _exit_code_table
from .commands import COMMANDS


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0 (shared by every subcommand)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def whole_number(minimum: int):
    """argparse type: a whole number of at least ``minimum`` (shared by every subcommand)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "positive_int" if minimum == 1 else f"int_from_{minimum}"  # argparse names it in errors
    return parse


positive_int = whole_number(1)


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
  -o DIR --format gt  lines to correct, for 'inkread train': per line DIR/PAGE_lNNN.png (the line
                      as cut from the page) and DIR/PAGE_lNNN.gt.txt (its reading, to correct);
                      per page DIR/PAGE.page.xml (PAGE-XML, for eScriptorium or Transkribus) and
                      the page image it names. PAGE: the input's name (+ _pNNN a page of a PDF).
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
  INKREAD_PLUGINS        modules whose backends() add or replace recognition backends
  INKREAD_HANDWRITING_MODEL  another handwriting model file (one rebuilt by inkread.training;
                         --model FILE chooses one for a run)

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
  inkread scan.pdf -o scan-searchable.pdf            (pages with text keep it: --force-ocr, --redo-ocr)
  inkread note.jpg -o note.md --overlay note-check.png
  inkread letters/ --mode handwritten -o lines/ --format gt    (correct lines/*.gt.txt, then train)
  inkread letters/ --mode handwritten --model hand.onnx -o texts/   (a model inkread train made)
"""
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=(
            f"{PROG} [options] FILE|DIR [FILE|DIR ...]\n"
            f"       {PROG} COMMAND [options]   (commands: {', '.join(COMMANDS)})"
        ),
        description="Offline OCR for handwritten notes and printed pages (images and PDFs).",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="FILE|DIR", help="images or PDFs to read; folders are searched for them"
    )
    parser.add_argument("--version", "-V", action="version", version=f"{PROG} {__version__}")

    rec = parser.add_argument_group("recognition")
    rec.add_argument(
        "--mode",
        "-m",
        choices=("auto", "handwritten", "printed"),
        default="auto",
        help="what kind of writing to expect (default: auto, decided per page)",
    )
    rec.add_argument(
        "--lang",
        "--language",
        "-l",
        dest="lang",
        default="auto",
        metavar="LANG",
        help="language code or name, e.g. en, fr, german (see 'inkread languages'); auto (the default): each "
        "page's own, found from a first reading; several read together: en+fr",
    )
    rec.add_argument(
        "--engine",
        "-e",
        choices=("auto", "ppocr", "tesseract"),
        default="auto",
        help="which backend reads: auto (default: PP-OCRv6 where it reads the language, "
        "else Tesseract), ppocr or tesseract",
    )
    rec.add_argument(
        "--rotate",
        default="auto",
        metavar="auto|off|0|90|180|270",
        help="turn pages upright: auto (default) decides each page's orientation from the page; "
        "off reads them as they are; a number turns every page that far clockwise",
    )
    rec.add_argument("--pages", "-p", metavar="RANGE", help="pages to read, 1-based, e.g. 1-3,5 (default: all)")
    rec.add_argument(
        "--model",
        metavar="FILE",
        default=None,
        help="read handwriting with this model (one 'inkread train' exported) in place of the shipped "
        "one, lexicon and fusion with PP-OCRv6 on top; with $INKREAD_URL, the name of a model the "
        "service registered (serve --model NAME=FILE)",
    )
    rec.add_argument(
        "--dpi",
        type=positive_int,
        default=PDF_DPI_DEFAULT,
        metavar="N",
        help=f"resolution PDF pages are rendered at (default: {PDF_DPI_DEFAULT})",
    )
    rec.add_argument(
        "--max-pixels",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"refuse pages larger than this many pixels (default: {MAX_PIXELS_DEFAULT})",
    )
    rec.add_argument(
        "--max-pages",
        type=positive_int,
        default=None,
        metavar="N",
        help="refuse a document with more pages to read than this, before reading any (default: 500)",
    )
    rec.add_argument(
        "--time-limit",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help="stop reading a document (between pages) once it has taken this long; it fails (exit 14)",
    )

    existing = rec.add_mutually_exclusive_group()
    existing.add_argument(
        "--skip-text",
        dest="existing_text",
        action="store_const",
        const="skip",
        default=None,
        help="PDF pages that already have text keep it and are not read (the default; one line on stderr says so)",
    )
    existing.add_argument(
        "--force-ocr",
        dest="existing_text",
        action="store_const",
        const="force",
        help="read every PDF page, replacing its text (a page with visible text is rasterised in -o OUT.pdf)",
    )
    existing.add_argument(
        "--redo-ocr",
        dest="existing_text",
        action="store_const",
        const="redo",
        help="read again PDF pages whose only text is an earlier OCR layer (invisible text), replacing it; "
        "pages with visible text keep it",
    )

    pre = parser.add_argument_group("preprocessing (each: --X on, --no-X off, unset: the default)")
    for name, text in _PREPROCESS_HELP.items():
        pre.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=None, help=text)

    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        "-f",
        metavar="FMT[,FMT...]",
        default=None,
        help="text (default; also txt), json, hocr, alto (ALTO XML v4), pdf (searchable), md "
        "(Markdown), tsv (Tesseract's TSV) or gt (with -o DIR/: line images and readings to correct, "
        "and PAGE-XML); several at once with -o DIR/ "
        "(--format text,pdf,alto); inferred from -o OUT's suffix when not given",
    )
    out.add_argument(
        "--overlay",
        metavar="IMG",
        help="also write the page image with the recognised "
        "lines drawn and labelled (IMG-1.png, IMG-2.png ... for several pages)",
    )
    out.add_argument("--output", "-o", metavar="OUT", help="write to this file or directory ('-': stdout)")
    out.add_argument(
        "--image-dpi",
        type=positive_int,
        default=None,
        metavar="N",
        help="pdf output: the resolution of images that do not say theirs (default: the one "
        "that makes the image a page, 11 inches on its longer side)",
    )
    out.add_argument(
        "--sidecar",
        metavar="FILE",
        help="also write the plain text to FILE (beside -o OUT.pdf, like OCRmyPDF's --sidecar; '-': stdout)",
    )
    out.add_argument(
        "--recursive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="search folders recursively (default: yes)",
    )
    out.add_argument("--progress", action="store_true", help="show a progress bar even when stderr is not a terminal")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")

    batch = parser.add_argument_group("batches")
    batch.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes, each reading pages with its own models (default: "
        "$INKREAD_JOBS, else the number of usable cores; one page is read in-process)",
    )
    batch.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="read the pages on Ray (pip install 'inkread[ray]'): no ADDRESS starts a local "
        "Ray; 'auto' or ray://HOST:10001 joins a cluster (inputs on a shared file system); "
        "--jobs actors",
    )
    batch.add_argument(
        "--resume",
        "--skip-existing",
        dest="resume",
        action="store_true",
        help="with -o DIR/: skip inputs whose outputs are already there and newer than them",
    )
    batch.add_argument(
        "--report",
        metavar="FILE.jsonl",
        help="write a JSON line per input as it ends: input, pages, status, error_kind, "
        "message, exit_code, seconds, outputs, warnings (appended to with --resume)",
    )
    return parser
