"""``inkread train``'s training: an inkread handwriting model (the shipped one by default) fine-tuned
on a person's corrected lines, on the CPU, within a time limit, and exported like the shipped one.

What trains is the whole network: the last backbone stage, the neck and the head, read back from the base
model's ONNX file (:mod:`.onnx_weights`), and the front of the backbone before them, run in PyTorch from
the base model's graph (:mod:`.front`), on freshly augmented views of the lines
(:func:`.augment.augment`, 4 views in 5). On 300 lines of hooker's hand and 20 minutes, the validation
CER went 0.541 -> 0.322 with the front trained, 0.360 with it frozen; the dev pages 0.348 and 0.377
(bench/RESULTS.md, "Teach inkread a hand"). ``front_lr_scale=0`` keeps the front frozen, run by
onnxruntime (less memory: ``--frozen-front``). The schedule is the recipe's
(AdamW, the stage and the front at half the learning rate, a short warm-up, a cosine decay) over the
steps the time allows: the first steps are timed and the decay is set to end when ``--minutes`` does
(``--epochs`` fixes the steps instead, so a run does not depend on the machine's speed). The validation
lines are read (greedy CTC, the CER) before training, after each epoch (at most every :data:`EVAL_EVERY`
steps) and the best reading is kept, the base model's own included; training stops at the time limit,
when ``patience`` readings in a row did not improve, or after the planned steps. Ctrl-C stops it too, and
the best model so far is still written.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..memory import give_back
from . import data as D
from .front import TrainedFront, cut_front
from .linedata import MIN_LINES, GtLine, TrainingDataError
from .stage import STAGE_INPUT, Front, Stage, ctc_loss, read_all

__all__ = ["Settings", "encodable", "adapt", "write_model"]

EVAL_EVERY = 200  # steps between validation readings at most (an epoch of a large set is more)
MAX_EPOCHS = 100  # a small set is not seen more often than this, whatever time is left
TIMED_STEPS = 5  # steps timed before the schedule is fitted to the time limit
# when the front trains, a batch goes through it in parts of at most this many pixels of width (at
# height 48, padding included), their gradients summed: the step in less memory (the same step for
# lines of one width; narrower parts are padded less, which the neck, attending over padding too, sees)
PART_PIXELS = 4000


@dataclass(frozen=True)
class Settings:
    """``inkread train``'s options that shape the training (recorded in the card)."""

    minutes: float = 20.0
    epochs: int = 0  # 0: as many as the minutes allow (at most MAX_EPOCHS)
    batch: int = 16
    lr: float = 3e-4
    stage_lr_scale: float = 0.5
    weight_decay: float = 0.01
    patience: int = 8
    seed: int = 0
    threads: int = 0  # 0: every core
    augment: float = 0.8  # share of the training views augmented
    front_lr_scale: float = 0.5  # the backbone's front's learning rate, a share of ``lr``; 0: frozen


class _Stop(Exception):
    """Training is over (the reason is set where it is raised)."""


@functools.cache
def _classes():
    """(the kept classes' indices, their characters, character -> class) of the recipe's model."""
    from .train import _classes as classes_of_the_recipe

    return classes_of_the_recipe()


def encodable(lines: list[GtLine]) -> tuple[list[GtLine], list[str]]:
    """The lines whose every character the model has a class for, and a note on those left out."""
    _classes_, _chars, index = _classes()
    kept: list[GtLine] = []
    missing: Counter[str] = Counter()
    left = 0
    for ln in lines:
        text = D.normalise_text(ln.text)
        absent = [c for c in text if c not in index]
        if absent:
            missing.update(absent)
            left += 1
        else:
            kept.append(GtLine(ln.image, text, ln.page, ln.source))
    notes = []
    if left:
        chars = ", ".join(f"{c!r} x{n}" for c, n in missing.most_common(8))
        notes.append(f"{left} lines left out: characters the model has no class for ({chars})")
    return kept, notes


