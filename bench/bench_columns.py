#!/usr/bin/env python3
"""Two-column scans in column order (issue 23): scanned-style pages of real two-column LaTeX
documents, read by inkread (PRINTED), Tesseract and raw RapidOCR, scored against each PDF page's own
text layer, in one run.

    .venv/bin/python bench/bench_columns.py --fetch-only            # download + unpack the packages
    INKREAD_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python bench/bench_columns.py --run cols1
    .venv/bin/python bench/bench_columns.py --docs ltnews35,ftnright --systems inkread --run quick

The documents: PDFs shipped in Debian's TeX Live documentation packages (``APT_PACKAGES``; about
300 MB of .deb files), fetched by this script with ``apt-get download`` (no root needed) and
unpacked with ``dpkg-deb -x`` under ``bench/out/columns/`` (git ignores ``bench/out/``). inkread
itself never fetches anything. Every document is LaTeX's own two-column output (LPPL, see
``DOCS``): running heads across both columns, headings, footnotes, code, lists and a figure.

The pages: each rendered at 300 dpi in grey (``pdftoppm``), then "scanned": turned 0.5-1 degree
either way, paper tone and ink not quite black, blurred, noised, saved as JPEG quality 75; every
step is drawn from a seed per page, so each run makes the same images.

The truth: ``pdftotext -raw`` of the page, the order of the PDF's content stream, which for LaTeX's
two-column pages is the column order (head, left column and its footnotes, right column, foot),
NFKC-normalised (ligatures). CER (``inkread.metrics.cer``: whitespace collapsed, so line breaks do
not count) is order-sensitive: a page read across the columns scores 0.5-0.7.

Output: ``bench/out/columns/<run>/pages.tsv`` (one row per page and system), ``summary.md`` (also
printed) and ``hyp/<system>/<page>.txt``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "bench" / "out" / "columns"

#: The Debian packages the documents come from (Debian 12 "bookworm"; any release that ships them).
APT_PACKAGES = ("texlive-latex-base-doc", "texlive-publishers-doc")
_DOC = "usr/share/doc/texlive-doc"


@dataclass(frozen=True)
class Doc:
    key: str
    package: str
    path: str  # inside the package
    pages: tuple[int, ...]
    licence: str
    what: str


DOCS = (
    Doc(
        "ltnews35",
        "texlive-latex-base-doc",
        f"{_DOC}/latex/base/ltnews35.pdf",
        (2, 3, 4),
        "LPPL 1.3c",
        "LaTeX News 35: prose, code, a running foot",
    ),
    Doc(
        "ftnright",
        "texlive-latex-base-doc",
        f"{_DOC}/latex/tools/ftnright.pdf",
        (1, 2, 3),
        "LPPL 1.3c",
        "ftnright: a title across both columns, footnotes under the right column",
    ),
    Doc(
        "babelbib",
        "texlive-latex-base-doc",
        f"{_DOC}/bibtex/babelbib/tugboat-babelbib.pdf",
        (1, 2, 3),
        "LPPL 1",
        "a TUGboat article: running heads, footnotes, a grey DRAFT watermark",
    ),
    Doc(
        "sigconf",
        "texlive-publishers-doc",
        f"{_DOC}/latex/acmart/samples/sample-sigconf.pdf",
        (1, 2, 3),
        "LPPL 1.3",
        "ACM conference sample: authors, a figure, abstract across the columns",
    ),
    Doc(
        "auguide",
        "texlive-publishers-doc",
        f"{_DOC}/latex/revtex/auguide/auguide4-2.pdf",
        (2, 3, 4),
        "LPPL 1.3c",
        "REVTeX author's guide: running heads, lists, tables",
    ),
    Doc(
        "ltubguid",
        "texlive-publishers-doc",
        f"{_DOC}/latex/tugboat/ltubguid.pdf",
        (1, 2, 3),
        "LPPL 1.3",
        "the TUGboat class guide: running heads, code, a title across the columns",
    ),
)


def fetch(packages: tuple[str, ...] = APT_PACKAGES, cache: Path = CACHE) -> None:
    """Download and unpack ``packages`` under ``cache`` (each once)."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for package in packages:
        root = cache / "root" / package
        if root.is_dir():
            continue
        if not list(debs.glob(f"{package}_*.deb")):
            print(f"apt-get download {package}", file=sys.stderr)
            subprocess.run(["apt-get", "download", package], cwd=debs, check=True)
        (deb,) = debs.glob(f"{package}_*.deb")
        tmp = root.with_suffix(".part")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        tmp.rename(root)


def pdf_of(doc: Doc, cache: Path = CACHE) -> Path:
    return cache / "root" / doc.package / doc.path


def truth(pdf: Path, page: int) -> str:
    """The page's text layer in content-stream order (LaTeX's column order), ligatures expanded."""
    out = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return unicodedata.normalize("NFKC", out.replace("\f", "\n")).strip()


