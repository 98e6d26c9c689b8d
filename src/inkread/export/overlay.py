"""A picture for a person to check a result at a glance: the page with each recognised line's
polygon drawn and its text written just above it.

Lines are outlined green (confidence >= 0.85), orange (>= 0.6) or red (below); labels use DejaVu Sans
when the system has it (Debian: ``fonts-dejavu-core``), else Pillow's built-in font.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..result import Page

__all__ = ["render_overlay", "overlay_font", "OVERLAY_FONT_PATHS"]

#: Where the label font is looked for, in order (the first that exists is used).
OVERLAY_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
    "C:/Windows/Fonts/DejaVuSans.ttf",
)

_GOOD = (22, 163, 74)
_FAIR = (234, 140, 0)
_POOR = (220, 38, 38)


def _colour(confidence: float) -> tuple[int, int, int]:
    return _GOOD if confidence >= 0.85 else _FAIR if confidence >= 0.6 else _POOR


@functools.lru_cache(maxsize=16)
def overlay_font(size: int) -> Any:
    """DejaVu Sans at ``size`` pixels if installed, else Pillow's default font."""
    for path in OVERLAY_FONT_PATHS:
        if os.path.exists(path):
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def _as_pil(image: Any) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    arr = np.asarray(getattr(image, "image", image))
    if arr.ndim == 2:
        return Image.fromarray(arr.astype(np.uint8), "L").convert("RGB")
    return Image.fromarray(np.ascontiguousarray(arr[..., :3]).astype(np.uint8), "RGB")


def render_overlay(
    page: Page, image: Any, path: str | os.PathLike[str] | None = None, *, words: bool = False, labels: bool = True
) -> Image.Image:
    """Draw ``page``'s lines on ``image`` (the page image: numpy array, PIL image or
    :class:`~inkread.io.PageImage`) and return it as a new RGB image; also save it to ``path``
    when given (format from the suffix). ``words=True`` also outlines each word; ``labels=False``
    leaves the text out."""
    base = _as_pil(image)
    sx = base.width / page.width if page.width else 1.0
    sy = base.height / page.height if page.height else 1.0
    lines = [l for l in page.lines if len(l.bbox) >= 2]
    heights = [abs(l.bbox[-1][1] - l.bbox[0][1]) * sy for l in lines if len(l.bbox) >= 4]
    typical = float(np.median(heights)) if heights else 20.0
    font_px = int(max(10, min(28, round(0.45 * typical), round(0.02 * max(base.width, base.height)))))
    font = overlay_font(font_px)
    stroke = max(1, round(min(base.width, base.height) / 600))

    shapes = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    for line in lines:
        colour = _colour(line.confidence)
        pts = [(x * sx, y * sy) for x, y in line.bbox]
        draw.polygon(pts, fill=colour + (28,))
        draw.line(pts + [pts[0]], fill=colour + (255,), width=stroke)
        if words:
            for word in line.words:
                wpts = [(x * sx, y * sy) for x, y in word.bbox]
                if len(wpts) >= 2:
                    draw.line(wpts + [wpts[0]], fill=(37, 99, 235, 200), width=1)
    out = Image.alpha_composite(base.convert("RGBA"), shapes)

    if labels:
        text_layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
        tdraw = ImageDraw.Draw(text_layer)
        for line in lines:
            if not line.text:
                continue
            colour = _colour(line.confidence)
            x = min(p[0] for p in line.bbox) * sx
            top = min(p[1] for p in line.bbox) * sy
            label = f"{line.text}  ({line.confidence:.2f})"
            l, t, r, b = tdraw.textbbox((0, 0), label, font=font)
            w, h = r - l, b - t
            pad = max(1, font_px // 6)
            y = top - h - 2 * pad - stroke
            if y < 0:  # no room above: put it inside the top of the box
                y = top + stroke
            x = max(0.0, min(x, base.width - w - 2 * pad))
            tdraw.rectangle(
                (x, y, x + w + 2 * pad, y + h + 2 * pad), fill=(255, 255, 255, 215), outline=colour + (255,)
            )
            tdraw.text((x + pad - l, y + pad - t), label, font=font, fill=(17, 24, 39, 255))
        out = Image.alpha_composite(out, text_layer)
    rgb = out.convert("RGB")
    if path is not None:
        rgb.save(Path(path))
    return rgb
