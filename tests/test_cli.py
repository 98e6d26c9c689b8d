"""Tests for the ``inkread`` command line and the batch helpers behind it.

Most tests call ``inkread.cli.main([...])`` in-process; a few run the installed ``inkread`` console
script in a subprocess to prove the entry point, the exit codes and that no traceback ever reaches
stderr. Tests of the plumbing (outputs, folders, formats, errors, progress) read with the fake
recogniser (``tests/fakes.py``: "page N WxH" for each page, no model loaded); real recognition reads
the example note once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from fakes import fake_env, fake_read

import inkread
from inkread import cli
from inkread.batch import BatchItem, InputFile, expand_inputs, iter_results, walk_inputs
from inkread.exceptions import (
    CorruptInputError,
    EmptyInputError,
    EncryptedPdfError,
    ImageTooLargeError,
    InputError,
    PageSelectionError,
    UnsupportedFormatError,
    UnsupportedLanguageError,
)
from inkread.metrics import cer

ROOT = Path(__file__).resolve().parents[1]
NOTE = ROOT / "examples" / "handwritten_note.jpg"
NOTE_TRUTH = ROOT / "examples" / "handwritten_note.txt"
LINES = ROOT / "tests" / "data" / "synth" / "lines"
ENCRYPTED_PDF = ROOT / "tests" / "data" / "io" / "encrypted.pdf"
SCRIPT = Path(sys.executable).with_name("inkread")

# Small one-line images, with what the fake recogniser reads on each
WATER = (LINES / "dkg_01.png", fake_read(LINES / "dkg_01.png"))
INVOICE = (LINES / "dejavuserif_01.png", fake_read(LINES / "dejavuserif_01.png"))
STAMPS = (LINES / "rufscript_02.png", fake_read(LINES / "rufscript_02.png"))


@pytest.fixture(autouse=True)
def _local_engine(monkeypatch):
    """Always the local engine, in this process (monkeypatches reach it), no debug tracebacks,
    unless a test asks (tests/test_batch.py runs the worker pool)."""
    monkeypatch.setenv("INKREAD_JOBS", "1")
    monkeypatch.delenv("INKREAD_URL", raising=False)
    monkeypatch.delenv("INKREAD_DEBUG", raising=False)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([os.fspath(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_one_error_line(err: str, *needles: str) -> None:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("inkread: error: "), err
    for needle in needles:
        assert needle in lines[0], err


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb, in miniature)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


# ----------------------------------------------------------------------------------------------
# version, help, languages


def test_version(capsys):
    code, out, err = run_cli(capsys, "--version")
    assert code == 0
    assert out == f"inkread {inkread.__version__}\n"
    assert err == ""


def test_help_documents_every_exit_code(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    assert "exit codes:" in out and "languages" in out
    for exit_code, _text in cli.EXIT_CODES:
        assert f"  {exit_code:>3}  " in out
    for exc in (EmptyInputError, UnsupportedFormatError, CorruptInputError, EncryptedPdfError,
                ImageTooLargeError, PageSelectionError, UnsupportedLanguageError):
        assert exc.exit_code in dict(cli.EXIT_CODES)


def test_languages_table(capsys):
    code, out, err = run_cli(capsys, "languages")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "BACKEND", "MODES", "TESSERACT", "PACK"]
    table = lines[1 : lines.index("")]
    rows = {line.split()[0]: line for line in table}
    assert len(rows) == len(inkread.supported_languages())
    assert "French" in rows["fr"] and "pp-ocrv6" in rows["fr"] and "handwritten" in rows["fr"]
    # which Tesseract packs are installed, and the apt package for the others
    from inkread.backends.tesseract import installed_languages

    installed = installed_languages()
    assert rows["el"].endswith("installed") == ("ell" in installed)
    if "grc" not in installed:
        assert rows["grc"].endswith("apt-get install tesseract-ocr-grc")
    assert lines[-1].startswith(f"{sum(r.endswith(' installed') for r in table)} of {len(rows)} languages")


def test_unknown_language_is_one_short_line_with_the_closest(capsys):
    """An unknown --lang printed all 124 languages on one line (issue 26): now the closest ones."""
    code, _, err = run_cli(capsys, "x.png", "--lang", "germn")
    assert code == inkread.exceptions.UnsupportedLanguageError.exit_code
    assert err.count("\n") == 1 and len(err) < 200, err
    assert "did you mean de (German)" in err and "'inkread languages' lists all" in err
    code, _, err = run_cli(capsys, "x.png", "--lang", "qqqqqq")
    assert err.count("\n") == 1 and "did you mean" not in err and "inkread languages" in err


def test_languages_json(capsys):
    code, out, _ = run_cli(capsys, "languages", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data[0]["code"] == "en"
    assert {"code", "name", "backend", "modes", "tesseract_installed", "tesseract_package"} <= set(data[0])
    assert data[0]["tesseract_package"] == "tesseract-ocr-eng"
    by_code = {d["code"]: d for d in data}
    assert by_code["fr"]["backend"] == "pp-ocrv6" and by_code["el"]["backend"] == "tesseract"
    assert all(d["backend"] == d["backends"][0] for d in data)


def test_usage_error_exit_2(capsys):
    code, out, err = run_cli(capsys)
    assert code == 2 and out == ""
    assert "usage:" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, str(WATER[0]), "--mode", "sideways")
    assert code == 2 and "invalid choice" in err


def test_existing_file_named_like_a_command_is_an_input(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("languages").write_bytes(b"")  # an empty file: read as an input, so EmptyInputError
    code, out, err = run_cli(capsys, "languages")
    assert code == EmptyInputError.exit_code
    assert_one_error_line(err, "languages")


# ----------------------------------------------------------------------------------------------
# real recognition


def test_handwritten_note_text(capsys):
    """The example note, end to end; its ground truth is exact, so CER is measured (about 0.005)."""
    before = sha256(NOTE)
    code, out, err = run_cli(capsys, NOTE, "--mode", "handwritten")
    assert code == 0
    assert err == ""
    assert cer(NOTE_TRUTH.read_text(encoding="utf-8"), out) < 0.15
    assert sha256(NOTE) == before


def test_json_single_file(fake, capsys):
    path, text = WATER
    code, out, err = run_cli(capsys, path, "--format", "json", "--lang", "english")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert isinstance(data, dict)
    assert data["text"] == text
    assert data["language"] == "en"
    assert data["source"] == str(path)
    assert len(data["pages"]) == 1
    line = data["pages"][0]["lines"][0]
    assert line["text"] == text and line["words"] and len(line["bbox"]) == 4


def test_several_files_text_headers_and_json_array(fake, capsys):
    code, out, err = run_cli(capsys, WATER[0], INVOICE[0])
    assert code == 0 and err == ""
    assert out == f"==> {WATER[0]} <==\n{WATER[1]}\n\n==> {INVOICE[0]} <==\n{INVOICE[1]}\n"
    code, out, err = run_cli(capsys, WATER[0], INVOICE[0], "-f", "json")
    assert code == 0
    assert [r["text"] for r in json.loads(out)] == [WATER[1], INVOICE[1]]


def test_output_dir_for_several_files(fake, capsys, tmp_path):
    a = copy(WATER[0], tmp_path / "in" / "water.png")
    b = copy(INVOICE[0], tmp_path / "in" / "invoice.png")
    hashes = {p: sha256(p) for p in (a, b)}
    out_dir = tmp_path / "texts"  # does not exist yet
    code, out, err = run_cli(capsys, a, b, "-o", out_dir, "--progress")
    assert code == 0 and out == ""
    assert "Traceback" not in err and "file" in err  # the forced progress bar
    assert sorted(p.name for p in out_dir.iterdir()) == ["invoice.txt", "water.txt"]
    assert (out_dir / "water.txt").read_text(encoding="utf-8") == WATER[1] + "\n"
    assert (out_dir / "invoice.txt").read_text(encoding="utf-8") == INVOICE[1] + "\n"
    assert {p: sha256(p) for p in (a, b)} == hashes  # inputs untouched
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".")]  # no temp files left


def test_output_format_from_suffix(fake, capsys, tmp_path):
    path, text = INVOICE
    code, _, err = run_cli(capsys, path, "-o", tmp_path / "r.json")
    assert code == 0 and err == ""
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["text"] == text
    code, _, _ = run_cli(capsys, path, "-o", tmp_path / "r.txt")
    assert code == 0
    assert (tmp_path / "r.txt").read_text(encoding="utf-8") == text + "\n"
    code, _, _ = run_cli(capsys, path, WATER[0], "-o", tmp_path / "json-dir", "-f", "json")
    assert code == 0
    assert json.loads((tmp_path / "json-dir" / "dejavuserif_01.json").read_text())["text"] == text


def test_directory_walk_reports_bad_file_and_goes_on(fake, capsys, tmp_path):
    d = tmp_path / "notes"
    copy(WATER[0], d / "page10.png")
    copy(INVOICE[0], d / "page2.png")
    copy(STAMPS[0], d / "sub" / "list.png")
    (d / "x.png").write_text("not an image at all\n")  # named like an image: must be reported
    (d / "README.md").write_text("# notes\n")  # not an image: skipped silently
    copy(WATER[0], d / ".hidden.png")  # hidden: skipped
    copy(WATER[0], d / ".cache" / "thumb.png")  # in a hidden folder: skipped
    code, out, err = run_cli(capsys, d)
    assert code == cli.EXIT_SOME_FAILED == 15
    assert_one_error_line(err, "x.png", "not a supported image or PDF")
    headers = [line for line in out.splitlines() if line.startswith("==> ")]
    assert headers == [f"==> {d / 'page2.png'} <==", f"==> {d / 'page10.png'} <==",
                       f"==> {d / 'sub' / 'list.png'} <=="]  # natural order, recursive
    assert WATER[1] in out and INVOICE[1] in out and STAMPS[1] in out


def test_output_dir_mirrors_walked_folders(fake, capsys, tmp_path):
    d = tmp_path / "scans"
    copy(WATER[0], d / "a" / "n.png")
    copy(INVOICE[0], d / "b" / "n.png")
    out_dir = tmp_path / "out"
    code, _, err = run_cli(capsys, d, "-o", out_dir, "-q")
    assert code == 0 and err == ""
    assert (out_dir / "a" / "n.txt").read_text() == WATER[1] + "\n"
    assert (out_dir / "b" / "n.txt").read_text() == INVOICE[1] + "\n"


# ----------------------------------------------------------------------------------------------
# bad inputs: exact exit code, one line on stderr, nothing on stdout


@pytest.fixture
def bad_inputs(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("this is a plain text file\n")
    (tmp_path / "truncated.jpg").write_bytes(NOTE.read_bytes()[:3000])
    (tmp_path / "huge.png").write_bytes(png_claiming(30000, 30000))
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "expected", "needle"),
    [
        (["missing.jpg"], 2, "No such file"),
        (["empty.jpg"], EmptyInputError.exit_code, "empty"),
        (["text.jpg"], UnsupportedFormatError.exit_code, "not a supported image or PDF"),
        (["truncated.jpg"], CorruptInputError.exit_code, "truncated"),
        ([str(ENCRYPTED_PDF)], EncryptedPdfError.exit_code, "password-protected"),
        (["huge.png"], ImageTooLargeError.exit_code, "too large"),
        ([str(WATER[0]), "--pages", "0"], PageSelectionError.exit_code, "numbered from 1"),
        ([str(WATER[0]), "--pages", "2-3"], PageSelectionError.exit_code, "has 1 page"),
        ([str(WATER[0]), "--lang", "klingon"], UnsupportedLanguageError.exit_code, "klingon"),
    ],
    ids=["missing", "empty", "text-as-jpg", "truncated-jpeg", "encrypted-pdf", "too-large",
         "pages-syntax", "pages-range", "unknown-lang"],
)
def test_bad_input(capsys, monkeypatch, bad_inputs, argv, expected, needle):
    monkeypatch.chdir(bad_inputs)
    code, out, err = run_cli(capsys, *argv)
    assert code == expected
    assert out == ""
    assert_one_error_line(err, needle)


def test_all_failed_alike_keeps_the_code_mixed_gives_15(capsys, bad_inputs, monkeypatch):
    monkeypatch.chdir(bad_inputs)
    code, _, err = run_cli(capsys, "missing.jpg", "gone.png")
    assert code == 2 and len(err.splitlines()) == 2 and "Traceback" not in err
    code, _, err = run_cli(capsys, "empty.jpg", "missing.jpg")
    assert code == 15 and len(err.splitlines()) == 2


def test_empty_folder_is_an_input_error(capsys, tmp_path):
    (tmp_path / "notes.md").write_text("no images here")
    code, out, err = run_cli(capsys, tmp_path)
    assert code == InputError.exit_code and out == ""
    assert_one_error_line(err, "no image or PDF files")


def test_refuses_to_overwrite_the_input(fake, capsys, tmp_path):
    src = copy(WATER[0], tmp_path / "note.png")
    before = sha256(src)
    code, out, err = run_cli(capsys, src, "-o", src)
    assert code == 2 and out == ""
    assert_one_error_line(err, "refusing to write")
    # an image named .txt, read from a folder whose outputs would land on it
    sneaky = copy(INVOICE[0], tmp_path / "scan.txt")
    sneaky_hash = sha256(sneaky)
    code, _, err = run_cli(capsys, src, sneaky, "-o", tmp_path)
    assert code == 2
    assert_one_error_line(err, "refusing to write")
    assert sha256(src) == before and sha256(sneaky) == sneaky_hash


def test_unwritable_output_is_exit_74(fake, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, WATER[0], "-o", blocker / "out.txt")
    assert code == cli.EXIT_WRITE == 74
    assert_one_error_line(err, "cannot write")


def test_internal_error_is_one_line_exit_70(capsys, monkeypatch):
    def boom(self, source=None, **options):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(inkread.OcrEngine, "recognize", boom)
    code, out, err = run_cli(capsys, WATER[0])
    assert code == 70 and out == ""
    assert_one_error_line(err, "internal error", "kaboom", "INKREAD_DEBUG=1")
    monkeypatch.setenv("INKREAD_DEBUG", "1")
    code, _, err = run_cli(capsys, WATER[0])
    assert code == 70 and "Traceback" in err and "kaboom" in err


def test_interrupt_is_exit_130(capsys, monkeypatch):
    def interrupted(self, source=None, **options):
        raise KeyboardInterrupt

    monkeypatch.setattr(inkread.OcrEngine, "recognize", interrupted)
    code, _, err = run_cli(capsys, WATER[0], INVOICE[0])
    assert code == 130
    assert err == "inkread: interrupted\n"


# ----------------------------------------------------------------------------------------------
# batch helpers (a fake engine: no models)


class FakeEngine:
    def __init__(self):
        self.calls = []

    def recognize(self, source, **options):
        self.calls.append((source, options))
        if source.endswith("bad.png"):
            raise CorruptInputError(f"{source} is damaged")
        return f"text of {Path(source).name}"


def test_expand_inputs_order_hidden_and_duplicates(tmp_path):
    for name in ("p10.png", "p2.png", "p1.png", ".h.png", "sub/z.jpg", ".git/x.png"):
        copy(WATER[0], tmp_path / name)
    (tmp_path / "notes.txt").write_text("hi")  # text content, text name: not an input
    (tmp_path / "plain").write_bytes(INVOICE[0].read_bytes())  # no extension, PNG content: taken
    files = expand_inputs([tmp_path, tmp_path / "p2.png", "missing.png"])
    names = [p.relative_to(tmp_path).as_posix() if p.is_relative_to(tmp_path) else str(p) for p in files]
    assert names == ["p1.png", "p2.png", "p10.png", "plain", "sub/z.jpg", "missing.png"]
    walked = walk_inputs([tmp_path])
    assert walked[-1] == InputFile(tmp_path / "sub" / "z.jpg", tmp_path)
    assert walked[-1].relative == Path("sub/z.jpg")
    assert walk_inputs(walked) == walked  # expanding again changes nothing


def test_iter_results_captures_errors_and_goes_on(tmp_path):
    good = copy(WATER[0], tmp_path / "good.png")
    bad = copy(WATER[0], tmp_path / "bad.png")
    engine = FakeEngine()
    items = list(iter_results(engine, [good, bad, tmp_path / "missing.png"], {"mode": "printed"}))
    assert [i.ok for i in items] == [True, False, True]  # the fake engine does not check paths
    assert isinstance(items[1], BatchItem) and isinstance(items[1].error, CorruptInputError)
    assert items[0].result == "text of good.png"
    assert engine.calls[0][1] == {"mode": "printed"}
    assert len(engine.calls) == 3


# ----------------------------------------------------------------------------------------------
# the installed console script, in a subprocess


def _subprocess_env(base: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in (base or os.environ).items() if k not in ("INKREAD_URL", "INKREAD_DEBUG")}
    return env


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed")
def test_console_script_success_and_failure(tmp_path):
    d = tmp_path / "in"
    copy(WATER[0], d / "a.png")
    (d / "b.png").write_bytes(b"")
    proc = subprocess.run([str(SCRIPT), str(d), "--quiet"], capture_output=True, text=True,
                          env=_subprocess_env(fake_env()), timeout=300)
    assert proc.returncode == 15, proc.stderr
    assert f"==> {d / 'a.png'} <==\n{WATER[1]}\n" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [f"inkread: error: {d / 'b.png'} is empty (0 bytes)"]


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed")
def test_console_script_error_exit_codes(tmp_path):
    proc = subprocess.run([str(SCRIPT), str(tmp_path / "nope.jpg")], capture_output=True, text=True,
                          env=_subprocess_env(), timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == f"inkread: error: {tmp_path / 'nope.jpg'}: No such file or directory\n"
    proc = subprocess.run([sys.executable, "-m", "inkread", str(ENCRYPTED_PDF)], capture_output=True,
                          text=True, env=_subprocess_env(), timeout=120)
    assert proc.returncode == EncryptedPdfError.exit_code
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_progress_bar_counts_pages_and_log_lines_stay_whole(fake, capsys, monkeypatch):
    import logging
    import warnings

    real = inkread.OcrEngine.recognize

    def chatty(self, source=None, **options):
        logging.getLogger("somelib").warning("a library says hello")
        warnings.warn("a library warns", UserWarning)
        return real(self, source, **options)

    monkeypatch.setattr(inkread.OcrEngine, "recognize", chatty)
    code, out, err = run_cli(capsys, WATER[0], INVOICE[0], "--progress")
    assert code == 0 and WATER[1] in out and fake.pages == [0, 0]
    # what a terminal shows of each line: the text after the last carriage return
    shown = [segment.rsplit("\r", 1)[-1] for segment in err.split("\n")]
    assert shown.count("a library says hello") == 2  # whole lines, the bar cleared before them
    assert sum(s.endswith("UserWarning: a library warns") and "page/s" not in s for s in shown) == 2, shown
    lines = err.replace("\r", "\n").splitlines()
    assert any("2/2" in line and "page" in line for line in lines), lines  # the bar counts pages
    assert lines[-1].startswith("inkread: 2 pages from 2 of 2 files in ")


def test_no_pillow_bomb_warning_below_our_own_limit(capsys, tmp_path):
    """Pillow's DecompressionBombWarning was printed for images of 89.5 to 120 MP (issue 14): our
    max_pixels check is the limit, so the only output is the one error line."""
    big = tmp_path / "big.png"
    big.write_bytes(png_claiming(10_000, 9_500))  # 95 MP claimed, no pixels behind it
    code, out, err = run_cli(capsys, big)
    assert code == 6 and out == ""
    assert_one_error_line(err, "big.png")
    assert "DecompressionBombWarning" not in err
