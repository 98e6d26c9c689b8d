"""Markdown output: paragraphs, bullet and numbered lists, task-list checkboxes.

* Paragraphs are separated by a blank line; the lines of a paragraph stay on their own lines (a
  Markdown renderer joins them into one paragraph).
* A line that starts with a bullet (``•``, ``-``, ``*``, ``+``, ``–``, ``·`` ...) becomes ``- item``;
  one that starts with ``1.`` / ``1)`` becomes ``1. item`` (its number kept); a checkbox (``[ ]``,
  ``[x]``, ``☐``, ``☑``, ``☒``, also after a bullet) becomes a task item ``- [ ] item`` / ``- [x] item``.
  A line inside a paragraph that follows a list item without a marker of its own continues that item
  (indented). List items in consecutive paragraphs stay in one list (no blank line between them).
* Characters that Markdown would take as formatting (``*``, ``_``, `````, ``<``, ``\\``, a leading
  ``#``/``>``/``|``...) are escaped, so the rendered text is what was read.
* Pages are separated by a ``---`` rule (pages where nothing was read are left out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..result import OcrResult, Page
from ._common import as_results

__all__ = ["to_markdown", "markdown_line"]

_CHECKBOX = re.compile(r"^(?:[-*+•·∙●◦▪‣⁃–—]\s*)?(?:\[(?P<box>[ xX✓✔]?)\]|(?P<glyph>[☐☑☒✅]))\s*")
_BULLET = re.compile(r"^[-*+•·∙●◦○▪■►‣⁃–—]\s+")
_NUMBERED = re.compile(r"^(?P<num>\d{1,9})(?P<delim>[.)])\s+")
_INLINE_SPECIAL = re.compile(r"([\\`*_<])")
_LEADING_SPECIAL = re.compile(r"^(#|>|\||=+\s*$|-+\s*$|\+\s)")
_LEADING_NUMBER = re.compile(r"^(\d{1,9})([.)])(\s|$)")


@dataclass
class _Item:
    kind: str  # "para", "bullet", "number", "task"
    text: str  # markdown for the line, marker included
    continuation: bool = False


def escape_inline(text: str) -> str:
    """Escape characters Markdown would read as inline formatting."""
    return _INLINE_SPECIAL.sub(r"\\\1", text)


def _escape_start(text: str) -> str:
    text = escape_inline(text)
    if _LEADING_SPECIAL.match(text):
        return "\\" + text
    m = _LEADING_NUMBER.match(text)  # "1999. A year" that is not a list: keep it a paragraph
    if m:
        return f"{m.group(1)}\\{m.group(2)}{text[m.end(2) :]}"
    return text


def markdown_line(text: str) -> tuple[str, str]:
    """``(kind, markdown)`` for one recognised line: kind is ``task``, ``bullet``, ``number`` or
    ``para``."""
    text = text.strip()
    m = _CHECKBOX.match(text)
    if m:
        mark = m.group("box") if m.group("box") is not None else m.group("glyph")
        checked = mark not in ("", " ", "☐")
        rest = text[m.end() :].strip()
        return "task", (f"- [{'x' if checked else ' '}] {_escape_start(rest)}").rstrip()
    m = _BULLET.match(text)
    if m and m.end() < len(text):
        return "bullet", f"- {_escape_start(text[m.end() :].strip())}"
    m = _NUMBERED.match(text)
    if m and m.end() < len(text):
        return "number", f"{int(m.group('num'))}. {_escape_start(text[m.end() :].strip())}"
    return "para", _escape_start(text)


def _list_family(kind: str) -> str:
    return "dash" if kind in ("bullet", "task") else kind


def _page_markdown(page: Page) -> str:
    blocks: list[list[_Item]] = []
    for lines in page.paragraphs:
        items: list[_Item] = []
        for line in lines:
            if not line.text.strip():
                continue
            kind, md = markdown_line(line.text)
            if kind == "para" and items and items[-1].kind != "para":
                # a wrapped list item: indent under the item's text
                owner = next(i for i in reversed(items) if not i.continuation)
                indent = " " * (owner.text.index(" ") + 1) if owner.kind == "number" else "  "
                items.append(_Item(owner.kind, indent + md, continuation=True))
            else:
                items.append(_Item(kind, md))
        if items:
            blocks.append(items)
    out: list[str] = []
    prev_last: _Item | None = None
    for items in blocks:
        first = items[0]
        if prev_last is not None:
            tight = (
                first.kind != "para"
                and prev_last.kind != "para"
                and _list_family(first.kind) == _list_family(prev_last.kind)
            )
            out.append("\n" if tight else "\n\n")
        for k, item in enumerate(items):
            if k:
                # an ordered list may only interrupt a paragraph at 1: give any list its own block
                out.append("\n\n" if items[k - 1].kind == "para" and item.kind != "para" else "\n")
            out.append(item.text)
        prev_last = items[-1]
    return "".join(out)


def to_markdown(results: OcrResult | Iterable[OcrResult]) -> str:
    """The Markdown text of one result (or several, one after the other); ends in a newline
    unless nothing was read."""
    pages = [_page_markdown(p) for r in as_results(results) for p in r.pages]
    text = "\n\n---\n\n".join(p for p in pages if p).strip("\n")
    return text + "\n" if text else ""
