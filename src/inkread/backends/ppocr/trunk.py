"""Two recognisers fused: their per-frame posteriors combined (:func:`fuse_posteriors`), and one
ONNX graph for two recognisers that share PP-OCRv6's first layers, so fusing them reads the crops
through that shared trunk once.

inkread's handwriting model is PP-OCRv6's recogniser with its last backbone stage, neck and head
retrained (:mod:`inkread.training`): the first 258 of PP-OCRv6's 480 nodes, and their weights, are
PP-OCRv6's own. Fusing the two models' posteriors (``models.fuse_posteriors``) with two sessions
runs that trunk twice; :func:`merged_model` builds one graph holding PP-OCRv6 whole plus the other
model's own layers on the shared trunk's output, with both models' outputs (measured on 6 crops 640
px wide: 0.87 s instead of 0.67 + 0.58 s; outputs equal to the separate models' within 3e-6).

The graph is built with the ``onnx`` package (PP-OCRv6's opset 11 graph converted to the other
model's opset) and kept in a cache folder (``$INKREAD_CACHE``, else ``$XDG_CACHE_HOME/inkread``, else
``~/.cache/inkread``), named by both files' hashes, so later processes load it without ``onnx``.
Where it cannot be built (no ``onnx``, models that share no trunk) the caller runs the two models
apart: same readings, more time.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ...cache import cache_dir, file_sha256, write_atomic

__all__ = [
    "fuse_posteriors",
    "merged_model",
    "merged_model_path",
    "read_merged",
    "Merged",
    "GRAPH_VERSION",
]

log = logging.getLogger(__name__)

#: the merged graph's layout (in its cache file's name): 2 gives the handwriting model's own classes,
#: 3 PP-OCRv6's over those classes too
GRAPH_VERSION = 3
# a trunk shorter than this is not worth a merged graph (and is likely no shared backbone at all)
MIN_SHARED_NODES = 50


def merged_model(base_path: Path, other_path: Path) -> tuple[bytes, list[str], np.ndarray | None] | None:
    """The merged graph's bytes, its outputs (``base``'s first, then ``other``'s) and the classes
    ``other``'s output holds (None: all of ``base``'s; :func:`_spread`), or None when the two models
    share fewer than :data:`MIN_SHARED_NODES` leading nodes with equal weights."""
    import onnx
    import onnx.version_converter
    from onnx import numpy_helper

    base, other = onnx.load(str(base_path)), onnx.load(str(other_path))
    base_opset = max(o.version for o in base.opset_import if o.domain in ("", "ai.onnx"))
    other_opset = max(o.version for o in other.opset_import if o.domain in ("", "ai.onnx"))
    if base_opset < other_opset:
        base = onnx.version_converter.convert_version(base, other_opset)
    elif other_opset < base_opset:
        other = onnx.version_converter.convert_version(other, base_opset)
    weights_base = {i.name: i for i in base.graph.initializer}
    weights_other = {i.name: i for i in other.graph.initializer}

    def same(a, b) -> bool:
        if (a.op_type, list(a.input), list(a.output), list(a.attribute)) != (
            b.op_type,
            list(b.input),
            list(b.output),
            list(b.attribute),
        ):
            return False
        for name in a.input:
            if name in weights_base or name in weights_other:
                wa, wb = weights_base.get(name), weights_other.get(name)
                if wa is None or wb is None:
                    return False
                xa, xb = numpy_helper.to_array(wa), numpy_helper.to_array(wb)
                if xa.shape != xb.shape or xa.dtype != xb.dtype or xa.tobytes() != xb.tobytes():
                    return False
        return True

    shared = 0
    for a, b in zip(base.graph.node, other.graph.node):
        if not same(a, b):
            break
        shared += 1
    if shared < MIN_SHARED_NODES:
        return None
    trunk = {o for n in base.graph.node[:shared] for o in n.output}
    base_names = {o for n in base.graph.node for o in n.output} | set(weights_base)
    base_names |= {i.name for i in base.graph.input}
    rename: dict[str, str] = {}
    tail = []
    for node in other.graph.node[shared:]:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        for k, name in enumerate(copy.input):
            if name and name not in trunk and name in base_names and name not in rename:
                rename[name] = f"other/{name}"
            if name in rename:
                copy.input[k] = rename[name]
        for k, name in enumerate(copy.output):
            if name in base_names:
                rename[name] = f"other/{name}"
                copy.output[k] = rename[name]
        tail.append(copy)
    merged = onnx.ModelProto()
    merged.CopyFrom(base)
    merged.graph.node.extend(tail)
    used = {name for node in tail for name in node.input}
    for init in other.graph.initializer:
        if init.name in weights_base and init.name not in rename:
            continue  # the trunk's weights (equal) or a tail weight named like one of base's
        if init.name in used or rename.get(init.name) in used:
            copy = onnx.TensorProto()
            copy.CopyFrom(init)
            copy.name = rename.get(init.name, init.name)
            merged.graph.initializer.append(copy)
    spread = _spread(merged, rename.get(other.graph.output[0].name, other.graph.output[0].name))
    for out in other.graph.output:
        copy = onnx.ValueInfoProto()
        copy.CopyFrom(out)
        copy.name = rename.get(out.name, out.name)
        if spread is not None and copy.name == spread[0]:
            copy.name = spread[1]  # the model's own classes (and a column of zeros), not PP-OCRv6's
            _own_classes(copy)
        merged.graph.output.append(copy)
    classes = None if spread is None else spread[2]
    if classes is not None:
        _head_over(merged, merged.graph.output[0].name, classes)
    onnx.checker.check_model(merged)
    return merged.SerializeToString(), [o.name for o in merged.graph.output], classes


def _head_over(graph_model, output: str, classes: np.ndarray) -> bool:
    """PP-OCRv6's last layer (a MatMul and an Add by constants, then a softmax: ``output``) cut down to
    ``classes``: the other columns are all but zero in the fusion (the handwriting model gives them
    nothing), and a softmax over fewer classes differs from the whole one by a constant in each frame,
    which the fusion's normalisation takes out. The 18,710-class layer was a tenth of the graph's time
    and its output 72 MB a batch. False where the graph does not end so (left whole)."""
    from onnx import numpy_helper

    made = {o: n for n in graph_model.graph.node for o in n.output}
    weights = {i.name: i for i in graph_model.graph.initializer}
    node = made.get(output)
    while node is not None and node.op_type in ("Softmax", "Identity"):
        node = made.get(node.input[0])
    add = node if node is not None and node.op_type == "Add" else None
    matmul = made.get(add.input[0]) if add is not None else None
    if add is None or matmul is None or matmul.op_type != "MatMul":
        return False
    bias, weight = weights.get(add.input[1]), weights.get(matmul.input[1])
    if bias is None or weight is None or len(weight.dims) != 2 or list(bias.dims) != [weight.dims[1]]:
        return False
    for init, cut in ((weight, lambda a: a[:, classes]), (bias, lambda a: a[classes])):
        init.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(cut(numpy_helper.to_array(init))), init.name))
    _own_classes(graph_model.graph.output[0])
    return True


def _own_classes(output) -> None:
    """An output's class axis declared as no longer PP-OCRv6's 18,710 classes."""
    last = output.type.tensor_type.shape.dim[-1]
    last.ClearField("dim_value")
    last.dim_param = "own_classes"


def _spread(graph_model, output: str) -> tuple[str, str, np.ndarray] | None:
    """Where the other model ends by spreading its own classes' probabilities over PP-OCRv6's (a
    Gather by a constant index, :mod:`inkread.training.export`: one more column of zeros for the
    classes it does not read), that Gather is taken out of ``graph_model``: fusing then works on the
    model's own classes only, not on 18,710 columns that are all but zero (the Gather took 9% of the
    graph's time, the fusion over every class ~0.4 s a handwritten page). Gives (the output's name,
    the compact tensor's name, the classes it holds), or None where the graph does not end so."""
    from onnx import numpy_helper

    nodes = graph_model.graph.node
    last = next((n for n in nodes if output in n.output), None)
    weights = {i.name: i for i in graph_model.graph.initializer}
    if last is None or last.op_type != "Gather" or len(last.input) != 2 or last.input[1] not in weights:
        return None
    index = numpy_helper.to_array(weights[last.input[1]]).astype(np.int64)
    axis = next((a.i for a in last.attribute if a.name == "axis"), 0)
    pad = int(index.max())
    classes = np.flatnonzero(index != pad)
    if axis not in (2, -1) or index.ndim != 1 or not np.array_equal(index[classes], np.arange(len(classes))):
        return None
    nodes.remove(last)
    return output, last.input[0], classes


