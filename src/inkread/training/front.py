"""The front of the recogniser's backbone (its input image to the last stage's input) in PyTorch, so
``inkread train`` can train the whole network, not only the layers after it.

:class:`GraphFront` runs the front's ONNX graph node by node with PyTorch operations: the convs'
weights, and the biases added after them, are its parameters (named after their ONNX initializers,
so :meth:`GraphFront.write` puts the trained values back into the same graph); every other constant
(GELU's 0.5, sqrt 2 and 1) stays fixed. It knows the dozen operators PP-OCRv6's front is made of and
refuses a graph with any other. ``tests/test_train_front.py`` checks it gives onnxruntime's output.
Trained, it keeps only the tensors between :data:`SEGMENTS` runs of nodes and computes each run's
again for the backward pass (``torch.utils.checkpoint``): with every node's output kept, a step of 16
lines 1,600 px wide held 9.1 GB, checkpointed 4.1 GB (``inkread train`` also sends a batch through in
parts, ``adapt.PART_PIXELS``).

:class:`TrainedFront` has :class:`.stage.Front`'s ``run`` (a batch of grey lines in, the stage input
and each line's own frames out), with gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .features import cut_recogniser
from .stage import STAGE_INPUT, run_front

__all__ = ["GraphFront", "TrainedFront", "cut_front"]

_BINARY: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "Add": lambda a, b: a + b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
}
SEGMENTS = 12  # runs of nodes recomputed in the backward pass (checkpoints between them)


def cut_front(model: Path, out: Path) -> Path:
    """The front of the handwriting model at ``model`` (input image -> :data:`.stage.STAGE_INPUT`),
    cut into ``out`` once: a model trained with its front has its own, the shipped one PP-OCRv6's."""
    return cut_recogniser(out.parent, out.name, STAGE_INPUT, model=model)


def _key(name: str) -> str:
    """An initializer's name as a PyTorch parameter name (no dots)."""
    return name.replace(".", "__")