def scanned(grey: np.ndarray, seed: int) -> np.ndarray:
    """A clean grey render made to look scanned: turned, toned, blurred, noised (JPEG is the caller's)."""
    rng = np.random.default_rng(seed)
    h, w = grey.shape
    angle = float(rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0]))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    img = cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255).astype(np.float32)
    ink = float(rng.uniform(0.8, 0.92))  # ink not quite black
    paper = float(rng.uniform(225, 245))  # paper not quite white, a little brighter on one side
    ramp = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * float(rng.uniform(3, 8))
    img = paper + ramp - (255.0 - img) / 255.0 * ink * paper
    img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.7, 1.1)))
    img = img + rng.normal(0.0, float(rng.uniform(5, 9)), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_page(doc: Doc, page: int, folder: Path, cache: Path = CACHE) -> tuple[Path, str]:
    """The scanned-style image of ``doc``'s ``page`` (made once) and its truth."""
    folder.mkdir(parents=True, exist_ok=True)
    image = folder / f"{doc.key}-p{page}.jpg"
    pdf = pdf_of(doc, cache)
    if not image.is_file():
        stem = folder / f"{doc.key}-p{page}-clean"
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "300",
                "-gray",
                "-png",
                "-singlefile",
                "-f",
                str(page),
                "-l",
                str(page),
                str(pdf),
                str(stem),
            ],
            check=True,
        )
        clean = stem.with_suffix(".png")
        grey = cv2.imread(str(clean), cv2.IMREAD_GRAYSCALE)
        clean.unlink()
        seed = zlib.crc32(f"{doc.key}:{page}".encode())
        ok, data = cv2.imencode(".jpg", scanned(grey, seed), [cv2.IMWRITE_JPEG_QUALITY, 75])
        assert ok
        image.write_bytes(data.tobytes())
    return image, truth(pdf, page)


def _runners(systems: list[str]) -> dict[str, Callable[[Path], str]]:
    from inkread.evaluate.runners import make_runner

    runners: dict[str, Callable[[Path], str]] = {}
    for system in systems:
        runner = make_runner(system, mode="printed")
        runners[system] = lambda path, r=runner: r.recognize(path, kind="print-page", language="en")
    return runners


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--fetch-only", action="store_true", help="download and unpack the packages, then stop")
    ap.add_argument("--docs", default=",".join(d.key for d in DOCS), help="documents (keys of DOCS)")
    ap.add_argument("--systems", default="inkread,tesseract,rapidocr")
    ap.add_argument("--run", default="columns", help="run name: bench/out/columns/<run>/")
    ap.add_argument("--cache", type=Path, default=CACHE)
    args = ap.parse_args(argv)
    docs = [d for d in DOCS if d.key in args.docs.split(",")]
    fetch(tuple(sorted({d.package for d in docs})), args.cache)
    if args.fetch_only:
        return 0
    from inkread.metrics import cer

    systems = args.systems.split(",")
    out = args.cache / args.run
    pages = [(d, p, *make_page(d, p, args.cache / "pages", args.cache)) for d in docs for p in d.pages]
    runners = _runners(systems)
    rows = []
    for doc, page, image, ref in pages:
        row: dict[str, float | str] = {"doc": doc.key, "page": page}
        for system, read in runners.items():
            t0 = time.perf_counter()
            text = read(image)
            row[f"{system}_s"] = time.perf_counter() - t0
            row[system] = cer(ref, text)
            hyp = out / "hyp" / system / f"{doc.key}-p{page}.txt"
            hyp.parent.mkdir(parents=True, exist_ok=True)
            hyp.write_text(text, encoding="utf-8")
        rows.append(row)
        print(
            "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
            file=sys.stderr,
            flush=True,
        )
    (out / "pages.tsv").write_text(_tsv(rows), encoding="utf-8")
    summary = _summary(rows, docs, systems)
    (out / "summary.md").write_text(summary, encoding="utf-8")
    print(summary)
    return 0


def _tsv(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["\t".join(keys)] + [
        "\t".join(f"{r[k]:.4f}" if isinstance(r[k], float) else str(r[k]) for k in keys) for r in rows
    ]
    return "\n".join(lines) + "\n"


def _summary(rows: list[dict], docs: list[Doc], systems: list[str]) -> str:
    head = ["document", "pages"] + [f"CER {s}" for s in systems] + [f"s/page {s}" for s in systems]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def line(label: str, group: list[dict]) -> str:
        cells = [label, str(len(group))]
        cells += [f"{np.mean([r[s] for r in group]):.3f}" for s in systems]
        cells += [f"{np.mean([r[s + '_s'] for r in group]):.1f}" for s in systems]
        return "| " + " | ".join(cells) + " |"

    for doc in docs:
        group = [r for r in rows if r["doc"] == doc.key]
        if group:
            lines.append(line(doc.key, group))
    lines.append(line(f"**all ({len(docs)} documents)**", rows))
    if "inkread" in systems and "tesseract" in systems:
        ratio = np.mean([r["inkread"] for r in rows]) / max(1e-9, np.mean([r["tesseract"] for r in rows]))
        worse = sum(r["inkread"] > 1.1 * r["tesseract"] + 0.005 for r in rows)
        lines.append(
            f"\ninkread / Tesseract mean CER: {ratio:.2f}; pages where inkread's CER is over 1.1x "
            f"Tesseract's (+0.005): {worse} of {len(rows)}"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    os.environ.setdefault("INKREAD_THREADS", "1")
    sys.exit(main())
