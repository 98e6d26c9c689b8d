"""CTC training of the neck and head on cached backbone features (and of the last backbone stage),
validation, and a trained model back from its checkpoints (exported to ONNX by :mod:`.recipe`).

``python -m inkread.training train --part neck --epochs 30`` trains; ``--part head`` trains only the last
linear layer (the comparison in bench/RESULTS.md). Greedy-decoding CER is reported each epoch on the
held-out pages of the training collections (``val``: chooses the kept epoch), on hooker/stanford lines
(collections never trained on), on synthetic lines in held-out fonts (other languages) and on the dev
line crops (measured, never chosen on).

The command's options, the shipped recipe's steps and the model card are in :mod:`.recipe`.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..backends.ppocr.models import REC_MODEL, model_dir
from ..metrics import cer
from . import data as D
from .export import average_states
from .features import Backbone, load_cache
from .fonts import fetched
from .model import NeckHead, greedy, load_neck_head

MEASURE_SETS = ("val", "other_sets", "synth_heldout", "dev_lines")


class Cache:
    """One cached set: features, frames per line, encoded targets (lines whose text has a character
    outside the classes are left out)."""

    def __init__(self, work: Path, name: str, index: dict[str, int]) -> None:
        feats, idx, texts = load_cache(work / "cache", name)
        self.feats = np.asarray(feats)
        keep = [(i, D.encode(t, index)) for i, t in enumerate(texts)]
        keep = [(i, y) for i, y in keep if y is not None]
        self.index = idx[[i for i, _ in keep]]
        self.targets = [y for _, y in keep]
        self.texts = [D.normalise_text(texts[i]) for i, _ in keep]

    def __len__(self) -> int:
        return len(self.targets)

    def item(self, i: int) -> np.ndarray:
        s, n = self.index[i]
        return self.feats[s : s + n]


def _pad_vector(work: Path) -> np.ndarray:
    """The backbone's features of empty (zero) input: what the neck sees where inkread pads a batch."""
    bb = Backbone(work / "cache", threads=1)
    f = bb.run([np.full((48, 640), 128, np.uint8)])[0]
    return f[:, f.shape[1] // 2].astype(np.float32)


def _batch(items: list[np.ndarray], pad: np.ndarray, min_frames: int = 40, rng=None, time_mask: float = 0.0):
    t = max(min_frames, max(len(x) for x in items))
    out = np.broadcast_to(pad, (len(items), t, pad.shape[0])).copy()
    for j, x in enumerate(items):
        out[j, : len(x)] = x
        if rng is not None and time_mask > 0 and len(x) > 10 and rng.random() < 0.5:
            w = int(rng.integers(1, max(2, int(len(x) * time_mask))))
            s = int(rng.integers(0, len(x) - w))
            out[j, s : s + w] = pad
    return torch.from_numpy(out).permute(0, 2, 1).unsqueeze(2)  # (b, 384, 1, t)


def evaluate(
    net: NeckHead, cache: Cache, pad: np.ndarray, chars: list[str], batch: int = 32
) -> tuple[float, list[str]]:
    net.eval()
    order = np.argsort([n for _, n in cache.index])
    got: dict[int, str] = {}
    with torch.no_grad():
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            items = [cache.item(i).astype(np.float32) for i in idx]
            logits = net(_batch(items, pad))
            for i, h in zip(idx, greedy(logits, [len(x) for x in items], chars)):
                got[int(i)] = h
    hyps = [got[i] for i in range(len(cache))]
    errs = [cer(ref, hyp) for ref, hyp in zip(cache.texts, hyps)]
    return float(np.mean(errs)) if errs else float("nan"), hyps


def train(args) -> dict:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    src = str(model_dir() / REC_MODEL)
    classes, chars, index = _classes()
    net = load_neck_head(src, classes, dropout=args.dropout, extra_blocks=getattr(args, "extra_blocks", 0))
    if args.part == "head":
        for name, p in net.named_parameters():
            p.requires_grad = name.startswith("fc.")
    pad = _pad_vector(work)
    real = Cache(work, "real", index)
    synth = Cache(work, "synth", index) if args.synth_share > 0 else None
    measure = {n: Cache(work, n, index) for n in MEASURE_SETS if (work / "cache" / f"{n}.feats.npy").is_file()}
    views = max(1, args.views)
    n_real = len(real) // views  # the cache holds each real line's views one after the other
    print(
        f"real {n_real} lines x {views} views, synth {len(synth) if synth else 0}, classes {len(classes)}", flush=True
    )
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    per_epoch = n_real + int(n_real * args.synth_share)
    steps = args.epochs * math.ceil(per_epoch / args.batch)
    warm = min(300, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, warm)) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / max(1, steps))))
    )
    history = []
    base = {n: evaluate(net, c, pad, chars)[0] for n, c in measure.items()}
    print("epoch 0 (PP-OCRv6 as shipped):", json.dumps({k: round(v, 4) for k, v in base.items()}), flush=True)
    history.append({"epoch": 0, **base})
    best, best_state = base.get("val", 9.0), {k: v.clone() for k, v in net.state_dict().items()}

    def cache(kind: str) -> Cache:
        """The cache a pool entry of ``kind`` indexes ("r": real, "s": synth)."""
        found = real if kind == "r" else synth
        assert found is not None  # "s" entries are pooled only with a synth cache
        return found

    for epoch in range(1, args.epochs + 1):
        net.train()
        t0 = time.time()
        pool = [("r", int(i) * views + int(rng.integers(0, views))) for i in rng.permutation(n_real)]
        if synth is not None:
            pool += [
                ("s", int(i)) for i in rng.choice(len(synth), size=min(len(synth), per_epoch - n_real), replace=False)
            ]
        rng.shuffle(pool)
        # batches of similar length (less padding), in random order
        pool.sort(key=lambda p: cache(p[0]).index[p[1]][1] + rng.uniform(0, 12))
        batches = [pool[s : s + args.batch] for s in range(0, len(pool), args.batch)]
        rng.shuffle(batches)
        total, count = 0.0, 0
        for b in batches:
            items = [cache(k).item(i).astype(np.float32) for k, i in b]
            targets = [cache(k).targets[i] for k, i in b]
            x = _batch(items, pad, rng=rng, time_mask=args.time_mask)
            logp = F.log_softmax(net(x), -1).transpose(0, 1)  # (t, b, classes)
            lengths = torch.tensor([len(i) for i in items])
            tl = torch.tensor([len(y) for y in targets])
            loss = F.ctc_loss(
                logp, torch.tensor([c for y in targets for c in y]), lengths, tl, blank=0, zero_infinity=True
            )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(b)
            count += len(b)
        scores = {n: evaluate(net, c, pad, chars)[0] for n, c in measure.items()}
        history.append({"epoch": epoch, "loss": total / count, "seconds": time.time() - t0, **scores})
        print(
            f"epoch {epoch}: loss {total / count:.3f} {time.time() - t0:.0f}s",
            json.dumps({k: round(v, 4) for k, v in scores.items()}),
            flush=True,
        )
        if scores.get("val", 0) < best:
            best, best_state = scores["val"], {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    out = work / f"neckhead-{args.part}{getattr(args, 'tag', '')}.pt"
    torch.save(
        {"state": best_state, "classes": classes, "history": history, "command": getattr(args, "command", "")}, out
    )
    print(f"kept val CER {best:.4f} -> {out}", flush=True)
    return {"net": net, "classes": classes, "history": history, "pad": pad}


def _classes():
    from ..backends.ppocr.models import PaddleModels

    charset = PaddleModels.charset_of(model_dir() / REC_MODEL)
    classes = D.latin_classes(charset)
    chars = [charset[k] for k in classes]
    return classes, chars, {c: j for j, c in enumerate(chars) if j > 0}


def measure_sets(args, val_lines: list[D.Line]) -> dict[str, tuple[list[np.ndarray], list[str]]]:
    """The sets read each epoch (``MEASURE_SETS``): grey images and their normalised texts."""
    import cv2

    from .synth import HELD_OUT_FONTS, synthetic_lines

    def lines_of(items):
        return (
            [cv2.imread(str(ln.path), cv2.IMREAD_GRAYSCALE) for ln in items],
            [D.normalise_text(ln.text) for ln in items],
        )

    per_set = getattr(args, "val_per_set", 0)
    if per_set > 0:  # each collection's held-out pages apart; "val" is their mean (stage.with_val_mean)
        picked = D.held_out_sample(val_lines, per_set, args.seed)
        measure = {
            f"val/{k}": lines_of([ln for ln in picked if ln.set == k]) for k in sorted({ln.set for ln in picked})
        }
    else:
        measure = {"val": lines_of(val_lines)}
    measure |= {
        "other_sets": lines_of(D.other_collections(Path(args.data), args.other, args.seed)),
    }
    held = list(synthetic_lines(args.synth_val, args.seed + 7, fonts=HELD_OUT_FONTS))
    measure["synth_heldout"] = ([h[0] for h in held], [D.normalise_text(h[1]) for h in held])
    if args.eval and Path(args.eval).is_dir():
        dev = list(D.dev_lines(Path(args.eval)))
        measure["dev_lines"] = ([d[0] for d in dev], [D.normalise_text(d[1]) for d in dev])
    return measure


def training_sets(args) -> tuple[str, ...]:
    """The collections trained on (``--sets``, comma-separated, ``all``: every openly licensed one);
    default the shipped model's (``data.FIRST_SETS``: the recipe reproduces it)."""
    given = getattr(args, "sets", "")
    chosen = D.SHIPPABLE_SETS if given == "all" else tuple(x for x in given.split(",") if x)
    unlicensed = set(chosen) - set(D.SHIPPABLE_SETS)
    if unlicensed and not getattr(args, "no_export", False) and "weights" in str(getattr(args, "out", "")):
        raise SystemExit(f"{sorted(unlicensed)} are not openly licensed: never train shipped weights on them")
    return chosen or D.FIRST_SETS


def run_seed(args) -> int:
    """The seed of one stage run's initialisation, synthetic lines and batch order (``--run-seed``;
    default ``--seed``). ``--seed`` alone also splits the pages: another run seed trains another run
    on the same split."""
    return args.seed if getattr(args, "run_seed", None) is None else args.run_seed


def train_stage_main(args) -> dict:
    """``--part stage``: the backbone's last stage, the neck and the head, on freshly augmented lines."""
    import cv2

    from .stage import Front, Stage, stage_module, train_stage
    from .synth import TRAIN_FONTS, synthetic_lines

    torch.manual_seed(run_seed(args))
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    classes, chars, index = _classes()
    neck = load_neck_head(
        str(model_dir() / REC_MODEL), classes, dropout=args.dropout, extra_blocks=getattr(args, "extra_blocks", 0)
    )
    if args.init:
        neck.load_state_dict(torch.load(args.init, weights_only=False)["state"])
    model = Stage(stage_module(work), neck)
    front = Front(work, args.threads)
    gray = lambda p: cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)  # noqa: E731
    lines = D.read_lines(Path(args.data), training_sets(args))
    train_lines, val_lines = D.split_by_page(lines, args.val_fraction, args.seed)
    work.mkdir(parents=True, exist_ok=True)
    (work / "data_hash.txt").write_text(D.data_hash(train_lines) + "\n")
    samples: list[tuple[np.ndarray, list[int], bool]] = []
    groups: dict[str, list[int]] = {}
    for ln in train_lines:
        y = D.encode(ln.text, index)
        if y is not None:
            line = gray(ln.path)
            assert line is not None, f"cannot read {ln.path}"
            groups.setdefault(ln.set, []).append(len(samples))
            samples.append((line, y, True))
    n_real = len(samples)
    fonts = TRAIN_FONTS + fetched(getattr(args, "fonts", ""))
    for img, text, _lang in synthetic_lines(args.synth_lines, run_seed(args), fonts=fonts):
        y = D.encode(text, index)
        if y is not None:
            groups.setdefault("synthetic", []).append(len(samples))
            samples.append((img, y, True))
    print(f"stage training: {n_real} real lines, {len(samples) - n_real} synthetic", flush=True)
    quotas = None
    epoch_lines = getattr(args, "epoch_lines", 0)
    if epoch_lines > 0:  # balanced epochs: shares by size ** --balance, synthetic lines beside
        real = {k: len(v) for k, v in groups.items() if k != "synthetic"}
        quotas = D.set_quotas(real, epoch_lines, args.balance)
        if "synthetic" in groups:
            quotas["synthetic"] = min(len(groups["synthetic"]), round(epoch_lines * args.synth_share))
        print("lines per epoch:", quotas, flush=True)

    measure = measure_sets(args, val_lines)
    ckpt = work / f"stage{args.tag}.pt"
    teacher = None
    if getattr(args, "distill", 0.0) > 0:  # PP-OCRv6 as shipped, frozen
        teacher = Stage(stage_module(work), load_neck_head(str(model_dir() / REC_MODEL), classes, dropout=0.0))
        teacher.eval()
        for param in teacher.parameters():
            param.requires_grad_(False)
    history = train_stage(
        model,
        front,
        samples,
        measure,
        chars,
        args,
        ckpt,
        log=lambda m: print(m, flush=True),
        teacher=teacher,
        n_real=n_real,
        groups=groups,
        quotas=quotas,
    )
    model.load_state_dict(torch.load(ckpt, weights_only=False)["state"])
    return {"net": model, "classes": classes, "history": history}


