"""Small, deterministic synthetic-note renderer used by the tests and by
``examples/make_examples.py``.

Pure Pillow + numpy.  Everything that looks random (per-line jitter, noise)
comes from a ``numpy.random.default_rng(seed)``, and text is laid out with
Pillow's BASIC layout engine (no libraqm dependency), so the same inputs give
the same pixels on any machine with the same font files.

Typical use in a test (pytest's default "prepend" import mode puts ``tests/`` on
``sys.path`` while ``tests/`` has no ``__init__.py``; scripts such as
``examples/make_examples.py`` insert it themselves)::

    from synth import render_note, require_handwriting_font

    font = require_handwriting_font()          # pytest.skip()s when none is installed
    img, boxes = render_note(["Groceries", "", "- milk", "- eggs"], font)
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = [
    "blank_pdf",
    "FONT_PACKAGES",
    "PRINTED_FONT_PACKAGES",
    "Box",
    "find_handwriting_font",
    "find_handwriting_fonts",
    "find_printed_font",
    "font_install_hint",
    "load_font",
    "render_line",
    "render_note",
    "require_handwriting_font",
]

Box = tuple[int, int, int, int]

# Handwriting(-like) font family (as fontconfig names it) -> Debian package,
# best test font first, so ``find_handwriting_fonts()[0]`` is the default.
# Character error rate of RapidOCR 3.10 (PP-OCRv6 small det/rec) on an 11-line
# note, size 56, 1600 px wide, rotated 1 deg, noise 0.03, blur 0.8, mean of 4 seeds:
#   Rufscript 0.009 (looks hand-written; reads "C" as "c", "u" sometimes as "a")
#   Comic Neue 0.001 (most legible, but looks like a typeface, not handwriting)
#   Kristi 0.046, femkeklaver ~0.05, DkgHandwriting 0.13 (0.02 ruled),
#   Breip ~0.3 (lines dropped), Because We * ~0.7 (capitals-only designs: OCR
#   returns upper case for lower-case input, so compare case-insensitively).
FONT_PACKAGES: dict[str, str] = {
    "Rufscript": "fonts-rufscript",
    "Comic Neue": "fonts-comic-neue",
    "Kristi": "fonts-kristi",
    "femkeklaver": "fonts-femkeklaver",
    "DkgHandwriting": "fonts-dkg-handwriting",
    "Breip": "fonts-breip",
    "Because We Learn": "fonts-bwht",
    "Because We Build": "fonts-bwht",
    "Because We Connect": "fonts-bwht",
    "Because We Create": "fonts-bwht",
    "Because We Mentor": "fonts-bwht",
    "Because We Organize": "fonts-bwht",
}

# Printed-text fonts -> Debian package (for printed_page-style renders).
PRINTED_FONT_PACKAGES: dict[str, str] = {
    "DejaVu Serif": "fonts-dejavu-core",
    "DejaVu Sans": "fonts-dejavu-core",
    "Liberation Serif": "fonts-liberation",
    "Liberation Sans": "fonts-liberation",
}

# Styles that count as the "upright, normal weight" face of a family.
_REGULAR_STYLES = {"regular", "roman", "medium", "book", "normal", "standard"}
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
              Path.home() / ".local/share/fonts")
# Filename fallbacks (used when fc-list is unavailable): lower-cased stem prefix -> family.
_FILE_HINTS: dict[str, str] = {
    "dkg": "DkgHandwriting",
    "comicneue-regular": "Comic Neue",
    "becausewelearn": "Because We Learn",
    "becausewebuild": "Because We Build",
    "becauseweconnect": "Because We Connect",
    "becausewecreate": "Because We Create",
    "becausewementor": "Because We Mentor",
    "becauseweorganize": "Because We Organize",
    "femkeklaver": "femkeklaver",
    "rufscript": "Rufscript",
    "breip": "Breip",
    "kristi": "Kristi",
}
_PRINTED_FILES = ("DejaVuSerif.ttf", "DejaVuSans.ttf", "LiberationSerif-Regular.ttf",
                  "LiberationSans-Regular.ttf")


# --------------------------------------------------------------------------- fonts

def _fc_list() -> list[tuple[Path, list[str], list[str]]]:
    """(file, families, styles) for every font fontconfig knows; [] without fc-list."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "--format", "%{file}\t%{family}\t%{style}\n"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0]:
            continue
        path = Path(parts[0])
        if path.suffix.lower() not in (".ttf", ".otf"):
            continue
        rows.append((path, [f.strip() for f in parts[1].split(",")],
                     [s.strip() for s in parts[2].split(",")]))
    return rows


