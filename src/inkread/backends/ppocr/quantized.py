"""The int8 text detector (``weights/det_int8.onnx``, built by ``python -m inkread.training quantize``)
in place of PP-OCRv6's float one: 3-4x faster on CPUs with int8 dot products, the same lines found
(bench/RESULTS.md, "Speed, memory and accuracy in one run").

It is used only beside the very float model it was made from (its card's SHA-256 of that file): a
``rapidocr`` wheel with another detector gets its own float detector. ``INKREAD_INT8=0`` reads with
the float detector anyway.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from pathlib import Path

from ...cache import file_sha256

__all__ = ["DETECTOR_INT8", "detector_path", "card"]

log = logging.getLogger("inkread")

DETECTOR_INT8 = Path(__file__).resolve().parents[2] / "weights" / "det_int8.onnx"


def card(path: Path) -> dict:
    """The card in a quantised model's metadata (``inkread`` key); {} where it has none."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    try:
        found = json.loads(session.get_modelmeta().custom_metadata_map.get("inkread", "{}"))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


@lru_cache(maxsize=8)
def _made_from(quantised: Path, base: Path, size: int, mtime_ns: int) -> bool:
    return card(quantised).get("base_sha256") == file_sha256(base)


def detector_path(float_model: Path, quantised: Path = DETECTOR_INT8) -> Path:
    """The detector to read with: ``quantised`` where it was made from ``float_model`` (and
    ``INKREAD_INT8`` is not ``0``), else ``float_model``."""
    if os.environ.get("INKREAD_INT8", "1").strip() == "0" or not quantised.is_file():
        return float_model
    stat = float_model.stat()
    if _made_from(quantised, float_model, stat.st_size, stat.st_mtime_ns):
        return quantised
    log.info("inkread: %s was not made from %s; the float detector reads", quantised.name, float_model)
    return float_model
