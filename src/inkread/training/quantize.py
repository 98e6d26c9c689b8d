"""``python -m inkread.training quantize``: PP-OCRv6's text detector in int8 (``weights/det_int8.onnx``).

The detector is a third of a handwritten page's seconds. Quantised statically (onnxruntime's QDQ
format: int8 weights per output channel, uint8 activations at the ranges seen on calibration pages)
it runs 3-4x faster on a CPU with int8 dot products (AVX-512 VNNI, AVX-VNNI) and finds the same
lines: bench/RESULTS.md has the dev set's figures beside the float model's.

Calibration pages are composed, never taken from the evaluation set: lines of the openly licensed
training collections (``training.data.SHIPPABLE_SETS``) pasted on paper-grey pages at random scales,
and printed lines rendered in DejaVu fonts, so both kinds of writing set the ranges. The model's
metadata (``inkread`` key) is its card: the float model's file and SHA-256 (the int8 one is used only
beside that very file: ``backends/ppocr/quantized.py``), the calibration pages and seed, the command.
Needs ``onnx`` (a runtime dependency) and ``onnxruntime``'s quantisation tools (in its wheel).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

__all__ = ["calibration_pages", "quantize_detector", "main"]

OPSET = 17  # per-channel DequantizeLinear needs 13 or later; PP-OCRv6's detector is opset 11
PAGE_SIZE = (2000, 1500)  # height, width of a calibration page, pixels
_WORDS = (
    "the of and to in is was for that with on as by at from this be are it an or have not but which "
    "le la les de des et un une est dans pour que qui sur par au avec ce il elle der die und das ist "
    "Invoice TOTAL 12.50 Date: 03/11/2024 Page 17 Chapter III No. 4521 (see p. 8) Rue de la Paix"
).split()


def _printed_line(rng: random.Random, fonts: list[Path]) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(rng.choice(fonts)), rng.randint(14, 48))
    text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 12)))
    x0, y0, x1, y1 = font.getbbox(text)
    image = Image.new("L", (int(x1 - x0) + 16, int(y1 - y0) + 12), 255)
    ImageDraw.Draw(image).text((8 - x0, 6 - y0), text, font=font, fill=rng.randint(0, 80))
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_GRAY2BGR)


def calibration_pages(line_paths: list[Path], fonts: list[Path], count: int, seed: int):
    """``count`` composed pages (RGB): each of handwritten lines (``line_paths``' images) or, every
    third page, of printed lines in ``fonts``; lines stacked down the page at random scales and
    offsets on paper of a random grey."""
    rng = random.Random(seed)
    height, width = PAGE_SIZE
    for k in range(count):
        page = np.full((height, width, 3), rng.randint(190, 250), np.uint8)
        printed = bool(fonts) and k % 3 == 2
        y = rng.randint(20, 150)
        while True:
            line = _printed_line(rng, fonts) if printed else cv2.imread(str(rng.choice(line_paths)))
            if line is None:
                continue
            line = cv2.resize(line, None, fx=(s := rng.uniform(0.6, 1.4)), fy=s)
            h, w = line.shape[:2]
            if w > width - 40:
                line = cv2.resize(line, (width - 40, max(1, h * (width - 40) // w)))
                h, w = line.shape[:2]
            if y + h > height - 20:
                break
            x = rng.randint(10, width - w - 10)
            page[y : y + h, x : x + w] = np.minimum(page[y : y + h, x : x + w], line)
            y += h + rng.randint(0, 40)
        yield np.ascontiguousarray(page[:, :, ::-1])


def quantize_detector(source: Path, out: Path, pages, card: dict) -> None:
    """Write ``source`` (a float ONNX detector) quantised to int8 at ``out``, its ranges calibrated on
    ``pages`` (RGB images), ``card`` in its metadata."""
    import onnx
    import onnx.version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from ..backends.ppocr.detect import detector_input

    model = onnx.load(str(source))
    name = model.graph.input[0].name

    class Pages(CalibrationDataReader):
        def __init__(self) -> None:
            self.pages = iter(pages)

        def get_next(self) -> dict[str, np.ndarray] | None:
            page = next(self.pages, None)
            return None if page is None else {name: detector_input(page, 1280)[0]}

    with tempfile.TemporaryDirectory() as tmp:
        converted, prepared, quantised = (Path(tmp) / f for f in ("opset.onnx", "pre.onnx", "int8.onnx"))
        onnx.save(onnx.version_converter.convert_version(model, OPSET), str(converted))
        quant_pre_process(str(converted), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(quantised),
            Pages(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        done = onnx.load(str(quantised))
    done.metadata_props.add(key="inkread", value=json.dumps(card, sort_keys=True))
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(done, str(out))


def main(argv: list[str] | None = None) -> int:
    from ..backends.ppocr.models import DET_MODEL, model_dir
    from ..backends.ppocr.quantized import DETECTOR_INT8
    from ..cache import file_sha256
    from . import data as D

    p = argparse.ArgumentParser(prog="python -m inkread.training quantize", description=__doc__)
    p.add_argument("--data", default="../shared/train", help="training lines (only SHIPPABLE_SETS are used)")
    p.add_argument("--pages", type=int, default=24, help="calibration pages")
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--out", default=str(DETECTOR_INT8))
    args = p.parse_args(argv)
    lines = [ln.path for ln in D.read_lines(Path(args.data), D.SHIPPABLE_SETS)]
    if not lines:
        print(f"no training lines under {args.data}", file=sys.stderr)
        return 2
    fonts = sorted(Path("/usr/share/fonts/truetype/dejavu").glob("DejaVu*.ttf"))
    source = model_dir() / DET_MODEL
    card = {
        "base": DET_MODEL,
        "base_sha256": file_sha256(source),
        "calibration": {"pages": args.pages, "seed": args.seed, "sets": list(D.SHIPPABLE_SETS), "printed_every": 3},
        "command": "python -m inkread.training quantize " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    quantize_detector(source, Path(args.out), calibration_pages(lines, fonts, args.pages, args.seed), card)
    print(f"wrote {args.out}")
    return 0
