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

The package: :mod:`.codes` (exit codes, the error reporter), :mod:`.commands` (the subcommand
registry), :mod:`.parser` (the recognition parser, shared argparse types), :mod:`.recognize` (the
batch run), :mod:`.sinks` (where outputs go), :mod:`.progress` (the bar, the report, the summary);
this module dispatches.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from ..failure import EXIT_INTERRUPTED, EXIT_USAGE, EXIT_WRITE, CliError, error_line, exit_code_for  # noqa: F401
from .codes import EXIT_CODES, EXIT_OK, EXIT_SOME_FAILED, PROG, _Reporter  # noqa: F401
from .commands import COMMANDS, Command, register_command  # noqa: F401
from .parser import build_parser, positive_float, positive_int  # noqa: F401
from .recognize import run_recognize
from .sinks import same_file, write_atomic  # noqa: F401

__all__ = ["main", "Command", "COMMANDS", "register_command", "CliError", "EXIT_CODES", "exit_code_for", "error_line"]


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
    if (
        argv
        and not argv[0].startswith("-")
        and not os.path.exists(argv[0])
        and "." not in argv[0]
        and "/" not in argv[0]
        and os.sep not in argv[0]
    ):
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
