"""A handwriting model chosen per call (``--model FILE``, ``OcrEngine(model=...)``, ``inkread serve
--model NAME=FILE``): the file checked before any page is read.

A model ``inkread train`` (or ``python -m inkread.training``) exported is one ONNX file that takes
PP-OCRv6's recogniser input and gives probabilities over PP-OCRv6's classes: its custom metadata
holds ``character`` (PP-OCRv6's class list, copied) and ``inkread`` (its card, a JSON object).
:func:`check_handwriting_model` refuses anything else with an
:class:`~inkread.exceptions.InvalidOptionError` naming the file and what is wrong with it; a file
that passed is not opened again until it changes (size or time of change).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from ...exceptions import InvalidOptionError
from .models import REC_MODEL, model_dir

__all__ = ["check_handwriting_model", "CARD_KEY"]

#: the metadata key of an inkread model's card
CARD_KEY = "inkread"
_HINT = "give a model exported by 'inkread train' or 'python -m inkread.training'"


def check_handwriting_model(path: str | os.PathLike[str]) -> Path:
    """``path`` as an absolute path, once it is known to be an inkread handwriting model that
    PP-OCRv6's classes and input fit; else :class:`InvalidOptionError` saying why."""
    given = Path(path).expanduser()
    try:
        resolved = given.resolve(strict=True)
        stat = resolved.stat()
    except (OSError, RuntimeError):
        raise InvalidOptionError(f"the handwriting model {given} does not exist", hint=_HINT) from None
    if not resolved.is_file():
        raise InvalidOptionError(f"the handwriting model {given} is not a file", hint=_HINT)
    _check(str(resolved), stat.st_size, stat.st_mtime_ns)
    return resolved


@functools.lru_cache(maxsize=64)
def _check(path: str, size: int, mtime_ns: int) -> None:
    """The checks of one version of a file (cached: a worker reading page after page checks once)."""
    try:
        session = _open(path)
    except Exception as exc:  # noqa: BLE001 - whatever onnxruntime says, the file is no model
        detail = " ".join(str(exc).split(" failed:", 1)[-1].split())[:200]
        raise InvalidOptionError(f"{path} is not an ONNX model onnxruntime can load: {detail}", hint=_HINT) from None
    meta = session.get_modelmeta().custom_metadata_map
    try:
        card = json.loads(meta[CARD_KEY])
    except (KeyError, ValueError):
        card = None
    if not isinstance(card, dict):
        raise InvalidOptionError(f"{path} is not an inkread handwriting model: it has no '{CARD_KEY}' card", hint=_HINT)
    classes = _ppocr_classes()
    if meta.get("character") != classes:
        raise InvalidOptionError(f"{path} was trained for other classes than PP-OCRv6's ({REC_MODEL})", hint=_HINT)
    inputs, outputs = session.get_inputs(), session.get_outputs()
    size_out = outputs[0].shape[-1] if outputs and outputs[0].shape else None
    wanted = len(classes.splitlines()) + 2  # the CTC blank and the space around PP-OCRv6's list
    if len(inputs) != 1 or not _fits(inputs[0].shape, [None, 3, 48, None]) or size_out != wanted:
        raise InvalidOptionError(
            f"{path} does not take PP-OCRv6's line images or give its {wanted:,} classes "
            f"(input {inputs[0].shape if inputs else None}, output {outputs[0].shape if outputs else None})",
            hint=_HINT,
        )


def _fits(shape: Any, wanted: list[int | None]) -> bool:
    """An ONNX input shape matches ``wanted`` (None: any size; a named dimension fits any number)."""
    if not isinstance(shape, list) or len(shape) != len(wanted):
        return False
    return all(w is None or not isinstance(s, int) or s == w for s, w in zip(shape, wanted))


def _open(path: str) -> Any:
    """A session that is only looked at (one thread, no graph optimisation: about 0.1 s)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 4
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])


@functools.cache
def _ppocr_classes() -> str:
    """PP-OCRv6's class list (its ``character`` metadata) as the installed rapidocr ships it."""
    return str(_open(str(model_dir() / REC_MODEL)).get_modelmeta().custom_metadata_map["character"])