class Merged(NamedTuple):
    """A merged graph's file, its outputs (PP-OCRv6's, then the other model's) and the classes the
    other model's output holds, in its columns' order (None: PP-OCRv6's every class)."""

    path: Path
    outputs: list[str]
    classes: np.ndarray | None


def merged_model_path(base_path: Path, other_path: Path) -> Merged | None:
    """A cached file of :func:`merged_model` for these two files (built on first use), with its
    outputs and classes; None where it cannot be built or kept (logged once)."""
    try:
        folder = cache_dir()
        stem = f"fused{GRAPH_VERSION}-{file_sha256(base_path)[:16]}-{file_sha256(other_path)[:16]}"
        path, names = folder / f"{stem}.onnx", folder / f"{stem}.outputs"
        if path.is_file() and names.is_file():  # the outputs, then the classes (if any) on a line of their own
            lines = names.read_text(encoding="utf-8").splitlines()
            kept = np.array(lines[1].split(","), dtype=np.int64) if len(lines) > 1 and lines[1] else None
            return Merged(path, lines[0].split(), kept)
        built = merged_model(base_path, other_path)
        if built is None:
            log.info("inkread: %s shares no trunk with %s; the two are run apart", other_path, base_path)
            return None
        data, outputs, classes = built
        listed = " ".join(outputs) + ("" if classes is None else "\n" + ",".join(map(str, classes.tolist())))
        for target, payload in ((names, listed.encode()), (path, data)):
            write_atomic(target, payload)  # a process reading it meanwhile sees the old or the new
        return Merged(path, outputs, classes)
    except Exception as exc:  # whatever failed, reading goes on with the two models apart
        log.info("inkread: no shared-trunk graph (%s); the recognisers are run apart", exc)
        return None


