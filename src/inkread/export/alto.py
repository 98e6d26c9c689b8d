"""ALTO XML v4 output (validates against the bundled ``schemas/alto-4-3.xsd``).

Layout: ``Page > PrintSpace > TextBlock`` (one per paragraph) ``> TextLine > String / SP``, all
positions in pixels of the page image (``MeasurementUnit`` ``pixel``), word confidence in ``WC``
(0-1). Lines that are not axis-aligned rectangles also carry their polygon (``Shape/Polygon``); each
line has a ``BASELINE`` along its bottom edge. Several results become one document (one ``Page``
each page, in order).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from ..result import OcrResult, Polygon
from ._common import (
    as_results,
    fmt_number,
    is_axis_aligned,
    line_words,
    paragraphs,
    rect,
    software_version,
    union,
    xml_safe,
)

__all__ = [
    "to_alto",
    "validate_alto",
    "ALTO_NAMESPACE",
    "ALTO_SCHEMA_PATH",
    "ALTO_SCHEMA_VERSION",
    "AltoValidationError",
]

ALTO_NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_SCHEMA_VERSION = "4.3"
ALTO_SCHEMA_URL = "http://www.loc.gov/standards/alto/v4/alto-4-3.xsd"
#: The ALTO 4.3 schema shipped with inkread (it imports ``xlink.xsd`` from the same folder).
ALTO_SCHEMA_PATH = Path(__file__).with_name("schemas") / "alto-4-3.xsd"

_XLINK = "http://www.w3.org/1999/xlink"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


class AltoValidationError(ValueError):
    """The document does not validate against the ALTO schema; ``errors`` lists lxml's messages."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("ALTO document does not validate: " + "; ".join(errors[:5]))
        self.errors = errors


def _points(poly: Polygon) -> str:
    return " ".join(f"{round(x)},{round(y)}" for x, y in poly)


def _box(el: ET.Element, r: tuple[int, int, int, int]) -> None:
    el.set("HPOS", str(r[0]))
    el.set("VPOS", str(r[1]))
    el.set("WIDTH", str(r[2] - r[0]))
    el.set("HEIGHT", str(r[3] - r[1]))


def _wc(confidence: float) -> str:
    return fmt_number(max(0.0, min(1.0, float(confidence))), 3)


def to_alto(results: OcrResult | Iterable[OcrResult]) -> str:
    """The ALTO v4 XML document for one result, or several results as one document."""
    docs = as_results(results)
    root = ET.Element(
        "alto",
        {
            "xmlns": ALTO_NAMESPACE,
            "xmlns:xlink": _XLINK,
            "xmlns:xsi": _XSI,
            "xsi:schemaLocation": f"{ALTO_NAMESPACE} {ALTO_SCHEMA_URL}",
            "SCHEMAVERSION": ALTO_SCHEMA_VERSION,
        },
    )
    desc = ET.SubElement(root, "Description")
    ET.SubElement(desc, "MeasurementUnit").text = "pixel"
    sources = [r.source for r in docs if r.source]
    if len(docs) == 1 and sources:
        info = ET.SubElement(desc, "sourceImageInformation")
        ET.SubElement(info, "fileName").text = xml_safe(sources[0])
    proc = ET.SubElement(desc, "Processing", {"ID": "processing_1"})
    ET.SubElement(proc, "processingCategory").text = "contentGeneration"
    settings = sorted({f"mode={r.mode}; language={r.language}" for r in docs})
    if settings:
        ET.SubElement(proc, "processingStepSettings").text = xml_safe(" | ".join(settings))
    sw = ET.SubElement(proc, "processingSoftware")
    ET.SubElement(sw, "softwareName").text = "inkread"
    ET.SubElement(sw, "softwareVersion").text = software_version()
    layout = ET.SubElement(root, "Layout")

    pageno = 0
    for result in docs:
        for page in result.pages:
            pageno += 1
            p = pageno
            page_el = ET.SubElement(
                layout,
                "Page",
                {
                    "ID": f"page_{p}",
                    "PHYSICAL_IMG_NR": str(p),
                    "WIDTH": str(page.width),
                    "HEIGHT": str(page.height),
                    "PROCESSING": "processing_1",
                },
            )
            if page.lines:
                page_el.set("PC", _wc(page.confidence))
            space = ET.SubElement(page_el, "PrintSpace", {"ID": f"printspace_{p}"})
            _box(space, (0, 0, page.width, page.height))
            n_block = n_line = n_word = 0
            for para in paragraphs(page):
                lines = [(l, line_words(l)) for l in para.lines]
                lines = [(l, ws) for l, ws in lines if ws]
                if not lines:
                    continue
                n_block += 1
                block = ET.SubElement(space, "TextBlock", {"ID": f"block_{p}_{n_block}"})
                _box(block, union(rect(l.bbox, page) for l, _ in lines))
                if page.rotation:  # the page came turned: ALTO's ROTATION is counter-clockwise degrees
                    block.set("ROTATION", str((360 - page.rotation) % 360))
                if result.language:
                    block.set("LANG", result.language)
                for line, words in lines:
                    n_line += 1
                    line_el = ET.SubElement(block, "TextLine", {"ID": f"line_{p}_{n_line}"})
                    lr = rect(line.bbox, page)
                    _box(line_el, lr)
                    if len(line.bbox) >= 4:
                        line_el.set("BASELINE", _points([line.bbox[3], line.bbox[2]]))
                        if not is_axis_aligned(line.bbox):
                            shape = ET.SubElement(line_el, "Shape")
                            ET.SubElement(shape, "Polygon", {"POINTS": _points(line.bbox)})
                    prev = None
                    for word in words:
                        wr = rect(word.bbox, page)
                        if prev is not None:
                            gap = ET.SubElement(line_el, "SP", {"ID": f"sp_{p}_{n_word}"})
                            _box(gap, (prev[2], min(prev[1], wr[1]), max(prev[2], wr[0]), max(prev[3], wr[3])))
                            del gap.attrib["HEIGHT"]
                        n_word += 1
                        s = ET.SubElement(line_el, "String", {"ID": f"string_{p}_{n_word}"})
                        _box(s, wr)
                        s.set("CONTENT", xml_safe(word.text))
                        s.set("WC", _wc(word.confidence))
                        prev = wr
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def validate_alto(document: str | bytes | os.PathLike[str]) -> None:
    """Validate an ALTO document (text, bytes or a file path) against the bundled ALTO 4.3 schema.

    Raises :class:`AltoValidationError` listing the problems; needs ``lxml`` (``pip install lxml``).
    Works offline: the schema and its ``xlink`` import are package data.
    """
    try:
        from lxml import etree
    except ImportError as error:  # pragma: no cover - lxml is a dependency
        from ..exceptions import MissingDependencyError

        raise MissingDependencyError("validating ALTO needs lxml", hint="pip install lxml") from error
    schema = _schema(etree)
    if isinstance(document, bytes) or (isinstance(document, str) and document.lstrip("\ufeff \t\r\n").startswith("<")):
        data = document.encode("utf-8") if isinstance(document, str) else document
        tree = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True)).getroottree()
    else:
        tree = etree.parse(os.fspath(document), etree.XMLParser(resolve_entities=False, no_network=True))
    if not schema.validate(tree):
        raise AltoValidationError([f"line {e.line}: {e.message}" for e in schema.error_log])


_SCHEMA = None


def _schema(etree):
    global _SCHEMA
    if _SCHEMA is None:
        parser = etree.XMLParser(no_network=True)
        _SCHEMA = etree.XMLSchema(etree.parse(str(ALTO_SCHEMA_PATH), parser))
    return _SCHEMA
