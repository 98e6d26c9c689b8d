"""Where a batch's results go: stdout, one file, or one file per input in a folder, in any formats.

A :class:`Sink` takes results one input at a time, in input order. Three kinds:

* ``stream``: stdout (``-o -`` or no ``-o``); several inputs as ``==> path <==`` sections (text), a
  JSON array, or one hOCR/ALTO/TSV/PDF document;
* ``file``: one file, written once at the end (atomically);
* ``folder``: one file per input under a folder, written as each input is finished (atomically), the
  input's folder structure kept; :meth:`Sink.targets` names them, so ``--resume`` can check them first.
  ``gt`` writes several files per input (line pairs, page images, a PAGE-XML per page: export/gt.py).
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .batch import InputFile, same_file
from .exceptions import OcrException
from .failure import OutputError, error_line
from .options import PDF_DPI_DEFAULT

__all__ = ["Sink", "write_atomic", "same_file", "render", "Namer"]


def write_atomic(path: Path, text: str | bytes) -> None:
    """:func:`inkread.export.write_file` (atomic), its failure an :class:`OutputError`."""
    from .export import write_file

    try:
        write_file(path, text)
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(f"cannot write {path}: {reason}") from error


def render(fmt: str, result: Any, path: Path, pdf_dpi: float, image_dpi: float | None = None) -> str | bytes:
    """One input's result as a whole file in ``fmt`` (the page images are read again for pdf)."""
    if fmt == "json":
        return json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "text":
        return result.text + "\n" if result.text else ""
    from .export import export

    try:
        if fmt == "pdf":
            return export(result, fmt, images=path, pdf_dpi=pdf_dpi, image_dpi=image_dpi)
        return export(result, fmt)
    except (OcrException, OSError, ValueError) as error:
        raise OutputError(f"cannot make the {fmt} output for {path}: {error_line(error)}") from error


class Namer:
    """Output names under a folder: ``a/x.jpg -> a/x.txt``; an input whose name shares its stem with
    another's (``x.jpg``, ``x.png``) keeps its suffix (``x.jpg.txt``); a name already given gets a
    number (``x-2.txt``). Compared case-insensitively, for case-insensitive disks."""

    def __init__(self, ext: str) -> None:
        self.ext = ext
        self.taken: set[str] = set()

    def name(self, f: InputFile) -> Path:
        rel, ext = f.relative, self.ext
        name = rel.with_name(rel.name + ext) if f.shares_stem or not rel.suffix else rel.with_name(rel.stem + ext)
        candidate, i = name, 2
        while candidate.as_posix().casefold() in self.taken:
            candidate = name.with_name(f"{name.name[: -len(ext)]}-{i}{ext}")
            i += 1
        self.taken.add(candidate.as_posix().casefold())
        return candidate


