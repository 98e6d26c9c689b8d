"""More hands for the synthetic lines: handwriting and cursive fonts from Google Fonts (all under the SIL
Open Font License), as the Fontsource project packages them on the npm registry. Debian packages
about sixteen usable handwriting fonts; these add 38, among them the joined, sloped cursives of
19th- and early 20th-century letters (Alex Brush, Herr Von Muellerhoff, Mr De Haviland, Homemade
Apple, Pinyon Script...) that no Debian font resembles.

Training only, never at run time: ``python -m inkread.training fonts --work train-work`` fetches each
pinned package with ``npm pack`` (the npm client, as pip fetches torch) and joins its Latin and
Latin Extended subsets (WOFF, regular weight) into one TrueType file with fontTools, the same bytes
every time; their SHA-256 are written beside them (``SHA256SUMS``). ``train --fonts train-work/fonts``
renders with them beside Debian's.
"""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
import tempfile
from pathlib import Path

__all__ = ["NPM_FONTS", "VERSION", "fetch", "fetched", "fonts_dir"]

VERSION = "5.3.0"
# Fontsource package names (@fontsource/NAME). Left out after a look at each: Rock Salt (capitals
# only), Delius (a print sans).
NPM_FONTS = (
    "alex-brush",
    "allura",
    "annie-use-your-telescope",
    "architects-daughter",
    "bad-script",
    "caveat",
    "cedarville-cursive",
    "cookie",
    "covered-by-your-grace",
    "damion",
    "gloria-hallelujah",
    "gochi-hand",
    "grand-hotel",
    "great-vibes",
    "handlee",
    "herr-von-muellerhoff",
    "homemade-apple",
    "indie-flower",
    "italianno",
    "kalam",
    "marck-script",
    "monsieur-la-doulaise",
    "mr-de-haviland",
    "neucha",
    "parisienne",
    "patrick-hand",
    "pinyon-script",
    "reenie-beanie",
    "sacramento",
    "satisfy",
    "schoolbell",
    "shadows-into-light",
    "short-stack",
    "sue-ellen-francisco",
    "swanky-and-moo-moo",
    "tangerine",
    "the-girl-next-door",
    "yellowtail",
)


def fonts_dir(work: str | Path) -> Path:
    """Where ``python -m inkread.training fonts`` (and ``all``) keeps the fetched fonts."""
    return Path(work) / "fonts"


def _merge(parts: list[Path], out: Path) -> None:
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    ttfs = []
    for part in parts:
        font = TTFont(str(part), recalcTimestamp=False)  # the same bytes every time: a stable hash
        font.flavor = None
        ttf = part.with_suffix(".ttf")
        font.save(str(ttf))
        ttfs.append(str(ttf))
    merged = Merger().merge(ttfs) if len(ttfs) > 1 else TTFont(ttfs[0], recalcTimestamp=False)
    merged.recalcTimestamp = False
    first = TTFont(ttfs[0])["head"]
    merged["head"].created, merged["head"].modified = first.created, first.modified  # the merger stamps the time
    merged.save(str(out))


def fetch(dest: Path, names=NPM_FONTS, log=print) -> list[Path]:
    """Each font of ``names`` as ``dest/NAME.ttf`` (fetched once; kept after). Returns the files and
    writes ``dest/SHA256SUMS``."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    if shutil.which("npm") is None and not all((dest / f"{n}.ttf").is_file() for n in names):
        raise RuntimeError(
            "the npm client is needed to fetch the fonts (apt-get install -y npm), "
            "or train with Debian's fonts alone (--no-fonts)"
        )
    out = []
    for name in names:
        ttf = dest / f"{name}.ttf"
        if not ttf.is_file():
            with tempfile.TemporaryDirectory(prefix="inkread-font-") as tmp:
                subprocess.run(
                    ["npm", "pack", "--silent", f"@fontsource/{name}@{VERSION}"],
                    cwd=tmp,
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
                tgz = next(Path(tmp).glob("*.tgz"))
                parts = []
                with tarfile.open(tgz) as tar:
                    for sub in ("latin", "latin-ext"):
                        member = f"package/files/{name}-{sub}-400-normal.woff"
                        try:
                            data = tar.extractfile(member)
                        except KeyError:
                            continue
                        assert data is not None  # the package's font files are regular files
                        part = Path(tmp) / f"{sub}.woff"
                        part.write_bytes(data.read())
                        parts.append(part)
                if not parts:
                    raise RuntimeError(f"@fontsource/{name}@{VERSION} has no Latin regular WOFF")
                _merge(parts, ttf)
            log(f"font {name}: {ttf}")
        out.append(ttf)
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in out)
    (dest / "SHA256SUMS").write_text(sums)
    return out


def fetched(dest: str | Path | None) -> tuple[tuple[str, str], ...]:
    """The fetched fonts in ``dest`` as synth's (file, package) pairs; none when ``dest`` is empty."""
    if not dest:
        return ()
    return tuple((str(p), f"npm:@fontsource/{p.stem}@{VERSION}") for p in sorted(Path(dest).glob("*.ttf")))