def _walk_font_files() -> Iterable[Path]:
    for d in _FONT_DIRS:
        if d.is_dir():
            for p in d.rglob("*"):
                if p.suffix.lower() in (".ttf", ".otf") and p.is_file():
                    yield p


def _scan_handwriting_fonts(regular_only: bool) -> dict[Path, str]:
    """Installed handwriting font files -> their FONT_PACKAGES family."""
    known = {fam.lower(): fam for fam in FONT_PACKAGES}
    found: dict[Path, str] = {}
    rows = _fc_list()
    if rows:
        for path, families, styles in rows:
            hit = [known[f.lower()] for f in families if f.lower() in known]
            if not hit:
                continue
            if regular_only and not any(s.lower() in _REGULAR_STYLES for s in styles):
                continue
            if regular_only and any(f.lower().endswith(" light") for f in families):
                continue
            found[path.resolve()] = hit[0]
    else:
        for path in _walk_font_files():
            stem = path.stem.lower()
            for prefix, fam in _FILE_HINTS.items():
                if stem.startswith(prefix):
                    if regular_only and fam == "DkgHandwriting" and stem != "dkg":
                        continue  # dkgBd / dkgIt / dkgBI
                    found[path.resolve()] = fam
                    break
    return found


def find_handwriting_fonts(*, regular_only: bool = True) -> list[Path]:
    """Installed handwriting(-like) TTF/OTF files, best test font first.

    Uses ``fc-list`` when available and otherwise walks the usual font
    directories by file name.  With ``regular_only`` (default) bold/italic/
    oblique/light faces are dropped.  Order follows :data:`FONT_PACKAGES`,
    then file name.  Returns ``[]`` when none is installed; see
    :func:`font_install_hint` for what to install.
    """
    order = {fam: i for i, fam in enumerate(FONT_PACKAGES)}
    found = _scan_handwriting_fonts(regular_only)
    return sorted(found, key=lambda p: (order[found[p]], p.name.lower()))


def find_handwriting_font(family: str) -> Path | None:
    """The installed regular face of one handwriting ``family`` (a FONT_PACKAGES key), or None."""
    if family not in FONT_PACKAGES:
        raise KeyError(f"unknown handwriting family {family!r}; known: {', '.join(FONT_PACKAGES)}")
    hits = sorted(p for p, fam in _scan_handwriting_fonts(True).items() if fam == family)
    return hits[0] if hits else None


def find_printed_font(family: str | None = None) -> Path | None:
    """A regular upright printed font (DejaVu Serif by default), or None."""
    wanted = [family] if family else list(PRINTED_FONT_PACKAGES)
    rows = _fc_list()
    for fam in wanted:
        for path, families, styles in rows:
            if fam.lower() in (f.lower() for f in families) and any(
                    s.lower() in _REGULAR_STYLES for s in styles) and len(families) == 1:
                return path
    names = _PRINTED_FILES if family is None else (family.replace(" ", "") + ".ttf",
                                                   family.replace(" ", "") + "-Regular.ttf")
    files = {p.name: p for p in _walk_font_files() if p.name in names}
    for n in names:
        if n in files:
            return files[n]
    return None


