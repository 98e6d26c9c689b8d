"""Pixels into ``H x W x 3`` ``uint8`` RGB: any array layout and depth, any Pillow mode, transparency
composited (light ink on black, dark ink on white), CMYK through its ICC profile; the pixel limit; DPI."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from ..exceptions import EmptyInputError, ImageTooLargeError, InputError, UnsupportedFormatError


def _check_pixels(width: int, height: int, max_pixels: int, source: str, what: str = "") -> None:
    pixels = int(width) * int(height)
    if pixels > max_pixels:
        raise ImageTooLargeError(
            f"{source}{what} is {width}x{height} = {pixels:,} pixels, over the limit of {max_pixels:,} (max_pixels)",
            hint="if you trust this file, pass a larger max_pixels",
        )


def _composite_on_white(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend ``uint8`` colour (``HxWxC``) over white using ``uint8`` alpha (``HxW``).

    ``255 - round((255 - c) * a / 255)``, exact, in uint16 and in bands of rows so a large
    page needs little more memory than its output.
    """
    out = np.empty(color.shape, dtype=np.uint8)
    band = max(1, (1 << 22) // max(1, color.shape[1] * color.shape[2]))
    for top in range(0, color.shape[0], band):
        rows = slice(top, top + band)
        x = np.subtract(255, color[rows], dtype=np.uint16)
        x *= alpha[rows, :, None]
        x += 128  # x / 255 rounded, without a division: (x + 128 + (x + 128 >> 8)) >> 8
        x += x >> 8
        x >>= 8
        np.subtract(255, x, out=out[rows], casting="unsafe")
    return out


def _light_ink(color: np.ndarray, alpha: np.ndarray) -> bool:
    """Is what is drawn (the opaque pixels) light, with see-through around it: white text on a
    transparent background (a dark UI's screenshot, a logo)? Judged on a grid of at most ~250k pixels."""
    step = max(1, int(np.sqrt(alpha.size / 250_000)))
    a = alpha[::step, ::step]
    opaque = a >= 128
    if opaque.all() or not opaque.any() or opaque.mean() > 0.95:
        return False
    c = color[::step, ::step][opaque].astype(np.float32)
    luma = c.mean(axis=1)
    return float(np.median(luma)) >= 160


def _composite(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend over a background the ink stands out on: white, or black when the ink itself is light."""
    if _light_ink(color, alpha):
        return np.subtract(255, _composite_on_white(np.subtract(255, color, dtype=np.uint8), alpha), dtype=np.uint8)
    return _composite_on_white(color, alpha)


def _to_uint8(a: np.ndarray) -> np.ndarray:
    """Scale any numeric array to ``uint8`` (may return ``a`` itself when already uint8)."""
    lo: float  # the range of the values: ints for an integer array, floats for a float one
    hi: float
    kind = a.dtype.kind
    if kind == "b":
        return a.astype(np.uint8) * np.uint8(255)
    if a.dtype == np.uint8:
        return a
    if kind in "ui":
        if kind == "u" and a.dtype.itemsize == 2:
            return (a >> 8).astype(np.uint8)  # full 16-bit range -> 8 bits
        lo, hi = int(a.min()), int(a.max())
        if lo >= 0 and hi <= 255:
            return a.astype(np.uint8)
        if lo >= 0 and hi <= 65535:  # 16-bit data in a wider integer type
            return (a >> 8).astype(np.uint8)
        return _stretch(a.astype(np.float64), lo, hi)
    if kind == "f":
        f = a.astype(np.float32) if a.dtype.itemsize < 4 else a
        if not np.isfinite(f).all():
            raise InputError("the array holds NaN or infinite values", hint="replace them (np.nan_to_num) first")
        lo, hi = float(f.min()), float(f.max())
        if lo >= 0.0 and hi <= 1.0:
            return np.rint(f * 255.0).astype(np.uint8)
        if lo >= 0.0 and hi <= 255.0:
            return np.rint(f).astype(np.uint8)
        return _stretch(f, lo, hi)
    raise UnsupportedFormatError(
        f"cannot make an image from an array of dtype {a.dtype}",
        hint="pass uint8 (0..255), uint16, bool or float (0..1) pixel values",
    )


def _stretch(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Linearly map ``lo..hi`` to ``0..255`` (for values outside any usual range)."""
    if hi <= lo:
        return np.full(a.shape, 255 if lo > 0 else 0, dtype=np.uint8)
    return np.rint((a - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _array_to_rgb(arr: np.ndarray) -> np.ndarray:
    """Any supported array layout/dtype -> new contiguous ``HxWx3`` ``uint8`` RGB array."""
    if arr.size == 0:
        raise EmptyInputError(f"the array is empty (shape {arr.shape})")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise UnsupportedFormatError(
            f"cannot make an image from an array of shape {arr.shape}",
            hint="pass HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA)",
        )
    a8 = _to_uint8(arr)
    if a8.ndim == 2:
        return np.repeat(a8[..., None], 3, axis=2)
    channels = a8.shape[2]
    if channels == 2:
        return np.repeat(_composite(a8[..., :1], a8[..., 1]), 3, axis=2)
    if channels == 4:
        return _composite(a8[..., :3], a8[..., 3])
    if a8 is arr:  # never hand back (and so alias) the caller's own buffer
        return np.array(a8, dtype=np.uint8, order="C", copy=True)
    return np.ascontiguousarray(a8)


def _pil_to_rgb(im: Image.Image) -> np.ndarray:
    """A loaded PIL image in any mode -> ``HxWx3`` ``uint8`` RGB, alpha composited on white."""
    mode = im.mode
    if mode == "RGB" and "transparency" not in im.info:
        return _rgb_in_bands(im)
    if mode.startswith("I") or mode == "F":
        return _array_to_rgb(np.asarray(im))
    if mode == "CMYK":
        return np.array(_cmyk_to_rgb(im), dtype=np.uint8)
    if mode in ("P", "PA") and im.palette is None:  # a GIF without any colour table
        return _array_to_rgb(np.asarray(im))
    if im.has_transparency_data:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint8)
        return _composite(rgba[..., :3], rgba[..., 3])
    return np.array(im.convert("RGB"), dtype=np.uint8)


def _rgb_in_bands(im: Image.Image, rows: int = 512) -> np.ndarray:
    """An RGB image's pixels as a new array, copied over a band of rows at a time: ``np.array(im)``
    goes through a whole-image ``tobytes()`` (a 34-megapixel scan then held Pillow's pixels, those
    bytes and the array at once: 350 MB at the peak, against 240 MB this way)."""
    out = np.empty((im.height, im.width, 3), dtype=np.uint8)
    for top in range(0, im.height, rows):
        bottom = min(im.height, top + rows)
        out[top:bottom] = np.asarray(im.crop((0, top, im.width, bottom)))
    return out


def _cmyk_to_rgb(im: Image.Image) -> Image.Image:
    """CMYK -> RGB, through the embedded ICC profile when there is one."""
    icc = im.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            out = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
            if out is not None:
                return out
        except Exception:  # a broken or unusual profile: fall back to the plain formula
            pass
    return im.convert("RGB")


def _dpi_of(im: Image.Image, swapped: bool) -> float | None:
    """Horizontal resolution of a loaded frame (after any 90-degree EXIF turn), or ``None``.

    Values under 10 dpi are placeholders written by software that did not know the
    resolution (TIFF's default of 1, JFIF's "1 dot per inch"), so they count as unknown.
    """
    tags = getattr(im, "tag_v2", None)
    if tags is not None and 282 not in tags:  # TIFF without XResolution: Pillow invents 1
        return None
    dpi = im.info.get("dpi")
    if dpi is None:
        return None
    try:
        value = float(dpi[1] if swapped else dpi[0])
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None
    if not math.isfinite(value) or not 10.0 <= value <= 100_000.0:
        return None
    rounded = round(value)
    # PNG stores pixels per metre, so 300 dpi reads back as 299.9994: snap near-integers.
    return float(rounded) if abs(value - rounded) < 0.05 else value