def soup_of(paths: list[str], checkpoints: list[dict]) -> list[dict]:
    """The card's list of the runs a soup averages: each checkpoint's file name and the command
    that trained it."""
    return [{"checkpoint": Path(c).name, "command": k.get("command", "")} for c, k in zip(paths, checkpoints)]


def from_checkpoint(args) -> dict:
    """A trained model back from its checkpoint (``--part`` says which kind it is); several
    checkpoints (comma-separated) are averaged into one model, the first's history kept."""
    classes, chars, _index = _classes()
    paths = [c for c in args.checkpoint.split(",") if c]
    ckpt = torch.load(paths[0], weights_only=False)
    if len(paths) > 1:
        others = [torch.load(c, weights_only=False) for c in paths[1:]]
        ckpt["state"] = average_states([ckpt["state"]] + [o["state"] for o in others])
        ckpt["soup_of"] = soup_of(paths, [ckpt] + others)
        ckpt["command"] = ""  # the export's own command; the runs averaged go in the card (above)
    neck = load_neck_head(str(model_dir() / REC_MODEL), classes, extra_blocks=getattr(args, "extra_blocks", 0))
    if args.part == "stage":
        from .stage import Stage, stage_module

        net: Stage | NeckHead = Stage(stage_module(Path(args.work)), neck)
    else:
        net = neck
    net.load_state_dict(ckpt["state"])
    history = ckpt["history"]
    if "soup_of" in ckpt and args.part == "stage":  # the average's own figures, measured now
        from .stage import Front, Stage, measure_cer, with_val_mean

        assert isinstance(net, Stage)  # args.part == "stage"
        torch.set_num_threads(args.threads)
        _, val_lines = D.split_by_page(D.read_lines(Path(args.data), training_sets(args)), args.val_fraction, args.seed)
        scores = with_val_mean(
            measure_cer(net, Front(Path(args.work), args.threads), measure_sets(args, val_lines), chars)
        )
        history = [history[0], {"epoch": "average", **scores}]
    return {
        "net": net,
        "classes": classes,
        "history": history,
        "command": ckpt.get("command", ""),
        "soup_of": ckpt.get("soup_of"),
    }
