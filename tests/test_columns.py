"""Columns on real two-column pages (issue 23): gutters found on boxes however narrow, running heads
and feet, margin notes, blocks parted by white, boxes the detector merged across the gutter split at
its white, and scanned-style bands of real LaTeX pages (tests/data/columns) read column by column."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from inkread.columns import blocks_apart, find_gutter, head_and_foot, page_gutters, side
from inkread.layout import group_lines, reading_order

DATA = Path(__file__).resolve().parent / "data" / "columns"
H = 50.0  # line height of the box pages below


def _column(x0: float, x1: float, top: float, rows: int, pitch: float = 52.0) -> list[list[float]]:
    """A column's lines, justified but for every fifth (a paragraph's last line)."""
    return [[x0, top + k * pitch, x1 - (0.4 * (x1 - x0) if k % 5 == 4 else 0), top + k * pitch + H]
            for k in range(rows)]


def _two_columns(gutter: float = 45.0, rows: int = 12, top: float = 300.0) -> tuple[list, list]:
    """Two justified columns set with the same leading (rows level), ``gutter`` pixels apart."""
    return _column(200, 1200, top, rows), _column(1200 + gutter, 2200 + gutter, top, rows)


def _order(boxes: list[list[float]]) -> list[int]:
    """The fragment indices in reading order (one fragment per line)."""
    groups = group_lines(np.asarray(boxes, dtype=np.float64))
    assert all(len(g.members) == 1 for g in groups), [g.members for g in groups if len(g.members) > 1]
    return [g.members[0] for g in reading_order(groups)]


@pytest.mark.parametrize("gutter", [36.0, 45.0, 80.0])
def test_a_narrow_gutter_is_found_and_no_row_runs_across_it(gutter):
    """A scan's gutter is about 2% of the width, a line height or less: every row was one line."""
    left, right = _two_columns(gutter)
    found = page_gutters(np.array(left + right), H)
    assert len(found) == 1 and 1200 <= found[0].x <= 1200 + gutter
    assert _order(left + right) == list(range(len(left) + len(right)))


def test_running_head_in_two_pieces_is_read_first_and_a_foot_last():
    """The head's right piece sat over the right column and was read after the left column; the
    page number under the left column before the right one."""
    left, right = _two_columns()
    head = [[200, 215, 700, 265], [1700, 215, 2245, 265]]  # 0.7 line heights above the text
    foot = [[200, 1000, 260, 1050]]
    boxes = head + left + right + foot
    order = _order(boxes)
    assert order[:2] == [0, 1] and order[-1] == len(boxes) - 1
    assert order[2:-1] == list(range(2, 2 + len(left) + len(right)))


def test_a_heading_across_the_columns_parts_them_and_a_margin_note_stays_in_its_column():
    left, right = _two_columns(rows=6)
    lower_left, lower_right = _two_columns(rows=6, top=700)
    heading = [[900, 620, 1545, 670]]  # centred on the gutter
    # a margin note in the gutter, merged with the right column's line level with it: it reaches
    # past the gutter by less than a third of its width
    note = [[1000, lower_right[2][1], 2245, lower_right[2][3]]]
    lower_right[2] = note[0]
    lower_left[2][2] = 900  # a short code line beside it
    boxes = left + right + heading + lower_left + lower_right
    assert side(1000, 2245, 1222) == 1 and side(900, 1545, 1222) == 0
    order = _order(boxes)
    assert order == list(range(len(boxes)))


def test_word_gaps_in_a_few_rows_and_short_table_cells_are_not_gutters():
    # three lines cut at the same place by gaps of half a line height: one column of words
    rows = [[[10, 100 + 60 * r, 310, 150 + 60 * r], [335, 100 + 60 * r, 635, 150 + 60 * r]] for r in range(3)]
    assert find_gutter(np.array([b for row in rows for b in row]), H) is None
    # a receipt: item names and prices, aligned row by row
    items = [[[100, 100 + 55 * r, 600 + 20 * (r % 3), 150 + 55 * r], [900, 100 + 55 * r, 1040, 150 + 55 * r]]
             for r in range(10)]
    assert find_gutter(np.array([b for row in items for b in row]), H) is None


def test_blocks_parted_by_white_and_columns_under_a_title_block():
    """A title block of centred lines over a figure's white, then two columns: no gutter runs the
    page's height, so the blocks are looked at one by one."""
    title = [[700 + 40 * (k % 2), 100 + 55 * k, 1700 - 40 * (k % 2), 150 + 55 * k] for k in range(8)]
    left, right = _two_columns(top=1200)
    boxes = np.array(title + left + right)
    blocks = blocks_apart(boxes, H)
    assert [len(b) for b in blocks] == [8, len(left) + len(right)]
    assert len(page_gutters(boxes, H)) == 1
    assert _order(title + left + right) == list(range(len(boxes)))
    assert head_and_foot(boxes, 0.6 * H)[0] == []  # the title's first line is no running head


