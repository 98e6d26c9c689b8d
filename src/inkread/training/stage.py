"""Training the last stage of PP-OCRv6's backbone too, with the neck and head (``--part stage``).

The backbone is cut once more, before its last stage (``STAGE_INPUT``: (batch, 384, 3, width / 4)):
the front runs frozen in onnxruntime on every batch, so real lines are augmented afresh each time they
are seen; the last stage (two blocks of a 3x3 depth-wise conv, the first with squeeze-excitation, and
an MLP of 768 with GELU; then a 3x2 average pooling; 1.3 M weights) is re-implemented here
(:class:`StageNet`, loaded from the ONNX file's weights and checked equal to onnxruntime's output by
the tests) and trained with the neck and head. Export puts the front, the trained stage and the head
back into one ONNX file.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F

from ..backends.ppocr.models import REC_MODEL, _session, model_dir
from ..backends.ppocr.recinput import own_frames, rec_batch
from .model import BACKBONE_OUTPUT, NeckHead, greedy

__all__ = ["STAGE_INPUT", "Stage", "StageNet", "front_path", "run_front", "stage_module"]

STAGE_INPUT = "p2o.pd_op.add.54.0"


def front_path(work: Path) -> Path:
    """The backbone up to its last stage (input image -> stage input)."""
    from .features import cut_recogniser

    return cut_recogniser(work, "front.onnx", STAGE_INPUT)


class _Block(torch.nn.Module):
    """x -> y = dwconv3x3(x) [* squeeze-excitation(y)]; y + MLP(y) (1x1 convs, GELU)."""

    def __init__(self, channels: int = 384, hidden: int = 768, se: bool = False) -> None:
        super().__init__()
        self.dw = torch.nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.se = (
            torch.nn.Sequential(
                torch.nn.Conv2d(channels, channels // 4, 1),
                torch.nn.ReLU(),
                torch.nn.Conv2d(channels // 4, channels, 1),
                torch.nn.Hardsigmoid(),
            )
            if se
            else None
        )
        self.fc1 = torch.nn.Conv2d(channels, hidden, 1)
        self.fc2 = torch.nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw(x)
        if self.se is not None:
            y = y * self.se(y.mean(dim=(2, 3), keepdim=True))
        return y + self.fc2(F.gelu(self.fc1(y)))


class StageNet(torch.nn.Module):
    """PP-OCRv6 small's last backbone stage: (b, 384, 3, w) -> (b, 384, 1, w / 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = torch.nn.Sequential(_Block(se=True), _Block(se=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.blocks(x), kernel_size=(3, 2), stride=(3, 2))


