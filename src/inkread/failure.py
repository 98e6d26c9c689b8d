"""How a failure is told to a person: one line and an exit code, the same in every process.

The CLI prints :func:`error_line` and exits with :func:`exit_code_for`; a batch worker process turns
its exception into a :class:`Failure` (picklable: the line, the code, the kind and the traceback
text) that the driver reports exactly as it would the exception itself.
"""

from __future__ import annotations

import os
import traceback

from .exceptions import InputError, OcrException

__all__ = [
    "DEBUG_ENV",
    "EXIT_USAGE",
    "EXIT_INTERNAL",
    "EXIT_WRITE",
    "EXIT_INTERRUPTED",
    "CliError",
    "OutputError",
    "Failure",
    "exit_code_for",
    "error_line",
    "debug_enabled",
]

DEBUG_ENV = "INKREAD_DEBUG"
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_WRITE = 74
EXIT_INTERRUPTED = 130


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


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


class Failure(Exception):
    """An exception raised in another process, as the CLI reports it: ``str()`` is its one line."""

    def __init__(self, line: str, exit_code: int, kind: str, traceback_text: str = "") -> None:
        super().__init__(line, exit_code, kind, traceback_text)
        self.line = line
        self.exit_code = exit_code
        self.kind = kind
        self.traceback_text = traceback_text

    def __str__(self) -> str:
        return self.line

    @classmethod
    def of(cls, error: BaseException, path: os.PathLike[str] | str | None = None) -> Failure:
        if isinstance(error, Failure):
            return error
        return cls(
            error_line(error, path),
            exit_code_for(error),
            type(error).__name__,
            "".join(traceback.format_exception(error)),
        )


def exit_code_for(error: BaseException) -> int:
    """The exit code the CLI uses for ``error``."""
    if isinstance(error, (OcrException, CliError, Failure)):
        return int(error.exit_code)
    if isinstance(error, FileNotFoundError):
        return EXIT_USAGE
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, OSError):  # unreadable input: permission denied, a directory, I/O error
        return InputError.exit_code
    return EXIT_INTERNAL


def error_line(error: BaseException, path: os.PathLike[str] | str | None = None) -> str:
    """One line (no prefix) describing ``error``, naming ``path`` unless the message already does."""
    where = os.fspath(path) if path is not None else None
    if isinstance(error, Failure):
        text = error.line
    elif isinstance(error, (OcrException, CliError)):
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
