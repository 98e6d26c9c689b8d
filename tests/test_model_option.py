"""A handwriting model chosen per call: ``--model FILE`` (one file, ``--jobs 2``), ``OcrEngine(model=...)``
and ``recognize(..., model=...)``, Ray's page readers, ``inkread serve --model NAME=FILE`` with
``model=NAME`` on the native routes and the remote client; and every file that is no inkread
handwriting model, refused before anything is read.

The models are made here from the shipped one (``src/inkread/weights/hw_rec.onnx``): a copy (valid,
reads exactly as the shipped one) and a copy whose last node keeps only the CTC blank (valid card and
classes, reads nothing at all: whoever reads with it shows that the option reached the recogniser).
Images: the single-line renders of tests/data/synth/lines, read with the real models.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

import inkread
from inkread import cli
from inkread.backends.ppocr.models import HANDWRITING_MODEL, REC_MODEL, get_models, model_dir
from inkread.exceptions import InvalidOptionError, OcrException
from service_helpers import ServerThread, get_token

onnx = pytest.importorskip("onnx")

LINES = Path(__file__).resolve().parent / "data" / "synth" / "lines"
LINE = LINES / "kristi_01.png"  # "Dinner with Anna on Sunday"
SECOND = LINES / "dkg_01.png"
SCRIPT = Path(sys.executable).with_name("inkread")


@pytest.fixture(scope="module", autouse=True)
def own_cache(tmp_path_factory):
    """The shared-trunk graphs of the models made here go to a folder of the module's own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INKREAD_CACHE", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("INKREAD_THREADS", os.environ.get("INKREAD_THREADS", "1"))
        yield


def _blank_only(source: Path, target: Path) -> Path:
    """``source`` with its probabilities multiplied by a mask that keeps the CTC blank alone."""
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    out = model.graph.output[0].name
    last = next(n for n in model.graph.node if out in n.output)
    last.output[list(last.output).index(out)] = "probs_before_mask"
    mask = np.zeros(model.graph.output[0].type.tensor_type.shape.dim[-1].dim_value, dtype=np.float32)
    mask[0] = 1.0
    model.graph.initializer.append(numpy_helper.from_array(mask, "blank_only_mask"))
    model.graph.node.append(helper.make_node("Mul", ["probs_before_mask", "blank_only_mask"], [out]))
    onnx.save(model, str(target))
    return target


def _with_metadata(source: Path, target: Path, **changes: str | None) -> Path:
    """A copy of ``source`` with metadata entries changed (None: removed)."""
    model = onnx.load(str(source))
    meta = {p.key: p.value for p in model.metadata_props}
    meta.update(changes)
    del model.metadata_props[:]
    for key, value in meta.items():
        if value is not None:
            model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(target))
    return target


