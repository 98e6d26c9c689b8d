"""PP-OCRv6 small's recogniser, cut in two: the frozen convolutional backbone (run by onnxruntime from
the ``rapidocr`` wheel) and its sequence neck + CTC head, re-implemented here in PyTorch so it can be
trained on handwriting starting from PP-OCRv6's own weights.

The neck is the SVTR encoder of PP-OCR: a 1x1 conv shortcut, a 1x1 conv and a 1x7 depth-wise conv, two
pre-norm transformer blocks (8 heads of 15, an MLP of 240 with swish), a final layer norm, the shortcut
added back, then one linear layer to the classes and a softmax. :func:`load_neck_head` copies every
weight from the ONNX file, and ``tests/test_training.py`` checks that the PyTorch copy gives the ONNX
model's probabilities.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["NeckHead", "load_neck_head", "greedy", "BACKBONE_OUTPUT"]

# the tensor between backbone and neck in PP-OCRv6_rec_small.onnx: (batch, 384, 1, frames)
BACKBONE_OUTPUT = "p2o.pd_op.pool2d.1.0"


class _ConvBN(nn.Module):
    """conv + batch norm (kept in inference mode: its statistics are PP-OCRv6's) + swish."""

    mean: torch.Tensor  # buffers (register_buffer)
    var: torch.Tensor

    def __init__(self, cin: int, cout: int, kernel: tuple[int, int] = (1, 1), groups: int = 1) -> None:
        super().__init__()
        pad = (kernel[0] // 2, kernel[1] // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, padding=pad, groups=groups, bias=False)
        self.scale = nn.Parameter(torch.ones(cout))
        self.shift = nn.Parameter(torch.zeros(cout))
        self.register_buffer("mean", torch.zeros(cout))
        self.register_buffer("var", torch.ones(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        inv = self.scale / torch.sqrt(self.var + 1e-5)
        x = (x - self.mean[:, None, None]) * inv[:, None, None] + self.shift[:, None, None]
        return x * torch.sigmoid(x)


class _Block(nn.Module):
    def __init__(self, dim: int = 120, heads: int = 8, hidden: int = 240, dropout: float = 0.1) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, pad_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, t, c = x.shape
        hd = c // self.heads
        qkv = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * hd**-0.5, qkv[1], qkv[2]
        att = q @ k.transpose(-1, -2)
        if pad_mask is not None:  # (b, t) True where a frame is padding: no frame attends to it
            att = att.masked_fill(pad_mask[:, None, None, :], float("-inf"))
        att = att.softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.drop(self.proj(y))
        h = self.fc1(self.norm2(x))
        return x + self.drop(self.fc2(h * torch.sigmoid(h)))


class NeckHead(nn.Module):
    """Backbone features (batch, 384, 1, frames) -> per-frame class logits (batch, frames, classes)."""

    def __init__(self, classes: int, dropout: float = 0.1, extra_blocks: int = 0) -> None:
        super().__init__()
        self.shortcut = _ConvBN(384, 120)
        self.reduce = _ConvBN(384, 120)
        self.local = _ConvBN(120, 120, (1, 7), groups=120)
        self.blocks = nn.ModuleList([_Block(dropout=dropout) for _ in range(2 + extra_blocks)])
        for block in self.blocks[2:]:  # new blocks start as the identity: training begins at PP-OCRv6
            assert isinstance(block, _Block)
            for lin in (block.proj, block.fc2):
                nn.init.zeros_(lin.weight)
                nn.init.zeros_(lin.bias)
        self.norm = nn.LayerNorm(120, eps=1e-6)
        self.fc = nn.Linear(120, classes)

    def forward(self, feats: torch.Tensor, pad_mask: torch.Tensor | None = None) -> torch.Tensor:
        short = self.shortcut(feats)
        h = self.reduce(feats)
        h = h + self.local(h)
        seq = h.flatten(2).transpose(1, 2)  # (b, t, 120)
        for block in self.blocks:
            seq = block(seq, pad_mask)
        seq = self.norm(seq) + short.flatten(2).transpose(1, 2)
        return self.fc(seq)


def _initializers(onnx_path: str) -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(onnx_path)
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def load_neck_head(
    onnx_path: str, classes: np.ndarray | None = None, dropout: float = 0.1, extra_blocks: int = 0
) -> NeckHead:
    """A :class:`NeckHead` holding PP-OCRv6's weights; ``classes`` (indices into the model's 18,710
    classes) keeps only those rows of the last layer; ``extra_blocks`` more transformer blocks after
    PP-OCRv6's two, starting as the identity."""
    w = _initializers(onnx_path)
    fc_w, fc_b = w["linear_8.w_0"], w["linear_8.b_0"]
    if classes is not None:
        fc_w, fc_b = fc_w[:, classes], fc_b[classes]
    net = NeckHead(fc_w.shape[1], dropout=dropout, extra_blocks=extra_blocks)
    t = lambda a: torch.from_numpy(np.array(a, dtype=np.float32))  # noqa: E731

    def conv_bn(mod: _ConvBN, conv: str, bn: str) -> None:
        mod.conv.weight.data = t(w[f"{conv}.w_0"])
        mod.scale.data, mod.shift.data = t(w[f"{bn}.w_0"]), t(w[f"{bn}.b_0"])
        mod.mean.data, mod.var.data = t(w[f"{bn}.w_1"]), t(w[f"{bn}.w_2"])

    conv_bn(net.shortcut, "conv2d_67", "batch_norm2d_57")
    conv_bn(net.reduce, "conv2d_65", "batch_norm2d_55")
    conv_bn(net.local, "conv2d_66", "batch_norm2d_56")
    norms = [(w[f"helper.reshape.{2 * i}"], w[f"helper.reshape.{2 * i + 1}"]) for i in range(5)]
    for i, block in enumerate(net.blocks[:2]):
        assert isinstance(block, _Block)
        base = 4 * i
        for lin, k in ((block.qkv, base), (block.proj, base + 1), (block.fc1, base + 2), (block.fc2, base + 3)):
            lin.weight.data = t(w[f"linear_{k}.w_0"].T)
            lin.bias.data = t(w[f"linear_{k}.b_0"])
        for ln, (g, b) in ((block.norm1, norms[2 * i]), (block.norm2, norms[2 * i + 1])):
            ln.weight.data, ln.bias.data = t(g), t(b)
    net.norm.weight.data, net.norm.bias.data = t(norms[4][0]), t(norms[4][1])
    net.fc.weight.data = t(fc_w.T)
    net.fc.bias.data = t(fc_b)
    return net


def greedy(logits: torch.Tensor, lengths: list[int], chars: list[str]) -> list[str]:
    """Greedy CTC decoding of (batch, frames, classes) logits, each row cut to its own frames."""
    best = logits.argmax(-1).numpy()
    out = []
    for row, n in zip(best, lengths):
        prev, s = 0, []
        for k in row[:n]:
            if k != 0 and k != prev:
                s.append(chars[k])
            prev = k
        out.append("".join(s).strip())
    return out