def fuse_posteriors(first: np.ndarray, second: np.ndarray, weight: float) -> np.ndarray:
    """Per-frame log-linear fusion of two CTC recognisers' posteriors over the same classes and
    frames: ``first ** weight * second ** (1 - weight)``, renormalised over the classes of each frame.
    Both models' evidence counts in every frame, and one decoding runs over the result."""
    if first.shape != second.shape:
        raise ValueError(f"cannot fuse posteriors of shapes {first.shape} and {second.shape}")
    logp = weight * np.log(np.maximum(first, 1e-12)) + (1.0 - weight) * np.log(np.maximum(second, 1e-12))
    logp -= logp.max(axis=-1, keepdims=True)
    fused = np.exp(logp, dtype=np.float32)
    fused /= fused.sum(axis=-1, keepdims=True)
    return fused


def read_merged(session, merged: Merged, batch: np.ndarray, fusion: float) -> tuple[np.ndarray, np.ndarray | None]:
    """A batch read through a merged graph: the two models' posteriors fused (the handwriting
    model's share ``fusion``), and the classes of their columns (None: every class)."""
    ppocr, hw = session.run(merged.outputs[:2], {session.get_inputs()[0].name: batch})
    if merged.classes is None:
        return fuse_posteriors(hw, ppocr, fusion), None
    classes = merged.classes  # the handwriting model's own classes, then a column of zeros
    ppocr = ppocr if ppocr.shape[-1] == len(classes) else ppocr[..., classes]  # (its head cut to them)
    return fuse_posteriors(hw[..., : len(classes)], ppocr, fusion), classes


def card_fusion(session) -> float | None:
    """The handwriting model's share when fused with PP-OCRv6 as its card says it (a hand's own model
    from ``inkread train`` reads alone: 1.0); None where the card says none."""
    try:
        own = json.loads(session.get_modelmeta().custom_metadata_map.get("inkread", "{}")).get("fusion")
    except (ValueError, AttributeError):
        return None
    return float(own) if isinstance(own, (int, float)) and 0.0 <= own <= 1.0 else None
