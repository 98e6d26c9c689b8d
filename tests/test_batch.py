"""Batches at scale, through the real ``inkread`` command in its own process: the worker pool
(``--jobs``), ``--resume`` after a SIGKILL, the JSON Lines report, Ray on a local instance, and the
shell conventions (stdin, stdout, several formats, TSV, ``@list``, patterns, unknown suffixes).

Every process reads with the fake recogniser (``tests/fakes.py`` through ``$INKREAD_PLUGINS``: each
page becomes "page N WxH"), so what is checked is the plumbing: which output holds which input's
reading. Reading itself is tested with the real models elsewhere (test_recognition, test_cli's note,
the service's worker processes)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import fake_env, fake_read
from PIL import Image

from inkread import cli
from inkread.backends import tesseract
from inkread.export.tsv import TSV_COLUMNS
from inkread.languages import supported_languages

ROOT = Path(__file__).resolve().parents[1]
LINES = ROOT / "tests" / "data" / "synth" / "lines"
SCRIPT = Path(sys.executable).with_name("inkread")
GOOD = sorted(LINES.glob("*.png"))
TRUTH = {p.name: fake_read(p) for p in GOOD}  # what the fake reads on each


def inkread(*argv, stdin: bytes | None = None, env: dict | None = None, timeout: float = 240):
    full_env = fake_env(INKREAD_JOBS="2", **(env or {}))
    full_env.pop("INKREAD_URL", None)
    return subprocess.run([str(SCRIPT), *map(str, argv)], input=stdin, capture_output=True,
                          env=full_env, timeout=timeout)


def outputs(folder: Path, suffix: str = ".txt") -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob(f"*{suffix}"))}


def report_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def make_pdf(path: Path, images: list[Path]) -> Path:
    pages = [Image.open(p).convert("RGB") for p in images]
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=150)
    return path


@pytest.fixture()
def batch_dir(tmp_path: Path) -> Path:
    """12 real line images in two folders, and two bad files (a text file named .png, a cut PNG)."""
    src = tmp_path / "in"
    for i, path in enumerate(GOOD * 2):
        folder = src / ("a" if i < len(GOOD) else "b")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / f"{i:02d}-{path.name}")
    (src / "a" / "03-notes.png").write_text("not an image\n")
    data = GOOD[0].read_bytes()
    (src / "b" / "07-cut.png").write_bytes(data[: len(data) // 3])
    return src


# ----------------------------------------------------------------------------------------------
# the pool


def test_pool_matches_serial_with_bad_files_reported(batch_dir: Path, tmp_path: Path):
    serial, pooled = tmp_path / "serial", tmp_path / "pooled"
    paced = {"INKREAD_FAKE_DELAY": "0.02"}  # a page takes time, as a real one does (the report's seconds)
    one = inkread(batch_dir, "-o", serial, "--jobs", "1", "--report", tmp_path / "serial.jsonl", env=paced)
    two = inkread(batch_dir, "-o", pooled, "--jobs", "2", "--report", tmp_path / "pooled.jsonl", env=paced)
    assert one.returncode == two.returncode == cli.EXIT_SOME_FAILED, two.stderr
    assert outputs(pooled) == outputs(serial) and len(outputs(serial)) == 12
    for name, text in outputs(pooled).items():  # the lines are read right, not just alike
        assert text.decode().strip() == TRUTH[name.split("-", 1)[1].replace(".txt", ".png")]
    rows = report_rows(tmp_path / "pooled.jsonl")
    assert [r["input"] for r in rows] == [r["input"] for r in report_rows(tmp_path / "serial.jsonl")]
    failed = {Path(r["input"]).name: r for r in rows if r["status"] == "failed"}
    assert set(failed) == {"03-notes.png", "07-cut.png"}
    assert failed["03-notes.png"]["error_kind"] == "UnsupportedFormatError" and failed["03-notes.png"]["exit_code"] == 5
    assert failed["07-cut.png"]["exit_code"] == 6 and "07-cut.png" in failed["07-cut.png"]["message"]
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == 12 and all(r["pages"] == 1 and r["seconds"] > 0 and len(r["outputs"]) == 1 for r in ok)
    err = two.stderr.decode()
    assert err.count("inkread: error: ") == 2 and "Traceback" not in err
    assert "12 pages from 12 of 14 files" in err and "2 failed: see" in err


def test_pages_of_one_pdf_spread_over_workers(tmp_path: Path):
    pdf = make_pdf(tmp_path / "doc.pdf", GOOD[:4])
    serial = inkread(pdf, "--jobs", "1", "-f", "json")
    pooled = inkread(pdf, "--jobs", "2", "-f", "json", "--pages", "1-6")
    assert serial.returncode == 0 and pooled.returncode == 0, pooled.stderr
    a, b = json.loads(serial.stdout), json.loads(pooled.stdout)
    assert [p["index"] for p in b["pages"]] == [0, 1, 2, 3]
    assert b["text"] == a["text"] and b["text"].count("\f") == 3
    # --pages 1-6 on a 4-page PDF reads pages 1-4 and says so once
    assert pooled.stderr.decode().splitlines() == [f"inkread: warning: {pdf} has 4 pages: pages 5, 6 skipped"]
    none = inkread(pdf, "--pages", "7-9")
    assert none.returncode == 9 and b"has 4 pages" in none.stderr


def test_resume_after_sigkill_completes_without_rereading(batch_dir: Path, tmp_path: Path):
    reference = tmp_path / "reference"
    assert inkread(batch_dir, "-o", reference, "--jobs", "1").returncode == cli.EXIT_SOME_FAILED
    out = tmp_path / "out"
    env = fake_env(INKREAD_JOBS="2", INKREAD_FAKE_DELAY="0.2")  # slow enough to be stopped halfway
    proc = subprocess.Popen([str(SCRIPT), batch_dir, "-o", out, "--report", tmp_path / "first.jsonl"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(outputs(out)) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole job, workers too, as a crash would
    proc.wait()
    before = {p: (out / p).stat().st_mtime_ns for p in outputs(out)}
    assert 4 <= len(before) < 12, "the run was not stopped halfway"
    again = inkread(batch_dir, "-o", out, "--resume", "--report", tmp_path / "first.jsonl")
    assert again.returncode == cli.EXIT_SOME_FAILED, again.stderr
    assert outputs(out) == outputs(reference)
    assert {p: (out / p).stat().st_mtime_ns for p in before} == before  # complete ones not rewritten
    rows = report_rows(tmp_path / "first.jsonl")
    resumed = rows[-14:]
    assert sum(r["status"] == "skipped" for r in resumed) == len(before)
    assert sum(r["status"] == "ok" for r in resumed) == 12 - len(before)
    assert f"{len(before)} skipped" in again.stderr.decode()


# ----------------------------------------------------------------------------------------------
# Ray


def test_ray_local_matches_serial(batch_dir: Path, tmp_path: Path):
    pytest.importorskip("ray.data")
    serial, rayed = tmp_path / "serial", tmp_path / "ray"
    inkread(batch_dir / "a", "-o", serial, "--jobs", "1")
    done = inkread(batch_dir / "a", "-o", rayed, "--ray", "--jobs", "2", "--report", tmp_path / "ray.jsonl",
                   timeout=300)
    assert done.returncode == cli.EXIT_SOME_FAILED, done.stderr  # one bad file of seven
    assert outputs(rayed) == outputs(serial) and len(outputs(serial)) == 6
    rows = report_rows(tmp_path / "ray.jsonl")
    assert [r["status"] for r in rows].count("ok") == 6 and [r["status"] for r in rows].count("failed") == 1
    again = inkread(batch_dir / "a", "-o", rayed, "--ray", "--resume", timeout=300)
    assert "6 skipped" in again.stderr.decode()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def ray_head(tmp_path: Path):
    """A Ray head on loopback with a Ray Client server (``ray start --head --block``, its own process
    group, reading with the fake, a token of its own for Ray's token authentication), stopped at the
    end: its ``ray://`` address and what a client's environment needs to join it."""
    pytest.importorskip("ray.data")
    pytest.importorskip("grpc", reason="Ray Client needs ray[client] (the ray extra installs it)")
    import secrets
    import socket
    import tempfile

    client = _free_port()
    ports = {"--port": _free_port(), "--ray-client-server-port": client, "--node-manager-port": _free_port(),
             "--object-manager-port": _free_port(), "--dashboard-agent-listen-port": _free_port(),
             "--dashboard-agent-grpc-port": _free_port(), "--runtime-env-agent-port": _free_port(),
             "--metrics-export-port": _free_port()}
    temp = tempfile.mkdtemp(prefix="inkray-")  # short: Ray's socket paths are limited in length
    log = (tmp_path / "ray-head.log").open("wb")
    command = [str(SCRIPT.with_name("ray")), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
               "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", temp,
               *[str(x) for option, port in ports.items() for x in (option, port)]]
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    head = subprocess.Popen(command, env=fake_env(RAY_USAGE_STATS_ENABLED="0", **auth), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                socket.create_connection(("127.0.0.1", client), timeout=1).close()
                break
            except OSError:
                if head.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the Ray head did not start: " + (tmp_path / "ray-head.log").read_text()[-2000:])
                time.sleep(1)
        yield f"ray://127.0.0.1:{client}", auth
    finally:
        head.terminate()  # ray start --block stops the node's processes it started
        try:
            head.wait(timeout=90)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        with contextlib.suppress(ProcessLookupError):  # anything of its group left over
            os.killpg(head.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_client_reads_a_folder(ray_head, batch_dir: Path, tmp_path: Path):
    """--ray ray://HOST:PORT joins a cluster through Ray Client (the ray extra's ray[client]): the
    folder is read on the cluster's actors, the outputs written here, as the local pool writes them."""
    address, auth = ray_head
    serial, rayed = tmp_path / "serial", tmp_path / "ray"
    inkread(batch_dir / "a", "-o", serial, "--jobs", "1")
    for _attempt in range(3):
        done = inkread(batch_dir / "a", "-o", rayed, "--ray", address, "--jobs", "2", "--report",
                       tmp_path / "ray.jsonl", env=auth, timeout=300)
        # Ray's proxy starts a client's own server (port 23000 on) and gives up if it is slow to come
        # up: seen once on a loaded 2-core machine; inkread said so in its one line and exited 13
        if b"Starting Ray client server failed" not in done.stderr:
            break
        time.sleep(5)
    assert done.returncode == cli.EXIT_SOME_FAILED, done.stderr  # one bad file of seven
    assert outputs(rayed) == outputs(serial) and len(outputs(serial)) == 6
    rows = report_rows(tmp_path / "ray.jsonl")
    assert [r["status"] for r in rows].count("ok") == 6 and [r["status"] for r in rows].count("failed") == 1


# ----------------------------------------------------------------------------------------------
# shell conventions


def test_stdin_in_and_stdout_out():
    water = LINES / "dkg_01.png"
    done = inkread("-", stdin=water.read_bytes())
    assert done.returncode == 0 and done.stdout.decode() == fake_read(water) + "\n"
    as_json = inkread("-", "-o", "-", "-f", "json", stdin=water.read_bytes())
    assert json.loads(as_json.stdout)["text"] == fake_read(water)
    pdf = inkread("-", "-o", "-", "--format", "pdf", stdin=water.read_bytes())
    assert pdf.returncode == 0 and pdf.stdout.startswith(b"%PDF-") and pdf.stdout.rstrip().endswith(b"%%EOF")
    nothing = inkread("-", stdin=b"")
    assert nothing.returncode == 4 and nothing.stderr.decode().startswith("inkread: error: ")


def test_several_formats_in_one_run_and_sidecar(tmp_path: Path):
    src = tmp_path / "in"
    src.mkdir()
    for path in GOOD[:2]:
        shutil.copyfile(path, src / path.name)
    out = tmp_path / "out"
    done = inkread(src, "-o", out, "--format", "txt,pdf,alto,tsv", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    stems = [p.stem for p in GOOD[:2]]
    assert names == sorted(f"{s}{ext}" for s in stems for ext in (".pdf", ".tsv", ".txt", ".xml"))
    assert (out / f"{stems[0]}.pdf").read_bytes().startswith(b"%PDF-")
    assert b"<alto" in (out / f"{stems[1]}.xml").read_bytes()
    pdf, side = tmp_path / "one.pdf", tmp_path / "one.txt"
    done = inkread(GOOD[0], "-o", pdf, "--sidecar", side)
    assert done.returncode == 0 and pdf.read_bytes().startswith(b"%PDF-")
    assert side.read_text() == TRUTH[GOOD[0].name] + "\n"


def test_tsv_is_tesseracts_layout():
    done = inkread(LINES / "dejavuserif_01.png", "-f", "tsv")
    rows = [r.split("\t") for r in done.stdout.decode().splitlines()]
    assert tuple(rows[0]) == TSV_COLUMNS
    levels = [int(r[0]) for r in rows[1:]]
    assert levels[:4] == [1, 2, 3, 4] and set(levels[4:]) == {5}
    words = [r for r in rows[1:] if r[0] == "5"]
    assert " ".join(w[11] for w in words) == fake_read(LINES / "dejavuserif_01.png")
    assert all(50 < float(w[10]) <= 100 and int(w[8]) > 0 and int(w[9]) > 0 for w in words)
    lefts = [int(w[6]) for w in words]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts)


def test_unknown_suffix_is_an_error_not_plain_text(tmp_path: Path):
    done = inkread(GOOD[0], "-o", tmp_path / "x.docx")
    assert done.returncode == 2 and not (tmp_path / "x.docx").exists()
    assert done.stderr.decode().count("\n") == 1 and "'.docx'" in done.stderr.decode()
    assert inkread(GOOD[0], "-o", tmp_path / "x.docx", "--format", "text").returncode == 0
    assert (tmp_path / "x.docx").read_text() == TRUTH[GOOD[0].name] + "\n"


def test_file_list_and_patterns(tmp_path: Path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"# two lines\n{GOOD[0]}\n\n{GOOD[1]}\n")
    done = inkread(f"@{listing}", "--jobs", "1")
    assert done.returncode == 0
    assert done.stdout.decode().count("==> ") == 2 and TRUTH[GOOD[1].name] in done.stdout.decode()
    pattern = inkread(str(LINES / "rufscript_*.png"), "--jobs", "1")
    assert pattern.returncode == 0 and pattern.stdout.decode().count("==> ") == 2


def test_missing_language_pack_reported_once_before_reading(tmp_path: Path):
    try:
        have = tesseract.installed_languages()
    except Exception:  # noqa: BLE001
        pytest.skip("tesseract is not installed")
    missing = next(i for i in supported_languages() if i.tesseract and i.backends[0] == "tesseract"
                   and i.tesseract not in have)
    done = inkread(*GOOD[:3], "--lang", missing.code)
    assert done.returncode == 11 and done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and f"{missing.tesseract}.traineddata" in lines[0], lines


def test_misspelt_command_is_suggested():
    done = inkread("langauges")
    assert done.returncode == 2
    assert done.stderr.decode().strip() == ("inkread: error: langauges: no such file or command "
                                            "(did you mean 'inkread languages'?)")


def test_help_lists_environment_variables():
    text = inkread("--help").stdout.decode()
    for name in ("INKREAD_URL", "INKREAD_CLIENT_ID", "INKREAD_CLIENT_SECRET", "INKREAD_DB", "INKREAD_JOBS"):
        assert name in text
