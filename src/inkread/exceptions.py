"""Every error inkread raises on purpose.

The tree, by what the caller can do about it::

    OcrException                      base of all of them (exit_code 1)
    ├── InputError                    the input itself is unusable (exit 3)
    │   ├── EmptyInputError           zero bytes / empty array (exit 4)
    │   ├── UnsupportedFormatError    not an image or PDF we can read (exit 5)
    │   ├── CorruptInputError         truncated or damaged file (exit 6)
    │   ├── EncryptedPdfError         password-protected PDF (exit 7)
    │   ├── ImageTooLargeError        over the pixel limit (decompression bomb) (exit 8)
    │   └── PageSelectionError        --pages asks for pages that do not exist (exit 9)
    ├── InvalidOptionError            an option of the wrong type or out of range (exit 2, like a usage error)
    ├── UnsupportedLanguageError      language not served by any backend (exit 10)
    ├── MissingDependencyError        a model, binary or package is not installed (exit 11)
    ├── AuthenticationError           bad or missing client credentials (exit 12)
    ├── ServiceUnavailableError       the OCR service cannot be reached (exit 13)
    ├── OcrTimeoutError               the work took longer than allowed (exit 14)
    └── OcrCancelledError             the work was cancelled before it finished (exit 16)

``FileNotFoundError`` is raised as-is for a missing path (that is what Python users expect);
the CLI maps it to exit code 2.

Only the CLI and the HTTP layer turn these into exit codes and HTTP statuses; the library raises.
"""

from __future__ import annotations

__all__ = [
    "OcrException",
    "InputError",
    "EmptyInputError",
    "UnsupportedFormatError",
    "CorruptInputError",
    "EncryptedPdfError",
    "ImageTooLargeError",
    "PageSelectionError",
    "TooManyPagesError",
    "InvalidOptionError",
    "UnsupportedLanguageError",
    "MissingDependencyError",
    "AuthenticationError",
    "ServiceUnavailableError",
    "OcrTimeoutError",
    "OcrCancelledError",
]


class OcrException(Exception):
    """Base class of every error inkread raises on purpose.

    ``hint`` tells a person what to do about it; ``exit_code`` is what the CLI exits with.
    """

    exit_code = 1
    http_status = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __reduce__(self):  # pickled whole (hint included) when raised in a worker process
        return (_rebuild, (type(self), self.message, self.hint, dict(self.__dict__)))

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class InputError(OcrException):
    """The input cannot be turned into page images."""

    exit_code = 3
    http_status = 400


class EmptyInputError(InputError):
    exit_code = 4


class UnsupportedFormatError(InputError):
    exit_code = 5
    http_status = 415


class CorruptInputError(InputError):
    exit_code = 6


class EncryptedPdfError(InputError):
    exit_code = 7


class ImageTooLargeError(InputError):
    exit_code = 8
    http_status = 413


class PageSelectionError(InputError):
    exit_code = 9


class TooManyPagesError(ImageTooLargeError):
    """More pages asked for than ``max_pages`` allows (checked before any page is read)."""

    exit_code = 17


class InvalidOptionError(OcrException):
    """An option given as text or JSON that is not one (``dpi="high"``, ``max_pages=0``, an unknown
    name): :meth:`inkread.options.RecognitionOptions.from_fields` raises it."""

    exit_code = 2
    http_status = 422


class UnsupportedLanguageError(OcrException):
    exit_code = 10
    http_status = 400


class MissingDependencyError(OcrException):
    exit_code = 11
    http_status = 500


class AuthenticationError(OcrException):
    exit_code = 12
    http_status = 401


class ServiceUnavailableError(OcrException):
    exit_code = 13
    http_status = 503


class OcrTimeoutError(OcrException):
    exit_code = 14
    http_status = 504


class OcrCancelledError(OcrException):
    """The work was cancelled (a task deleted, a request given up) and stopped between pages."""

    exit_code = 16
    http_status = 409


def _rebuild(cls: type[OcrException], message: str, hint: str | None, state: dict) -> OcrException:
    error = cls.__new__(cls)
    OcrException.__init__(error, message, hint=hint)
    error.__dict__.update(state)
    return error
