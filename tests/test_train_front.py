"""The backbone's front in PyTorch (``inkread.training.front``): it gives onnxruntime's output on real
lines, its gradients reach the first layer, the trained weights go back into the same ONNX graph, and
a batch of lines of one width split into parts gives the whole batch's gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

import torch  # noqa: E402

from inkread.backends.ppocr.models import HANDWRITING_MODEL  # noqa: E402
from inkread.training.front import GraphFront, TrainedFront, cut_front  # noqa: E402
from inkread.training.stage import Front  # noqa: E402
from test_train_command import note_crops  # noqa: E402


@pytest.fixture(scope="module")
def front_file(tmp_path_factory) -> Path:
    return cut_front(HANDWRITING_MODEL, tmp_path_factory.mktemp("front") / "front.onnx")


def test_the_front_in_pytorch_gives_onnxruntimes_output(front_file, tmp_path):
    torch.set_num_threads(1)
    grays = note_crops()
    ref, ref_frames = Front(tmp_path, threads=1, path=front_file).run(grays)
    ours = TrainedFront(front_file)
    with torch.no_grad():
        got, frames = ours.run(grays)
    assert frames == ref_frames and got.shape == ref.shape and got.shape[3] > 20
    assert float((got - ref).abs().max()) < 1e-4 * float(ref.abs().max())
    # trained: the same values, and the gradient reaches the first conv through the checkpoints
    mid, _ = ours.run(grays[:2])
    mid.square().mean().backward()
    first = ours.net.weights[sorted(ours.net.weights)[0]]
    assert all(p.grad is not None for p in ours.net.parameters())
    assert sum(float(p.grad.abs().sum()) for p in ours.net.parameters()) > 0  # type: ignore[union-attr]
    assert first.grad is not None


def test_trained_weights_go_back_into_the_graph(front_file, tmp_path):
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    net = GraphFront(front_file)
    assert len(net.trained_names) >= 80 and sum(p.numel() for p in net.parameters()) > 1_000_000
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1.01)
    out = net.write(front_file, tmp_path / "trained.onnx")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 48, 200)).astype(np.float32)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    ref = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        got = net(torch.from_numpy(x)).numpy()
    assert np.abs(got - ref).max() < 1e-4 * np.abs(ref).max()
    before = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(front_file)).graph.initializer}
    after = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(out)).graph.initializer}
    changed = {k for k in before if not np.array_equal(before[k], after[k])}
    assert changed == set(net.trained_names)  # the constants (GELU's) are left as they were


def test_a_graph_with_an_unknown_operator_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Softplus", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 48, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 48, 8])],
    )
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ValueError, match="Softplus"):
        GraphFront(path)


def test_a_batch_in_parts_gives_the_whole_batchs_gradient(front_file, tmp_path):
    import cv2

    from inkread.training.adapt import _parts
    from inkread.training.stage import Stage, StageNet, ctc_loss

    torch.set_num_threads(1)
    # lines of one width: their parts are padded alike (the neck attends over the padding too)
    grays = [cv2.resize(g, (400, g.shape[0])) for g in note_crops()]
    parts = _parts(grays, 1000)
    assert sorted(j for p in parts for j in p) == list(range(len(grays))) and len(parts) > 1
    assert _parts(grays, 0) == [list(range(len(grays)))]
    torch.manual_seed(0)
    from inkread.training.adapt import _classes
    from inkread.training.onnx_weights import load_trained

    model = load_trained(HANDWRITING_MODEL, _classes()[0]).eval()  # no dropout: two passes alike
    assert isinstance(model, Stage) and isinstance(model.stage, StageNet)
    front = TrainedFront(front_file)
    targets = [[5, 6, 7], [8, 9], [10, 11, 12, 13], [14]][: len(grays)]

    def grads(split: list[list[int]]) -> list[torch.Tensor]:
        for m in (model, front.net):
            m.zero_grad()
        for part in split:
            loss = ctc_loss(model, front, [grays[j] for j in part], [targets[j] for j in part])[3]
            (loss * len(part) / len(grays)).backward()
        return [p.grad.clone() for p in front.net.parameters()]  # type: ignore[union-attr]

    whole, split = grads([list(range(len(grays)))]), grads(parts)
    assert max(float((a - b).abs().max()) for a, b in zip(whole, split)) < 1e-4 * max(
        float(a.abs().max()) for a in whole
    )


def test_a_run_that_improves_writes_its_trained_front(tmp_path, monkeypatch):
    """adapt() with the front training: when the validation improves, the front file it returns holds
    the trained weights (not the base model's); the layers after it are the best reading's too."""
    import onnx
    from onnx import numpy_helper

    from inkread.training import adapt as A
    from inkread.training.linedata import GtLine
    from test_train_command import NOTE_LINES

    torch.set_num_threads(1)
    crops = note_crops()
    lines = [GtLine(g, text, f"p{k}", "note") for k in range(5) for g, (_, text) in zip(crops, NOTE_LINES)]
    readings = iter([0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    monkeypatch.setattr(A._Run, "cer", lambda self: next(readings))  # each reading better than the last
    settings = A.Settings(minutes=5, epochs=1, batch=4, threads=1)
    done = A.adapt(HANDWRITING_MODEL, lines[:16], lines[16:], settings, tmp_path, log=lambda m: None)
    assert done["figures"]["validation_cer"]["after"] < done["figures"]["validation_cer"]["before"]
    base = cut_front(HANDWRITING_MODEL, tmp_path / "base.onnx")
    load = lambda p: {i.name: numpy_helper.to_array(i) for i in onnx.load(str(p)).graph.initializer}  # noqa: E731
    ours, theirs = load(done["front"]), load(base)
    assert done["front"] != base and ours.keys() == theirs.keys()
    assert sum(not np.array_equal(ours[k], theirs[k]) for k in ours) >= 80  # convs and biases trained