def font_install_hint(family: str | None = None) -> str:
    """What to apt-get install to get ``family`` (or any handwriting font)."""
    if family is not None:
        pkg = FONT_PACKAGES.get(family) or PRINTED_FONT_PACKAGES.get(family, "fonts-dejavu-core")
        return f"font {family!r} not installed; on Debian/Ubuntu run: apt-get install -y {pkg}"
    pkgs = sorted(set(FONT_PACKAGES.values()))
    return ("no handwriting font installed; on Debian/Ubuntu run: "
            "apt-get install -y " + " ".join(pkgs))


def require_handwriting_font(index: int = 0) -> Path:
    """The ``index``-th handwriting font, or ``pytest.skip`` with an install hint."""
    fonts = find_handwriting_fonts()
    if len(fonts) <= index:
        import pytest

        pytest.skip(font_install_hint())
    return fonts[index]


def load_font(font_path, size: int) -> ImageFont.FreeTypeFont:
    """Pillow font with the BASIC layout engine (same result with or without libraqm)."""
    return ImageFont.truetype(str(font_path), size, layout_engine=ImageFont.Layout.BASIC)


# --------------------------------------------------------------------------- rendering

def render_line(text: str, font_path, size: int = 48, pad: int = 0, *,
                bg=(255, 255, 255), ink=(0, 0, 0)) -> Image.Image:
    """A tight RGB crop of one line of text, with ``pad`` pixels of ``bg`` on each side."""
    if not text.strip():
        raise ValueError("render_line needs non-blank text")
    font = load_font(font_path, size)
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls")
    img = Image.new("RGB", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), tuple(bg))
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, font=font, fill=tuple(ink), anchor="ls")
    return img


