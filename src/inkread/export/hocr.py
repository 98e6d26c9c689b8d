"""hOCR 1.2 output: XHTML with ocr_page > ocr_carea > ocr_par > ocr_line > ocrx_word.

Coordinates are whole pixels of the page image (``bbox x0 y0 x1 y1``); word confidences are
``x_wconf`` in 0-100, as Tesseract writes them, so hOCR tools (hocr-tools, hocr-pdf, OCRmyPDF's
hOCR transform, ...) read it. Several results become one document, their pages in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr as _quoteattr

from ..result import Line, OcrResult, Page
from ._common import (
    Rect,
    areas,
    as_results,
    baseline,
    fmt_number,
    line_words,
    poly_height,
    rect,
    software_version,
    union,
    xml_safe,
)

__all__ = ["to_hocr", "HOCR_CAPABILITIES"]

HOCR_CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf ocrp_lang"


def escape(text: str) -> str:
    return _escape(xml_safe(text))


def quoteattr(text: str) -> str:
    return _quoteattr(xml_safe(text))


def _bbox(r: tuple[int, int, int, int]) -> str:
    return f"bbox {r[0]} {r[1]} {r[2]} {r[3]}"


def _image_name(source: str) -> str:
    return source.replace("\\", "\\\\").replace('"', '\\"')


def to_hocr(results: OcrResult | Iterable[OcrResult]) -> str:
    """The hOCR (XHTML) document for one result, or several results as one document."""
    docs = as_results(results)
    langs = sorted({r.language for r in docs if r.language})
    doc_lang = langs[0] if len(langs) == 1 else None
    title = docs[0].source if len(docs) == 1 else ""
    n_pages = sum(len(r.pages) for r in docs)
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
        '    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml"'
        + (f' xml:lang="{doc_lang}" lang="{doc_lang}"' if doc_lang else "")
        + ">",
        " <head>",
        f"  <title>{escape(title)}</title>",
        '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
        f'  <meta name="ocr-system" content="inkread {software_version()}"/>',
        f'  <meta name="ocr-capabilities" content="{HOCR_CAPABILITIES}"/>',
        f'  <meta name="ocr-number-of-pages" content="{n_pages}"/>',
    ]
    if langs:
        out.append(f'  <meta name="ocr-langs" content="{" ".join(langs)}"/>')
    out += [" </head>", " <body>"]
    pageno = 0
    for result in docs:
        lang_attr = f" lang={quoteattr(result.language)}" if result.language else ""
        for page in result.pages:
            pageno += 1
            title_parts = []
            if result.source:
                title_parts.append(f'image "{_image_name(result.source)}"')
            title_parts += [_bbox((0, 0, page.width, page.height)), f"ppageno {pageno - 1}"]
            out.append(f"  <div class='ocr_page' id='page_{pageno}' title={quoteattr('; '.join(title_parts))}>")
            n_area = n_par = n_line = n_word = 0
            for area in areas(page):
                lines_in_area = [l for p in area.paragraphs for l in p.lines if line_words(l)]
                if not lines_in_area:
                    continue
                n_area += 1
                area_rect = _union_lines(lines_in_area, page)
                out.append(
                    f"   <div class='ocr_carea' id='block_{pageno}_{n_area}' title={quoteattr(_bbox(area_rect))}>"
                )
                for para in area.paragraphs:
                    lines = [l for l in para.lines if line_words(l)]
                    if not lines:
                        continue
                    n_par += 1
                    out.append(
                        f"    <p class='ocr_par' id='par_{pageno}_{n_par}'{lang_attr} "
                        f"title={quoteattr(_bbox(_union_lines(lines, page)))}>"
                    )
                    for line in lines:
                        n_line += 1
                        words = line_words(line)
                        lr = rect(line.bbox, page)
                        slope, offset = baseline(line.bbox, lr)
                        props = [
                            _bbox(lr),
                            f"baseline {fmt_number(slope, 3)} {fmt_number(offset, 0)}",
                            f"x_size {round(poly_height(line.bbox)) if len(line.bbox) >= 4 else lr[3] - lr[1]}",
                        ]
                        if page.rotation:  # the page came turned: its lines run at this angle, counter-clockwise
                            props.insert(1, f"textangle {(360 - page.rotation) % 360}")
                        out.append(
                            f"     <span class='ocr_line' id='line_{pageno}_{n_line}' "
                            f"title={quoteattr('; '.join(props))}>"
                        )
                        for word in words:
                            n_word += 1
                            wr = rect(word.bbox, page)
                            conf = int(round(max(0.0, min(1.0, word.confidence)) * 100))
                            out.append(
                                f"      <span class='ocrx_word' id='word_{pageno}_{n_word}' "
                                f"title={quoteattr(f'{_bbox(wr)}; x_wconf {conf}')}>"
                                f"{escape(word.text)}</span>"
                            )
                        out.append("     </span>")
                    out.append("    </p>")
                out.append("   </div>")
            out.append("  </div>")
    out += [" </body>", "</html>", ""]
    return "\n".join(out)


def _union_lines(lines: list[Line], page: Page) -> Rect:
    return union(rect(l.bbox, page) for l in lines)
