"""``--format gt``: lines to correct (``PAGE_lNNN.png`` + ``PAGE_lNNN.gt.txt``) and a PAGE-XML per page.

Real readings of images from ``tests/data`` through the command line (``--format json,gt`` in one run, so
the line pairs are checked against the JSON of the same reading): crops the size of the line boxes,
upright on a page read sideways; PAGE-XML that parses, validates against the PAGE 2019 schema
(``tests/data/schemas``), names the page image written beside it and every line; a multi-page PDF and
a folder batch. The plumbing (errors, ``--resume``, an output folder that is the input's folder) reads
with the fake recogniser; the crops and the PAGE-XML on the hand-built result of
``tests/test_export.py`` (a golden file, ``tests/data/golden/sample.page.xml``).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from PIL import Image

from fakes import fake_backend
from inkread import cli, export
from inkread.export import gt
from test_export import UPDATE, _norm_version, sample_images, sample_result

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden"
RULED = ROOT / "tests" / "data" / "synth" / "ruled_note.png"  # 4 handwritten lines, one of them skewed
LINE = ROOT / "tests" / "data" / "synth" / "lines" / "dkg_01.png"
NS = {"pc": gt.PAGE_NAMESPACE}
PAGE_XSD = ROOT / "tests" / "data" / "schemas" / "pagecontent-2019-07-15.xsd"  # see the README there


def page_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(PAGE_XSD)))


def assert_valid_page(tree: etree._ElementTree) -> None:
    schema = page_schema()
    assert schema.validate(tree), [str(e) for e in schema.error_log][:5]


@pytest.fixture(autouse=True)
def _local_engine(monkeypatch):
    monkeypatch.setenv("INKREAD_JOBS", "1")
    monkeypatch.delenv("INKREAD_URL", raising=False)
    monkeypatch.delenv("INKREAD_DEBUG", raising=False)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([os.fspath(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_size(poly: list[list[float]]) -> tuple[int, int]:
    """(width, height) of a line's crop: its whole-pixel box (turned when the line runs up or down the
    page), or the longer edges of a skewed quad."""
    q = np.array(poly, dtype=float)
    edges = np.roll(q, -1, axis=0) - q
    if np.all(np.min(np.abs(edges), axis=1) <= 1.0):
        x0, y0 = math.floor(q[:, 0].min() + 1e-6), math.floor(q[:, 1].min() + 1e-6)
        x1, y1 = math.ceil(q[:, 0].max() - 1e-6), math.ceil(q[:, 1].max() - 1e-6)
        sideways = abs(edges[0][1]) > abs(edges[0][0])
        return (y1 - y0, x1 - x0) if sideways else (x1 - x0, y1 - y0)
    width = round(max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])))
    height = round(max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1])))
    return (width, height)


def check_page(folder: Path, name: str, page: dict) -> None:
    """The line pairs and the PAGE-XML of one page match the JSON reading of that page."""
    lines = page["lines"]
    assert lines
    for number, line in enumerate(lines, 1):
        stem = folder / f"{name}_l{number:03d}"
        with Image.open(stem.with_name(stem.name + ".png")) as im:
            im.load()
            assert im.format == "PNG"
            assert im.size == expected_size(line["bbox"]), (stem, line["bbox"])
            assert im.width > im.height  # upright: a line is longer than high
        raw = stem.with_name(stem.name + ".gt.txt").read_bytes()
        assert raw == (line["text"] + "\n").encode("utf-8")
    assert not (folder / f"{name}_l{len(lines) + 1:03d}.png").exists()

    tree = etree.parse(str(folder / f"{name}.page.xml"))
    assert_valid_page(tree)
    root = tree.getroot()
    assert root.tag == f"{{{gt.PAGE_NAMESPACE}}}PcGts"
    assert root.find("pc:Metadata/pc:Creator", NS).text.startswith("inkread ")
    el = root.find("pc:Page", NS)
    image_path = folder / el.get("imageFilename")
    with Image.open(image_path) as im:
        assert im.size == (int(el.get("imageWidth")), int(el.get("imageHeight"))) == (page["width"], page["height"])
    xml_lines = el.findall("pc:TextRegion/pc:TextLine", NS)
    assert [x.get("id") for x in xml_lines] == [f"l{n:03d}" for n in range(1, len(lines) + 1)]
    assert [x.find("pc:TextEquiv/pc:Unicode", NS).text for x in xml_lines] == [line["text"] for line in lines]
    for x, line in zip(xml_lines, lines):
        assert [etree.QName(c).localname for c in x] == ["Coords", "Baseline", "TextEquiv"]
        points = [tuple(map(int, p.split(","))) for p in x.find("pc:Coords", NS).get("points").split()]
        assert len(points) == len(line["bbox"])
        for (px, py), (bx, by) in zip(points, line["bbox"]):
            assert abs(px - bx) <= 1 and abs(py - by) <= 1
            assert 0 <= px < page["width"] and 0 <= py < page["height"]
    refs = [r.get("regionRef") for r in el.findall("pc:ReadingOrder/pc:OrderedGroup/pc:RegionRefIndexed", NS)]
    assert refs == [r.get("id") for r in el.findall("pc:TextRegion", NS)]


# ----- real readings through the command line ---------------------------------------------------


def test_gt_of_an_image(capsys, tmp_path):
    scan = tmp_path / "in" / "ruled_note.png"
    scan.parent.mkdir()
    shutil.copy(RULED, scan)
    before = sha256(scan)
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, scan, "-o", out, "--format", "json,gt", "--mode", "handwritten")
    assert code == 0, err
    assert sha256(scan) == before  # the input is never modified
    result = json.loads((out / "ruled_note.json").read_text(encoding="utf-8"))
    page = result["pages"][0]
    assert len(page["lines"]) == 4
    assert any(
        expected_size(line["bbox"])
        != (
            math.ceil(max(p[0] for p in line["bbox"])) - math.floor(min(p[0] for p in line["bbox"])),
            math.ceil(max(p[1] for p in line["bbox"])) - math.floor(min(p[1] for p in line["bbox"])),
        )
        for line in page["lines"]
    )  # a skewed line: warped upright, not its box
    check_page(out, "ruled_note", page)
    assert sha256(out / "ruled_note.png") == before  # the page image: a copy of the input's own bytes
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("ruled_note_l")) == [
        "ruled_note.json",
        "ruled_note.page.xml",
        "ruled_note.png",
    ]


def test_gt_of_a_pdf_and_a_folder(capsys, tmp_path):
    """A folder: a 2-page PDF (pages named _p001, _p002) and, in a subfolder, a line turned sideways
    (cut upright), read in one batch; the folder structure is kept."""
    src = tmp_path / "scans"
    (src / "sub").mkdir(parents=True)
    note = Image.open(RULED).convert("RGB")
    note.save(src / "two.pdf", save_all=True, append_images=[Image.open(LINE).convert("RGB")], resolution=100)
    # a line alone: read whole, its box along the image's axes (a page's lines may each lean a degree)
    Image.open(LINE).convert("RGB").rotate(90, expand=True).save(src / "sub" / "turned.png")
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, src, "-o", out, "--format", "gt,json", "--dpi", "100", "--mode", "handwritten")
    assert code == 0, err
    doc = json.loads((out / "two.json").read_text(encoding="utf-8"))
    assert [p["index"] for p in doc["pages"]] == [0, 1]
    for page in doc["pages"]:
        check_page(out, f"two_p{page['index'] + 1:03d}", page)
    assert not (out / "two.page.xml").exists()

    turned = json.loads((out / "sub" / "turned.json").read_text(encoding="utf-8"))["pages"][0]
    assert turned["rotation"] in (90, 270)
    check_page(out / "sub", "turned", turned)
    # a line cut from the sideways image along its axes is its box turned upright, pixel for pixel
    page_image = np.asarray(Image.open(src / "sub" / "turned.png").convert("RGB"))
    k = next(k for k, line in enumerate(turned["lines"]) if len({round(x, 3) for x, _ in line["bbox"]}) == 2)
    crop = np.asarray(Image.open(out / "sub" / f"turned_l{k + 1:03d}.png").convert("RGB"))
    box = np.array(turned["lines"][k]["bbox"])
    x0, y0 = np.floor(box.min(axis=0) + 1e-6).astype(int)
    x1, y1 = np.ceil(box.max(axis=0) - 1e-6).astype(int)
    region = page_image[y0:y1, x0:x1]
    assert any(np.array_equal(crop, np.rot90(region, k)) for k in (1, 3))
    assert (src / "sub" / "turned.png").stat().st_size > 0 and len(list(src.rglob("*"))) == 3  # inputs alone


# ----- the plumbing, read by the fake -----------------------------------------------------------


def test_gt_needs_a_folder(capsys, tmp_path):
    code, _, err = run_cli(capsys, LINE, "--format", "gt")
    assert code == 2 and "-o DIR" in err
    code, _, err = run_cli(capsys, LINE, "-o", "-", "--format", "gt")
    assert code == 2 and "-o DIR" in err
    taken = tmp_path / "taken.txt"
    taken.write_text("keep me")
    code, _, err = run_cli(capsys, LINE, "-o", taken, "--format", "gt")
    assert code == 2 and "writes a folder" in err and taken.read_text() == "keep me"
    code, _, err = run_cli(capsys, LINE, "-o", tmp_path / "x", "--format", "nope")
    assert code == 2 and "gt" in err  # the formats listed include gt


def test_gt_beside_its_inputs_and_resume(capsys, tmp_path):
    """``-o`` the input's own folder: the page image is the input itself and is left alone (never
    rewritten), the other files are written beside it; ``--resume`` skips an input already done."""
    folder = tmp_path / "notes"
    folder.mkdir()
    image = folder / "line.png"
    shutil.copy(LINE, image)
    stamp = image.stat().st_mtime_ns
    with fake_backend() as fake:
        code, _, err = run_cli(capsys, image, "-o", folder, "--format", "gt")
        assert code == 0, err
        assert fake.pages == [0]
        assert image.stat().st_mtime_ns == stamp and image.read_bytes() == LINE.read_bytes()
        assert sorted(p.name for p in folder.iterdir()) == [
            "line.page.xml",
            "line.png",
            "line_l001.gt.txt",
            "line_l001.png",
        ]
        assert (folder / "line_l001.gt.txt").read_text(encoding="utf-8").startswith("page 1 ")
        code, _, err = run_cli(capsys, image, "-o", folder, "--format", "gt", "--resume")
        assert code == 0, err
        assert fake.pages == [0]  # not read again


# ----- the pieces, without a model ----------------------------------------------------------------


def test_line_image_cuts_upright():
    image = np.zeros((40, 60, 3), np.uint8)
    image[10:20, 5:35] = 255  # a white bar, 30 wide and 10 high
    image[10:20, 5] = (255, 0, 0)  # its start (red)
    box = [(5.0, 10.0), (35.0, 10.0), (35.0, 20.0), (5.0, 20.0)]
    crop = gt.line_image(image, box)
    assert crop.shape == (10, 30, 3) and tuple(crop[5, 0]) == (255, 0, 0)
    for k in (1, 2, 3):  # the page turned: the same line, cut upright, its start on the left
        turned = np.rot90(image, k)  # k quarter turns anticlockwise
        pts, w, h = box, image.shape[1], image.shape[0]
        for _ in range(k):  # where each corner (tl, tr, br, bl of the line) went
            pts = [(y, w - x) for x, y in pts]
            w, h = h, w
        crop = gt.line_image(turned, pts)
        assert crop.shape == (10, 30, 3), k
        assert tuple(crop[5, 0]) == (255, 0, 0), k
    # a skewed quad: as long and as high as its longer edges
    quad = [(10.0, 12.0), (40.0, 8.0), (41.0, 18.0), (11.0, 22.0)]
    assert gt.line_image(image, quad).shape[:2] == expected_size(quad)[::-1]
    assert gt.line_image(image, [(100.0, 100.0), (120.0, 100.0), (120.0, 110.0), (100.0, 110.0)]).size == 0
    assert gt.gt_text("two\nlines\r") == "two lines "


def test_gt_from_python_and_the_golden_page_xml(tmp_path):
    result = sample_result()  # 3 pages; page 1 has a line turned 12 degrees, page 3 none
    out = tmp_path / "gt"
    assert export.save(result, out, format="gt", images=sample_images()) == out
    names = sorted(p.name for p in out.iterdir())
    assert [n for n in names if n.endswith(".page.xml")] == [f"notes_p00{i}.page.xml" for i in (1, 2, 3)]
    assert len([n for n in names if n.endswith(".gt.txt")]) == 10
    assert (out / "notes_p001_l009.gt.txt").read_text(encoding="utf-8") == "Ünïcödé 東京 😀 ok\n"
    with Image.open(out / "notes_p001_l009.png") as im:
        assert im.size == expected_size(result.pages[0].lines[8].bbox)
    for name in names:
        if name.endswith(".page.xml"):
            assert_valid_page(etree.parse(str(out / name)))
    empty = etree.parse(str(out / "notes_p003.page.xml")).getroot().find("pc:Page", NS)
    assert len(empty) == 0 and empty.get("imageFilename") == "notes_p003.png"
    with pytest.raises(ValueError, match="several files"):
        export.export(result, "gt")

    when = datetime.datetime(2024, 1, 2, 3, 4, 5)
    got = _norm_version(gt.to_page_xml(result.pages[0], "notes_p001.png", created=when))
    path = GOLDEN / "sample.page.xml"
    if UPDATE:
        path.write_bytes(got.encode("utf-8"))
        pytest.skip(f"updated {path}")
    assert got == path.read_text(encoding="utf-8")
    assert_valid_page(etree.parse(io.BytesIO(got.encode("utf-8"))))
