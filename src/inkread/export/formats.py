"""Output format names and file suffixes (no heavy imports: the CLI reads these at start-up)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "FORMATS",
    "FOLDER_FORMATS",
    "SUFFIXES",
    "EXTENSIONS",
    "FOLDER_EXTENSIONS",
    "BINARY_FORMATS",
    "DOCUMENT_FORMATS",
    "parse_format",
    "format_for_path",
]

#: The output formats, as ``--format`` names them.
FORMATS = ("text", "json", "hocr", "alto", "pdf", "md", "tsv")

#: Formats written as several files per input, in a folder (``-o DIR``): ``gt``, each line's image and
#: reading as a line pair (``PAGE_lNNN.png`` + ``PAGE_lNNN.gt.txt``) and a PAGE-XML per page.
FOLDER_FORMATS = ("gt",)

#: Folder format -> the suffix of the file that marks a page of an input written (its PAGE-XML).
FOLDER_EXTENSIONS = {"gt": ".page.xml"}

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

_ALIASES = {"txt": "text", "markdown": "md", "html": "hocr", "xml": "alto", "ground-truth": "gt"}


def parse_format(name: str) -> str:
    """A format name (``"hocr"``, ``"markdown"``, ``"txt"`` ...) as one of :data:`FORMATS` or
    :data:`FOLDER_FORMATS`."""
    key = str(name).strip().lower().lstrip(".")
    key = _ALIASES.get(key, key)
    if key not in FORMATS and key not in FOLDER_FORMATS:
        raise ValueError(f"unknown output format {name!r} (expected one of {', '.join(FORMATS + FOLDER_FORMATS)})")
    return key


def format_for_path(path: str | os.PathLike[str]) -> str | None:
    """The format a file name asks for (``out.hocr`` -> ``"hocr"``), ``None`` for other suffixes."""
    return SUFFIXES.get(Path(path).suffix.lower())