def _wrong_size(target: Path) -> Path:
    """A tiny ONNX model with an inkread card and PP-OCRv6's classes that gives 3 classes a frame."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 3, 48, "w"])
    y = helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["b", "w", 3])
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[2], keepdims=0),
        helper.make_node("Transpose", ["m"], ["probs"], perm=[0, 2, 1]),
    ]
    model = helper.make_model(helper.make_graph(nodes, "tiny", [x], [y]), opset_imports=[helper.make_opsetid("", 13)])
    rec = onnx.load(str(model_dir() / REC_MODEL), load_external_data=False)
    chars = next(p.value for p in rec.metadata_props if p.key == "character")
    for key, value in {"character": chars, "inkread": json.dumps({"base": "none"})}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(target))
    return target


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    copy = folder / "copy.onnx"
    shutil.copyfile(HANDWRITING_MODEL, copy)
    bogus = folder / "bogus.onnx"
    bogus.write_bytes(b"this is not an ONNX model\n" * 10)
    meta = {p.key: p.value for p in onnx.load(str(HANDWRITING_MODEL), load_external_data=False).metadata_props}
    fewer = meta["character"].replace("a\n", "", 1)  # one class less than PP-OCRv6's
    return {
        "copy": copy,
        "blank": _blank_only(HANDWRITING_MODEL, folder / "blank.onnx"),
        "bogus": bogus,
        "missing": folder / "missing.onnx",
        "folder": folder,
        "no_card": _with_metadata(HANDWRITING_MODEL, folder / "no_card.onnx", inkread=None),
        "bad_card": _with_metadata(HANDWRITING_MODEL, folder / "bad_card.onnx", inkread="not json"),
        "other_classes": _with_metadata(HANDWRITING_MODEL, folder / "other_classes.onnx", character=fewer),
        "wrong_size": _wrong_size(folder / "wrong_size.onnx"),
        "ppocr": model_dir() / REC_MODEL,  # a real recogniser, but no inkread model
    }


#: each bad model and what its error says
BAD = {
    "bogus": "is not an ONNX model",
    "missing": "does not exist",
    "folder": "is not a file",
    "no_card": "has no 'inkread' card",
    "bad_card": "has no 'inkread' card",
    "other_classes": "other classes than PP-OCRv6's",
    "wrong_size": "give its 18,710 classes",
    "ppocr": "has no 'inkread' card",
}


def _same(a: inkread.OcrResult, b: inkread.OcrResult) -> bool:
    strip = lambda r: {k: v for k, v in r.to_dict().items() if k != "timings"}  # noqa: E731
    return strip(a) == strip(b)


# ----------------------------------------------------------------------------------------------
# Python


def test_the_given_model_reads_in_place_of_the_shipped_one(made):
    shipped = inkread.recognize(LINE, mode="handwritten")
    assert "Anna" in shipped.text and "Sunday" in shipped.text
    # a copy of the shipped model reads exactly as it does (lexicon, decoding and fusion unchanged)
    assert _same(inkread.recognize(LINE, mode="handwritten", model=made["copy"]), shipped)
    # a model that only ever sees blanks reads nothing: it is the one read with, per call
    assert inkread.recognize(LINE, mode="handwritten", model=str(made["blank"])).text == ""
    engine = inkread.OcrEngine(model=made["blank"], mode="handwritten")
    assert engine.options.model == str(made["blank"].resolve())
    assert engine.recognize(LINE).text == ""
    assert _same(engine.recognize(LINE, model=str(made["copy"])), shipped)  # per call over the engine's
    # the engine itself is unchanged by a call's model, and printed text never reads with one
    assert inkread.OcrEngine().recognize(LINE, mode="handwritten").text == shipped.text
    printed = inkread.recognize(LINES / "dejavuserif_01.png", mode="printed")
    assert _same(inkread.recognize(LINES / "dejavuserif_01.png", mode="printed", model=made["blank"]), printed)


def test_a_hands_own_model_reads_alone_as_its_card_says(made, tmp_path):
    """A model from ``inkread train`` carries ``"fusion": 1.0`` in its card: HANDWRITTEN reads with
    it alone (PP-OCRv6, which never saw the hand, is not fused in); a card without it is fused with
    the share the profile says, as the shipped model is."""
    import dataclasses
    import json

    from inkread.backends.ppocr.page import recognize_page
    from inkread.backends.ppocr.profiles import PROFILES
    import cv2
    from inkread.options import RecognitionMode, RecognitionOptions

    meta = {p.key: p.value for p in onnx.load(str(HANDWRITING_MODEL), load_external_data=False).metadata_props}
    alone = _with_metadata(
        HANDWRITING_MODEL, tmp_path / "alone.onnx", inkread=json.dumps({**json.loads(meta["inkread"]), "fusion": 1.0})
    )
    hw = RecognitionMode.HANDWRITTEN
    note = Path(__file__).resolve().parents[1] / "examples" / "handwritten_note.jpg"  # the two differ on it
    image = cv2.cvtColor(cv2.imread(str(note)), cv2.COLOR_BGR2RGB)

    def read(model: Path, recogniser: str) -> str:
        profiles = {**PROFILES, hw: dataclasses.replace(PROFILES[hw], recogniser=recogniser)}
        options = RecognitionOptions(mode=hw, language="en", model=str(model))
        return recognize_page(image, options, get_models(), profiles=profiles)[0].text

    assert read(alone, "fused") == read(alone, "handwriting") == read(made["copy"], "handwriting")
    fused = inkread.recognize(note, mode="handwritten", language="en", model=made["copy"], rotate="0").text
    assert read(made["copy"], "fused") == fused != read(made["copy"], "handwriting")  # the test can tell


def test_sessions_are_kept_per_model_file(made):
    models = get_models()
    inkread.recognize(LINE, mode="handwritten", model=made["blank"])
    key = str(made["blank"].resolve())
    session = models._fused[key]
    assert session, "no shared-trunk graph for the given model"
    inkread.recognize(SECOND, mode="handwritten", model=made["blank"])
    assert models._fused[key] is session  # not loaded again for the next page
    inkread.recognize(LINE, mode="handwritten")
    assert models._fused[str(HANDWRITING_MODEL)] is not session and models._fused[key] is session


def test_a_relative_model_path_is_made_absolute(made, monkeypatch):
    monkeypatch.chdir(made["blank"].parent)
    options = inkread.OcrEngine(model="blank.onnx").options
    assert options.model == str(made["blank"].resolve())


@pytest.mark.parametrize("bad", sorted(BAD))
def test_a_file_that_is_no_inkread_model_is_refused_before_reading(made, bad, tmp_path):
    with pytest.raises(InvalidOptionError, match=BAD[bad]) as info:
        inkread.OcrEngine(model=made[bad])
    assert info.value.exit_code == 2 and info.value.http_status == 422 and info.value.hint
    with pytest.raises(InvalidOptionError, match=BAD[bad]):  # every mode and language: checked first
        inkread.recognize(LINE, mode="printed", model=made[bad])


# ----------------------------------------------------------------------------------------------
# the command line


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([os.fspath(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_model_on_one_file(made, capsys):
    code, shipped, _ = _cli(capsys, LINE, "--mode", "handwritten")
    assert code == 0 and "Anna" in shipped
    assert _cli(capsys, LINE, "--mode", "handwritten", "--model", made["copy"])[:2] == (0, shipped)
    code, out, err = _cli(capsys, LINE, "--mode", "handwritten", "--model", made["blank"])
    assert code == 0 and out.strip() == "", err


@pytest.mark.parametrize("bad", ["bogus", "missing", "no_card", "other_classes", "wrong_size"])
def test_cli_refuses_a_bad_model_in_one_line(made, bad, capsys, tmp_path):
    code, out, err = _cli(capsys, LINE, "--model", made[bad], "-o", tmp_path / "out/")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("inkread: error: ") and BAD[bad] in err
    assert not (tmp_path / "out").exists()  # refused before any file was read


def test_cli_model_reaches_the_worker_processes(made, tmp_path):
    """``--jobs 2``: two worker processes, each reading with the model the command line was given
    (as a relative path, from another folder)."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in (LINE, SECOND):
        shutil.copyfile(path, inputs / path.name)
    env = {k: v for k, v in os.environ.items() if k != "INKREAD_URL"}
    args = [str(SCRIPT), "in", "-o", "out/", "--mode", "handwritten", "--jobs", "2", "--report", "run.jsonl"]
    rel = os.path.relpath(made["blank"], tmp_path)
    done = subprocess.run([*args, "--model", rel], cwd=tmp_path, capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    outputs = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.txt")}
    assert outputs == {"kristi_01.txt": "", "dkg_01.txt": ""}  # each read with the blank model
    rows = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows] == ["ok", "ok"]