class Sink:
    """Results in one format, to stdout (``target=None``), one file, or a folder (``folder=``)."""

    def __init__(
        self,
        fmt: str,
        *,
        multi: bool,
        target: Path | None = None,
        folder: Path | None = None,
        pdf_dpi: float = PDF_DPI_DEFAULT,
        out: Callable[[str], None] | None = None,
        image_dpi: float | None = None,
    ) -> None:
        self.fmt = fmt
        self.multi = multi
        self.target = target
        self.folder = folder
        self.pdf_dpi = pdf_dpi  # PDF inputs were rendered at this dpi (to render them again for pdf)
        self.image_dpi = image_dpi  # pdf: the resolution of images that have none
        self.out = out or (lambda text: (sys.stdout.write(text), sys.stdout.flush()))
        self.count = 0
        self.buffer: list[str] = []
        self.documents: list[Any] = []  # hocr/alto/tsv: every result, written as one document at the end
        self.pdf: Any = None  # pdf: the searchable PDF being built, a page at a time
        self.first: Any = None  # pdf: the first input and its result
        self._names: dict[Path, Path] = {}
        if folder is not None:
            from .export.formats import EXTENSIONS, FOLDER_EXTENSIONS

            self._namer = Namer(EXTENSIONS.get(fmt) or FOLDER_EXTENSIONS[fmt])

    def __repr__(self) -> str:
        where = self.folder or self.target or "stdout"
        return f"Sink({self.fmt!r} -> {where})"

    # ----- folder outputs
    def target_for(self, f: InputFile) -> Path | None:
        """The file this input's output goes to (a folder sink); named once, in input order."""
        if self.folder is None:
            return self.target
        if f.path not in self._names:
            self._names[f.path] = self.folder / self._namer.name(f)
        return self._names[f.path]

    def complete(self, f: InputFile) -> bool:
        """Is this input's output already there, and newer than the input (``--resume``)?"""
        target = self.target_for(f)
        if target is None:
            return False
        marks = [target]
        if self.fmt == "gt":  # a multi-page input's pages: NAME_p001.page.xml ...
            import glob

            marks += target.parent.glob(
                glob.escape(target.name[: -len(self._namer.ext)]) + "_p[0-9]*" + self._namer.ext
            )
        try:
            mtime = f.path.stat().st_mtime
            return any(mark.is_file() and mark.stat().st_mtime >= mtime for mark in marks)
        except OSError:
            return False

    def preview(self, path: Path) -> Path:
        """The name a file named on the command line gets in a folder sink, before numbering."""
        ext = self._namer.ext
        return Path(path.name + ext) if not path.suffix else Path(path.stem + ext)

    # ----- writing
    def _emit(self, text: str) -> None:
        if self.target is not None:
            self.buffer.append(text)
        else:
            self.out(text)

    def start(self) -> None:
        if self.folder is None and self.multi and self.fmt == "json":
            self._emit("[")

    def add(self, f: InputFile, result: Any) -> Path | None:
        """Write (or keep) one input's result; returns the file written for it, if any."""
        path = f.path
        if self.folder is not None:
            target = self.target_for(f)
            assert target is not None  # a folder sink names every input's file
            self._names.pop(f.path, None)
            if self.fmt == "gt":
                target = self._add_gt(f, result, target)
            else:
                write_atomic(target, render(self.fmt, result, path, self.pdf_dpi, self.image_dpi))
            self.count += 1
            return target
        if self.fmt == "pdf":
            # one input: written at the end as render() writes it (a PDF input keeps its own pages);
            # several: built a page at a time into one document of page images
            if self.count == 0:
                self.first = (f, result)
            else:
                if self.pdf is None:
                    from .export import SearchablePdf

                    self.pdf = SearchablePdf()
                    self._add_pdf(*self.first)
                self._add_pdf(f, result)
        elif self.fmt in ("hocr", "alto", "tsv"):
            self.documents.append(result)
        elif self.fmt == "json":
            body = json.dumps(result.to_dict(), ensure_ascii=False, indent=2)
            if self.multi:
                body = ("," if self.count else "") + "\n" + textwrap.indent(body, "  ")
            else:
                body += "\n"
            self._emit(body)
        elif self.fmt == "md":
            from .export import to_markdown

            if self.multi:
                self._emit(("\n" if self.count else "") + f"<!-- ==> {f.shown} <== -->\n\n")
            self._emit(to_markdown(result))
        else:
            if self.multi:
                self._emit(("\n" if self.count else "") + f"==> {f.shown} <==\n")
            self._emit(result.text + "\n" if result.text else "")
        self.count += 1
        return self.target

    def _add_gt(self, f: InputFile, result: Any, target: Path) -> Path:
        """``--format gt``: the input's line pairs, page images and PAGE-XMLs beside ``target`` (named
        after it); returns its first PAGE-XML. A page image that would be the input is left alone."""
        from .export.gt import ground_truth_files

        first = None
        try:
            base = target.name[: -len(self._namer.ext)]
            for name, data in ground_truth_files(result, base, f.path, pdf_dpi=self.pdf_dpi):
                path = target.with_name(name)
                if same_file(path, f.path):
                    if path.read_bytes() == data:
                        continue  # the input is already its own page image
                    raise OutputError(f"refusing to write {path}: it is the input file {f.shown}")
                write_atomic(path, data)
                if first is None and name.endswith(self._namer.ext):
                    first = path
        except OutputError:
            raise
        except (OcrException, OSError, ValueError) as error:
            raise OutputError(f"cannot make the gt output for {f.shown}: {error_line(error)}") from error
        return first or target

    def _add_pdf(self, f: InputFile, result: Any) -> None:
        try:
            self.pdf.add_result(result, images=f.path, pdf_dpi=self.pdf_dpi, image_dpi=self.image_dpi)
        except (OcrException, OSError, ValueError) as error:
            raise OutputError(f"cannot add {f.shown} to the PDF: {error_line(error)}") from error

    def forget(self, f: InputFile) -> None:
        """An input that failed or was skipped: drop its name (a folder sink)."""
        self._names.pop(f.path, None)

    def finish(self) -> None:
        if self.folder is not None:
            return
        if self.multi and self.fmt == "json":
            self._emit(("\n" if self.count else "") + "]\n")
        if self.documents:
            from .export import export

            self._emit(export(self.documents, self.fmt))  # type: ignore[arg-type]
        if self.fmt == "pdf" and self.count:
            if self.pdf is None:
                f, result = self.first
                data = render("pdf", result, f.path, self.pdf_dpi, self.image_dpi)
                assert isinstance(data, bytes)  # a PDF renders as bytes
            else:
                data = self.pdf.to_bytes()
            if self.target is None:  # -o - : the PDF's bytes on stdout
                sys.stdout.flush()
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
            else:
                write_atomic(self.target, data)
        elif self.target is not None and self.count:
            write_atomic(self.target, "".join(self.buffer))
