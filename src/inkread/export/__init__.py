"""Writing results out: plain text, JSON, hOCR, ALTO XML, searchable PDF, Markdown, overlay images.

>>> result = inkread.recognize("scan.pdf")                 # doctest: +SKIP
>>> result.save("scan.hocr")                               # doctest: +SKIP  (format from the suffix)
>>> result.save("scan-ocr.pdf")                            # doctest: +SKIP  (reloads scan.pdf's pages)
>>> xml = inkread.export.to_alto(result)                   # doctest: +SKIP

Every text exporter takes one :class:`~inkread.OcrResult` or several (exported one after the
other as one document). The searchable PDF and the overlay also need the page images: they reload
``result.source`` when it is a file, or take ``images=`` (see :func:`to_pdf_bytes`); so does ``gt``
(:func:`save_ground_truth`: line images and readings to correct, and a PAGE-XML per page, in a folder).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..result import PAGE_SEPARATOR, OcrResult, register_writers
from .alto import ALTO_NAMESPACE, ALTO_SCHEMA_PATH, AltoValidationError, to_alto, validate_alto
from .formats import (
    BINARY_FORMATS,
    DOCUMENT_FORMATS,
    EXTENSIONS,
    FOLDER_FORMATS,
    FORMATS,
    SUFFIXES,
    format_for_path,
    parse_format,
)
from .hocr import to_hocr
from .markdown import to_markdown
from .tsv import to_tsv

# numpy/Pillow are imported only when an image output is used (keeps `inkread --version` fast)
_LAZY = {
    "to_pdf_bytes": "pdf",
    "SearchablePdf": "pdf",
    "render_overlay": "overlay",
    "iter_page_images": "_images",
    "DEFAULT_DPI": "_images",
    "ground_truth_files": "gt",
    "to_page_xml": "gt",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "FORMATS",
    "FOLDER_FORMATS",
    "SUFFIXES",
    "EXTENSIONS",
    "BINARY_FORMATS",
    "DOCUMENT_FORMATS",
    "format_for_path",
    "parse_format",
    "export",
    "save",
    "to_text",
    "to_json",
    "to_hocr",
    "to_alto",
    "to_markdown",
    "to_tsv",
    "to_pdf_bytes",
    "render_overlay",
    "render_overlays",
    "save_overlays",
    "overlay_paths",
    "save_ground_truth",
    "ground_truth_files",
    "to_page_xml",
    "encode_image",
    "write_file",
    "validate_alto",
    "AltoValidationError",
    "SearchablePdf",
    "ALTO_NAMESPACE",
    "ALTO_SCHEMA_PATH",
    "DEFAULT_DPI",
]


def to_text(results: OcrResult | Iterable[OcrResult]) -> str:
    """The plain text (``result.text``; several results separated by a form feed line)."""
    if isinstance(results, OcrResult):
        return results.text
    return PAGE_SEPARATOR.join(r.text for r in results)


def to_json(results: OcrResult | Iterable[OcrResult], *, indent: int | None = 2) -> str:
    """``result.to_json()``; several results as a JSON array."""
    if isinstance(results, OcrResult):
        return results.to_json(indent=indent)
    import json

    return json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=indent)


def export(results: OcrResult | Iterable[OcrResult], format: str, *, images: Any = None, **options: Any) -> str | bytes:
    """``results`` in ``format``: ``str`` for the text formats, ``bytes`` for ``"pdf"``.

    Text and JSON end in a newline (as files should); ``options`` go to the PDF writer
    (``pdf_dpi``, ``image_format``, ``jpeg_quality``).
    """
    fmt = parse_format(format)
    if fmt == "pdf":
        from .pdf import to_pdf_bytes

        return to_pdf_bytes(results, images, **options)
    if fmt in FOLDER_FORMATS:
        raise ValueError(f"{fmt} writes several files: save(result, FOLDER, format={fmt!r}) writes them")
    if options:
        raise TypeError(f"unexpected options for {fmt}: {', '.join(sorted(options))}")
    if fmt == "text":
        text = to_text(results)
        return text + "\n" if text else ""
    if fmt == "json":
        return to_json(results) + "\n"
    return {"hocr": to_hocr, "alto": to_alto, "md": to_markdown, "tsv": to_tsv}[fmt](results)


def write_file(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically: a temporary file in the same folder,
    flushed to disk, then renamed over ``path``; a crash or Ctrl-C leaves the old file or the new
    one, never half of one. A file replaced keeps its permissions; a new one gets the umask's."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        mode = path.stat().st_mode & 0o7777
    else:
        mask = os.umask(0)
        os.umask(mask)
        mode = 0o666 & ~mask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save(
    results: OcrResult | Iterable[OcrResult],
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    images: Any = None,
    **options: Any,
) -> Path:
    """Write ``results`` to ``path`` in ``format`` (default: from the suffix, see :data:`SUFFIXES`).

    Returns the path written. ``images``/``options``: see :func:`export`. ``format="gt"`` writes the
    files of :func:`save_ground_truth` into the folder ``path`` (one result; ``options``: ``pdf_dpi``).
    """
    if format is None:
        format = format_for_path(path)
        if format is None:
            raise ValueError(
                f"cannot tell the output format from {os.fspath(path)!r}: pass format= "
                f"(one of {', '.join(FORMATS)}) or use one of {', '.join(sorted(SUFFIXES))}"
            )
    if parse_format(format) == "gt":
        if not isinstance(results, OcrResult):
            raise TypeError("format='gt' writes one result at a time")
        save_ground_truth(results, path, images=images, **options)
        return Path(path)
    data = export(results, format, images=images, **options)
    write_file(path, data)
    return Path(path)


def save_ground_truth(
    result: OcrResult,
    folder: str | os.PathLike[str],
    name: str | None = None,
    *,
    images: Any = None,
    pdf_dpi: float | None = None,
) -> list[Path]:
    """``--format gt`` from Python: write :func:`~inkread.export.gt.ground_truth_files` (each line's
    image and reading, the page images, a PAGE-XML per page) into ``folder``, each file atomically;
    ``name`` defaults to the stem of ``result.source``. Returns the paths written. The input file is
    never written over (where the page image would be the input itself, it is left as it is)."""
    from .gt import ground_truth_files, source_file

    folder = Path(folder)
    base = name or (Path(result.source).stem if result.source and not result.source.startswith("<") else "page")
    source = source_file(result, images)
    written = []
    for file_name, data in ground_truth_files(result, base, images, pdf_dpi=pdf_dpi):
        path = folder / file_name
        if source is not None and path.exists() and os.path.samefile(path, source):
            if path.read_bytes() == data:
                continue
            raise ValueError(f"refusing to write {path}: it is the input file")
        write_file(path, data)
        written.append(path)
    return written


def overlay_paths(
    path: str | os.PathLike[str], count: int, *, start: int = 0, numbered: bool | None = None
) -> list[Path]:
    """Where the overlays of ``count`` pages go: ``path`` itself for a single page, else
    ``name-1.png``, ``name-2.png`` ... beside it (numbers from ``start + 1``; ``numbered`` forces
    either way)."""
    path = Path(path)
    if numbered is None:
        numbered = count != 1 or start > 0
    if not numbered:
        return [path] * count
    stem, suffix = (path.stem, path.suffix) if path.suffix else (path.name, ".png")
    return [path.with_name(f"{stem}-{start + i}{suffix}") for i in range(1, count + 1)]


def encode_image(image: Any, path: str | os.PathLike[str]) -> bytes:
    """``image`` (PIL) encoded in the format ``path``'s suffix names (PNG when unknown)."""
    import io

    from PIL import Image

    fmt = Image.registered_extensions().get(Path(path).suffix.lower(), "PNG")
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