def test_ray_page_readers_carry_the_model(made, monkeypatch):
    """The class Ray ships to its actors holds the options, the model's absolute path with them."""
    pytest.importorskip("ray")
    import pickle

    from ray import cloudpickle

    from inkread.options import RecognitionOptions
    from inkread.raybatch import _reader_class

    monkeypatch.setenv("INKREAD_THREADS", "1")  # the reader sets it for its actor
    options = RecognitionOptions(mode="handwritten", model=str(made["blank"].resolve()))
    reader = cloudpickle.loads(cloudpickle.dumps(_reader_class(options, 1)))()
    out = reader({"seq": [0], "path": [str(LINE)], "page": [0]})
    outcome = pickle.loads(out["outcome"][0])
    assert outcome.error is None and outcome.result.text == ""


# ----------------------------------------------------------------------------------------------
# the service and the remote client


@pytest.fixture(scope="module")
def service(made, tmp_path_factory):
    from inkread.service.app import ServiceSettings, create_app
    from inkread.service.auth import create_client
    from inkread.service.store import open_store

    db = str(tmp_path_factory.mktemp("service") / "service.db")
    store = open_store(db)
    client, secret = create_client(store, "a")
    gone = tmp_path_factory.mktemp("gone") / "gone.onnx"
    shutil.copyfile(made["copy"], gone)
    models = {"blank": str(made["blank"]), "copy": str(made["copy"]), "gone": str(gone)}
    settings = ServiceSettings(db=db, workers=1, poll_interval=0.1, preload_models=False, models=models)
    app = create_app(settings, store=store)
    gone.unlink()  # registered, then deleted: refused when a request names it
    with ServerThread(app) as server:
        server.creds = (client.id, secret)
        token = get_token(server.url, client.id, secret)
        server.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        yield server
        server.http.close()
    store.close()


