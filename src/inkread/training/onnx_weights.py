"""A handwriting model inkread exported (``weights/hw_rec.onnx``, or one ``inkread train`` wrote) back
in PyTorch: its trained last backbone stage, neck and head, to train further from.

:func:`.export.export` writes the front of PP-OCRv6's backbone (frozen, PP-OCRv6's own weights) joined
to the trained :class:`.stage.Stage` exported by ``torch.onnx``: the stage's convs and the biases,
layer norms and head bias keep their PyTorch names (``net.stage.blocks.0.dw.weight``,
``net.neck.fc.bias``); the linear layers' weights are anonymous (``onnx::MatMul_356``, transposed)
and each conv + batch norm of the neck was folded to ``(conv(x) - mean) * inv + shift`` (anonymous
constants too). :func:`load_trained` reads the named weights by name, the anonymous ones by the
scope of the node that uses them (``/net/neck/blocks.0/qkv/MatMul``), and gives each batch norm
PP-OCRv6's variance back (its statistics are never trained) with the scale that makes ``inv``.
``tests/test_train_command.py`` checks the copy gives onnxruntime's probabilities.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from ..backends.ppocr.models import REC_MODEL, model_dir
from ..exceptions import InvalidOptionError
from .model import load_neck_head
from .stage import STAGE_INPUT, Stage, StageNet

__all__ = ["NotAnInkreadModel", "load_trained"]

_EPS = 1e-5  # model._ConvBN's
_FOLDED = {"Sub": "mean", "Mul": "scale", "Add": "shift"}  # (conv(x) - mean) * inv + shift


class NotAnInkreadModel(InvalidOptionError):
    """The file is not a handwriting model exported by inkread's training (front + stage + neck)."""


def _scope(node) -> str:
    """``neck.blocks.0.qkv`` for a node named ``/net/neck/blocks.0/qkv/MatMul``."""
    name = node.name or (node.output[0] if node.output else "")
    parts = name.strip("/").split("/")
    return ".".join(parts[1:-1]) if len(parts) > 2 and parts[0] == "net" else ""


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(the named weights under ``net.``, the anonymous ones by their place: ``<scope>.<op>``)."""
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(path))
    except Exception as e:  # noqa: BLE001 - onnx raises protobuf's DecodeError and others
        raise NotAnInkreadModel(f"{path}: not an ONNX model ({e.__class__.__name__})") from None
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    if not any(STAGE_INPUT in n.input for n in model.graph.node):
        raise NotAnInkreadModel(f"{path}: no trained stage after PP-OCRv6's front (tensor {STAGE_INPUT})")
    named = {k[len("net.") :]: v for k, v in inits.items() if k.startswith("net.")}
    placed: dict[str, np.ndarray] = {}
    for node in model.graph.node:
        scope = _scope(node)
        for x in node.input:
            if x in inits and not x.startswith("net.") and scope:
                key = f"{scope}.{node.op_type}"
                if key in placed:
                    raise NotAnInkreadModel(f"{path}: two {node.op_type} weights in {scope}")
                placed[key] = inits[x]
    return named, placed


def load_trained(path: Path | str, classes: np.ndarray) -> Stage:
    """The :class:`.stage.Stage` (last backbone stage, neck, head over ``classes``) of the inkread
    handwriting model at ``path``; :class:`NotAnInkreadModel` if its layers are not those."""
    path = Path(path)
    named, placed = _read(path)
    extra = len({m.group(1) for k in named if (m := re.match(r"neck\.blocks\.(\d+)\.norm1\.weight$", k))}) - 2
    if extra < 0:
        raise NotAnInkreadModel(f"{path}: no trained neck (transformer blocks) found")
    neck = load_neck_head(str(model_dir() / REC_MODEL), classes, dropout=0.1, extra_blocks=extra)
    model = Stage(StageNet(), neck)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    t = lambda a: torch.from_numpy(np.array(a, dtype=np.float32))  # noqa: E731
    found: set[str] = set()
    for key, value in named.items():
        if key not in state or value.size != state[key].numel():
            raise NotAnInkreadModel(f"{path}: a weight {key!r} {value.shape} inkread's model does not have")
        state[key] = t(value).reshape(state[key].shape)
        found.add(key)
    for key, value in placed.items():
        scope, op = key.rsplit(".", 1)
        if op == "MatMul":  # a linear layer's weight, (in, out) in the graph
            state[f"{scope}.weight"] = t(value.T)
            found.add(f"{scope}.weight")
        elif op in _FOLDED and f"{scope}.mean" in state:  # a folded batch norm
            folded = t(value).reshape(-1)
            if op == "Mul":  # inv = scale / sqrt(var + eps), var PP-OCRv6's (kept in the template)
                folded = folded * torch.sqrt(state[f"{scope}.var"] + _EPS)
            state[f"{scope}.{_FOLDED[op]}"] = folded
            found.add(f"{scope}.{_FOLDED[op]}")
        else:
            raise NotAnInkreadModel(f"{path}: an unexpected {op} weight in {scope}")
    missing = [k for k in state if k not in found and not k.endswith(".var")]
    if missing:
        raise NotAnInkreadModel(f"{path}: weights missing: {', '.join(missing[:5])}")
    for key, value in state.items():
        if tuple(value.shape) != tuple(model.state_dict()[key].shape):
            raise NotAnInkreadModel(f"{path}: {key} has shape {tuple(value.shape)}")
    model.load_state_dict(state)
    return model