def render_overlays(
    result: OcrResult,
    path: str | os.PathLike[str] | None = None,
    *,
    images: Any = None,
    pdf_dpi: float | None = None,
    **options: Any,
) -> list[Any]:
    """One overlay image (PIL) per page of ``result`` (see :func:`~inkread.export.overlay.render_overlay`);
    also saved to :func:`overlay_paths` ``(path, pages)`` when ``path`` is given."""
    targets = overlay_paths(path, len(result.pages)) if path is not None else [None] * len(result.pages)
    return [image for image, _ in _overlays(result, targets, images, pdf_dpi, options)]


def save_overlays(
    result: OcrResult,
    path: str | os.PathLike[str],
    *,
    images: Any = None,
    pdf_dpi: float | None = None,
    start: int = 0,
    numbered: bool | None = None,
    **options: Any,
) -> list[Path]:
    """Write the overlay of each page of ``result`` (files named as :func:`overlay_paths` says,
    written atomically); returns the paths."""
    targets = overlay_paths(path, len(result.pages), start=start, numbered=numbered)
    return [target for _, target in _overlays(result, targets, images, pdf_dpi, options)]


def _overlays(
    result: OcrResult, targets: list[Any], images: Any, pdf_dpi: float | None, options: dict[str, Any]
) -> list[tuple[Any, Any]]:
    from ._images import iter_page_images
    from .overlay import render_overlay

    out = []
    for (page, raster), target in zip(iter_page_images(result, images, pdf_dpi=pdf_dpi), targets):
        image = render_overlay(page, raster.image, **options)
        if target is not None:
            write_file(target, encode_image(image, target))
        out.append((image, target))
    return out


def _pdf_bytes(results: Any, images: Any = None, **options: Any) -> bytes:
    from .pdf import to_pdf_bytes  # pikepdf and PDFium only when a PDF is written

    return to_pdf_bytes(results, images, **options)


register_writers(
    save=save, hocr=to_hocr, alto=to_alto, markdown=to_markdown, pdf_bytes=_pdf_bytes, overlays=render_overlays
)
