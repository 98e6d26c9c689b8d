"""The trained model as one ONNX file like the shipped recogniser (the frozen front of PP-OCRv6's
backbone joined to the trained layers, softmax over PP-OCRv6's classes), and the average of several
runs' weights (a model soup)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from ..backends.ppocr.models import REC_MODEL, model_dir
from .model import BACKBONE_OUTPUT

__all__ = ["export", "average_states"]


class _Full(torch.nn.Module):
    """Neck and head (and trained stage) with the softmax, spread back over PP-OCRv6's 18,710
    classes (others: 0); with ``original`` (PP-OCRv6's own layers from the same tensor on), the
    probabilities are ``blend`` x the trained model's + (1 - blend) x PP-OCRv6's."""

    spread: torch.Tensor  # a buffer (register_buffer)

    def __init__(
        self,
        net: torch.nn.Module,
        classes: np.ndarray,
        total: int,
        original: torch.nn.Module | None = None,
        blend: float = 1.0,
    ) -> None:
        super().__init__()
        self.net = net
        self.original = original
        self.blend = float(blend)
        spread = np.full(total, len(classes), dtype=np.int64)
        spread[classes] = np.arange(len(classes))
        self.register_buffer("spread", torch.from_numpy(spread))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        p = self.net(feats).softmax(-1)
        p = torch.cat([p, torch.zeros_like(p[..., :1])], dim=-1)
        p = torch.index_select(p, 2, self.spread)
        if self.original is None:
            return p
        return self.blend * p + (1.0 - self.blend) * self.original(feats).softmax(-1)


def export(
    net: torch.nn.Module,
    classes: np.ndarray,
    work: Path,
    out: Path,
    card: dict,
    front: Path | None = None,
    join: str = BACKBONE_OUTPUT,
    channels: tuple[int, int] = (384, 1),
    original: torch.nn.Module | None = None,
    blend: float = 1.0,
) -> Path:
    """One ONNX file, image in, probabilities over PP-OCRv6's classes out, like the shipped recogniser:
    the frozen ``front`` (default: the whole backbone) joined at tensor ``join`` to ``net``."""
    import onnx
    from onnx import compose

    from .features import backbone_path

    net.eval()
    src = model_dir() / REC_MODEL
    charset_meta = {p.key: p.value for p in onnx.load(str(src), load_external_data=False).metadata_props}
    full = _Full(
        net,
        classes,
        len(charset_meta["character"].splitlines()) + 2,
        original=original.eval() if original is not None else None,
        blend=blend,
    )
    head_path = work / "head.onnx"
    dummy = torch.zeros(1, channels[0], channels[1], 50 if join == BACKBONE_OUTPUT else 100)
    torch.onnx.export(
        full,
        (dummy,),
        str(head_path),
        input_names=["feats"],
        output_names=["probs"],
        dynamic_axes={"feats": {0: "b", 3: "t"}, "probs": {0: "b", 1: "t"}},
        opset_version=17,
        dynamo=False,
    )
    head = onnx.load(str(head_path))
    backbone = onnx.load(str(front or backbone_path(work / "cache")))
    backbone = onnx.version_converter.convert_version(backbone, 17)
    backbone.ir_version = head.ir_version
    merged = compose.merge_models(backbone, head, io_map=[(join, "feats")])
    del merged.metadata_props[:]
    for k, v in {**charset_meta, "inkread": json.dumps(card, ensure_ascii=False)}.items():
        merged.metadata_props.add(key=k, value=v)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    onnx.save(merged, str(tmp))
    os.replace(tmp, out)
    return out


def average_states(states: list[dict]) -> dict:
    """A model soup (Wortsman et al. 2022): the element-wise mean of the weights of runs fine-tuned
    from the same start; integer buffers are taken from the first."""
    out = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            out[key] = (sum(s[key].double() for s in states) / len(states)).to(first.dtype)
        else:
            out[key] = first.clone()
    return out
