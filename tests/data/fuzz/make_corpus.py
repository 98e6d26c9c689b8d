#!/usr/bin/env python3
"""Seed files for the loader fuzzing (tests/fuzzing.py): a small crop of the bundled handwritten
note in every format inkread reads, in the variants each loader has (progressive JPEG, EXIF turn,
palette / 16-bit / transparent PNG, multi-page TIFF and GIF, lossless WebP, HEIF, PDF with images and
with text). A few KB each, so that thousands of mutations decode in minutes.

    .venv/bin/python tests/data/fuzz/make_corpus.py      # rewrites tests/data/fuzz/corpus/
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def main() -> None:
    out = HERE / "corpus"
    out.mkdir(exist_ok=True)
    note = Image.open(REPO / "examples" / "handwritten_note.jpg").convert("RGB")
    crop = note.crop((0, 0, note.width, note.height // 3)).resize((160, 48), Image.LANCZOS)
    gray = crop.convert("L")

    def save(name: str, im: Image.Image, **kw) -> None:
        buf = io.BytesIO()
        im.save(buf, **kw)
        (out / name).write_bytes(buf.getvalue())

    save("baseline.jpg", crop, format="JPEG", quality=60)
    save("progressive.jpg", gray, format="JPEG", quality=60, progressive=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # turned: the loader applies it
    save("exif-turned.jpg", crop, format="JPEG", quality=60, exif=exif, dpi=(300, 300))
    save("rgb.png", crop, format="PNG", dpi=(200, 200))
    save("palette.png", crop.convert("P", palette=Image.ADAPTIVE, colors=16), format="PNG")
    save("gray16.png", Image.fromarray((np.asarray(gray, dtype=np.uint16) * 257)), format="PNG")
    rgba = crop.convert("RGBA")
    rgba.putalpha(gray.point(lambda v: 255 - v))
    save("transparent.png", rgba, format="PNG")
    save("note.bmp", gray, format="BMP")
    save("two-pages.tif", crop, format="TIFF", compression="tiff_lzw", save_all=True, append_images=[gray])
    save("three-frames.gif", gray, format="GIF", save_all=True, append_images=[gray.rotate(180), gray], duration=50)
    save("lossless.webp", crop, format="WEBP", lossless=True)
    save("lossy.webp", crop, format="WEBP", quality=50)
    import pillow_heif

    pillow_heif.register_heif_opener()
    save("note.heic", crop, format="HEIF", quality=50)
    save("two-pages.pdf", crop, format="PDF", save_all=True, append_images=[gray], resolution=72)
    import pikepdf

    pdf = pikepdf.new()  # a page with text and a font: what PDFium parses, beyond images
    page = pdf.add_blank_page(page_size=(200, 60))
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(b"BT /F1 18 Tf 10 20 Td (Groceries: milk) Tj ET")
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False)
    (out / "text.pdf").write_bytes(buf.getvalue())
    for p in sorted(out.iterdir()):
        print(f"{p.name:20} {p.stat().st_size:6} bytes")


if __name__ == "__main__":
    main()
