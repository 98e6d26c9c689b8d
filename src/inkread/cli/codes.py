"""Exit codes (one per kind of error, listed in ``--help``) and the reporter that prints the one
error line, stepping around a progress bar."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, TextIO

from .. import exceptions as exc_mod
from ..exceptions import OcrException
from ..failure import (
    DEBUG_ENV,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EXIT_WRITE,
    Failure,
    debug_enabled,
    error_line,
    exit_code_for,
)

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
