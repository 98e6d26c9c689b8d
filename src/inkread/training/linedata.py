"""A person's corrected lines for ``inkread train``: line pairs, PAGE-XML, ALTO, or folders of them.

- **Line pairs** (Kraken, Calamari, OCR-D ground truth, ``inkread --format gt``): ``NAME.gt.txt``
  beside an image of the same stem (``NAME.png``, ``.jpg``, ``.tif``, ...). Lines named
  ``PAGE_lNNN`` belong to page ``PAGE``; other pairs are a page each.
- **PAGE-XML** (Transkribus, eScriptorium): each ``TextLine``'s ``Coords`` polygon and its
  ``TextEquiv/Unicode``, cut from ``Page@imageFilename`` (relative to the XML file).
- **ALTO** (eScriptorium): each ``TextLine``'s ``HPOS``/``VPOS``/``WIDTH``/``HEIGHT`` (its
  ``Shape/Polygon`` when there is one) and its ``String@CONTENT`` joined, cut from
  ``sourceImageInformation/fileName``.

An XML line is cut like ``../shared/train``'s lines: the polygon's bounding box and 4 px more,
greyscale, pixels outside the outline (dilated 9 px) filled with the crop's median grey. Every line is
kept at most 48 px high (the recogniser reads 48), aspect kept. In a folder holding line pairs, XML
files are left out unless named on their own (``--format gt`` writes a PAGE-XML beside its line
pairs, ``--format alto`` an ALTO: the corrected text files are the truth), and so is a page image
named like the pairs' page (``PAGE.png`` beside ``PAGE_l001.png``). Problems are gathered and raised
together (:class:`TrainingDataError`, naming every file) before anything trains.

No PyTorch here: the CLI reads and checks the data without it.
"""

from __future__ import annotations

import hashlib
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..exceptions import InputError

__all__ = ["GtLine", "TrainingDataError", "MIN_LINES", "read_training_data", "pick_lines", "split_pages", "data_hash"]

MIN_LINES = 20
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".jp2")
LINE_HEIGHT = 48
_PAD, _DILATE = 4, 9
_LINE_NAME = re.compile(r"^(?P<page>.+)_l\d+$")


class TrainingDataError(InputError):
    """Training data that cannot be used; ``problems``: (file, what is wrong) for each."""

    def __init__(self, problems: list[tuple[str, str]], summary: str = "") -> None:
        shown = "; ".join(f"{f}: {why}" for f, why in problems[:6])
        more = f"; and {len(problems) - 6} more" if len(problems) > 6 else ""
        head = summary or f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the training data"
        super().__init__(f"{head}: {shown}{more}" if problems else head)
        self.problems = problems


@dataclass(frozen=True)
class GtLine:
    """One line: its greyscale image (uint8, at most 48 px high), its text, the page it is from
    (validation is split by page) and where it came from (``file`` or ``file#line-id``)."""

    image: np.ndarray = field(repr=False, compare=False)
    text: str
    page: str
    source: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_image(path: Path) -> np.ndarray | None:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) if path.is_file() else None
    if img is None and path.is_file():  # a format OpenCV lacks: Pillow
        try:
            from PIL import Image

            with Image.open(path) as im:
                img = np.asarray(im.convert("L"))
        except Exception:  # noqa: BLE001 - unreadable is reported by the caller, naming the file
            return None
    return img if img is not None and img.size else None


def _fit_height(img: np.ndarray) -> np.ndarray:
    import cv2

    h, w = img.shape
    if h <= LINE_HEIGHT:
        return np.ascontiguousarray(img)
    return cv2.resize(img, (max(1, round(w * LINE_HEIGHT / h)), LINE_HEIGHT), interpolation=cv2.INTER_AREA)