def stage_module(work: Path | None = None) -> StageNet:
    """:class:`StageNet` holding PP-OCRv6's weights, read from the wheel's ONNX file: the convs of
    the stage in graph order, each with the bias added after it."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_dir() / REC_MODEL))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    nodes = list(model.graph.node)
    start = next(i for i, n in enumerate(nodes) if STAGE_INPUT in n.input)
    end = next(i for i, n in enumerate(nodes) if n.op_type == "AveragePool" and BACKBONE_OUTPUT in n.output)
    pairs = []
    for i in range(start, end):
        n = nodes[i]
        if n.op_type == "Conv":
            bias_node = next(m for m in nodes[i + 1 : end] if m.op_type == "Add" and n.output[0] in m.input)
            bias = next(inits[x] for x in bias_node.input if x in inits)
            pairs.append((inits[n.input[1]], bias.reshape(-1)))
    net = StageNet()
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    if len(convs) != len(pairs):
        raise ValueError(f"{REC_MODEL}'s last stage has {len(pairs)} convs, StageNet {len(convs)}")
    for conv, (w, b) in zip(convs, pairs):
        if tuple(conv.weight.shape) != w.shape:
            raise ValueError(f"weight shape {w.shape} where StageNet has {tuple(conv.weight.shape)}")
        conv.weight.data = torch.from_numpy(np.array(w, dtype=np.float32))
        assert conv.bias is not None  # every conv of StageNet has a bias
        conv.bias.data = torch.from_numpy(np.array(b, dtype=np.float32))
    return net


class Stage(torch.nn.Module):
    """Stage input -> class logits: the trainable last backbone stage, then the neck and head."""

    def __init__(self, stage: torch.nn.Module, neck: NeckHead) -> None:
        super().__init__()
        self.stage = stage
        self.neck = neck

    def forward(self, mid: torch.Tensor) -> torch.Tensor:
        return self.neck(self.stage(mid))


class FrontLike(Protocol):
    """What runs a batch of grey lines to the stage input: :class:`Front`, ``front.TrainedFront``."""

    def run(self, grays: list[np.ndarray]) -> tuple[torch.Tensor, list[int]]: ...


class Front:
    """The frozen front of the backbone in onnxruntime, batched like inkread's recogniser: PP-OCRv6's
    (cut into ``work``), or the one at ``path``."""

    def __init__(self, work: Path, threads: int, path: Path | None = None) -> None:
        self.session = _session(path or front_path(work), threads)

    def run(self, grays: list[np.ndarray]) -> tuple[torch.Tensor, list[int]]:
        """Stage input for the lines, and how many output frames of each are its own (not padding)."""
        name = self.session.get_inputs()[0].name
        return run_front(lambda batch: torch.from_numpy(self.session.run(None, {name: batch})[0]), grays)


def run_front(front: Callable[[np.ndarray], torch.Tensor], grays: list[np.ndarray]) -> tuple[torch.Tensor, list[int]]:
    """Grey lines batched like inkread's recogniser, through ``front`` (recogniser input -> stage
    input): the stage input, and how many output frames of each line are its own (not padding)."""
    batch, widths = rec_batch([np.repeat(g[:, :, None], 3, axis=2) for g in grays])
    width = batch.shape[3]  # the stage's pooling halves the stage input's width / 4
    return front(batch), own_frames(width // 8, widths, width)


def read_all(model: Stage, front: FrontLike, grays: list[np.ndarray], chars: list[str], batch: int = 16) -> list[str]:
    model.eval()
    order = np.argsort([g.shape[1] / max(1, g.shape[0]) for g in grays])
    got: dict[int, str] = {}
    with torch.no_grad():
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            mid, lengths = front.run([grays[i] for i in idx])
            for i, t in zip(idx, greedy(model(mid), lengths, chars)):
                got[int(i)] = t
    return [got[i] for i in range(len(grays))]


def measure_cer(
    model: Stage, front: FrontLike, measure: dict[str, tuple[list[np.ndarray], list[str]]], chars: list[str]
) -> dict[str, float]:
    """Greedy-decoding CER of ``model`` on each named set of (grey images, reference texts)."""
    from ..metrics import cer

    return {
        n: float(np.mean([cer(r, h) for r, h in zip(refs, read_all(model, front, imgs, chars))]))
        for n, (imgs, refs) in measure.items()
    }


def ctc_loss(
    model: Stage, front: FrontLike, grays: list[np.ndarray], targets: list[list[int]]
) -> tuple[torch.Tensor, list[int], torch.Tensor, torch.Tensor]:
    """One batch through the frozen front and the trained model: the stage input, each line's own
    frames, the logits and the CTC loss against ``targets`` (class indices)."""
    mid, lengths = front.run(grays)
    logits = model(mid)
    loss = F.ctc_loss(
        F.log_softmax(logits, -1).transpose(0, 1),
        torch.tensor([c for y in targets for c in y]),
        torch.tensor(lengths),
        torch.tensor([len(y) for y in targets]),
        blank=0,
        zero_infinity=True,
    )
    return mid, lengths, logits, loss


def _distill_loss(logits: torch.Tensor, teacher: torch.Tensor, lengths: list[int], rows: list[int]) -> torch.Tensor:
    """KL(teacher || student) per frame, over the own frames of batch ``rows``, averaged."""
    total = logits.new_zeros(())
    frames = 0
    for r in rows:
        n = lengths[r]
        p_t = F.softmax(teacher[r, :n], -1)
        total = total + (p_t * (torch.log(p_t + 1e-9) - F.log_softmax(logits[r, :n], -1))).sum()
        frames += n
    return total / max(1, frames)


def epoch_plan(groups: dict[str, list[int]], quotas: dict[str, int], seed: int, epoch: int) -> list[int]:
    """The samples of one epoch: ``quotas[set]`` of each set's indices, taken in turn from a fixed
    shuffle of the set (epoch after epoch walks through all of a large set's lines; a small set's
    lines come round again), the same for the same seed and epoch (a resumed run redraws it)."""
    out: list[int] = []
    for name in sorted(groups):
        idx = groups[name]
        take = quotas.get(name, len(idx))
        if not idx or take <= 0:
            continue
        order = np.random.default_rng([seed, sum(map(ord, name))]).permutation(len(idx))
        start = (epoch - 1) * take
        out += [idx[int(order[(start + j) % len(idx)])] for j in range(take)]
    return out


def with_val_mean(scores: dict[str, float]) -> dict[str, float]:
    """``val``: the mean of the per-collection ``val/<set>`` figures (each collection weighs alike)."""
    per_set = [v for k, v in scores.items() if k.startswith("val/")]
    return {**scores, "val": float(np.mean(per_set))} if per_set else scores


def train_stage(
    model: Stage,
    front: Front,
    samples: list[tuple[np.ndarray, list[int], bool]],
    measure: dict[str, tuple[list[np.ndarray], list[str]]],
    chars: list[str],
    args,
    checkpoint: Path,
    log=print,
    teacher: Stage | None = None,
    n_real: int = 0,
    groups: dict[str, list[int]] | None = None,
    quotas: dict[str, int] | None = None,
) -> list[dict]:
    """CTC training over (grey image, target, augment?) samples; ``measure`` sets read each epoch.

    ``groups`` (set name -> sample indices) and ``quotas`` (lines of each set per epoch) balance the
    epochs across collections (:func:`epoch_plan`); without them an epoch is every sample once.
    The best epoch (lowest ``val``) is kept in ``checkpoint``; every ``args.checkpoint_every`` batches
    the whole run (weights, optimiser, schedule, place) is saved beside it (``*.resume.pt``) and
    ``args.resume`` continues from there, drawing the same batches.

    With a ``teacher`` (PP-OCRv6 as shipped) and ``args.distill`` > 0, the synthetic samples (those
    from ``n_real`` on) also pull the student's frame distributions towards the teacher's (KL,
    weighted ``args.distill``): what it reads well in rendered fonts is not forgotten."""
    from .augment import augment

    seed = args.seed if getattr(args, "run_seed", None) is None else args.run_seed
    groups = groups or {"all": list(range(len(samples)))}
    quotas = quotas or {k: len(v) for k, v in groups.items()}
    stage_params = list(model.stage.parameters())
    neck_params = list(model.neck.parameters())
    opt = torch.optim.AdamW(
        [{"params": stage_params, "lr": args.lr * args.stage_lr_scale}, {"params": neck_params, "lr": args.lr}],
        weight_decay=args.weight_decay,
    )
    per_epoch = sum(quotas.values())
    steps = args.epochs * math.ceil(per_epoch / args.batch)
    warm = min(200, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, warm)) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / max(1, steps))))
    )
    resume_file = checkpoint.with_suffix(".resume.pt")
    every = max(1, getattr(args, "checkpoint_every", 200))
    command = getattr(args, "command", "")

    def score() -> dict[str, float]:
        return with_val_mean(measure_cer(model, front, measure, chars))

    def save_run(epoch: int, batch: int, total: float, count: float, history: list[dict], best: float) -> None:
        run = {
            "state": model.state_dict(),
            "opt": opt.state_dict(),
            "sched": sched.state_dict(),
            "epoch": epoch,
            "batch": batch,
            "total": total,
            "count": count,
            "history": history,
            "best": best,
            "torch_rng": torch.get_rng_state(),
            "command": command,
        }
        torch.save(run, resume_file.with_suffix(".tmp"))
        resume_file.with_suffix(".tmp").replace(resume_file)  # a run killed while saving keeps the last

    first_epoch, first_batch, total, count = 1, 0, 0.0, 0.0
    if getattr(args, "resume", False) and resume_file.is_file():
        run = torch.load(resume_file, weights_only=False)
        model.load_state_dict(run["state"])
        opt.load_state_dict(run["opt"])
        sched.load_state_dict(run["sched"])
        torch.set_rng_state(run["torch_rng"])
        first_epoch, first_batch = run["epoch"], run["batch"]
        total, count, history, best = run["total"], run["count"], run["history"], run["best"]
        log(f"resumed {resume_file}: epoch {first_epoch}, batch {first_batch}")
    else:
        history = [{"epoch": 0, **score()}]
        log(f"epoch 0: {history[0]}")
        best = history[0].get("val", 9.0)
        torch.save({"state": model.state_dict(), "history": history, "command": command}, checkpoint)
    for epoch in range(first_epoch, args.epochs + 1):
        model.train()
        t0 = time.time()
        rng = np.random.default_rng([seed, epoch])
        plan = epoch_plan(groups, quotas, seed, epoch)
        # batches of similar width, in random order
        order = sorted(plan, key=lambda i: samples[i][0].shape[1] / samples[i][0].shape[0] + rng.uniform(0, 3))
        batches = [order[s : s + args.batch] for s in range(0, len(order), args.batch)]
        rng.shuffle(batches)
        if epoch != first_epoch or first_batch == 0:
            total = count = 0.0
        for k, b in enumerate(batches):
            if epoch == first_epoch and k < first_batch:
                continue
            brng = np.random.default_rng([seed, epoch, k])  # this batch's augmentation, also on resume
            grays = [
                augment(samples[i][0], brng, getattr(args, "warp", 0.0))
                if samples[i][2] and brng.random() < 0.8
                else samples[i][0]
                for i in b
            ]
            mid, lengths, logits, loss = ctc_loss(model, front, grays, [samples[i][1] for i in b])
            synth_rows = [j for j, i in enumerate(b) if i >= n_real]
            if teacher is not None and getattr(args, "distill", 0.0) > 0 and synth_rows:
                with torch.no_grad():
                    taught = teacher(mid)
                loss = loss + args.distill * _distill_loss(logits, taught, lengths, synth_rows)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(stage_params + neck_params, 5.0)
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(b)
            count += len(b)
            if k % 50 == 0:
                log(
                    f"  epoch {epoch} batch {k}/{len(batches)} loss {total / max(1, count):.3f} {time.time() - t0:.0f}s"
                )
            if (k + 1) % every == 0:
                save_run(epoch, k + 1, total, count, history, best)
        scores = score()
        history.append({"epoch": epoch, "loss": total / max(1, count), "seconds": time.time() - t0, **scores})
        log(f"epoch {epoch}: {history[-1]}")
        if scores.get("val", 0.0) <= best:  # without validation lines, the last epoch is kept
            best = scores.get("val", 0.0)
            torch.save({"state": model.state_dict(), "history": history, "command": command}, checkpoint)
        else:
            state = torch.load(checkpoint, weights_only=False)
            state["history"] = history
            torch.save(state, checkpoint)
        save_run(epoch + 1, 0, 0.0, 0.0, history, best)
    return history
