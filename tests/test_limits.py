"""Limits on one document: pages (``max_pages``, checked before any page is read) and time
(``time_limit``, checked between pages), in Python and on the command line (issue 14: a 124 KB PDF of
1,000 blank pages, or a 60 KB GIF of 2,000 frames, held a process for minutes with no way to bound it).
The time limits are tested on the fake recogniser (tests/fakes.py) taking a known time per page."""

from __future__ import annotations

import json
import time

import pytest
from fakes import fake_backend, fake_env
from synth import blank_pdf

import inkread
from inkread import cli
from inkread.cancel import CancelToken, running
from inkread.exceptions import ImageTooLargeError, OcrCancelledError, OcrTimeoutError, TooManyPagesError
from inkread.options import MAX_PAGES_DEFAULT


def test_more_pages_than_max_pages_are_refused_before_any_is_read(fake):
    pdf = blank_pdf(MAX_PAGES_DEFAULT + 1)
    t0 = time.monotonic()
    with pytest.raises(TooManyPagesError, match=f"{MAX_PAGES_DEFAULT + 1:,} pages to read, more than "
                                                 f"{MAX_PAGES_DEFAULT}") as info:
        inkread.recognize(pdf, rotate="0")
    assert time.monotonic() - t0 < 10  # 501 pages read would take minutes
    assert isinstance(info.value, ImageTooLargeError) and info.value.exit_code == 17
    assert "max_pages" in str(info.value)
    assert fake.pages == []  # refused before any page was read
    three = blank_pdf(3)
    with pytest.raises(TooManyPagesError):
        inkread.recognize(three, max_pages=2, rotate="0")
    assert len(inkread.recognize(three, max_pages=2, pages=[0, 2], rotate="0").pages) == 2  # the selection counts
    assert len(inkread.recognize(three, max_pages=3, rotate="0").pages) == 3


def test_a_multi_frame_gif_is_bounded_by_max_pages(tmp_path):
    from PIL import Image

    frames = [Image.new("L", (40, 20), 255 - (i % 2)) for i in range(MAX_PAGES_DEFAULT + 100)]
    gif = tmp_path / "many.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=10)
    t0 = time.monotonic()
    with pytest.raises(TooManyPagesError):
        inkread.recognize(gif)
    assert time.monotonic() - t0 < 10


def test_bad_limits_are_refused():
    for bad in (0, -1, "many", float("inf"), True):
        with pytest.raises(inkread.OcrException, match="max_pages"):
            inkread.RecognitionOptions(max_pages=bad)
    for bad in (0, -2.5, float("nan"), "soon"):
        with pytest.raises(inkread.OcrException, match="time_limit"):
            inkread.RecognitionOptions(time_limit=bad)


def test_time_limit_stops_a_document_between_pages():
    pdf = blank_pdf(60)
    t0 = time.monotonic()
    with fake_backend(delay=0.1) as fake, pytest.raises(OcrTimeoutError, match="time_limit"):
        inkread.recognize(pdf, time_limit=0.5, rotate="0", pdf_dpi=150)
    assert time.monotonic() - t0 < 5 and 1 <= len(fake.pages) < 20  # stopped after the limit, not after 60
    # an outer token (a service task's) still stops work that has its own time limit
    token = CancelToken()
    token.cancel("the task was deleted")
    with running(token), pytest.raises(OcrCancelledError, match="deleted"):
        inkread.recognize(pdf, time_limit=600, rotate="0")


def test_cli_max_pages_and_time_limit(tmp_path, capsys, monkeypatch, slow_fake):
    monkeypatch.setenv("INKREAD_JOBS", "1")
    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(blank_pdf(3))
    assert cli.main([str(pdf), "--max-pages", "2"]) == 17
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "3 pages to read, more than 2" in err[0] and "--max-pages" in err[0]
    many = tmp_path / "many.pdf"
    many.write_bytes(blank_pdf(60))
    assert cli.main([str(many), "--time-limit", "0.5", "--dpi", "150"]) == 14
    assert "time_limit" in capsys.readouterr().err


@pytest.fixture
def slow_fake():
    """The fake recogniser taking 0.1 s a page, in this process."""
    with fake_backend(delay=0.1) as fake:
        yield fake


@pytest.fixture
def slow_fake_processes(monkeypatch):
    """The fake recogniser taking 0.1 s a page, in the worker processes started during the test."""
    for key, value in fake_env(INKREAD_FAKE_DELAY="0.1").items():
        monkeypatch.setenv(key, value)


def test_batch_time_limit_fails_that_file_only(tmp_path, capsys, slow_fake_processes):
    """With worker processes each page is a task: the document's pages stop being handed out once
    its pages have taken longer than --time-limit; the other files are read."""
    many = tmp_path / "a-many.pdf"
    many.write_bytes(blank_pdf(60))
    small = tmp_path / "b-small.pdf"
    small.write_bytes(blank_pdf(1))
    out, report = tmp_path / "out", tmp_path / "run.jsonl"
    code = cli.main([str(many), str(small), "-o", str(out), "--jobs", "2", "--time-limit", "1",
                     "--dpi", "150", "--report", str(report)])
    assert code == 15, capsys.readouterr().err  # a batch with a failed file
    rows = {r["input"]: r for r in map(json.loads, report.read_text().splitlines())}
    assert rows[str(many)]["status"] == "failed" and rows[str(many)]["error_kind"] == "OcrTimeoutError"
    assert "of 60 pages" in rows[str(many)]["message"]
    assert rows[str(small)]["status"] == "ok"
    assert sorted(p.name for p in out.iterdir()) == ["b-small.txt"]


def test_a_cancelled_call_frees_its_worker_process(slow_fake_processes):
    """`inkread serve --workers N` reads in worker processes; a deleted task's worker read on (its
    cancel token lived in the server's thread). Now the worker stops at its next page, and the
    deadline of the caller's token travels with the call."""
    import threading

    from inkread.process_engine import ProcessEngine

    engine = ProcessEngine(1, threads=1)
    try:
        engine.warmup()
        token = CancelToken()
        outcome: dict = {}

        def call():
            with running(token):
                try:
                    engine.recognize(blank_pdf(300), rotate="0", pdf_dpi=150)
                except Exception as exc:  # noqa: BLE001 - what it raised is the point
                    outcome["error"] = exc
            outcome["at"] = time.monotonic()

        thread = threading.Thread(target=call)
        thread.start()
        time.sleep(3)  # reading by now
        cancelled_at = time.monotonic()
        token.cancel("the task was deleted")
        thread.join(30)
        assert isinstance(outcome.get("error"), OcrCancelledError), outcome
        assert outcome["at"] - cancelled_at < 2
        t0 = time.monotonic()
        assert len(engine.recognize(blank_pdf(1), rotate="0").pages) == 1  # the worker is free
        assert time.monotonic() - t0 < 10
        with running(CancelToken(deadline=time.monotonic() + 2, budget="the task's 2 s")), \
                pytest.raises(OcrTimeoutError, match="2 s"):
            engine.recognize(blank_pdf(300), rotate="0", pdf_dpi=150)
    finally:
        engine.close()