def _cut(page: np.ndarray, polygon: np.ndarray) -> np.ndarray | None:
    """The line's crop: its outline's box + 4 px, outside the dilated outline the median grey."""
    import cv2

    h, w = page.shape
    x0, y0 = np.floor(polygon.min(0)).astype(int) - _PAD
    x1, y1 = np.ceil(polygon.max(0)).astype(int) + _PAD
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    crop = page[y0:y1, x0:x1].copy()
    if len(polygon) >= 3:
        outline = np.zeros(crop.shape, np.uint8)
        cv2.fillPoly(outline, [np.round(polygon - [x0, y0]).astype(np.int32)], 255)
        near = cv2.dilate(outline, np.ones((2 * _DILATE + 1, 2 * _DILATE + 1), np.uint8))
        crop[near == 0] = int(np.median(crop))
    return _fit_height(crop)


def _points(text: str) -> np.ndarray | None:
    """PAGE's ``x,y x,y ...`` or ALTO's ``x y x y ...`` / ``x,y x,y``."""
    nums = [float(v) for v in re.split(r"[\s,]+", text.strip()) if v]
    if len(nums) < 4 or len(nums) % 2:
        return None
    return np.array(nums, dtype=np.float64).reshape(-1, 2)


def _clean(text: str) -> str:
    return " ".join(text.split())


