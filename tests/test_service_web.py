"""The web page at ``/``, driven by headless Chromium through Playwright (Debian's chromium; no
browser is downloaded): sign in, pick or drop an image, read it, copy, download, see the lines."""

from __future__ import annotations

import base64
import json
import os
import shutil

import pytest
from service_helpers import ServerThread, handwritten_title, printed_lines, words_of

from inkread.service.app import ServiceSettings, create_app
from inkread.service.auth import create_client
from inkread.service.store import open_store

CHROMIUM = os.environ.get("INKREAD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("web") / "service.db")
    store = open_store(db)
    record, secret = create_client(store, "browser")
    with ServerThread(create_app(ServiceSettings(db=db, workers=1), store=store)) as server:
        server.creds = (record.id, secret)
        yield server
    store.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, service):
    context = browser.new_context(accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.url)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(service.url + "/")
    yield pg
    context.close()
    assert errors == []  # no JavaScript errors


def _sign_in(page, client_id: str, secret: str) -> None:
    page.fill("#client-id", client_id)
    page.fill("#client-secret", secret)
    page.click("#login")


def test_sign_in_pick_read_copy_download(page, service, tmp_path):
    _sign_in(page, service.creds[0], "wrong")
    page.wait_for_selector("#error:not([hidden])")
    assert "Sign-in failed" in page.text_content("#error")
    _sign_in(page, *service.creds)
    page.wait_for_selector("#work-panel:not([hidden])")
    assert page.text_content("#who") == service.creds[0]
    page.wait_for_function("document.querySelectorAll('#language option').length > 10")

    image = tmp_path / "errands.jpg"
    image.write_bytes(handwritten_title())
    page.set_input_files("#file", str(image))
    page.select_option("#mode", "handwritten")
    page.click("#recognize")
    page.wait_for_function("document.getElementById('text').value.length > 0", timeout=60_000)
    text = page.input_value("#text")
    assert words_of(text) == {"saturday", "errands"}
    assert int(page.get_attribute("#overlay", "data-lines")) == 1  # the line drawn over the image
    assert page.evaluate("document.getElementById('overlay').width") == 900
    assert "1 line(s)" in page.text_content("#summary")

    page.click("#copy")
    page.wait_for_function("document.getElementById('copy-status').textContent.length > 0")
    assert page.text_content("#copy-status") == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == text

    with page.expect_download() as info:
        page.click("#download-txt")
    assert info.value.suggested_filename == "errands.txt"
    assert open(info.value.path(), encoding="utf-8").read() == text
    with page.expect_download() as info:
        page.click("#download-json")
    assert info.value.suggested_filename == "errands.json"
    saved = json.load(open(info.value.path(), encoding="utf-8"))
    assert saved["text"] == text and saved["pages"][0]["lines"]


def test_drop_an_image_and_see_errors(page, service):
    _sign_in(page, *service.creds)
    page.wait_for_selector("#work-panel:not([hidden])")
    data = base64.b64encode(printed_lines()).decode()
    transfer = page.evaluate_handle(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], 'page.png', {type: 'image/png'}));
            return dt;
        }""", data)
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    assert "page.png" in page.text_content("#file-name")
    page.select_option("#mode", "printed")
    page.click("#recognize")
    page.wait_for_function("document.getElementById('text').value.length > 0", timeout=60_000)
    assert "community library" in page.input_value("#text")
    assert int(page.get_attribute("#overlay", "data-lines")) == 2

    transfer = page.evaluate_handle(
        """() => { const dt = new DataTransfer();
                   dt.items.add(new File(['not an image'], 'notes.txt', {type: 'text/plain'})); return dt; }""")
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    page.click("#recognize")
    page.wait_for_selector("#error:not([hidden])")
    assert "UnsupportedFormatError" in page.text_content("#error")

    page.click("#logout")
    page.wait_for_selector("#login-panel:not([hidden])")


def test_api_docs_render_offline(browser, service):
    """/docs is Swagger UI served by the service itself: it renders with every request on loopback
    (it used to load its scripts from a CDN and stayed blank offline; issue 14)."""
    context = browser.new_context()
    pg = context.new_page()
    outside: list[str] = []
    pg.on("request", lambda r: None if r.url.startswith(service.url) else outside.append(r.url))
    pg.goto(service.url + "/docs")
    pg.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "inkread OCR service" in pg.text_content(".swagger-ui .info .title")
    pg.wait_for_selector('[data-path="/connect/token"]')
    context.close()
    assert outside == []


def test_correct_the_lines_and_download_line_pairs(page, service, tmp_path):
    """Each line read is shown beside its image, cut here from the picture: edit one, download the
    line pairs as a .zip (built in the browser) and find them ready for ``inkread train``."""
    import io
    import zipfile
    from pathlib import Path

    import numpy as np
    from PIL import Image
    from test_format_gt import expected_size

    from inkread.export.gt import line_image

    note = Path(__file__).resolve().parent / "data" / "synth" / "ruled_note.png"  # one line skewed
    _sign_in(page, *service.creds)
    page.wait_for_selector("#work-panel:not([hidden])")
    page.set_input_files("#file", str(note))
    page.select_option("#mode", "handwritten")
    page.click("#recognize")
    page.wait_for_function("document.getElementById('text').value.length > 0", timeout=60_000)
    lines = page.evaluate("state.result.pages[0].lines")
    assert len(lines) >= 3
    page.wait_for_function(f"document.getElementById('lines').dataset.count === '{len(lines)}'")
    assert page.is_visible("#lines-panel") and not page.is_disabled("#download-gt")
    fields = page.locator("#lines li input")
    assert [fields.nth(i).input_value() for i in range(len(lines))] == [line["text"] for line in lines]

    fields.nth(0).fill("Corrected first line ✓")
    fields.nth(len(lines) - 1).fill("   ")  # an emptied line is left out
    assert "edited" in page.get_attribute("#lines li >> nth=0", "class")
    with page.expect_download() as info:
        page.click("#download-gt")
    assert info.value.suggested_filename == "ruled_note_lines.zip"
    with zipfile.ZipFile(info.value.path()) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        kept = range(1, len(lines))
        assert names == [f"ruled_note_l{n:03d}{ext}" for n in kept for ext in (".png", ".gt.txt")]
        assert archive.read("ruled_note_l001.gt.txt").decode("utf-8") == "Corrected first line ✓\n"
        page_image = np.asarray(Image.open(note).convert("RGB"))
        for n in kept:
            line = lines[n - 1]
            if n > 1:
                assert archive.read(f"ruled_note_l{n:03d}.gt.txt").decode("utf-8") == line["text"].strip() + "\n"
            crop = Image.open(io.BytesIO(archive.read(f"ruled_note_l{n:03d}.png")))
            assert crop.format == "PNG" and crop.size == expected_size(line["bbox"])
            # the same pixels as `inkread --format gt` cuts (a skewed line: mapped, not warped, here)
            got = np.asarray(crop.convert("RGB"), dtype=np.int16)
            want = line_image(page_image, line["bbox"]).astype(np.int16)
            q = np.array(line["bbox"])
            if np.all(np.min(np.abs(np.roll(q, -1, axis=0) - q), axis=1) <= 1.0):
                assert np.array_equal(got, want), n  # a box: pixel for pixel
            else:
                assert np.abs(got - want).mean() < 6, n