def _read(service, **fields: str) -> httpx.Response:
    query = {"model": fields.pop("query")} if "query" in fields else None
    with open(LINE, "rb") as fh:
        return service.http.post(
            "/v1/recognize",
            params=query,
            files={"file": (LINE.name, fh.read())},
            data={"mode": "handwritten", **fields},
        )


def test_service_reads_with_the_model_a_request_names(service):
    shipped = _read(service)
    assert shipped.status_code == 200 and "Anna" in shipped.json()["text"]
    assert _read(service, model="copy").json()["text"] == shipped.json()["text"]
    assert _read(service, model="blank").json()["text"] == ""
    assert _read(service, query="blank").json()["text"] == ""  # ?model=NAME
    assert _read(service, options=json.dumps({"model": "blank"})).json()["text"] == ""
    assert httpx.get(service.url + "/v1/models").json() == [{"name": n} for n in ("blank", "copy", "gone")]
    with open(LINE, "rb") as fh:
        task = service.http.post(
            "/v1/tasks", files={"file": ("a.png", fh.read())}, data={"mode": "handwritten", "model": "blank"}
        )
    assert task.status_code == 202
    from service_helpers import wait_task

    done = wait_task(service.http, task.json()["id"])
    assert done["status"] == "done" and done["result"]["text"] == ""
    assert done["options"]["model"] == "blank"  # the name, never the server's file


def test_service_refuses_unknown_and_vanished_models(service):
    unknown = _read(service, model="nope")
    assert unknown.status_code == 422 and unknown.headers["content-type"].startswith("application/problem+json")
    assert "unknown model 'nope'" in unknown.json()["detail"] and "blank, copy" in unknown.json()["hint"]
    assert _read(service, query="nope").status_code == 422
    gone = _read(service, model="gone")  # its file was deleted after the service started
    assert gone.status_code == 422 and "does not exist" in gone.json()["detail"]


def test_remote_client_sends_the_model_name(service):
    remote = inkread.OcrEngine(*service.creds, url=service.url, model="blank")
    assert remote.recognize(LINE, mode="handwritten").text == ""
    assert "Anna" in remote.recognize(LINE, mode="handwritten", model="copy").text
    with pytest.raises(OcrException, match="unknown model 'nope'"):
        remote.recognize(LINE, mode="handwritten", model="nope")


def test_serve_refuses_bad_models_before_serving(made, capsys, tmp_path):
    db = tmp_path / "s.db"
    code, _, err = _cli(capsys, "serve", "--db", db, "--model", f"hand={made['no_card']}")
    assert code == 2 and err.count("\n") == 1 and "has no 'inkread' card" in err
    code, _, err = _cli(capsys, "serve", "--db", db, "--model", f"a={made['copy']}", "--model", f"a={made['blank']}")
    assert code == 2 and "given twice" in err
    code, _, err = _cli(capsys, "serve", "--db", db, "--model", str(made["copy"]))
    assert code == 2 and "NAME=FILE" in err
    from inkread.service.app import ServiceSettings, create_app

    with pytest.raises(InvalidOptionError, match="is not an ONNX model"):
        create_app(ServiceSettings(db=str(db), models={"x": str(made["bogus"])}))