class _Reader:
    """Collects lines and problems over every file given."""

    def __init__(self, skip_empty: bool) -> None:
        self.skip_empty = skip_empty
        self.lines: list[GtLine] = []
        self.problems: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.used_images: set[Path] = set()

    def pair(self, gt: Path, image: Path | None) -> None:
        if image is None:
            self.problems.append((str(gt), "no image beside it with the same name (.png, .jpg, .tif, ...)"))
            return
        self.used_images.add(image.resolve())
        try:
            text = _clean(gt.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            self.problems.append((str(gt), f"cannot read the transcription ({e.__class__.__name__})"))
            return
        if not text:
            if not self.skip_empty:
                self.problems.append((str(gt), "empty transcription"))
            return
        img = _read_image(image)
        if img is None:
            self.problems.append((str(image), "unreadable image"))
            return
        page = str(gt.parent / _page_of(gt.name[: -len(".gt.txt")]))
        self.lines.append(GtLine(_fit_height(img), text, page, str(gt)))

    def xml(self, path: Path, root: ET.Element) -> None:
        kind = _local(root.tag)
        name = _image_name(root)
        page_el = next((e for e in root.iter() if _local(e.tag) == "Page"), None)
        attrs = ("imageWidth", "imageHeight") if kind == "PcGts" else ("WIDTH", "HEIGHT")
        size = (page_el.get(attrs[0]), page_el.get(attrs[1])) if page_el is not None else (None, None)
        if kind == "alto":
            unit = next((e.text or "" for e in root.iter() if _local(e.tag) == "MeasurementUnit"), "pixel")
            if unit.strip() not in ("pixel", ""):
                self.problems.append((str(path), f"ALTO measured in {unit.strip()!r}: only pixel is read"))
                return
        image = self.page_image(path, name)
        if image is None:
            where = f"its image {name!r} is not there" if name else "it names no page image"
            self.problems.append((str(path), f"{where} (looked beside the XML file)"))
            return
        self.used_images.add(image.resolve())
        page = _read_image(image)
        if page is None:
            self.problems.append((str(image), f"unreadable image (the page of {path.name})"))
            return
        scale = np.array([1.0, 1.0])
        try:
            if size[0] and size[1] and float(size[0]) > 0 and float(size[1]) > 0:  # the XML's pixels, not ours
                scale = np.array([page.shape[1] / float(size[0]), page.shape[0] / float(size[1])])
        except ValueError:
            pass
        items = _page_lines(root) if kind == "PcGts" else _alto_lines(root)
        if not items:
            self.problems.append((str(path), "no text lines in it"))
        for k, (line_id, polygon, text) in enumerate(items):
            where = f"{path}#{line_id or k + 1}"
            if not text:
                if not self.skip_empty:
                    self.problems.append((where, "empty or missing transcription"))
                continue
            crop = _cut(page, polygon * scale) if polygon is not None else None
            if crop is None:
                self.problems.append((where, "no usable outline (Coords / HPOS, VPOS, WIDTH, HEIGHT)"))
                continue
            self.lines.append(GtLine(crop, text, str(path), where))

    @staticmethod
    def page_image(xml: Path, name: str) -> Path | None:
        if not name:
            return None
        given = Path(name)
        for candidate in (given if given.is_absolute() else xml.parent / given, xml.parent / given.name):
            if candidate.is_file():
                return candidate
        return None


def _image_name(root: ET.Element) -> str:
    """The page image a PAGE-XML (``Page@imageFilename``) or ALTO (``sourceImageInformation/fileName``) names."""
    if _local(root.tag) == "PcGts":
        page = next((e for e in root.iter() if _local(e.tag) == "Page"), None)
        return (page.get("imageFilename", "") if page is not None else "").strip()
    return next((e.text or "" for e in root.iter() if _local(e.tag) == "fileName"), "").strip()


def _page_lines(root: ET.Element) -> list[tuple[str, np.ndarray | None, str]]:
    out = []
    for line in (e for e in root.iter() if _local(e.tag) == "TextLine"):
        coords = next((c for c in line if _local(c.tag) == "Coords"), None)
        polygon = _points(coords.get("points", "")) if coords is not None else None
        equivs = [t for t in line if _local(t.tag) == "TextEquiv"]
        equivs.sort(key=lambda t: int(t.get("index", "1")) if t.get("index", "1").lstrip("-").isdigit() else 1)
        text = ""
        for equiv in equivs[:1]:
            uni = next((u for u in equiv if _local(u.tag) == "Unicode"), None)
            text = _clean(uni.text or "") if uni is not None else ""
        out.append((line.get("id", ""), polygon, text))
    return out


def _alto_lines(root: ET.Element) -> list[tuple[str, np.ndarray | None, str]]:
    out = []
    for line in (e for e in root.iter() if _local(e.tag) == "TextLine"):
        polygon = None
        shape = next(_shapes(line), None)
        if shape is not None:
            polygon = _points(shape.get("POINTS", ""))
        if polygon is None:
            try:
                x, y, w, h = (float(line.get(a, "")) for a in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
                polygon = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
            except ValueError:
                polygon = None
        words = [
            e.get("CONTENT", "") for e in line if _local(e.tag) in ("String", "HYP") and e.get("CONTENT", "").strip()
        ]
        out.append((line.get("ID", ""), polygon, _clean(" ".join(words))))
    return out


def _shapes(line: ET.Element):
    """The line's own outline (its ``Shape/Polygon``), not a word's."""
    for shape in (c for c in line if _local(c.tag) == "Shape"):
        yield from (p for p in shape if _local(p.tag) == "Polygon")


def _image_beside(gt: Path) -> Path | None:
    stem = gt.name[: -len(".gt.txt")]
    for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
        candidate = gt.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def _files(paths: list[Path]) -> list[tuple[Path, bool]]:
    """(file, named on its own?) for each path: a folder is walked (hidden entries left out)."""
    out: list[tuple[Path, bool]] = []
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(2, "No such file or directory", str(p))
        if p.is_dir():
            out += [
                (f, False)
                for f in sorted(p.rglob("*"))
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            ]
        else:
            out.append((p, True))
    unique: dict[Path, tuple[Path, bool]] = {}  # a file both walked and named counts as named
    for f, own in out:
        key = f.resolve()
        unique[key] = (unique.get(key, (f, False))[0], own or unique.get(key, (f, False))[1])
    return list(unique.values())


def _page_of(stem: str) -> str:
    """The page a line pair belongs to: ``PAGE`` for ``PAGE_l001``, else the pair itself."""
    m = _LINE_NAME.match(stem)
    return m.group("page") if m else stem


def read_training_data(paths: list[Path | str], skip_empty: bool = False) -> tuple[list[GtLine], list[str]]:
    """Every line of the files and folders given, and notes (files left out, and why);
    :class:`TrainingDataError` naming each bad file, ``FileNotFoundError`` for a path not there."""
    files = _files([Path(p) for p in paths])
    reader = _Reader(skip_empty)
    gts = [(f, own) for f, own in files if f.name.endswith(".gt.txt")]
    pair_pages = {(f.parent, _page_of(f.name[: -len(".gt.txt")])) for f, _ in gts}
    gt_dirs = {f.parent for f, _ in gts}
    for f, _own in gts:
        reader.pair(f, _image_beside(f))
    skipped: list[str] = []
    for f, own in files:
        if f.suffix.lower() != ".xml":
            continue
        try:
            root = ET.parse(f).getroot()
        except (ET.ParseError, OSError) as e:
            if own:
                reader.problems.append((str(f), f"not readable XML ({e})"))
            continue
        if _local(root.tag) not in ("PcGts", "alto"):
            if own:
                reader.problems.append((str(f), "neither PAGE-XML nor ALTO"))
            continue
        if not own and f.parent in gt_dirs:
            skipped.append(f.name)
            image = reader.page_image(f, _image_name(root))
            if image is not None:
                reader.used_images.add(image.resolve())
            continue
        reader.xml(f, root)
    for f, own in files:
        if f.suffix.lower() in IMAGE_SUFFIXES and f.resolve() not in reader.used_images:
            if own or (f.parent in gt_dirs and (f.parent, f.stem) not in pair_pages):
                reader.problems.append((str(f), f"no transcription ({f.stem}.gt.txt missing)"))
    if skipped:
        shown = ", ".join(skipped[:3]) + (f" and {len(skipped) - 3} more" if len(skipped) > 3 else "")
        files_ = "XML file" if len(skipped) == 1 else "XML files"
        reader.notes.append(f"{len(skipped)} {files_} beside line pairs left out ({shown}); name one to read it")
    if reader.problems:
        raise TrainingDataError(reader.problems)
    return reader.lines, reader.notes


def pick_lines(lines: list[GtLine], n: int, seed: int) -> list[GtLine]:
    """``n`` lines, whole pages taken in an order the seed fixes (the last one cut short): the same
    seed gives nested subsets (``--lines 100`` holds ``--lines 50``'s lines)."""
    if n <= 0 or n >= len(lines):
        return list(lines)
    pages = sorted({ln.page for ln in lines})
    random.Random(seed).shuffle(pages)
    rank = {p: i for i, p in enumerate(pages)}
    return sorted(lines, key=lambda ln: rank[ln.page])[:n]


def split_pages(
    lines: list[GtLine], seed: int, fraction: float = 0.1, most: int = 300
) -> tuple[list[GtLine], list[GtLine], bool]:
    """(training, validation, by page?): whole pages held out, in an order the seed fixes, until
    about ``fraction`` of the lines (at most ``most``, at least one line, never over half); where no
    page fits (one or two pages), lines are held out instead (``by page`` False: the validation
    CER then flatters the model, its lines' neighbours were trained on)."""
    target = max(1, min(most, round(len(lines) * fraction)))
    pages = sorted({ln.page for ln in lines})
    random.Random(seed).shuffle(pages)
    size = {p: sum(ln.page == p for ln in lines) for p in pages}
    held: set[str] = set()
    count = 0
    for p in pages:
        if count >= target:
            break
        if count + size[p] <= len(lines) // 2:
            held.add(p)
            count += size[p]
    if held:
        return [ln for ln in lines if ln.page not in held], [ln for ln in lines if ln.page in held], True
    order = list(range(len(lines)))
    random.Random(seed).shuffle(order)
    val = set(order[:target])
    return [ln for i, ln in enumerate(lines) if i not in val], [ln for i, ln in enumerate(lines) if i in val], False


def data_hash(lines: list[GtLine]) -> str:
    """A short hash of the lines (their sources, texts and pixels), recorded in the model's card."""
    h = hashlib.sha256()
    for ln in sorted(lines, key=lambda x: x.source):
        h.update(f"{Path(ln.source.split('#')[0]).name}#{ln.source.partition('#')[2]}\t{ln.text}\n".encode())
        h.update(hashlib.sha256(ln.image.tobytes()).digest())
    return h.hexdigest()[:16]
