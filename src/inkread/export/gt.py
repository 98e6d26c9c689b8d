"""Ground truth to correct (``--format gt``): every line read as a line pair, its image and its
reading, plus a PAGE-XML per page, so a person can correct inkread's readings and train on them.

For a page named ``PAGE`` (the input's stem, plus ``_pNNN`` for each page of a multi-page input):

* ``PAGE_lNNN.png``: the line's pixels, cut from the page image as given (at its resolution, not the
  recogniser's 48-pixel input): the line's box, a box turned a quarter turned upright, a skewed line
  warped upright;
* ``PAGE_lNNN.gt.txt``: inkread's reading, one line of UTF-8 ending in a newline (the line pairs of
  Kraken, Calamari and OCR-D ground truth; ``inkread train`` reads them);
* ``PAGE.png`` (or a copy of the input's own JPEG/PNG bytes, ``PAGE.jpg``): the page image, and
  ``PAGE.page.xml``: PAGE-XML (PRImA 2019 schema) pointing at it, a ``TextRegion`` a paragraph, a
  ``TextLine`` (``id`` ``lNNN``) a line with its polygon, baseline and text, for eScriptorium or
  Transkribus.
"""

from __future__ import annotations

import datetime
import io
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..result import OcrResult, Page, Polygon
from ._common import paragraphs, rect, software_version, xml_safe

__all__ = [
    "PAGE_NAMESPACE",
    "PAGE_SUFFIX",
    "line_image",
    "gt_text",
    "page_names",
    "to_page_xml",
    "ground_truth_files",
    "source_file",
]

PAGE_NAMESPACE = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
PAGE_SCHEMA_URL = PAGE_NAMESPACE + "/pagecontent.xsd"
#: The suffix of a page's PAGE-XML (not ``.xml``: ``--format alto,gt`` writes both in one folder).
PAGE_SUFFIX = ".page.xml"

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_BREAKS = str.maketrans(dict.fromkeys("\r\n\f\v\x1c\x1d\x1e\x85\u2028\u2029", " "))


def gt_text(text: str) -> str:
    """A line's reading as a ``.gt.txt`` holds it: one line (line breaks become spaces)."""
    return text.translate(_BREAKS)


def _quarter_turns(quad: np.ndarray, tolerance: float = 1.0) -> int | None:
    """For a (tl, tr, br, bl) quad whose edges run along the image's axes: how many quarter turns
    anticlockwise make it upright (0 for a plain box); ``None`` for a skewed quad."""
    edges = np.roll(quad, -1, axis=0) - quad
    if np.any(np.min(np.abs(edges), axis=1) > tolerance):
        return None
    top = edges[0]
    return int(round(math.degrees(math.atan2(top[1], top[0])) / 90.0)) % 4


def line_image(image: np.ndarray, poly: Polygon | Sequence[Sequence[float]]) -> np.ndarray:
    """The line ``poly`` (on ``image``'s pixels) cut out upright: the whole-pixel box around it when
    its edges run along the image's axes (turned when the line runs down or up the page), else the
    (tl, tr, br, bl) quad warped to a rectangle as long and as high as its longer edges. Empty when
    the line lies outside the image."""
    h, w = image.shape[:2]
    quad = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
    turns = _quarter_turns(quad) if len(quad) == 4 else 0
    if turns is None:
        from ..preprocess import crop_quad  # cv2: loaded only for a skewed line

        return crop_quad(image, quad, min_side=1)
    x0, y0, x1, y1 = rect([(float(x), float(y)) for x, y in quad])
    x0, x1 = min(max(x0, 0), w), min(max(x1, 0), w)
    y0, y1 = min(max(y0, 0), h), min(max(y1, 0), h)
    return np.ascontiguousarray(np.rot90(image[y0:y1, x0:x1], turns))


def page_names(result: OcrResult, base: str) -> list[str]:
    """Each page's name: ``base``, or ``base_pNNN`` (its page number) for a multi-page input."""
    numbered = len(result.pages) != 1 or result.pages[0].index != 0
    return [f"{base}_p{page.index + 1:03d}" if numbered else base for page in result.pages]


def _points(poly: Polygon, width: int, height: int) -> str:
    """PAGE's ``points``: whole, non-negative pixels inside the image."""
    out = []
    for x, y in poly:
        out.append(f"{min(max(round(x), 0), max(width - 1, 0))},{min(max(round(y), 0), max(height - 1, 0))}")
    if len(out) == 1:
        out.append(out[0])
    return " ".join(out)


def _box(r: tuple[int, int, int, int]) -> Polygon:
    x0, y0, x1, y1 = (float(v) for v in r)
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _text(parent: ET.Element, text: str) -> None:
    ET.SubElement(ET.SubElement(parent, "TextEquiv"), "Unicode").text = xml_safe(text)


