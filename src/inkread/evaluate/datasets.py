"""What a run reads: a folder of images with ``.txt`` ground truths beside them, or a ``manifest.tsv``
(the evaluation set's layout), filtered by kind, set and count."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import InputError


@dataclass
class Dataset:
    """The samples to score, and where they came from."""

    path: Path  # what the user named (folder or manifest file), resolved
    samples: list[Any]  # inkread.evalset.Sample
    manifest: Path | None = None  # the manifest read, if any
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def has_kinds(self) -> bool:
        return self.manifest is not None


def _csv_values(values: Iterable[str] | str | None) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = values.split(",")
    cleaned = [v.strip() for v in values if v and v.strip()]
    return cleaned or None


def _load_manifest_file(manifest: Path, *, sets: list[str] | None, kinds: list[str] | None) -> list[Any]:
    """Samples of a manifest file named anything (images/ and gt/ beside it)."""
    from .. import evalset

    try:
        return evalset.load_manifest(manifest, sets=sets, kinds=kinds)
    except ValueError as exc:
        raise InputError(
            f"{manifest}: not a manifest ({exc})", hint="tab-separated with a header row: id, set, kind, language"
        ) from None


def load_dataset(
    path: str | os.PathLike[str],
    *,
    kinds: Iterable[str] | str | None = None,
    sets: Iterable[str] | str | None = None,
    language: str = "en",
    limit: int | None = None,
) -> Dataset:
    """Read a dataset: a folder with a ``manifest.tsv``, a manifest file, or a plain folder.

    Plain folders: every image with a sibling ``<stem>.txt`` (recursively); each sample gets kind
    ``page`` and ``language``, and its sub-folder as set. ``kinds`` / ``sets`` filter (``kinds``
    only applies to manifests); ``limit`` keeps the first N samples of each kind, in order.

    Raises ``FileNotFoundError`` for a missing path, :class:`~inkread.exceptions.InputError` for a
    path that is not a dataset or holds no samples.
    """
    from .. import evalset

    raw = Path(path).expanduser()
    if not raw.exists():
        raise FileNotFoundError(f"dataset not found: {raw}")
    kinds_list, sets_list = _csv_values(kinds), _csv_values(sets)
    manifest: Path | None = None
    if raw.is_file():
        if raw.suffix.lower() not in (".tsv", ".txt", ".csv") and raw.name != "manifest.tsv":
            raise InputError(
                f"{raw}: not a dataset",
                hint="give a folder of images with a .txt beside each, a folder with "
                "a manifest.tsv, or the manifest file",
            )
        manifest = raw.resolve()
        samples = _load_manifest_file(manifest, sets=sets_list, kinds=kinds_list)
    elif (raw / "manifest.tsv").is_file():
        manifest = (raw / "manifest.tsv").resolve()
        samples = evalset.load_manifest(raw, sets=sets_list, kinds=kinds_list)
    else:
        samples = evalset.load_samples(raw, sets=sets_list, folder_language=language)

    if not samples:
        what = "images with a ground-truth .txt beside them" if manifest is None else "samples"
        detail = []
        if manifest is not None and (kinds_list or sets_list):
            everything = _load_manifest_file(manifest, sets=None, kinds=None)
            if kinds_list:
                detail.append(
                    f"kinds {','.join(kinds_list)} (it has {', '.join(sorted({s.kind for s in everything})) or 'none'})"
                )
            if sets_list:
                detail.append(
                    f"sets {','.join(sets_list)} (it has {', '.join(sorted({s.set for s in everything})) or 'none'})"
                )
        elif sets_list:
            detail.append(f"sets {','.join(sets_list)}")
        raise InputError(
            f"no {what} in {raw}" + (" for " + "; ".join(detail) if detail else ""),
            hint=None
            if manifest is not None
            else "each image needs its ground truth as <same name>.txt, or give a manifest.tsv",
        )
    if limit is not None:
        counts: dict[str, int] = {}
        kept = []
        for sample in samples:
            counts[sample.kind] = counts.get(sample.kind, 0) + 1
            if counts[sample.kind] <= limit:
                kept.append(sample)
        samples = kept
    return Dataset(
        path=raw.resolve(),
        samples=samples,
        manifest=manifest,
        filters={"kinds": kinds_list, "sets": sets_list, "limit": limit},
    )
