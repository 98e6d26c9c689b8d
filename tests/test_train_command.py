"""``inkread train`` (issue 22): a person's corrected lines read from line pairs, PAGE-XML and ALTO,
every kind of bad data refused with the files named, the output never overwritten (nor the shipped
model), the shipped model read back into PyTorch as onnxruntime runs it, and a few training steps
on real lines exported to a model inkread reads.

The data tests need no PyTorch; the training tests skip without it (``pip install -e '.[train]'``),
and the one on real lines without ``../shared/train`` (as tests/test_training.py does)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from inkread.cli import main
from inkread.training import linedata as L

REPO = Path(__file__).resolve().parents[1]
NOTE = REPO / "examples" / "handwritten_note.jpg"
TRAIN_DIR = REPO.parent / "shared" / "train"

# the note's 9 written lines: (x0, y0, x1, y1) on the image, and their text
NOTE_LINES = [
    ((85, 96, 519, 187), "Saturday errands"),
    ((93, 264, 1092, 371), "Call the plumber about the kitchen sink"),
    ((85, 352, 1197, 449), "before noon. Ask if he can come on Monday."),
    ((91, 529, 1079, 647), "Pick up the parcel from the post office"),
    ((96, 629, 1080, 728), "and return the library books by Friday."),
    ((105, 819, 269, 897), "- milk"),
    ((98, 913, 277, 1006), "- eggs"),
    ((102, 998, 305, 1076), "- bread"),
    ((111, 1094, 318, 1165), "- coffee"),
]


def page_xml(image: str, lines=NOTE_LINES, size=(1622, 1251)) -> str:
    body = "".join(
        f'<TextLine id="l{k}"><Coords points="{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"/>'
        f'<Baseline points="{x0},{y1 - 15} {x1},{y1 - 15}"/>'
        f"<TextEquiv><Unicode>{text}</Unicode></TextEquiv></TextLine>"
        for k, ((x0, y0, x1, y1), text) in enumerate(lines, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">'
        f'<Page imageFilename="{image}" imageWidth="{size[0]}" imageHeight="{size[1]}">'
        f'<TextRegion id="r1"><Coords points="0,0 10,0 10,10"/>{body}</TextRegion></Page></PcGts>'
    )


def alto_xml(image: str, lines=NOTE_LINES) -> str:
    body = ""
    for k, ((x0, y0, x1, y1), text) in enumerate(lines, 1):
        words = "<SP/>".join(f'<String CONTENT="{w}"/>' for w in text.split())
        body += f'<TextLine ID="t{k}" HPOS="{x0}" VPOS="{y0}" WIDTH="{x1 - x0}" HEIGHT="{y1 - y0}">{words}</TextLine>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">'
        "<Description><MeasurementUnit>pixel</MeasurementUnit><sourceImageInformation>"
        f"<fileName>{image}</fileName></sourceImageInformation></Description>"
        f'<Layout><Page WIDTH="1622" HEIGHT="1251"><PrintSpace><TextBlock ID="b1">{body}'
        "</TextBlock></PrintSpace></Page></Layout></alto>"
    )


def write_pairs(folder: Path, n: int, page: str = "page", text: str = "a line of text") -> list[Path]:
    """``n`` line pairs cut from the note (its first line's crop), named PAGE_lNNN."""
    folder.mkdir(parents=True, exist_ok=True)
    gray = cv2.imread(str(NOTE), cv2.IMREAD_GRAYSCALE)[96:187, 85:519]
    out = []
    for k in range(1, n + 1):
        cv2.imwrite(str(folder / f"{page}_l{k:03d}.png"), gray)
        (folder / f"{page}_l{k:03d}.gt.txt").write_text(f"{text} {k}\n", encoding="utf-8")
        out.append(folder / f"{page}_l{k:03d}.png")
    return out


# ----- reading the data (no PyTorch) ------------------------------------------------------------


def test_page_xml_lines_are_cut_from_the_page_image(tmp_path):
    shutil.copy(NOTE, tmp_path / "note.jpg")
    (tmp_path / "note.xml").write_text(page_xml("note.jpg"), encoding="utf-8")
    lines, notes = L.read_training_data([tmp_path / "note.xml"])
    assert [ln.text for ln in lines] == [t for _, t in NOTE_LINES] and not notes
    assert {ln.page for ln in lines} == {str(tmp_path / "note.xml")}
    assert lines[0].source.endswith("note.xml#l1")
    for ln, ((x0, y0, x1, y1), _) in zip(lines, NOTE_LINES):
        h, w = ln.image.shape
        assert ln.image.dtype == np.uint8 and h <= L.LINE_HEIGHT
        assert abs(w / h - (x1 - x0 + 8) / (y1 - y0 + 8)) < 0.1  # the box + 4 px, aspect kept
        assert ln.image.min() < 100 < np.median(ln.image)  # dark ink on light paper
    # the page image smaller than the XML says (a downscaled copy): the outlines scale with it
    small = cv2.resize(cv2.imread(str(NOTE)), (811, 626))
    cv2.imwrite(str(tmp_path / "note.jpg"), small)
    again, _ = L.read_training_data([tmp_path / "note.xml"])
    assert [a.image.shape[1] / a.image.shape[0] for a in again] == pytest.approx(
        [b.image.shape[1] / b.image.shape[0] for b in lines], rel=0.1
    )


def test_alto_lines_join_their_strings(tmp_path):
    sub = tmp_path / "images"
    sub.mkdir()
    shutil.copy(NOTE, sub / "note.jpg")
    (tmp_path / "note_alto.xml").write_text(alto_xml("images/note.jpg"), encoding="utf-8")
    lines, _ = L.read_training_data([tmp_path])  # a folder: walked, the XML found, its image beside
    assert [ln.text for ln in lines] == [t for _, t in NOTE_LINES]
    assert lines[2].source.endswith("note_alto.xml#t3")
    assert all(ln.image.shape[0] == L.LINE_HEIGHT for ln in lines)


def test_line_pairs_pages_subsets_and_the_split(tmp_path):
    for page in ("a", "b", "c", "d"):
        write_pairs(tmp_path / "gt", 6, page=page)
    (tmp_path / "gt" / "single.png").write_bytes((tmp_path / "gt" / "a_l001.png").read_bytes())
    (tmp_path / "gt" / "single.gt.txt").write_text("  one\n  line  ", encoding="utf-8")
    lines, _ = L.read_training_data([tmp_path / "gt"])
    assert len(lines) == 25
    assert {Path(ln.page).name for ln in lines} == {"a", "b", "c", "d", "single"}
    assert next(ln.text for ln in lines if "single" in ln.source) == "one line"
    train, val, by_page = L.split_pages(lines, seed=3)
    assert by_page and val and len(val) < len(lines) / 2
    assert not {ln.page for ln in train} & {ln.page for ln in val}
    assert L.split_pages(lines, seed=3)[1] == val  # the seed fixes it
    ten, twenty = L.pick_lines(lines, 10, seed=1), L.pick_lines(lines, 20, seed=1)
    assert len(ten) == 10 and ten == twenty[:10]  # nested subsets, whole pages first
    assert len({ln.page for ln in ten}) <= 2
    one_page = [ln for ln in lines if Path(ln.page).name == "a"]
    tr, va, by_page = L.split_pages(one_page, seed=0)
    assert not by_page and len(va) == 1 and len(tr) == 5  # one page: lines held out instead


def test_line_pairs_beside_their_page_xml_win(tmp_path):
    """``--format gt`` writes line pairs and a PAGE-XML per page: the corrected text files are read,
    the XML (with inkread's own uncorrected reading) left out; the page's scan is no line."""
    write_pairs(tmp_path, 3, page="note")
    shutil.copy(NOTE, tmp_path / "note.jpg")
    (tmp_path / "note.page.xml").write_text(page_xml("note.jpg"), encoding="utf-8")
    (tmp_path / "note.xml").write_text(alto_xml("scan.pdf"), encoding="utf-8")  # --format alto,gt
    lines, notes = L.read_training_data([tmp_path])
    assert [ln.text for ln in lines] == ["a line of text 1", "a line of text 2", "a line of text 3"]
    assert len(notes) == 1 and "2 XML files" in notes[0] and "note.page.xml" in notes[0]
    lines, _ = L.read_training_data([tmp_path, tmp_path / "note.page.xml"])  # named: read too
    assert len(lines) == 3 + len(NOTE_LINES)


def with_note(folder: Path, lines) -> None:
    shutil.copy(NOTE, folder / "x" / "n.jpg")
    (folder / "x" / "n.xml").write_text(page_xml("n.jpg", lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("make", "names", "says"),
    [
        (lambda d: (d / "page_l002.gt.txt").write_text(" \n"), ["page_l002.gt.txt"], "empty transcription"),
        (lambda d: (d / "page_l002.gt.txt").unlink(), ["page_l002.png"], "no transcription"),
        (lambda d: (d / "page_l003.png").unlink(), ["page_l003.gt.txt"], "no image"),
        (lambda d: (d / "page_l001.png").write_bytes(b"not a png"), ["page_l001.png"], "unreadable image"),
        (lambda d: (d / "x" / "scan.xml").write_text(page_xml("scan.jpg")), ["scan.xml", "scan.jpg"], "is not there"),
        (lambda d: with_note(d, NOTE_LINES[:2] + [((1, 2, 30, 40), "")]), ["n.xml#l3"], "empty or missing"),
    ],
    ids=["empty", "missing-text", "missing-image", "unreadable", "xml-without-image", "xml-empty-line"],
)
def test_bad_data_is_refused_naming_the_files(tmp_path, make, names, says):
    write_pairs(tmp_path, 4)
    (tmp_path / "x").mkdir()  # XML files in a folder of their own (beside line pairs they are left out)
    make(tmp_path)
    with pytest.raises(L.TrainingDataError) as caught:
        L.read_training_data([tmp_path])
    message = str(caught.value)
    assert says in message and all(n in message for n in names), message
    assert all(Path(f).name.split("#")[0] in {n.split("#")[0] for n in names} for f, _ in caught.value.problems)


def test_empty_lines_can_be_left_out_and_missing_paths_are_named(tmp_path):
    write_pairs(tmp_path, 4)
    (tmp_path / "page_l002.gt.txt").write_text("")
    lines, _ = L.read_training_data([tmp_path], skip_empty=True)
    assert len(lines) == 3
    with pytest.raises(FileNotFoundError, match="nowhere"):
        L.read_training_data([tmp_path / "nowhere"])


# ----- the command line ------------------------------------------------------------------------


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(["train", *map(str, args)])
    return code, capsys.readouterr().err


def test_without_pytorch_one_line_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    write_pairs(tmp_path / "gt", 25)
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    code, err = run_cli([tmp_path / "gt", "-o", tmp_path / "hand.onnx"], capsys)
    assert code == 11 and err.count("\n") == 1
    assert "pip install 'inkread[train]'" in err and "PyTorch" in err


def test_the_cli_refuses_bad_data_and_outputs_before_training(tmp_path, capsys):
    pytest.importorskip("torch")
    write_pairs(tmp_path / "few", 12)
    code, err = run_cli([tmp_path / "few", "-o", tmp_path / "hand.onnx"], capsys)
    assert code == 3 and "12 usable lines" in err and "at least 20" in err and err.count("\n") == 1
    write_pairs(tmp_path / "bad", 25)
    (tmp_path / "bad" / "page_l007.gt.txt").write_text("")
    code, err = run_cli([tmp_path / "bad", "-o", tmp_path / "hand.onnx"], capsys)
    assert code == 3 and "page_l007.gt.txt: empty transcription" in err and err.count("\n") == 1
    (tmp_path / "hand.onnx").write_bytes(b"mine")
    code, err = run_cli([tmp_path / "few", "-o", tmp_path / "hand.onnx"], capsys)
    assert code == 2 and "exists" in err and "--force" in err
    assert (tmp_path / "hand.onnx").read_bytes() == b"mine"
    from inkread.backends.ppocr.models import HANDWRITING_MODEL

    for out in (HANDWRITING_MODEL, HANDWRITING_MODEL.with_name("mine.onnx")):
        code, err = run_cli([tmp_path / "few", "-o", out, "--force"], capsys)
        assert code == 2 and "weights folder" in err
    assert not HANDWRITING_MODEL.with_name("mine.onnx").exists()
    code, err = run_cli([tmp_path / "few", "-o", tmp_path / "hand.txt"], capsys)
    assert code == 2 and ".onnx" in err
    from inkread.backends.ppocr.models import REC_MODEL, model_dir

    for base in (model_dir() / REC_MODEL, tmp_path / "few" / "page_l001.gt.txt"):  # PP-OCRv6; not ONNX
        code, err = run_cli([tmp_path / "few", "--base", base, "-o", tmp_path / "h1.onnx"], capsys)
        assert code == 2 and str(base) in err and err.count("\n") == 1, err
    write_pairs(tmp_path / "enough", 20)
    code, err = run_cli([tmp_path / "enough", "--val", tmp_path / "nowhere", "-o", tmp_path / "h2.onnx"], capsys)
    assert code == 2 and "nowhere" in err and not (tmp_path / "h2.onnx").exists()


# ----- PyTorch: the shipped model read back, a few steps of training ------------------------------


def note_crops() -> list[np.ndarray]:
    gray = cv2.imread(str(NOTE), cv2.IMREAD_GRAYSCALE)
    return [L._fit_height(gray[y0:y1, x0:x1]) for (x0, y0, x1, y1), _ in NOTE_LINES[:4]]


def onnx_probs(model: Path, grays: list[np.ndarray]) -> np.ndarray:
    import onnxruntime as ort

    from inkread.backends.ppocr.recinput import rec_batch

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    batch, _ = rec_batch([np.repeat(g[:, :, None], 3, axis=2) for g in grays])
    return session.run(None, {session.get_inputs()[0].name: batch})[0]


def torch_probs(model, grays: list[np.ndarray], work: Path, front_of: Path | None = None) -> np.ndarray:
    """``model``'s probabilities behind PP-OCRv6's front, or behind the front of the file ``front_of``."""
    import torch

    from inkread.training.front import cut_front
    from inkread.training.stage import Front

    front = cut_front(front_of, work / "front-of.onnx") if front_of else None
    mid, _ = Front(work, threads=1, path=front).run(grays)
    with torch.no_grad():
        return model.eval()(mid).softmax(-1).numpy()


def test_the_shipped_model_reads_the_same_in_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from inkread.backends.ppocr.models import HANDWRITING_MODEL
    from inkread.training.adapt import _classes
    from inkread.training.onnx_weights import NotAnInkreadModel, load_trained

    classes = _classes()[0]
    grays = note_crops()
    ref = onnx_probs(HANDWRITING_MODEL, grays)
    got = torch_probs(load_trained(HANDWRITING_MODEL, classes), grays, tmp_path)
    assert got.shape[:2] == ref.shape[:2] and got.shape[1] > 20
    assert np.abs(ref[:, :, classes] - got).max() < 1e-4
    from inkread.backends.ppocr.models import REC_MODEL, model_dir

    with pytest.raises(NotAnInkreadModel):  # PP-OCRv6 itself: not a model inkread trained
        load_trained(model_dir() / REC_MODEL, classes)


@pytest.fixture
def real_lines(tmp_path) -> Path:
    """24 real lines: 15 of ../shared/train (3 copiste pages, 5 lines each) as line pairs, and the
    note's 9 as a PAGE-XML over its image, in a folder below."""
    if not (TRAIN_DIR / "lines.tsv").is_file():
        pytest.skip(f"training lines not available at {TRAIN_DIR} (CI has them)")
    from inkread.training import data as D

    data = tmp_path / "data"
    data.mkdir()
    pages: dict[str, list] = {}
    for ln in D.read_lines(TRAIN_DIR, ("copiste",))[:200]:
        pages.setdefault(ln.page, []).append(ln)
    chosen = [p for p in sorted(pages) if len(pages[p]) >= 5][:3]
    for i, page in enumerate(chosen):
        for k, ln in enumerate(pages[page][:5], 1):
            shutil.copy(ln.path, data / f"p{i}_l{k:03d}.jpg")
            (data / f"p{i}_l{k:03d}.gt.txt").write_text(ln.text, encoding="utf-8")
    (data / "note").mkdir()  # a folder of its own: beside line pairs an XML file is left out
    shutil.copy(NOTE, data / "note" / "note.jpg")
    (data / "note" / "note.xml").write_text(page_xml("note.jpg"), encoding="utf-8")
    return data


def test_a_few_steps_write_a_model_inkread_reads(tmp_path, real_lines, capsys):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    out = tmp_path / "models" / "hand.onnx"
    args = [real_lines, "-o", out, "--epochs", "1", "--batch", "8", "--threads", "1", "--minutes", "5"]
    code, err = run_cli(args, capsys)
    assert code == 0, err
    assert "validation CER before training" in err and "left" in err
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["lines"]["training"] + card["lines"]["validation"] == 24
    assert card["pages"]["validation_by_page"] and card["steps"] >= 2
    assert (
        set(card["validation_cer"]) == {"before", "after"}
        and card["validation_cer"]["after"] <= card["validation_cer"]["before"]
    )
    assert card["command"].startswith("inkread train ") and "--epochs 1" in card["command"]
    assert len(card["data_hash"]) == 16 and card["base_model"]["file"].endswith("hw_rec.onnx")

    from inkread.backends.ppocr.models import PaddleModels, _session

    session = _session(out, 1)
    assert json.loads(session.get_modelmeta().custom_metadata_map["inkread"]) == card
    models = PaddleModels()
    assert models.charset_of(out) == models.charset
    probs = onnx_probs(out, note_crops())
    assert probs.shape[2] == len(models.charset) and np.allclose(probs.sum(2), 1.0, atol=1e-4)
    assert probs[:, :, ~models.class_mask("latin")].max() == 0.0
    # the model written reads back into PyTorch too (a base for more training: --base)
    from inkread.training.adapt import _classes
    from inkread.training.onnx_weights import load_trained

    classes = _classes()[0]
    again = torch_probs(load_trained(out, classes), note_crops(), tmp_path / "work", front_of=out)
    assert np.abs(probs[:, :, classes] - again).max() < 1e-4
    # the whole network trained: the front's weights are no longer PP-OCRv6's
    # the whole network trained: where the training improved on the base, the front written is the
    # trained one (no longer PP-OCRv6's); where it did not, the base model's, unchanged
    assert card["settings"]["front_lr_scale"] > 0
    behind_ppocr = torch_probs(load_trained(out, classes), note_crops(), tmp_path / "work")
    improved = card["validation_cer"]["after"] < card["validation_cer"]["before"]
    assert (np.abs(again - behind_ppocr).max() > 1e-3) == improved, card["validation_cer"]
    # not again over it without --force
    code, err = run_cli(args, capsys)
    assert code == 2 and "exists" in err


def test_a_frozen_front_stays_ppocrs(tmp_path, real_lines, capsys):
    """--frozen-front trains the layers after the front only: the model's front is PP-OCRv6's, weight
    for weight (so it shares PP-OCRv6's trunk when the two are read together)."""
    torch = pytest.importorskip("torch")
    import onnx
    from onnx import numpy_helper

    from inkread.backends.ppocr.models import HANDWRITING_MODEL
    from inkread.training.front import cut_front

    torch.set_num_threads(1)
    out = tmp_path / "frozen.onnx"
    args = [real_lines, "-o", out, "--epochs", "1", "--batch", "8", "--threads", "1", "--lr", "3e-3", "--frozen-front"]
    code, err = run_cli(args, capsys)
    assert code == 0, err
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["settings"]["front_lr_scale"] == 0 and "--frozen-front" in card["command"]

    def weights(model: Path) -> dict[str, np.ndarray]:
        front = cut_front(model, tmp_path / f"{model.stem}-front.onnx")
        return {i.name: numpy_helper.to_array(i) for i in onnx.load(str(front)).graph.initializer}

    ours, shipped = weights(out), weights(HANDWRITING_MODEL)
    assert ours.keys() == shipped.keys() and len(ours) > 80
    assert all(np.array_equal(ours[k], shipped[k]) for k in ours)