# ----- a box the detector ran across the gutter, split at its white ----------------------------

def test_a_box_merged_across_the_gutter_is_split_at_its_white_and_a_title_is_not():
    from PIL import Image, ImageDraw, ImageFont

    from inkread.backends.ppocr.gutter_split import split_at_gutters
    from inkread.preprocess import Transform
    from synth import find_printed_font

    path = find_printed_font()
    if path is None:
        pytest.skip("no printed font installed (apt-get install fonts-dejavu-core)")
    font = ImageFont.truetype(str(path), 34)
    image = Image.new("RGB", (2300, 1100), "white")
    draw = ImageDraw.Draw(image)
    words = "the quick brown fox jumps over a lazy dog and then runs far away".split()
    detections = []
    for k in range(16):
        y = 60 + 60 * k
        for x0 in (60, 1200):
            text = " ".join(words[(k + x0) % 5:][:6])
            draw.text((x0, y), text, font=font, fill="black")
            x1 = min(x0 + font.getlength(text), x0 + 1000)
            detections.append((np.array([[x0 - 4, y - 4], [x1 + 4, y - 4], [x1 + 4, y + 44], [x0 - 4, y + 44]],
                                        dtype=np.float32), 0.9))
    # row 5's two lines as one box from the left column's start to the right one's end
    left, right = detections[10][0], detections[11][0]
    merged = np.array([left[0], right[1], right[2], left[3]])
    # a title across both columns, one box (no white at the gutter)
    title = "A title written right across the gutter of the page"
    draw.text((600, 1020), title, font=font, fill="black")
    x1 = 600 + font.getlength(title) + 4
    title_box = np.array([[596, 1016], [x1, 1016], [x1, 1064], [596, 1064]], dtype=np.float32)
    boxes = [d for i, d in enumerate(detections) if i not in (10, 11)] + [(merged, 0.9), (title_box, 0.9)]
    out = split_at_gutters(np.asarray(image), boxes, Transform.identity())
    assert len(out) == len(boxes) + 1
    pieces = [q for q, _ in out[-3:-1]]
    assert pieces[0][1, 0] == pytest.approx(pieces[1][0, 0])
    assert left[1, 0] < pieces[0][1, 0] < right[0, 0]  # in the white between the two lines
    assert np.array_equal(out[-1][0], title_box)


# ----- real pages, scanned-style --------------------------------------------------------------

def _bench():
    """bench/bench_columns.py, whose scanned() the bench's pages are made with."""
    if "bench_columns" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_columns", DATA.parents[2] / "bench" / "bench_columns.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_columns"] = module  # its dataclass looks itself up there
        spec.loader.exec_module(module)
    return sys.modules["bench_columns"]


def _scanned_band(name: str) -> np.ndarray:
    """The band made to look scanned (turned, toned, blurred, noised, JPEG 75), as the bench does."""
    import zlib

    import cv2
    from PIL import Image

    grey = np.asarray(Image.open(DATA / f"{name}.png").convert("L"))
    image = _bench().scanned(grey, zlib.crc32(name.encode()))
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])
    assert ok
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2RGB)


@pytest.mark.parametrize("name,head,ceiling", [
    # a running head in two pieces over the columns; gutter 0.85 line heights
    ("ltubguid-p1-top", 2, 0.04),
    # code lines, margin notes in the gutter merged with the right column's lines, footnotes
    ("ftnright-p3-mid", 0, 0.06),
])
def test_real_two_column_scans_are_read_column_by_column(name, head, ceiling):
    """Bands of LaTeX two-column pages from Debian's TeX Live docs (LPPL), scanned-style: read row
    by row across both columns before (CER 0.6-0.75 on whole pages, bench/bench_columns.py)."""
    import inkread
    from inkread.metrics import cer

    truth = (DATA / f"{name}.txt").read_text(encoding="utf-8")
    image = _scanned_band(name)
    result = inkread.recognize(image, mode="printed", language="en")
    assert cer(truth, result.text) <= ceiling, result.text
    lines = result.pages[0].lines
    gutter = image.shape[1] / 2
    xs = [(min(p[0] for p in line.bbox), max(p[0] for p in line.bbox)) for line in lines]
    if head:  # the head's pieces first, left to right, though the right one sits over the right column
        assert xs[0][1] < gutter < xs[head - 1][0]
    body = list(enumerate(xs))[head:]
    last_left = max(i for i, (x0, x1) in body if x1 < gutter)
    first_right = min(i for i, (x0, x1) in body if x0 > gutter - 150)  # a margin note starts in the gutter
    assert last_left < first_right, [line.text for line in lines]
