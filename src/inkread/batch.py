"""Many inputs, one engine: expand files and folders, recognise each, never stop at a bad one.

Shared by the ``inkread`` CLI, the HTTP service and ``inkread eval``::

    >>> from inkread import OcrEngine
    >>> from inkread.batch import iter_results
    >>> for item in iter_results(OcrEngine(), ["scans/", "note.jpg"]):  # doctest: +SKIP
    ...     print(item.path, item.result.text if item.ok else item.error)

Folders are walked recursively in a stable, natural order (``page2`` before ``page10``); hidden
files and folders are skipped. A file inside a folder is taken when its first bytes look like an
image or a PDF, or when its name ends in an image/PDF extension (so ``scan.png`` that is really a
text file is reported as an error, not silently passed over). Paths named explicitly are always
taken as they are: a missing one becomes a per-file ``FileNotFoundError``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .exceptions import InputError
from .io import detect_format
from .options import RecognitionOptions
from .result import OcrResult

__all__ = [
    "BatchItem",
    "InputFile",
    "IMAGE_SUFFIXES",
    "walk_inputs",
    "expand_inputs",
    "iter_results",
]

#: File name endings that claim to be an image or a PDF; such files inside a folder are always
#: tried (and reported when unreadable), whatever their content.
IMAGE_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib", ".tif", ".tiff", ".gif",
    ".webp", ".heic", ".heif", ".hif", ".avif", ".pdf",
})  # fmt: skip

_SNIFF_BYTES = 1024  # PDF allows junk before "%PDF-" in the first 1 KiB


@dataclass(frozen=True)
class InputFile:
    """One file to recognise and where it came from.

    ``root`` is the folder argument it was found under (``None`` for a path named directly), so
    callers can mirror the folder structure when writing outputs (``relative``).
    """

    path: Path
    root: Path | None = None

    @property
    def relative(self) -> Path:
        """The path below ``root`` (just the file name for a path named directly)."""
        if self.root is None:
            return Path(self.path.name)
        return self.path.relative_to(self.root)


@dataclass
class BatchItem:
    """The outcome for one input: a result, or the exception that stopped it (never both)."""

    path: Path
    result: OcrResult | None = None
    error: BaseException | None = None
    root: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _natural_key(path: Path) -> tuple[tuple[tuple[int, int | str], ...], ...]:
    """Sort key: per path part, runs of digits compare as numbers (``p2`` < ``p10``)."""
    return tuple(
        tuple((0, int(tok)) if tok.isdigit() else (1, tok.casefold())
              for tok in re.split(r"(\d+)", part) if tok)
        + ((2, part),)  # tie-break on the exact spelling, for a total order
        for part in path.parts
    )


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _is_candidate(path: Path) -> bool:
    """Does a file found in a folder look like something we should try to read?"""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return False  # unreadable and not named like an image: not ours to complain about
    return bool(head) and detect_format(head) is not None


def _walk_dir(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not _is_hidden(d)]
        for name in filenames:
            if _is_hidden(name):
                continue
            path = Path(dirpath) / name
            if path.is_file() and _is_candidate(path):
                found.append(path)
    return sorted(found, key=lambda p: _natural_key(p.relative_to(root)))


def _identity(path: Path) -> Any:
    try:
        st = path.stat()
        return (st.st_dev, st.st_ino)
    except OSError:
        return os.path.abspath(path)


def walk_inputs(
    paths: Iterable[str | os.PathLike[str] | InputFile], *, recursive: bool = True
) -> list[InputFile]:
    """Expand ``paths`` into files, in order, each with the folder argument it came from.

    Files are kept as given (even missing ones, so the caller reports them per file); folders are
    replaced by the image and PDF files inside them (recursively unless ``recursive=False``). A
    folder with no such file is kept as itself, so :func:`iter_results` can report it. A file that
    appears twice (named twice, or named and also inside a named folder) is kept once.
    :class:`InputFile` items pass through unchanged, so expanding twice changes nothing.
    """
    out: list[InputFile] = []
    seen: set[Any] = set()

    def add(item: InputFile) -> None:
        key = _identity(item.path)
        if key not in seen:
            seen.add(key)
            out.append(item)

    for raw in paths:
        if isinstance(raw, InputFile):
            add(raw)
            continue
        path = Path(raw)
        if path.is_dir():
            files = _walk_dir(path) if recursive else sorted(
                (p for p in path.iterdir() if not _is_hidden(p.name) and p.is_file() and _is_candidate(p)),
                key=lambda p: _natural_key(p.relative_to(path)),
            )
            if not files:
                add(InputFile(path, None))
            for f in files:
                add(InputFile(f, path))
        else:
            add(InputFile(path, None))
    return out


def expand_inputs(paths: Iterable[str | os.PathLike[str]], *, recursive: bool = True) -> list[Path]:
    """The files to recognise for ``paths`` (see :func:`walk_inputs`), as plain paths."""
    return [f.path for f in walk_inputs(paths, recursive=recursive)]


def _option_kwargs(options: RecognitionOptions | Mapping[str, Any] | None) -> dict[str, Any]:
    if options is None:
        return {}
    if isinstance(options, RecognitionOptions):
        return {f.name: getattr(options, f.name) for f in fields(options)}
    return dict(options)


def iter_results(
    engine: Any,
    inputs: Iterable[str | os.PathLike[str] | InputFile],
    options: RecognitionOptions | Mapping[str, Any] | None = None,
    *,
    recursive: bool = True,
) -> Iterator[BatchItem]:
    """Recognise every file of ``inputs`` with ``engine``, one :class:`BatchItem` per file, in order.

    ``inputs`` may be paths (folders are expanded with :func:`walk_inputs`) or ready
    :class:`InputFile` items. ``options`` (a :class:`RecognitionOptions` or keyword mapping)
    override the engine's defaults for this batch; ``None`` fields keep the engine's values.

    Errors are captured per file (``item.error``, traceback attached) and the batch goes on;
    only ``KeyboardInterrupt`` / ``SystemExit`` escape.
    """
    kwargs = _option_kwargs(options)
    for f in walk_inputs(inputs, recursive=recursive):
        if f.path.is_dir():
            err = InputError(
                f"{f.path}: no image or PDF files found in this folder",
                hint="supported: JPEG, PNG, BMP, TIFF, GIF, WebP, HEIC/HEIF/AVIF and PDF",
            )
            yield BatchItem(f.path, None, err, f.root)
            continue
        try:
            result = engine.recognize(os.fspath(f.path), **kwargs)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            yield BatchItem(f.path, None, exc, f.root)
        else:
            yield BatchItem(f.path, result, None, f.root)