def _same_upper(x: torch.Tensor, kernel: list[int], strides: list[int], fill: float) -> torch.Tensor:
    """ONNX's ``auto_pad=SAME_UPPER`` for stride 1: k - 1 padding, the odd one at the end."""
    if any(s != 1 for s in strides):
        raise ValueError("SAME_UPPER padding with a stride other than 1")
    (kh, kw), pad = kernel, []
    for k in (kw, kh):  # F.pad: last dimension first
        pad += [(k - 1) // 2, k - 1 - (k - 1) // 2]
    return F.pad(x, pad, value=fill)


class GraphFront(torch.nn.Module):
    """The ONNX graph at ``path`` (one input, one output) as a PyTorch module."""

    def __init__(self, path: Path) -> None:
        import onnx
        from onnx import helper, numpy_helper

        super().__init__()
        graph = onnx.load(str(path)).graph
        self.input, self.output = graph.input[0].name, graph.output[0].name
        values = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        made_by = {out: n.op_type for n in graph.node for out in n.output}
        trained: set[str] = set()
        for n in graph.node:
            if n.op_type == "Conv":
                trained.update(x for x in n.input[1:] if x in values)
            elif n.op_type == "Add" and any(made_by.get(x) == "Conv" for x in n.input):
                trained.update(x for x in n.input if x in values)  # a conv's bias, added after it
        self.weights = torch.nn.ParameterDict(
            {_key(k): torch.nn.Parameter(torch.from_numpy(np.array(values[k], dtype=np.float32))) for k in trained}
        )
        for k, v in values.items():
            if k not in trained:
                self.register_buffer(_key(k), torch.from_numpy(np.array(v)), persistent=False)
        self.nodes: list[tuple[str, list[str], list[str], dict[str, Any]]] = []
        for n in graph.node:
            if n.op_type not in _BINARY and n.op_type not in _UNARY and n.op_type not in _OTHERS:
                raise ValueError(f"{path}: operator {n.op_type} is not one the trainable front knows")
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            self.nodes.append((n.op_type, list(n.input), list(n.output), attrs))
        self.trained_names = sorted(trained)
        self.segments = _segments(self.nodes, self.input, self.output, SEGMENTS)

    def _value(self, env: dict[str, torch.Tensor], name: str) -> torch.Tensor:
        if name in env:
            return env[name]
        key = _key(name)
        return self.weights[key] if key in self.weights else getattr(self, key)

    def _run(self, nodes: range, names_in: list[str], names_out: list[str], *values: torch.Tensor):
        env = dict(zip(names_in, values))
        for op, inputs, outputs, attrs in (self.nodes[i] for i in nodes):
            args = [self._value(env, name) for name in inputs if name]
            if op in _BINARY:
                y = _BINARY[op](args[0], args[1])
            elif op in _UNARY:
                y = _UNARY[op](args[0], attrs)
            else:
                y = _OTHERS[op](args, attrs)
            env[outputs[0]] = y
        return tuple(env[n] for n in names_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from torch.utils.checkpoint import checkpoint

        env = {self.input: x}
        for nodes, names_in, names_out in self.segments:
            values = [env[n] for n in names_in]
            if torch.is_grad_enabled():
                out = checkpoint(self._run, nodes, names_in, names_out, *values, use_reentrant=False)
            else:
                out = self._run(nodes, names_in, names_out, *values)
            env.update(zip(names_out, out))
        return env[self.output]

    def write(self, source: Path, out: Path) -> Path:
        """The graph at ``source`` (the one this module was made from) with the trained weights."""
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(source))
        for init in model.graph.initializer:
            key = _key(init.name)
            if key in self.weights:
                value = self.weights[key].detach().numpy().astype(numpy_helper.to_array(init).dtype)
                init.CopyFrom(numpy_helper.from_array(value, init.name))
        onnx.save(model, str(out))
        return out


def _segments(
    nodes: list[tuple[str, list[str], list[str], dict[str, Any]]], first: str, last: str, count: int
) -> list[tuple[range, list[str], list[str]]]:
    """``nodes`` cut into ``count`` runs of about equal length: each run's nodes, the tensors it reads
    that earlier runs made (or the input) and the tensors it makes that later runs read (or the output)."""
    made = {out: i for i, n in enumerate(nodes) for out in n[2]}
    made[first] = -1
    bounds = np.linspace(0, len(nodes), count + 1).round().astype(int)
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if a == b:
            continue
        reads = {x for n in nodes[a:b] for x in n[1] if x in made and made[x] < a}
        later = {x for n in nodes[b:] for x in n[1]} | {last}
        makes = {y for n in nodes[a:b] for y in n[2] if y in later}
        out.append((range(a, b), sorted(reads), sorted(makes)))
    return out


def _conv(args: list[torch.Tensor], a: dict[str, Any]) -> torch.Tensor:
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    strides, group = list(a.get("strides", [1, 1])), int(a.get("group", 1))
    if a.get("auto_pad", b"NOTSET") in (b"SAME_UPPER", "SAME_UPPER"):
        x = _same_upper(x, list(a["kernel_shape"]), strides, 0.0)
        padding: Any = 0
    else:
        top, left, bottom, right = a.get("pads", [0, 0, 0, 0])
        if (top, left) != (bottom, right):
            x, padding = F.pad(x, [left, right, top, bottom]), 0
        else:
            padding = (top, left)
    dilation = list(a.get("dilations", [1, 1]))
    return F.conv2d(x, w, bias, stride=strides, padding=padding, dilation=dilation, groups=group)


def _max_pool(args: list[torch.Tensor], a: dict[str, Any]) -> torch.Tensor:
    x, kernel, strides = args[0], list(a["kernel_shape"]), list(a.get("strides", [1, 1]))
    if a.get("auto_pad", b"NOTSET") in (b"SAME_UPPER", "SAME_UPPER"):
        x = _same_upper(x, kernel, strides, float("-inf"))
    elif any(a.get("pads", [0])):
        top, left, bottom, right = a["pads"]
        x = F.pad(x, [left, right, top, bottom], value=float("-inf"))
    return F.max_pool2d(x, kernel, strides, ceil_mode=bool(a.get("ceil_mode", 0)))


def _reduce_mean(args: list[torch.Tensor], a: dict[str, Any]) -> torch.Tensor:
    axes = list(a["axes"]) if "axes" in a else [int(v) for v in args[1].tolist()]
    return args[0].mean(dim=axes, keepdim=bool(a.get("keepdims", 1)))


_UNARY = {
    "Identity": lambda x, a: x,
    "Relu": lambda x, a: F.relu(x),
    "Erf": lambda x, a: torch.erf(x),
    "HardSigmoid": lambda x, a: torch.clamp(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0.0, 1.0),
}
_OTHERS = {
    "Conv": _conv,
    "MaxPool": _max_pool,
    "ReduceMean": _reduce_mean,
    "Concat": lambda args, a: torch.cat(args, dim=int(a["axis"])),
}


class TrainedFront:
    """:class:`GraphFront` batched like inkread's recogniser (:class:`.stage.Front`'s ``run``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.net = GraphFront(path)

    def run(self, grays: list[np.ndarray]) -> tuple[torch.Tensor, list[int]]:
        return run_front(lambda batch: self.net(torch.from_numpy(batch)), grays)
