"""Output format names and file suffixes (no heavy imports: the CLI reads these at start-up)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FORMATS", "SUFFIXES", "EXTENSIONS", "BINARY_FORMATS", "DOCUMENT_FORMATS", "parse_format", "format_for_path"]

#: The output formats, as ``--format`` names them.
FORMATS = ("text", "json", "hocr", "alto", "pdf", "md", "tsv")

#: Formats written as bytes (not UTF-8 text).
BINARY_FORMATS = frozenset({"pdf"})

#: Formats where several inputs written to one file become one document (their pages in order).
DOCUMENT_FORMATS = frozenset({"hocr", "alto", "pdf", "tsv"})

#: File name suffix -> format (what ``-o`` / ``save()`` infer the format from).
SUFFIXES = {
    ".txt": "text", ".text": "text",
    ".json": "json",
    ".hocr": "hocr", ".html": "hocr", ".htm": "hocr", ".xhtml": "hocr",
    ".xml": "alto", ".alto": "alto",
    ".pdf": "pdf",
    ".md": "md", ".markdown": "md",
    ".tsv": "tsv",
}  # fmt: skip

#: Format -> the suffix of the files written in it (one file per input).
EXTENSIONS = {
    "text": ".txt",
    "json": ".json",
    "hocr": ".hocr",
    "alto": ".xml",
    "pdf": ".pdf",
    "md": ".md",
    "tsv": ".tsv",
}

_ALIASES = {"txt": "text", "markdown": "md", "html": "hocr", "xml": "alto"}


def parse_format(name: str) -> str:
    """A format name (``"hocr"``, ``"markdown"``, ``"txt"`` ...) as one of :data:`FORMATS`."""
    key = str(name).strip().lower().lstrip(".")
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise ValueError(f"unknown output format {name!r} (expected one of {', '.join(FORMATS)})")
    return key


def format_for_path(path: str | os.PathLike[str]) -> str | None:
    """The format a file name asks for (``out.hocr`` -> ``"hocr"``), ``None`` for other suffixes."""
    return SUFFIXES.get(Path(path).suffix.lower())
