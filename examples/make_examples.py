#!/usr/bin/env python3
"""Regenerate the bundled sample images from ``tests/synth.py``.

    python examples/make_examples.py

writes

* ``examples/handwritten_note.jpg`` / ``.txt``  - a "photographed" handwritten note
  (Rufscript, Debian package fonts-rufscript)
* ``examples/printed_page.png`` / ``.txt``      - a clean printed page (DejaVu Serif,
  fonts-dejavu-core)
* ``tests/data/synth/``                         - small font-independent fixtures:
  single-line crops (``lines/*.png`` + ``lines/labels.tsv``) and a ruled note with
  its line boxes (``ruled_note.png`` + ``ruled_note.json``)

Output is deterministic (fixed seeds, Pillow BASIC layout) for a given font file
and Pillow/libjpeg build.  The ``.txt`` files hold the exact ground truth: one line
per written line, a blank line between paragraphs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from synth import (  # noqa: E402
    load_font,
    find_handwriting_font,
    find_printed_font,
    font_install_hint,
    render_line,
    render_note,
)

EXAMPLES = ROOT / "examples"
TEST_DATA = ROOT / "tests" / "data" / "synth"

HANDWRITING_FAMILY = "Rufscript"
HANDWRITTEN_NOTE = [
    "Saturday errands",
    "",
    "Call the plumber about the kitchen sink",
    "before noon. Ask if he can come on Monday.",
    "",
    "Pick up the parcel from the post office",
    "and return the library books by Friday.",
    "",
    "- milk",
    "- eggs",
    "- bread",
    "- coffee",
]

PRINTED_FAMILY = "DejaVu Serif"
PRINTED_PAGE = [
    "The community library will be closed for repairs from",
    "the third to the ninth of March. Books that are due",
    "during that week may be returned to the drop box next",
    "to the main entrance without any late fees.",
    "",
    "Members who need help with the online catalogue can",
    "visit the front desk on weekday mornings, or call us",
    "at any time during the usual opening hours.",
    "",
    "1. Renew your loans before the end of February.",
    "2. Check the new opening hours on the notice board.",
    "3. Bring your membership card to borrow a laptop.",
]

# (file stem, handwriting family or None for the printed font, text)
LINE_FIXTURES = [
    ("rufscript_01", "Rufscript", "Meeting moved to 3pm"),
    ("rufscript_02", "Rufscript", "- buy stamps"),
    ("kristi_01", "Kristi", "Dinner with Anna on Sunday"),
    ("dkg_01", "DkgHandwriting", "Water the plants"),
    ("comicneue_01", "Comic Neue", "Room 12, second floor"),
    ("dejavuserif_01", None, "Invoice number 4471"),
]

RULED_NOTE = ["To do", "", "fix the bike", "email Sam", "pay rent"]


def _need_hand(family: str) -> Path:
    path = find_handwriting_font(family)
    if path is None:
        sys.exit(font_install_hint(family))
    return path


def _need_printed(family: str) -> Path:
    path = find_printed_font(family)
    if path is None:
        sys.exit(font_install_hint(family))
    return path


def _write_truth(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_handwritten_note() -> None:
    font = _need_hand(HANDWRITING_FAMILY)
    img, _ = render_note(
        HANDWRITTEN_NOTE, font,
        size=56, line_spacing=1.6, margin=90, width=1600,
        jitter=1.0, rotation_deg=1.0, blur=0.8, noise=0.03, shading=0.35,
        bg=(246, 241, 228), ink=(28, 32, 95), seed=2,
    )
    img.save(EXAMPLES / "handwritten_note.jpg", quality=90, optimize=True)
    _write_truth(EXAMPLES / "handwritten_note.txt", HANDWRITTEN_NOTE)


def make_printed_page() -> None:
    font_path = _need_printed(PRINTED_FAMILY)
    size, margin, width = 30, 100, 1240
    font = load_font(font_path, size)
    for line in PRINTED_PAGE:  # hand-wrapped text must fit the page
        if font.getlength(line) > width - 2 * margin:
            raise SystemExit(f"printed line too wide for the page: {line!r}")
    img, _ = render_note(
        PRINTED_PAGE, font_path,
        size=size, line_spacing=1.5, margin=margin, width=width,
        bg=(255, 255, 255), ink=(20, 20, 20), seed=0,
    )
    img.convert("L").save(EXAMPLES / "printed_page.png", optimize=True)
    _write_truth(EXAMPLES / "printed_page.txt", PRINTED_PAGE)


def make_test_data() -> None:
    lines_dir = TEST_DATA / "lines"
    lines_dir.mkdir(parents=True, exist_ok=True)
    rows = ["file\tfont\ttext"]
    for stem, family, text in LINE_FIXTURES:
        font = _need_hand(family) if family else _need_printed(PRINTED_FAMILY)
        img = render_line(text, font, size=40, pad=10, bg=(255, 255, 255), ink=(10, 10, 10))
        img.convert("L").save(lines_dir / f"{stem}.png", optimize=True)
        rows.append(f"{stem}.png\t{family or PRINTED_FAMILY}\t{text}")
    (lines_dir / "labels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    font = _need_hand("Rufscript")
    img, boxes = render_note(RULED_NOTE, font, size=40, ruled=True, jitter=1.0,
                             rotation_deg=-0.7, seed=5, margin=60, width=640)
    img.save(TEST_DATA / "ruled_note.png", optimize=True)
    boxes_json = ",\n  ".join(json.dumps(list(b)) for b in boxes)
    (TEST_DATA / "ruled_note.json").write_text(
        "{\n"
        f' "font": "Rufscript (fonts-rufscript)",\n'
        f' "width_height": {json.dumps(list(img.size))},\n'
        f' "lines": {json.dumps(RULED_NOTE)},\n'
        ' "boxes_note": "one [x0, y0, x1, y1] per non-blank line, image pixels",\n'
        f' "boxes": [\n  {boxes_json}\n ]\n'
        "}\n",
        encoding="utf-8",
    )


def main() -> None:
    make_handwritten_note()
    make_printed_page()
    make_test_data()
    for p in sorted([*EXAMPLES.glob("*.*"), *TEST_DATA.rglob("*.*")]):
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