def to_page_xml(
    page: Page,
    image_filename: str,
    *,
    width: int | None = None,
    height: int | None = None,
    created: datetime.datetime | None = None,
) -> str:
    """The PAGE-XML (2019-07-15) of ``page``, its image ``image_filename`` (``width`` x ``height``
    pixels, default the page's; the lines are scaled to it). Lines get ids ``l001``, ``l002`` ...
    (their number in the page, as in the line pairs' names), paragraphs ``r1``, ``r2`` ..."""
    width, height = width or page.width, height or page.height
    sx, sy = width / max(page.width, 1), height / max(page.height, 1)
    when = (created or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element(
        "PcGts",
        {"xmlns": PAGE_NAMESPACE, "xmlns:xsi": _XSI, "xsi:schemaLocation": f"{PAGE_NAMESPACE} {PAGE_SCHEMA_URL}"},
    )
    meta = ET.SubElement(root, "Metadata")
    ET.SubElement(meta, "Creator").text = f"inkread {software_version()}"
    ET.SubElement(meta, "Created").text = when
    ET.SubElement(meta, "LastChange").text = when
    el_page = ET.SubElement(
        root, "Page", {"imageFilename": image_filename, "imageWidth": str(width), "imageHeight": str(height)}
    )
    numbers = {id(line): n for n, line in enumerate(page.lines, 1)}
    paras = [p for p in paragraphs(page) if p.lines]
    if paras:
        group = ET.SubElement(ET.SubElement(el_page, "ReadingOrder"), "OrderedGroup", {"id": "ro1"})
        for k in range(len(paras)):
            ET.SubElement(group, "RegionRefIndexed", {"index": str(k), "regionRef": f"r{k + 1}"})
    for k, para in enumerate(paras, 1):
        region = ET.SubElement(el_page, "TextRegion", {"id": f"r{k}", "type": "paragraph"})
        polys = [[(x * sx, y * sy) for x, y in line.bbox] for line in para.lines]
        rects = [rect(p) for p in polys if p]
        box = (min(r[0] for r in rects), min(r[1] for r in rects), max(r[2] for r in rects), max(r[3] for r in rects))
        ET.SubElement(region, "Coords", {"points": _points(_box(box), width, height)})
        for line, poly in zip(para.lines, polys):
            el = ET.SubElement(region, "TextLine", {"id": f"l{numbers[id(line)]:03d}"})
            ET.SubElement(el, "Coords", {"points": _points(poly or [(0.0, 0.0)], width, height)})
            if len(poly) == 4:  # along the bottom edge, left to right as the line reads
                ET.SubElement(el, "Baseline", {"points": _points([poly[3], poly[2]], width, height)})
            _text(el, gt_text(line.text))
        _text(region, "\n".join(gt_text(line.text) for line in para.lines))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _png(image: np.ndarray | Image.Image) -> bytes:
    buf = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(buf, format="PNG")
    return buf.getvalue()


def source_file(result: OcrResult, images: Any) -> Path | None:
    """The file the page images come from (``images``, else ``result.source``), when it is one."""
    if images is None:
        images = result.source if result.source and not result.source.startswith("<") else None
    if isinstance(images, (str, os.PathLike)) and os.path.isfile(images):
        return Path(images)
    return None


def _original(path: Path | None, page: Page, shape: tuple[int, ...]) -> tuple[str, bytes] | None:
    """The input's own bytes and suffix, when its one page is a JPEG or PNG whose stored pixels are
    the page as read (no EXIF turn): a copy, not a re-encoding (a photo's JPEG stays a JPEG)."""
    if path is None or page.index != 0:
        return None
    try:
        with Image.open(path) as im:
            if im.format not in ("JPEG", "PNG") or getattr(im, "n_frames", 1) != 1:
                return None
            if int(im.getexif().get(0x0112, 1) or 1) != 1 or im.size != (shape[1], shape[0]):
                return None
            suffix = ".jpg" if im.format == "JPEG" else ".png"
        return suffix, path.read_bytes()
    except Exception:  # anything odd about the file: write the page image instead
        return None


def ground_truth_files(
    result: OcrResult,
    base: str,
    images: Any = None,
    *,
    pdf_dpi: float | None = None,
    created: datetime.datetime | None = None,
) -> Iterator[tuple[str, bytes]]:
    """``(file name, bytes)`` of every file ``--format gt`` writes for ``result``, a page at a time:
    its page image, its line pairs, then its PAGE-XML (last: the mark that the page is complete).
    ``base`` names the pages (:func:`page_names`); ``images``: the page images, as for the searchable
    PDF (default: ``result.source`` read again, PDF pages at ``pdf_dpi``). Lines outside the image
    get no pair (their number is skipped) but stay in the PAGE-XML."""
    from ._images import iter_page_images

    source = source_file(result, images)
    single = len(result.pages) == 1
    pages = iter_page_images(result, images, pdf_dpi=pdf_dpi)
    for (page, raster), name in zip(pages, page_names(result, base)):
        image = raster.image
        height, width = image.shape[:2]
        sx, sy = width / max(page.width, 1), height / max(page.height, 1)
        original = _original(source, page, image.shape) if single else None
        image_name = name + (original[0] if original else ".png")
        yield image_name, original[1] if original else _png(image)
        for number, line in enumerate(page.lines, 1):
            crop = line_image(image, [(x * sx, y * sy) for x, y in line.bbox])
            if crop.size == 0:
                continue
            stem = f"{name}_l{number:03d}"
            yield stem + ".png", _png(crop)
            yield stem + ".gt.txt", (gt_text(line.text) + "\n").encode("utf-8")
        xml = to_page_xml(page, image_name, width=width, height=height, created=created)
        yield name + PAGE_SUFFIX, xml.encode("utf-8")
