"""Reading an evaluation set: a manifest-driven set, or a plain folder of images with sibling ``.txt``.

Manifest layout (see the evaluation set's README)::

    <eval_dir>/manifest.tsv             tab-separated, header row; columns id, set, kind, language, ...
    <eval_dir>/images/<set>/<id>.<ext>
    <eval_dir>/gt/<set>/<id>.txt        UTF-8 ground truth

Plain folder layout: ``page1.png`` + ``page1.txt``, ... (optionally in sub-folders, whose relative
path becomes the sample's ``set``).

Kinds are ``hw-line``, ``hw-page``, ``print-line``, ``print-page`` in the manifest; plain folders get
the ``kind`` the caller gives (default ``"page"``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .io.formats import IMAGE_SUFFIXES

__all__ = [
    "EVAL_DIR_ENV",
    "IMAGE_EXTENSIONS",
    "KINDS",
    "Sample",
    "resolve_eval_dir",
    "load_manifest",
    "load_folder",
    "load_samples",
]

#: Environment variable naming the evaluation set's folder.
EVAL_DIR_ENV = "INKREAD_EVAL_DIR"

#: Kinds used by the evaluation set's manifest.
KINDS = ("hw-line", "hw-page", "hw-word", "print-line", "print-page")

#: File extensions considered images when scanning a folder: the batch's (``io.formats.IMAGE_SUFFIXES``).
IMAGE_EXTENSIONS = IMAGE_SUFFIXES

_REQUIRED_COLUMNS = ("id", "set", "kind", "language")


@dataclass(frozen=True)
class Sample:
    """One image with its ground-truth transcription."""

    id: str
    set: str
    kind: str
    language: str
    image_path: Path
    gt_path: Path

    @property
    def is_line(self) -> bool:
        """True for single-line kinds (``*-line``, ``*-word``)."""
        return self.kind.endswith(("-line", "-word"))

    @property
    def is_handwritten(self) -> bool:
        """True for handwritten kinds (``hw-*``)."""
        return self.kind.startswith("hw-")

    def read_gt(self) -> str:
        """The ground-truth text (UTF-8; a BOM is dropped)."""
        return self.gt_path.read_text(encoding="utf-8-sig")


def resolve_eval_dir(
    explicit: str | os.PathLike[str] | None = None, *, default: str | os.PathLike[str] | None = None
) -> Path:
    """The evaluation folder: ``explicit`` if given, else ``$INKREAD_EVAL_DIR``, else ``default``.

    Raises ``FileNotFoundError`` when none is given or the chosen folder does not exist.
    """
    chosen = explicit or os.environ.get(EVAL_DIR_ENV) or default
    if not chosen:
        raise FileNotFoundError(f"no evaluation folder given (pass one, or set ${EVAL_DIR_ENV})")
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"evaluation folder not found: {path}")
    return path.resolve()


def _as_filter(values: Iterable[str] | str | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = values.split(",")
    cleaned = frozenset(v.strip() for v in values if v.strip())
    return cleaned or None


def _images_by_stem(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            if entry.is_file() and entry.suffix.lower() in IMAGE_EXTENSIONS:
                found.setdefault(entry.stem, entry)
    return found


def load_manifest(
    eval_dir: str | os.PathLike[str],
    *,
    sets: Iterable[str] | str | None = None,
    kinds: Iterable[str] | str | None = None,
) -> list[Sample]:
    """Samples listed in ``<eval_dir>/manifest.tsv`` (or in ``eval_dir`` itself when it is a
    manifest file, named anything, with ``images/`` and ``gt/`` beside it), in manifest order.

    ``sets`` / ``kinds`` (iterables or comma-separated strings) keep only those. Raises
    ``FileNotFoundError`` when the manifest, an image or a ground-truth file is missing, and
    ``ValueError`` for a manifest without the required columns.
    """
    root = Path(eval_dir)
    manifest = root / "manifest.tsv"
    if root.is_file():
        root, manifest = root.parent, root
    if not manifest.is_file():
        raise FileNotFoundError(f"manifest not found: {manifest}")
    set_filter, kind_filter = _as_filter(sets), _as_filter(kinds)

    samples: list[Sample] = []
    image_index: dict[str, dict[str, Path]] = {}
    with manifest.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in _REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{manifest}: missing column(s) {', '.join(missing)}")
        for row in reader:
            sample_id = (row["id"] or "").strip()
            if not sample_id:
                continue
            set_name = row["set"].strip()
            kind = row["kind"].strip()
            if set_filter is not None and set_name not in set_filter:
                continue
            if kind_filter is not None and kind not in kind_filter:
                continue
            if set_name not in image_index:
                image_index[set_name] = _images_by_stem(root / "images" / set_name)
            image = image_index[set_name].get(sample_id)
            if image is None:
                raise FileNotFoundError(f"no image for {sample_id} under {root / 'images' / set_name}")
            gt = root / "gt" / set_name / f"{sample_id}.txt"
            if not gt.is_file():
                raise FileNotFoundError(f"ground truth not found: {gt}")
            samples.append(
                Sample(
                    id=sample_id,
                    set=set_name,
                    kind=kind,
                    language=(row["language"] or "").strip(),
                    image_path=image,
                    gt_path=gt,
                )
            )
    return samples


def load_folder(
    folder: str | os.PathLike[str], *, kind: str = "page", language: str = "en", recursive: bool = True
) -> list[Sample]:
    """Images in ``folder`` that have a sibling ``<stem>.txt`` ground truth, sorted by path.

    Images without a ``.txt`` are skipped. The sample ``id`` is the file stem; its ``set`` is the
    folder's name for files directly inside it, else the sub-folder's relative path.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"folder not found: {root}")
    candidates = root.rglob("*") if recursive else root.iterdir()
    samples: list[Sample] = []
    for image in sorted(p for p in candidates if p.is_file()):
        if image.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        gt = image.with_suffix(".txt")
        if not gt.is_file():
            continue
        relative_parent = image.parent.relative_to(root)
        set_name = relative_parent.as_posix() if relative_parent.parts else root.resolve().name
        samples.append(Sample(id=image.stem, set=set_name, kind=kind, language=language, image_path=image, gt_path=gt))
    return samples


def load_samples(
    path: str | os.PathLike[str],
    *,
    sets: Iterable[str] | str | None = None,
    kinds: Iterable[str] | str | None = None,
    folder_kind: str = "page",
    folder_language: str = "en",
) -> list[Sample]:
    """:func:`load_manifest` when ``path`` has a ``manifest.tsv``, else :func:`load_folder`.

    For a plain folder, ``sets`` still filters (by sub-folder) and ``kinds`` is ignored: every
    sample gets ``folder_kind`` and ``folder_language``.
    """
    root = Path(path)
    if (root / "manifest.tsv").is_file():
        return load_manifest(root, sets=sets, kinds=kinds)
    samples = load_folder(root, kind=folder_kind, language=folder_language)
    set_filter = _as_filter(sets)
    if set_filter is not None:
        samples = [s for s in samples if s.set in set_filter]
    return samples
