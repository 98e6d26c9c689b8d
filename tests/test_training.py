"""The training recipe (inkread.training) cannot rot: its PyTorch copy of PP-OCRv6's neck and head
gives the ONNX model's probabilities, a few steps of CTC training on real handwritten lines lower the
loss, and the exported model loads in onnxruntime and reads through inkread's own recogniser code.

Needs the training extra (torch, onnx); scripts/setup.sh installs it for the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from inkread.backends.ppocr.models import REC_MODEL, PaddleModels, model_dir  # noqa: E402
from inkread.training import data as D  # noqa: E402
from inkread.training.features import Backbone, extract  # noqa: E402

TRAIN_DIR = Path(__file__).resolve().parents[2] / "shared" / "train"


@pytest.fixture(scope="module")
def train_lines() -> list[D.Line]:
    if not (TRAIN_DIR / "lines.tsv").is_file():
        pytest.skip(f"training lines not available at {TRAIN_DIR} (CI has them)")
    lines = D.read_lines(TRAIN_DIR, ("copiste",))
    return lines[:12]


def test_split_by_page_keeps_pages_whole(train_lines):
    lines = D.read_lines(TRAIN_DIR, D.SHIPPABLE_SETS)
    train, val = D.split_by_page(lines, 0.1, seed=3)
    assert len(train) + len(val) == len(lines) and val
    assert not {ln.page for ln in train} & {ln.page for ln in val}
    assert {ln.set for ln in val} == set(D.SHIPPABLE_SETS)  # each set has held-out pages
    assert D.split_by_page(lines, 0.1, seed=3)[1] == val  # the seed fixes the split


def test_neck_head_copy_matches_onnx(tmp_path, train_lines):
    import onnxruntime as ort

    from inkread.backends.ppocr.recinput import _rec_input
    from inkread.training.model import load_neck_head

    src = model_dir() / REC_MODEL
    net = load_neck_head(str(src)).eval()
    gray = D.gray(train_lines[0].path)
    x, rw = _rec_input(np.repeat(gray[:, :, None], 3, axis=2), 10_000)
    batch = np.zeros((1, 3, 48, -(-rw // 8) * 8 + 64), np.float32)  # some padding, as in a batch
    batch[0, :, :, :rw] = x
    full = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    ref = full.run(None, {full.get_inputs()[0].name: batch})[0][0]
    bb = Backbone(tmp_path, threads=1)
    feats = bb.session.run(None, {bb.session.get_inputs()[0].name: batch})[0]
    with torch.no_grad():
        got = net(torch.from_numpy(feats)).softmax(-1).numpy()[0]
    assert got.shape == ref.shape and got.shape[0] > 20
    assert np.abs(got - ref).max() < 1e-4


def test_few_steps_lower_the_loss_and_export_reads(tmp_path, train_lines):
    from argparse import Namespace

    from inkread.backends.ppocr.models import _session
    from inkread.training.export import export
    from inkread.training.train import train

    bb = Backbone(tmp_path / "cache", threads=1)
    items = [(D.gray(ln.path), ln.text) for ln in train_lines]
    extract(items, bb, tmp_path / "cache", "real", log=lambda m: None)
    extract(items[:4], bb, tmp_path / "cache", "val", log=lambda m: None)
    args = Namespace(seed=1, threads=1, work=str(tmp_path), part="neck", dropout=0.0, views=1, synth_share=0.0,
                     lr=2e-3, weight_decay=0.0, epochs=6, batch=4, time_mask=0.0)
    done = train(args)
    hist = done["history"]
    assert hist[-1]["loss"] < hist[1]["loss"]  # it learns the lines it sees
    assert min(h["val"] for h in hist[1:]) <= hist[0]["val"] + 0.05

    out = export(done["net"], done["classes"], tmp_path, tmp_path / "hw.onnx", {"test": True})
    session = _session(out, 1)
    models = PaddleModels()
    assert json.loads(session.get_modelmeta().custom_metadata_map["inkread"]) == {"test": True}
    assert models.charset_of(out) == models.charset
    rgb = np.repeat(items[0][0][:, :, None], 3, axis=2)
    from inkread.backends.ppocr.recinput import _rec_input

    x, _ = _rec_input(rgb, 2000)
    probs = session.run(None, {session.get_inputs()[0].name: x[None]})[0][0]
    assert probs.shape[1] == len(models.charset)
    assert np.allclose(probs.sum(1), 1.0, atol=1e-4)
    latin = models.class_mask("latin")
    assert probs[:, ~latin].max() == 0.0  # a Latin-script model: every other class has probability 0


def test_backbone_stage_copy_matches_onnx(tmp_path, train_lines):
    """The last backbone stage converted to PyTorch (trained by ``--part stage``) gives the
    backbone's output, and the front + stage + neck export reads like the PyTorch model."""
    from inkread.training.model import load_neck_head
    from inkread.training.stage import Front, Stage, stage_module
    from inkread.training.train import _classes

    grays = [D.gray(ln.path) for ln in train_lines[:3]]
    front = Front(tmp_path, threads=1)
    mid, lengths = front.run(grays)
    stage = stage_module(tmp_path).eval()
    with torch.no_grad():
        got = stage(mid).numpy()
    bb = Backbone(tmp_path, threads=1)
    ref = bb.run(grays)
    for j, r in enumerate(ref):
        assert lengths[j] == r.shape[1]
        assert np.abs(got[j, :, 0, : r.shape[1]] - r.astype(np.float32)).max() < 0.05  # float16 cache
    assert sum(p.numel() for p in stage.parameters()) > 1_000_000  # weights and biases both train

    classes, chars, _ = _classes()
    model = Stage(stage, load_neck_head(str(model_dir() / REC_MODEL), classes)).eval()
    from inkread.training.stage import read_all

    texts = read_all(model, front, grays, chars)
    truths = [D.training_text(ln.text) for ln in train_lines[:3]]
    from inkread.metrics import cer

    assert np.mean([cer(t, h) for t, h in zip(truths, texts)]) < 0.5  # PP-OCRv6 itself, untrained