def _rotate_points(pts: np.ndarray, angle_deg: float, old_size, new_size) -> np.ndarray:
    """Where ``Image.rotate(angle_deg, expand=True)`` sends points (x, y) of the old image."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    ocx, ocy = old_size[0] / 2.0, old_size[1] / 2.0
    ncx, ncy = new_size[0] / 2.0, new_size[1] / 2.0
    dx, dy = pts[:, 0] - ocx, pts[:, 1] - ocy
    # counter-clockwise on screen, with y pointing down
    return np.stack([ncx + dx * c + dy * s, ncy - dx * s + dy * c], axis=1)


def render_note(
    lines: Sequence[str],
    font_path,
    *,
    size: int = 48,
    line_spacing: float = 1.6,
    paragraph_gap_lines: Iterable[int] = (),
    margin: int = 80,
    rotation_deg: float = 0.0,
    noise: float = 0.0,
    ruled: bool = False,
    seed: int = 0,
    bg=(250, 248, 240),
    ink=(25, 25, 90),
    width: int | None = None,
    jitter: float = 0.0,
    blur: float = 0.0,
    shading: float = 0.0,
) -> tuple[Image.Image, list[Box]]:
    """Render a note; return ``(rgb_image, boxes)``.

    * ``lines``: one string per written line; ``""`` (or whitespace) is a blank
      line, i.e. a paragraph break rendered as an empty line slot.
    * ``paragraph_gap_lines``: indices into ``lines`` *before* which one extra
      empty slot is inserted (another way to make a paragraph gap).
    * ``boxes``: one ``(x0, y0, x1, y1)`` per **non-blank** line, in order, in
      pixels of the returned image (ink bounding box; after rotation, the
      axis-aligned box of the rotated ink box, clipped to the image).  Pair
      them with ``[l for l in lines if l.strip()]``.
    * ``width``: image width; default fits the longest line plus margins.
    * ``jitter``: per-line baseline / x-offset wobble, 1.0 = "natural"
      (about +-5% / +-25% of ``size``); 0 disables it.
    * ``noise``: std-dev of additive gaussian pixel noise as a fraction of 255
      (0.02-0.04 looks like a phone photo).
    * ``blur``: gaussian blur radius in pixels applied to the page before rotation.
    * ``shading``: strength (0-1) of uneven lighting: a soft gradient/vignette.
    * ``ruled``: pale blue notebook rules under every line slot and a red margin line.
    * ``rotation_deg``: counter-clockwise rotation; the canvas grows to fit,
      filled with ``bg``.
    """
    rng = np.random.default_rng(seed)
    font = load_font(font_path, size)
    gaps = set(paragraph_gap_lines)
    pitch = size * line_spacing
    ascent, descent = font.getmetrics()

    # Lay out: one slot per line plus extra gap slots.
    slots: list[str | None] = []
    for i, text in enumerate(lines):
        if i in gaps:
            slots.append(None)
        slots.append(text if text.strip() else None)

    text_w = max((font.getbbox(t, anchor="ls")[2] for t in slots if t), default=0)
    jx = 0.25 * size * jitter
    jy = 0.05 * size * jitter
    W = width if width is not None else int(math.ceil(text_w + 2 * margin + jx))
    top = margin + ascent  # baseline of slot 0
    H = int(math.ceil(top + (len(slots) - 1) * pitch + descent + margin)) if slots else 2 * margin

    img = Image.new("RGB", (W, H), tuple(bg))
    draw = ImageDraw.Draw(img)

    if ruled:
        rule = tuple(int(b * 0.55 + r * 0.45) for b, r in zip(bg, (120, 160, 220)))
        red = tuple(int(b * 0.45 + r * 0.55) for b, r in zip(bg, (220, 90, 90)))
        y = top + descent * 0.35
        while y < H - descent:
            draw.line([(0, round(y)), (W, round(y))], fill=rule, width=max(1, size // 30))
            y += pitch
        mx = max(4, int(margin * 0.6))
        draw.line([(mx, 0), (mx, H)], fill=red, width=max(1, size // 24))

    boxes: list[Box] = []
    for k, text in enumerate(slots):
        # draw the jitter for every slot so a line's wobble doesn't depend on its neighbours' text
        ox, oy = rng.uniform(0, 1), rng.uniform(-1, 1)
        if text is None:
            continue
        x = margin + ox * jx
        yb = top + k * pitch + oy * jy
        draw.text((x, yb), text, font=font, fill=tuple(ink), anchor="ls")
        boxes.append(tuple(int(round(v)) for v in draw.textbbox((x, yb), text, font=font, anchor="ls")))

    if blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(blur))

    if rotation_deg:
        old = img.size
        img = img.rotate(rotation_deg, resample=Image.BICUBIC, expand=True, fillcolor=tuple(bg))
        new_boxes = []
        for x0, y0, x1, y1 in boxes:
            pts = _rotate_points(np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], float),
                                 rotation_deg, old, img.size)
            nx0, ny0 = np.floor(pts.min(axis=0))
            nx1, ny1 = np.ceil(pts.max(axis=0))
            new_boxes.append((max(0, int(nx0)), max(0, int(ny0)),
                              min(img.width, int(nx1)), min(img.height, int(ny1))))
        boxes = new_boxes

    if shading > 0 or noise > 0:
        arr = np.asarray(img, dtype=np.float32)
        h, w = arr.shape[:2]
        if shading > 0:
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
            r2 = ((xx - cx) / w) ** 2 + ((yy - cy) / h) ** 2
            tilt = rng.uniform(-1, 1) * (xx / w - 0.5) + rng.uniform(-1, 1) * (yy / h - 0.5)
            light = 1.0 - shading * (0.6 * r2 + 0.12 * tilt + 0.06)
            arr *= light[..., None]
        if noise > 0:
            arr += rng.normal(0.0, noise * 255.0, size=arr.shape).astype(np.float32)
        img = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")

    return img, boxes


def blank_pdf(pages: int, size: tuple[int, int] = (200, 260), resolution: float = 30) -> bytes:
    """A PDF of ``pages`` white pages (``size`` pixels at ``resolution`` dpi: 200x260 at 30 dpi is
    Letter-ish), a few hundred bytes a page: what a page-count attack sends."""
    import io

    blank = [Image.new("RGB", size, "white") for _ in range(pages)]
    buf = io.BytesIO()
    blank[0].save(buf, format="PDF", save_all=True, append_images=blank[1:], resolution=resolution)
    return buf.getvalue()
