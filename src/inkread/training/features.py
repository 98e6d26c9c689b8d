"""PP-OCRv6's frozen backbone run over line images once, its output cached for training the neck and head.

The backbone is cut out of the ``rapidocr`` wheel's ONNX file (``onnx.utils.extract_model``) and run by
onnxruntime exactly as inkread runs the whole model (``recinput._rec_input``: height 48, RGB, scaled to
-1..1, zero padding to the batch width). A cache is three files: ``<name>.feats.npy`` (all frames, 384
float16 each), ``<name>.index.npy`` (start and length of each line's frames) and ``<name>.texts.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..backends.ppocr.models import REC_MODEL, _session, model_dir
from ..backends.ppocr.recinput import own_frames, rec_batch
from .model import BACKBONE_OUTPUT

__all__ = ["backbone_path", "cut_recogniser", "Backbone", "extract", "load_cache"]


def cut_recogniser(work: Path, name: str, output: str, model: Path | None = None) -> Path:
    """The wheel's recogniser (or the recogniser ``model``) from its input image to tensor ``output``,
    cut once into ``work/name``."""
    out = work / name
    if not out.is_file():
        from onnx import utils

        work.mkdir(parents=True, exist_ok=True)
        utils.extract_model(str(model or model_dir() / REC_MODEL), str(out), ["x"], [output])
    return out


def backbone_path(work: Path) -> Path:
    """The backbone ONNX (input image -> features)."""
    return cut_recogniser(work, "backbone.onnx", BACKBONE_OUTPUT)


class Backbone:
    def __init__(self, work: Path, threads: int | None = None) -> None:
        self.session = _session(backbone_path(work), threads or (os.cpu_count() or 2))

    def run(self, grays: list[np.ndarray]) -> list[np.ndarray]:
        """Features (384, frames) float16 of each greyscale line, batched like inkread's recogniser."""
        batch, widths = rec_batch([np.repeat(g[:, :, None], 3, axis=2) for g in grays])
        feats = self.session.run(None, {self.session.get_inputs()[0].name: batch})[0][:, :, 0, :]
        return [
            feats[j, :, :used].astype(np.float16)
            for j, used in enumerate(own_frames(feats.shape[2], widths, batch.shape[3]))
        ]


def extract(
    items: Iterable[tuple[np.ndarray, str]],
    backbone: Backbone,
    out: Path,
    name: str,
    chunk: int = 192,
    batch: int = 12,
    log=print,
) -> int:
    """Run the backbone over (greyscale image, text) items and write the cache ``out/name.*``."""
    out.mkdir(parents=True, exist_ok=True)
    parts: list[np.ndarray] = []
    texts: list[str] = []
    pending: list[tuple[np.ndarray, str]] = []

    def flush() -> None:
        order = sorted(range(len(pending)), key=lambda i: pending[i][0].shape[1] / max(1, pending[i][0].shape[0]))
        got: dict[int, np.ndarray] = {}
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            for i, f in zip(idx, backbone.run([pending[i][0] for i in idx])):
                got[i] = f
        for i in range(len(pending)):
            parts.append(got[i].T.copy())  # (frames, 384)
            texts.append(pending[i][1])
        pending.clear()
        log(f"  {name}: {len(texts)} lines")

    for item in items:
        pending.append(item)
        if len(pending) >= chunk:
            flush()
    if pending:
        flush()
    lengths = np.array([p.shape[0] for p in parts], dtype=np.int64)
    index = np.stack([np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths], axis=1)
    tmp = out / f"{name}.feats.tmp.npy"
    np.save(tmp, np.concatenate(parts, axis=0) if parts else np.zeros((0, 384), np.float16))
    np.save(out / f"{name}.index.npy", index)
    (out / f"{name}.texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, out / f"{name}.feats.npy")
    return len(texts)


def load_cache(out: Path, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    feats = np.load(out / f"{name}.feats.npy", mmap_mode="r")
    index = np.load(out / f"{name}.index.npy")
    texts = json.loads((out / f"{name}.texts.json").read_text(encoding="utf-8"))
    return feats, index, texts