def test_distillation_pulls_towards_the_teacher_on_the_rows_asked():
    """``--distill``: on the synthetic rows of a batch, the KL from PP-OCRv6's frame distributions
    to the student's; zero when they agree, and its gradient moves the student towards the teacher."""
    from inkread.training.stage import _distill_loss

    torch.manual_seed(0)
    teacher = torch.randn(3, 10, 7)
    student = teacher.clone().requires_grad_(True)
    lengths = [10, 6, 8]
    assert float(_distill_loss(student, teacher, lengths, [0, 2])) == pytest.approx(0.0, abs=1e-6)
    other = torch.randn(3, 10, 7, requires_grad=True)
    before = _distill_loss(other, teacher, lengths, [1])
    assert float(before) > 0.01
    before.backward()
    assert other.grad[0].abs().sum() == 0 and other.grad[2].abs().sum() == 0  # rows not asked for
    assert other.grad[1, 6:].abs().sum() == 0  # frames past the row's own length
    with torch.no_grad():
        stepped = other - 1.0 * other.grad
    assert float(_distill_loss(stepped, teacher, lengths, [1])) < float(before)


def test_a_soup_is_the_mean_of_the_runs_weights():
    """``export --checkpoint a.pt,b.pt`` (and ``all``'s second, distilled run) ship the element-wise mean
    of the runs' weights; integer buffers (counters) come from the first run, the runs are left as
    they were."""
    from inkread.training.export import average_states

    a = {"w": torch.tensor([1.0, 3.0]), "h": torch.tensor([0.5], dtype=torch.float16), "n": torch.tensor(5)}
    b = {"w": torch.tensor([3.0, 6.0]), "h": torch.tensor([1.5], dtype=torch.float16), "n": torch.tensor(7)}
    out = average_states([a, b])
    assert out["w"].tolist() == [2.0, 4.5]
    assert out["h"].dtype == torch.float16 and out["h"].tolist() == [1.0]
    assert out["n"].item() == 5
    assert a["w"].tolist() == [1.0, 3.0] and b["w"].tolist() == [3.0, 6.0]


def test_a_soups_card_names_every_run_and_its_command():
    """The card of a soup lists each run averaged with the command that trained it (the first
    run's command was once cleared before the list was made: the card said "" for it)."""
    from inkread.training.train import soup_of

    runs = [{"command": "python -m inkread.training train --fonts f"}, {"command": "python -m inkread.training train --distill 1.0"}]
    assert soup_of(["/w/stage-fonts.pt", "/w/stage-kd.pt"], runs) == [
        {"checkpoint": "stage-fonts.pt", "command": "python -m inkread.training train --fonts f"},
        {"checkpoint": "stage-kd.pt", "command": "python -m inkread.training train --distill 1.0"}]


