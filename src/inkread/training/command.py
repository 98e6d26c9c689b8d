"""``inkread train DATA... -o hand.onnx``: the command line of :mod:`.adapt` (registered in
``cli/commands.py``). This module imports no PyTorch: without it, ``inkread train`` says in one line
how to install it; the data is read and checked (:mod:`.linedata`) before anything trains, and the
output is checked before the data is read (never an existing file without ``--force``, never the
package's own weights)."""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

from ..exceptions import MissingDependencyError
from ..failure import EXIT_INTERRUPTED, CliError

__all__ = ["add_arguments", "run", "check_output"]

DESCRIPTION = """\
Fine-tune the handwriting model on your own corrected lines, on the CPU, and write a model for
--model (with a card beside it: OUT.json).

DATA: line pairs (NAME.gt.txt beside NAME.png/.jpg/.tif: what 'inkread SCAN -o DIR --format gt'
writes, Kraken/Calamari/OCR-D ground truth), PAGE-XML or ALTO files with their page images
(Transkribus, eScriptorium exports), or folders of these (walked). At least 20 lines; validation
lines are whole pages held out (lines named PAGE_lNNN are page PAGE's; other pairs a page each).

Needs the training extra: pip install 'inkread[train]'.
"""


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
        return value

    return parse


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    add = parser.add_argument
    add("data", nargs="+", metavar="DATA", help="line pairs, PAGE-XML, ALTO, or folders of them")
    add("-o", "--output", required=True, metavar="OUT.onnx", help="the model to write")
    add("--base", metavar="FILE", help="start from this inkread handwriting model (default: the shipped one)")
    add("--minutes", type=_positive(float), default=20.0, help="stop training after this long (default 20)")
    add("--epochs", type=_count, default=0, help="train this many epochs (default: as many as --minutes allows)")
    add("--patience", type=_count, default=8, help="stop after this many validation readings without a gain (0: never)")
    add("--lines", type=_count, default=0, help="use only N lines (whole pages, chosen by --seed)")
    add("--seed", type=int, default=0, help="the seed of the subset, the split and the training (default 0)")
    add("--val", action="append", default=[], metavar="DATA", help="validate on these lines, not held-out pages")
    add("--batch", type=_positive(int), default=16, help="lines per step (default 16)")
    add("--lr", type=_positive(float), default=3e-4, help="learning rate (default 3e-4)")
    add(
        "--frozen-front",
        action="store_true",
        help="train only the layers after the backbone's front (less memory; reads a trained hand less well)",
    )
    add("--threads", type=_count, default=0, help="CPU threads (default: $INKREAD_THREADS, else every core)")
    add("--skip-empty", action="store_true", help="leave out lines without a transcription instead of stopping")
    add("--force", action="store_true", help="replace OUT and its card if they exist")


def _missing_torch() -> MissingDependencyError:
    return MissingDependencyError(
        "inkread train needs PyTorch, which is not installed", hint="pip install 'inkread[train]'"
    )


def check_output(out: Path, base: Path, force: bool) -> None:
    """``CliError`` where writing ``out`` (and its card) is refused."""
    from ..backends.ppocr.models import HANDWRITING_MODEL

    if out.suffix.lower() != ".onnx":
        raise CliError(f"{out}: the model's name must end in .onnx (its card is written beside it as .json)")
    weights = HANDWRITING_MODEL.parent.resolve()
    target = out.resolve()
    if target.parent == weights or weights in target.parents:
        raise CliError(f"{out}: inkread's own weights folder is not written to", hint="write the model elsewhere")
    if target == base.resolve():
        raise CliError(f"{out}: that is the model training starts from")
    if not force:
        for path in (out, out.with_suffix(".json")):
            if path.exists():
                raise CliError(f"{path} exists", hint="--force replaces it")
    if out.exists() and out.is_dir():
        raise CliError(f"{out} is a folder")


