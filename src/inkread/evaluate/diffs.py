"""Word-level diffs of ground truth and output (text and HTML), and thumbnails for the report."""

from __future__ import annotations

import base64
import difflib
import html
import io
import os
from collections.abc import Sequence


def word_diff(reference: str, hypothesis: str, *, casefold: bool = False) -> list[tuple[str, list[str], list[str]]]:
    """Word-level diff of the two texts as scored (NFC, whitespace collapsed, optional case-fold).

    Returns ``(op, reference_words, hypothesis_words)`` with ``op`` one of ``equal``, ``delete``
    (words only in the reference), ``insert`` (only in the output) and ``replace``.
    """
    from ..metrics import normalize_text

    ref = normalize_text(reference, casefold=casefold).split()
    hyp = normalize_text(hypothesis, casefold=casefold).split()
    matcher = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False)
    return [(op, ref[i1:i2], hyp[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes()]


def diff_text(ops: Sequence[tuple[str, list[str], list[str]]]) -> str:
    """A diff as one line, wdiff style: ``same [-only in reference-] {+only in output+}``."""
    parts = []
    for op, ref, hyp in ops:
        if op == "equal":
            parts.append(" ".join(ref))
            continue
        if ref:
            parts.append("[-" + " ".join(ref) + "-]")
        if hyp:
            parts.append("{+" + " ".join(hyp) + "+}")
    return " ".join(parts)


def diff_html(ops: Sequence[tuple[str, list[str], list[str]]]) -> str:
    """A diff as HTML: ``<del>`` for words missing from the output, ``<ins>`` for extra words."""
    parts = []
    for op, ref, hyp in ops:
        if op == "equal":
            parts.append(html.escape(" ".join(ref)))
            continue
        if ref:
            parts.append("<del>" + html.escape(" ".join(ref)) + "</del>")
        if hyp:
            parts.append("<ins>" + html.escape(" ".join(hyp)) + "</ins>")
    return " ".join(parts)


def thumbnail_data_uri(
    path: str | os.PathLike[str], *, max_width: int = 400, max_height: int = 800, quality: int = 70
) -> str | None:
    """A small JPEG of the image's first page as a ``data:`` URI, or ``None`` if it cannot be read."""
    try:
        from PIL import Image

        from ..io import load_pages

        page = load_pages(os.fspath(path), pages=[0])[0]
        image = Image.fromarray(page.image)
        image.thumbnail((max_width, max_height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=quality, optimize=True)
    except Exception:  # noqa: BLE001 - a report without a picture is still a report
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
