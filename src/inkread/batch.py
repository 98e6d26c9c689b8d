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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exceptions import InputError
from .io import detect_format
from .io.formats import IMAGE_SUFFIXES
from .options import RecognitionOptions
from .result import OcrResult

__all__ = [
    "BatchItem",
    "InputFile",
    "IMAGE_SUFFIXES",
    "walk_inputs",
    "iter_inputs",
    "expand_inputs",
    "iter_results",
    "empty_folder_error",
    "same_file",
]

_SNIFF_BYTES = 1024  # PDF allows junk before "%PDF-" in the first 1 KiB


@dataclass(frozen=True)
class InputFile:
    """One file to recognise and where it came from.

    ``root`` is the folder argument it was found under (``None`` for a path named directly), so
    callers can mirror the folder structure when writing outputs (``relative``).
    """

    path: Path
    root: Path | None = None
    #: another file of its folder (or named beside it) has the same name up to the suffix
    #: (``x.jpg``, ``x.png``): its outputs keep the suffix (``x.jpg.txt``) so they cannot clash
    shares_stem: bool = field(default=False, compare=False)
    #: how it is shown in messages and reports (``-`` for stdin); ``None``: the path
    label: str | None = field(default=None, compare=False)

    @property
    def relative(self) -> Path:
        """The path below ``root`` (just the file name for a path named directly)."""
        if self.label == "-":
            return Path("stdin")
        if self.root is None:
            return Path(self.path.name)
        return self.path.relative_to(self.root)

    @property
    def shown(self) -> str:
        return self.label if self.label is not None else os.fspath(self.path)


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
        tuple((0, int(tok)) if tok.isdigit() else (1, tok.casefold()) for tok in re.split(r"(\d+)", part) if tok)
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


def _dir_entries(folder: Path, recursive: bool, exclude: Sequence[Path] = ()) -> list[tuple[Path, bool]]:
    """``folder``'s visible entries worth a look, natural order: (path, is_dir); the folders of
    ``exclude`` (where outputs are being written) are not entered."""
    try:
        with os.scandir(folder) as it:
            entries = [e for e in it if not _is_hidden(e.name)]
    except OSError:
        return []
    out = []
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                if recursive and not any(same_file(Path(e.path), x) for x in exclude):
                    out.append((Path(e.path), True))
            elif e.is_file():
                out.append((Path(e.path), False))
        except OSError:
            continue
    return sorted(out, key=lambda pe: _natural_key(Path(pe[0].name)))


def _shared_stems(names: Iterable[str]) -> set[str]:
    """The stems (case-folded) that more than one of ``names`` has: ``x.jpg`` and ``x.png``."""
    seen: dict[str, int] = {}
    for name in names:
        stem = Path(name).stem.casefold() if Path(name).suffix else name.casefold()
        seen[stem] = seen.get(stem, 0) + 1
    return {stem for stem, n in seen.items() if n > 1}