def _parts(grays: list[np.ndarray], pixels: int) -> list[list[int]]:
    """A batch's lines in runs whose padded width (the widest line's, times the count) is at most
    ``pixels`` (one line at least); 0: the whole batch at once."""
    if not pixels:
        return [list(range(len(grays)))]
    from ..backends.ppocr.recinput import rec_width

    order = sorted(range(len(grays)), key=lambda j: grays[j].shape[1] / max(1, grays[j].shape[0]))
    out: list[list[int]] = [[]]
    for j in order:
        widest = rec_width(grays[j])  # the widest so far: the order is by width
        if out[-1] and widest * (len(out[-1]) + 1) > pixels:
            out.append([])
        out[-1].append(j)
    return out


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class _Run:
    """One training run: the model, its optimiser and schedule, the validation readings."""

    def __init__(
        self,
        model: Stage,
        front: Front | TrainedFront,
        train: list[GtLine],
        val: list[GtLine],
        settings: Settings,
        log: Callable[[str], None],
        deadline: float,
    ) -> None:
        _classes_, self.chars, index = _classes()
        self.model, self.front, self.settings, self.log, self.deadline = model, front, settings, log, deadline
        self.samples = [(ln.image, [index[c] for c in ln.text]) for ln in train]
        self.val = ([ln.image for ln in val], [ln.text for ln in val])
        groups: list[dict[str, Any]] = [
            {"params": list(model.stage.parameters()), "lr": settings.lr * settings.stage_lr_scale},
            {"params": list(model.neck.parameters()), "lr": settings.lr},
        ]
        self.trained: list[torch.nn.Module] = [model]
        self.trains_front = isinstance(front, TrainedFront)
        if isinstance(front, TrainedFront):
            groups.append({"params": list(front.net.parameters()), "lr": settings.lr * settings.front_lr_scale})
            self.trained.append(front.net)
        self.params = [p for g in groups for p in g["params"]]
        self.opt = torch.optim.AdamW(groups, weight_decay=settings.weight_decay)
        self.base_lrs = [g["lr"] for g in self.opt.param_groups]
        self.per_epoch = math.ceil(len(self.samples) / settings.batch)
        self.eval_every = min(self.per_epoch, EVAL_EVERY)
        self.most = (settings.epochs or MAX_EPOCHS) * self.per_epoch
        self.total = self.most
        self.warm = min(20, max(1, self.total // 10))
        self.step = 0
        self.step_seconds: list[float] = []
        self.read_seconds = 0.0
        self.history: list[dict] = []

    def cer(self) -> float:
        from ..metrics import cer

        t = time.monotonic()
        hyps = read_all(self.model, self.front, self.val[0], self.chars, batch=self.settings.batch)
        self.read_seconds = time.monotonic() - t
        self.model.train()
        return float(np.mean([cer(r, h) for r, h in zip(self.val[1], hyps)]))

    def snapshot(self) -> list[dict]:
        """The trained weights now (the stage, neck and head; the front when it trains)."""
        return [copy.deepcopy(m.state_dict()) for m in self.trained]

    def restore(self, states: list[dict]) -> None:
        for m, state in zip(self.trained, states):
            m.load_state_dict(state)

    def _fit_to_time(self) -> None:
        """The planned steps: what is left of the time at the pace of the last steps (the first
        left out: it warms the caches), readings of the validation lines included. Fitted after
        the first steps, then again at each reading in the first part of the run (the first steps
        are often slower): the decay stretches or shrinks a little, and ends when the time does."""
        pace = float(np.median(self.step_seconds[1:][-30:] or self.step_seconds))
        left = self.deadline - time.monotonic() - self.read_seconds  # the last reading
        fits = int(left / (pace + self.read_seconds / self.eval_every))
        self.total = max(self.step + 1, min(self.most, self.step + fits))

    def _rate(self) -> None:
        s = self.step
        f = min(1.0, (s + 1) / self.warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / max(1, self.total))))
        for group, base in zip(self.opt.param_groups, self.base_lrs):
            group["lr"] = base * f

    def _batches(self, epoch: int) -> list[list[int]]:
        """One epoch's batches: lines of similar width together, in an order the seed fixes."""
        rng = np.random.default_rng([self.settings.seed, epoch])
        n = len(self.samples)
        ratio = [img.shape[1] / img.shape[0] for img, _ in self.samples]
        order = sorted(range(n), key=lambda i: ratio[i] + rng.uniform(0, 3))
        batches = [order[s : s + self.settings.batch] for s in range(0, n, self.settings.batch)]
        rng.shuffle(batches)
        return batches

    def _train_step(self, epoch: int, k: int, batch: list[int]) -> float:
        from .augment import augment

        t = time.monotonic()
        brng = np.random.default_rng([self.settings.seed, epoch, k])  # this batch's augmentation
        grays = [
            augment(self.samples[i][0], brng) if brng.random() < self.settings.augment else self.samples[i][0]
            for i in batch
        ]
        targets = [self.samples[i][1] for i in batch]
        self._rate()
        self.opt.zero_grad()
        loss = 0.0
        for part in _parts(grays, PART_PIXELS if self.trains_front else 0):
            # ctc_loss is the mean over the part's lines: weighed by its share, the sum is the batch's
            share = ctc_loss(self.model, self.front, [grays[j] for j in part], [targets[j] for j in part])[3]
            (share * (len(part) / len(batch))).backward()
            loss += float(share.detach()) * len(part) / len(batch)
        torch.nn.utils.clip_grad_norm_(self.params, 5.0)
        self.opt.step()
        if self.trains_front:
            # the step's activations, freed, handed back (malloc_trim): the next step's, of other
            # sizes, do not fit the heap's holes; 32 steps on 300 lines peaked at 4.06 GB without
            # it, 2.61 GB with it, 7% more time (bench/RESULTS.md, "Teach inkread a hand")
            give_back()
        self.step += 1
        self.step_seconds.append(time.monotonic() - t)
        return loss

    def _left(self) -> float:
        pace = float(np.mean(self.step_seconds[-50:])) if self.step_seconds else 1.0
        readings = math.ceil((self.total - self.step) / self.eval_every) * self.read_seconds
        return max(0.0, min(self.deadline - time.monotonic(), (self.total - self.step) * pace + readings))

    def run(self, before: float, started: float) -> tuple[list[dict], float, str]:
        """Train; (the best weights, their CER, why it stopped)."""
        best, best_state, since = before, self.snapshot(), 0
        self.model.train()
        losses: list[float] = []  # since the last reading
        shown: list[float] = []  # since the last progress line
        reason = "the planned steps are done"
        last_log = time.monotonic()
        epoch = 0
        try:
            while self.step < self.total:
                epoch += 1
                for k, batch in enumerate(self._batches(epoch)):
                    if time.monotonic() + self._pace() + self.read_seconds > self.deadline:
                        reason = "time limit (--minutes)"
                        raise _Stop
                    loss = self._train_step(epoch, k, batch)
                    losses.append(loss)
                    shown.append(loss)
                    if self.step == TIMED_STEPS and not self.settings.epochs:
                        self._fit_to_time()
                    due = self.step % self.eval_every == 0 or self.step >= self.total
                    if due:
                        got = self.cer()
                        self.history.append({"step": self.step, "loss": float(np.mean(losses)), "cer": got})
                        losses = []
                        if got < best:
                            best, best_state, since = got, self.snapshot(), 0
                        else:
                            since += 1
                        if not self.settings.epochs and self.step < 0.6 * self.total:
                            self._fit_to_time()
                    if due or time.monotonic() - last_log > 30:
                        last_log = time.monotonic()
                        self._progress(shown, best, before, started, due)
                        shown = []
                    if self.settings.patience and since >= self.settings.patience:
                        reason = f"validation CER has not improved for {since} readings (--patience)"
                        raise _Stop
                    if self.step >= self.total:
                        raise _Stop
        except _Stop:
            pass
        except KeyboardInterrupt:
            reason = "interrupted"
        read_last = bool(self.history) and self.history[-1]["step"] == self.step
        if self.step and not read_last and reason != "interrupted":  # the steps since the last reading
            got = self.cer()
            self.history.append({"step": self.step, "loss": float(np.mean(losses or [0.0])), "cer": got})
            if got < best:
                best, best_state = got, self.snapshot()
        return best_state, best, reason

    def _pace(self) -> float:
        return float(np.mean(self.step_seconds[-20:])) if self.step_seconds else 0.0

    def _progress(self, losses: list[float], best: float, before: float, started: float, read: bool) -> None:
        seen = self.step / max(1, self.per_epoch)
        cer = f", validation CER {self.history[-1]['cer']:.3f}" if read and self.history else ""
        self.log(
            f"step {self.step}/{self.total} (epoch {seen:.1f}): loss {np.mean(losses or [0.0]):.3f}{cer} "
            f"(best {best:.3f}, before {before:.3f}); {_clock(time.monotonic() - started)} elapsed, "
            f"about {_clock(self._left())} left"
        )


