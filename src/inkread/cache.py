"""Files inkread builds once from what ships and keeps for later processes: the merged recogniser
graph (``backends/ppocr/trunk.py``) and the language detector's tables, read a row at a time
(:mod:`inkread.language_id`).

They live in ``$INKREAD_CACHE``, else ``$XDG_CACHE_HOME/inkread``, else ``~/.cache/inkread``, named by
the hash of what they were built from, and are written atomically (a process reading one meanwhile
sees the old file or the new, never half of one).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "file_sha256", "write_atomic"]


def cache_dir() -> Path:
    """Where built files are kept."""
    explicit = os.environ.get("INKREAD_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "inkread"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(target: Path, payload: bytes) -> None:
    """``payload`` written to ``target`` through a temporary file in its folder (made if missing),
    then renamed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