def _command(args: argparse.Namespace) -> str:
    """The run as a command line, every option spelt out."""
    words = ["inkread", "train", *args.data, "-o", args.output]
    if args.base:
        words += ["--base", args.base]
    for name in ("minutes", "epochs", "patience", "lines", "seed", "batch", "lr", "threads"):
        words += [f"--{name}", str(getattr(args, name))]
    for v in args.val:
        words += ["--val", v]
    words += [f"--{n.replace('_', '-')}" for n in ("skip_empty", "frozen_front", "force") if getattr(args, n)]
    return shlex.join(words)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def run(args: argparse.Namespace, log=None) -> int:
    """``inkread train``; the exit code. Progress goes to ``log`` (default: stderr)."""
    say = log or (lambda m: print(m, file=sys.stderr, flush=True))
    try:
        import torch  # noqa: F401
    except ImportError:
        raise _missing_torch() from None
    from ..backends.ppocr.models import HANDWRITING_MODEL
    from . import linedata as L
    from .adapt import Settings, adapt, encodable, write_model

    out = Path(args.output)
    base = Path(args.base) if args.base else HANDWRITING_MODEL
    if not base.is_file():
        raise FileNotFoundError(2, "No such file or directory", str(base))
    check_output(out, base, args.force)
    if args.base:  # refused now, not after the data is read
        from .adapt import _classes
        from .onnx_weights import load_trained

        load_trained(base, _classes()[0])
    if 0 < args.lines < L.MIN_LINES:
        raise CliError(f"--lines {args.lines}: at least {L.MIN_LINES} lines are needed")
    lines, notes = L.read_training_data(args.data, skip_empty=args.skip_empty)
    lines, more = encodable(lines)
    val: list[L.GtLine] = []
    by_page = True
    if args.val:
        val, val_notes = L.read_training_data(args.val, skip_empty=args.skip_empty)
        val, val_more = encodable(val)
        notes += val_notes + [f"validation: {n}" for n in val_more]
    for note in notes + more:
        say(f"note: {note}")
    if len(lines) < L.MIN_LINES:
        where = ", ".join(args.data)
        raise L.TrainingDataError([], f"{len(lines)} usable lines in {where}: at least {L.MIN_LINES} are needed")
    lines = L.pick_lines(lines, args.lines, args.seed)
    train = lines
    if not args.val:
        train, val, by_page = L.split_pages(lines, args.seed)
    if not val:
        raise L.TrainingDataError([], f"no validation lines in {', '.join(args.val)}")
    pages = lambda ls: len({ln.page for ln in ls})  # noqa: E731
    plural = lambda n, what: f"{n} {what}" + ("" if n == 1 else "s")  # noqa: E731
    say(
        f"{plural(len(train), 'training line')} ({plural(pages(train), 'page')}), "
        f"{plural(len(val), 'validation line')} ({plural(pages(val), 'page')}"
        + ("" if by_page else "; too few pages to hold whole ones out: validation lines share pages with training")
        + f"); starting from {base}"
    )
    settings = Settings(
        minutes=args.minutes,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        patience=args.patience,
        seed=args.seed,
        threads=args.threads,
        front_lr_scale=0.0 if args.frozen_front else Settings.front_lr_scale,
    )
    with tempfile.TemporaryDirectory(prefix="inkread-train-") as tmp:
        done = adapt(base, train, val, settings, Path(tmp), log=say)
        card = {
            "base_model": {"file": str(base), "sha256": _digest(base)},
            "command": _command(args),
            "data_hash": L.data_hash(train + val),
            "lines": {"training": len(train), "validation": len(val)},
            "pages": {"training": pages(train), "validation": pages(val), "validation_by_page": by_page},
            **done["figures"],
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            # HANDWRITTEN reads with a hand's own model alone, not fused with PP-OCRv6 (which never
            # saw the hand): hooker dev pages / lines 0.377 / 0.279 alone vs 0.392 / 0.338 fused 0.7
            # after 300 lines and 20 minutes (bench/RESULTS.md, "Teach inkread a hand")
            "fusion": 1.0,
        }
        check_output(out, base, args.force)  # nothing appeared there meanwhile
        path = write_model(done["net"], done["classes"], Path(tmp), out, card, done["front"])
    size = os.path.getsize(path) / 1e6
    print(
        f"wrote {path} ({size:.1f} MB) and {out.with_suffix('.json')}: validation CER "
        f"{card['validation_cer']['before']:.3f} -> {card['validation_cer']['after']:.3f}; read with --model {path}",
        flush=True,
    )
    return EXIT_INTERRUPTED if done["interrupted"] else 0