def test_fetched_fonts_are_joined_subsets_with_a_stable_hash(tmp_path):
    """``python -m inkread.training fonts`` joins a Fontsource package's Latin and Latin Extended
    WOFF subsets into one TrueType file that draws both, byte for byte the same every time (its
    SHA-256 is written beside it), and ``train --fonts`` finds the files. The npm fetch itself is
    not run here (the test stays offline): two WOFF subsets are cut from a Debian font instead."""
    import hashlib

    from fontTools import subset
    from fontTools.ttLib import TTFont
    from PIL import ImageFont

    from inkread.training import fonts
    from inkread.training.synth import _cmap

    source = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not source.is_file():
        pytest.skip("apt-get install -y fonts-dejavu-core")
    parts = []
    for name, text in (("latin", "abcdefghij ABC"), ("latin-ext", "łąęőű")):
        font = TTFont(str(source))
        sub = subset.Subsetter()
        sub.populate(text=text)
        sub.subset(font)
        font.flavor = "woff"
        part = tmp_path / f"{name}.woff"
        font.save(str(part))
        parts.append(part)
    import time

    digests = set()
    for k in range(2):
        if k:
            time.sleep(1.1)  # the font's own timestamps count seconds
        out = tmp_path / f"joined{k}.ttf"
        fonts._merge(parts, out)
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1
    chars = _cmap(str(tmp_path / "joined0.ttf"))
    assert set("abcjABCłąű") <= chars and "z" not in chars
    assert ImageFont.truetype(str(tmp_path / "joined0.ttf"), 30).getbbox("ał")[2] > 20  # it draws
    (tmp_path / "dir").mkdir()
    (tmp_path / "joined0.ttf").rename(tmp_path / "dir" / "caveat.ttf")
    assert fonts.fetched(tmp_path / "dir") == ((str(tmp_path / "dir" / "caveat.ttf"), "npm:@fontsource/caveat@5.3.0"),)
    assert fonts.fetched("") == ()


def test_balanced_epochs_share_by_size_and_walk_through_each_set():
    """``--epoch-lines N --balance 0.5``: each collection's lines per epoch grow as the square root of
    its size (7,000 register cells do not drown 130 diary lines), no set repeats more than twice an
    epoch, and a large set's epochs walk through different lines of it (the same plan for the same
    seed and epoch: a resumed run redraws it)."""
    from inkread.training.stage import epoch_plan

    quotas = D.set_quotas({"big": 10_000, "small": 100, "tiny": 4}, 1000, 0.5)
    assert quotas["big"] > quotas["small"] > quotas["tiny"]
    assert quotas["big"] / quotas["small"] == pytest.approx(10, rel=0.05)  # sqrt(100) times
    assert quotas["tiny"] == 8  # capped: twice its 4 lines
    assert D.set_quotas({"a": 50, "b": 50}, 100, 0.0) == {"a": 50, "b": 50}
    groups = {"big": list(range(1000)), "small": list(range(1000, 1010))}
    plan = {"big": 300, "small": 10}
    one, two = epoch_plan(groups, plan, 3, 1), epoch_plan(groups, plan, 3, 2)
    assert len(one) == 310 and sum(i >= 1000 for i in one) == 10
    big_one, big_two = {i for i in one if i < 1000}, {i for i in two if i < 1000}
    assert len(big_one) == 300 and not big_one & big_two  # epoch 2 takes the next 300
    assert epoch_plan(groups, plan, 3, 2) == two


def test_a_stopped_stage_run_resumes_to_the_same_weights(tmp_path, train_lines):
    """A run stopped mid-epoch and started again with ``--resume`` continues from its last checkpoint
    (weights, optimiser, schedule, place in the epoch, the batches' augmentation) and ends with the
    weights an unstopped run ends with."""
    from argparse import Namespace

    from inkread.training.model import load_neck_head
    from inkread.training.stage import Front, Stage, stage_module, train_stage
    from inkread.training.train import _classes

    torch.set_num_threads(1)
    classes, chars, index = _classes()
    samples = [(D.gray(ln.path), D.encode(ln.text, index), True) for ln in train_lines[:8]]
    samples = [s for s in samples if s[1]]

    class Stopping(Front):
        calls = 0
        stop_at = -1

        def run(self, grays):
            Stopping.calls += 1
            if Stopping.calls == Stopping.stop_at:
                raise KeyboardInterrupt  # the session ends
            return super().run(grays)

    def run(work: Path, resume: bool, stop_at: int = -1):
        torch.manual_seed(0)
        model = Stage(stage_module(work), load_neck_head(str(model_dir() / REC_MODEL), classes, dropout=0.1))
        Stopping.calls, Stopping.stop_at = 0, stop_at
        args = Namespace(seed=1, lr=1e-3, stage_lr_scale=0.5, weight_decay=0.0, epochs=2, batch=2,
                         checkpoint_every=1, resume=resume)
        train_stage(model, Stopping(work, 1), samples, {}, chars, args, work / "stage.pt", log=lambda m: None)
        return model.state_dict()

    whole = run(tmp_path / "a", False)
    (tmp_path / "b").mkdir()
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", False, stop_at=len(samples) // 2 + 2)  # in the second epoch
    assert (tmp_path / "b" / "stage.resume.pt").is_file()
    resumed = run(tmp_path / "b", True)
    assert Stopping.calls < len(samples)  # only what was left
    for k, v in whole.items():
        assert torch.allclose(v.float(), resumed[k].float(), atol=1e-5), k