def same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` name one file (the same path, a link to it, or a hard link); False if unsure."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _walk_dir(root: Path, recursive: bool = True, exclude: Sequence[Path] = ()) -> Iterator[InputFile]:
    """The image and PDF files under ``root``, streamed depth-first in natural order (the order a
    sort of the whole tree's relative paths gives), one folder listing in memory at a time."""

    def listing(folder: Path) -> Iterator[tuple[Path, bool, bool]]:
        entries = [(p, d) for p, d in _dir_entries(folder, recursive, exclude) if d or _is_candidate(p)]
        shared = _shared_stems(p.name for p, d in entries if not d)
        for p, is_dir in entries:
            yield p, is_dir, not is_dir and _stem_key(p) in shared

    stack = [listing(root)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
        elif entry[1]:
            stack.append(listing(entry[0]))
        else:
            yield InputFile(entry[0], root, shares_stem=entry[2])


def _stem_key(path: Path) -> str:
    return path.stem.casefold() if path.suffix else path.name.casefold()


def _identity(path: Path) -> Any:
    try:
        st = path.stat()
        return (st.st_dev, st.st_ino)
    except OSError:
        return os.path.abspath(path)


_GLOB_CHARS = frozenset("*?[")


def _list_file_entries(listfile: str) -> Iterator[str]:
    """The paths an ``@filelist.txt`` names, one a line (blank lines and ``#`` comments skipped),
    read as the file is walked; ``@-`` reads them from stdin."""
    import sys

    fh = sys.stdin if listfile == "-" else open(listfile, encoding="utf-8")
    try:
        for line in fh:
            entry = line.rstrip("\r\n")
            if entry.strip() and not entry.lstrip().startswith("#"):
                yield entry
    finally:
        if fh is not sys.stdin:
            fh.close()


def iter_inputs(
    paths: Iterable[str | os.PathLike[str] | InputFile],
    *,
    recursive: bool = True,
    expand: bool = True,
    exclude: Sequence[Path] = (),
) -> Iterator[InputFile]:
    """Stream ``paths`` as files, in order, each with the folder argument it came from.

    Files are kept as given (even missing ones, so the caller reports them per file); folders are
    replaced by the image and PDF files inside them (recursively unless ``recursive=False``), walked
    as they are read, never listed whole. A folder with no such file is kept as itself, so
    :func:`iter_results` can report it. With ``expand`` (the CLI's conventions): ``@list.txt`` is
    replaced by the paths it names (one a line), and a pattern with ``*``, ``?`` or ``[`` that names
    no existing file by the files it matches (``**`` crosses folders). A file that appears twice is
    kept once. :class:`InputFile` items pass through unchanged. Folders in ``exclude`` are not
    entered (the CLI's output folders, so a run never reads what it writes).
    """
    seen: set[Any] = set()
    plain = list(paths) if not isinstance(paths, Iterator) else None
    shared = _shared_stems(Path(p).name for p in plain if not isinstance(p, InputFile)) if plain else set()

    def fresh(item: InputFile) -> bool:
        key = _identity(item.path)
        if key in seen:
            return False
        seen.add(key)
        return True

    def expand_one(raw: str, explicit: bool) -> Iterator[InputFile]:
        path = Path(raw)
        if expand and raw.startswith("@") and len(raw) > 1 and not path.exists():
            for entry in _list_file_entries(raw[1:]):
                yield from expand_one(entry, False)
            return
        if expand and _GLOB_CHARS & set(raw) and not path.exists():
            import glob

            matches = sorted(glob.glob(raw, recursive=True), key=lambda m: _natural_key(Path(m)))
            if matches:
                for m in matches:
                    yield from expand_one(m, False)
                return
        if path.is_dir():
            any_file = False
            for f in _walk_dir(path, recursive, exclude):
                any_file = True
                yield f
            if not any_file:
                yield InputFile(path, None)
        else:
            yield InputFile(path, None, shares_stem=explicit and _stem_key(path) in shared)

    for raw in plain if plain is not None else paths:
        if isinstance(raw, InputFile):
            items: Iterable[InputFile] = (raw,)
        else:
            items = expand_one(os.fspath(raw), True)
        for item in items:
            if fresh(item):
                yield item


def walk_inputs(paths: Iterable[str | os.PathLike[str] | InputFile], *, recursive: bool = True) -> list[InputFile]:
    """Every file of ``paths`` (see :func:`iter_inputs`; no ``@list`` or pattern expansion), as a list."""
    return list(iter_inputs(paths, recursive=recursive, expand=False))


def expand_inputs(paths: Iterable[str | os.PathLike[str]], *, recursive: bool = True) -> list[Path]:
    """The files to recognise for ``paths`` (see :func:`walk_inputs`), as plain paths."""
    return [f.path for f in walk_inputs(paths, recursive=recursive)]


def _option_kwargs(options: RecognitionOptions | Mapping[str, Any] | None) -> dict[str, Any]:
    if options is None:
        return {}
    if isinstance(options, RecognitionOptions):
        return options.as_kwargs()
    return dict(options)


def empty_folder_error(folder: Path) -> InputError:
    """The error for a folder argument with no image or PDF in it (:func:`iter_inputs` keeps such a
    folder as an input of its own, so it is reported rather than skipped)."""
    return InputError(
        f"{folder}: no image or PDF files found in this folder",
        hint="supported: JPEG, PNG, BMP, TIFF, GIF, WebP, HEIC/HEIF/AVIF and PDF",
    )


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
            yield BatchItem(f.path, None, empty_folder_error(f.path), f.root)
            continue
        try:
            result = engine.recognize(os.fspath(f.path), **kwargs)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            yield BatchItem(f.path, None, exc, f.root)
        else:
            yield BatchItem(f.path, result, None, f.root)