def adapt(
    base: Path,
    train: list[GtLine],
    val: list[GtLine],
    settings: Settings,
    work: Path,
    log: Callable[[str], None] = print,
) -> dict:
    """Fine-tune ``base`` on ``train`` (lines :func:`encodable` kept), choosing on ``val``; the
    trained :class:`.stage.Stage` (``net``), its ``classes``, the front's ONNX file (``front``: the
    base model's, or one with the trained weights, in ``work``) and the figures for the card."""
    from .onnx_weights import load_trained

    started = time.monotonic()
    deadline = started + settings.minutes * 60
    if len(train) + len(val) < MIN_LINES:
        raise TrainingDataError([], f"{len(train) + len(val)} usable lines: at least {MIN_LINES} are needed")
    torch.manual_seed(settings.seed)
    threads = settings.threads or int(os.environ.get("INKREAD_THREADS") or 0) or os.cpu_count() or 2
    torch.set_num_threads(threads)
    classes, _chars, _index = _classes()
    model = load_trained(base, classes)
    base_front = cut_front(base, work / "base-front.onnx")
    front = TrainedFront(base_front) if settings.front_lr_scale > 0 else Front(work, threads, base_front)
    run = _Run(model, front, train, val, settings, log, deadline)
    before = run.cer()
    log(f"validation CER before training: {before:.3f} ({len(val)} lines read in {run.read_seconds:.1f} s)")
    states, after, reason = run.run(before, started)
    run.restore(states)
    front_file = base_front
    if isinstance(front, TrainedFront) and after < before:
        front_file = front.net.write(base_front, work / "trained-front.onnx")
    log(f"stopped: {reason}; validation CER {before:.3f} before, {after:.3f} after")
    if after >= before:
        log("training did not improve on the base model's validation CER: the model written reads like the base")
    return {
        "net": model,
        "classes": classes,
        "front": front_file,
        "figures": {
            "validation_cer": {"before": round(before, 4), "after": round(after, 4)},
            "steps": run.step,
            "epochs": round(run.step / max(1, run.per_epoch), 2),
            "minutes": round((time.monotonic() - started) / 60, 2),
            "stopped": reason,
            "history": [{k: round(v, 4) if isinstance(v, float) else v for k, v in h.items()} for h in run.history],
            "settings": {**asdict(settings), "threads": threads},
        },
        "interrupted": reason == "interrupted",
    }


def write_model(net: Stage, classes: np.ndarray, work: Path, out: Path, card: dict, front: Path) -> Path:
    """The ONNX model (the ``front`` ONNX file + the trained layers, ``card`` in its metadata) at
    ``out`` and the card beside it (``.json``), each written whole or not at all."""
    from .export import export

    path = export(net, classes, work, out, card, front=front, join=STAGE_INPUT, channels=(384, 3))
    side = out.with_suffix(".json")
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, side)
    return path
