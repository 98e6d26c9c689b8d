"""CTC training of the neck and head on cached backbone features, validation, and export to ONNX.

``python -m inkread.training train --part neck --epochs 30`` trains; ``--part head`` trains only the last
linear layer (the comparison in bench/RESULTS.md). Greedy-decoding CER is reported each epoch on the
held-out pages of the training collections (``val``: chooses the kept epoch), on hooker/stanford lines
(collections never trained on), on synthetic lines in held-out fonts (other languages) and on the dev
line crops (measured, never chosen on).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..metrics import cer
from ..backends.ppocr.models import REC_MODEL, model_dir
from . import data as D
from .features import Backbone, load_cache
from .fonts import NPM_FONTS, fetch, fetched, fonts_dir
from .export import average_states, export
from .model import NeckHead, greedy, load_neck_head

WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
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
        return self.feats[s: s + n]


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
            out[j, s: s + w] = pad
    return torch.from_numpy(out).permute(0, 2, 1).unsqueeze(2)  # (b, 384, 1, t)


def evaluate(net: NeckHead, cache: Cache, pad: np.ndarray, chars: list[str], batch: int = 32) -> tuple[float, list[str]]:
    net.eval()
    order = np.argsort([n for _, n in cache.index])
    got: dict[int, str] = {}
    with torch.no_grad():
        for s in range(0, len(order), batch):
            idx = order[s: s + batch]
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
    print(f"real {n_real} lines x {views} views, synth {len(synth) if synth else 0}, classes {len(classes)}", flush=True)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    per_epoch = n_real + int(n_real * args.synth_share)
    steps = args.epochs * math.ceil(per_epoch / args.batch)
    warm = min(300, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, warm)) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / max(1, steps)))))
    history = []
    base = {n: evaluate(net, c, pad, chars)[0] for n, c in measure.items()}
    print("epoch 0 (PP-OCRv6 as shipped):", json.dumps({k: round(v, 4) for k, v in base.items()}), flush=True)
    history.append({"epoch": 0, **base})
    best, best_state = base.get("val", 9.0), {k: v.clone() for k, v in net.state_dict().items()}
    for epoch in range(1, args.epochs + 1):
        net.train()
        t0 = time.time()
        pool = [("r", int(i) * views + int(rng.integers(0, views))) for i in rng.permutation(n_real)]
        if synth is not None:
            pool += [("s", int(i)) for i in rng.choice(len(synth), size=min(len(synth), per_epoch - n_real), replace=False)]
        rng.shuffle(pool)
        # batches of similar length (less padding), in random order
        pool.sort(key=lambda p: (real if p[0] == "r" else synth).index[p[1]][1] + rng.uniform(0, 12))
        batches = [pool[s: s + args.batch] for s in range(0, len(pool), args.batch)]
        rng.shuffle(batches)
        total, count = 0.0, 0
        for b in batches:
            items = [(real if k == "r" else synth).item(i).astype(np.float32) for k, i in b]
            targets = [(real if k == "r" else synth).targets[i] for k, i in b]
            x = _batch(items, pad, rng=rng, time_mask=args.time_mask)
            logp = F.log_softmax(net(x), -1).transpose(0, 1)  # (t, b, classes)
            lengths = torch.tensor([len(i) for i in items])
            tl = torch.tensor([len(y) for y in targets])
            loss = F.ctc_loss(logp, torch.tensor([c for y in targets for c in y]), lengths, tl,
                              blank=0, zero_infinity=True)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(b)
            count += len(b)
        scores = {n: evaluate(net, c, pad, chars)[0] for n, c in measure.items()}
        history.append({"epoch": epoch, "loss": total / count, "seconds": time.time() - t0, **scores})
        print(f"epoch {epoch}: loss {total / count:.3f} {time.time() - t0:.0f}s",
              json.dumps({k: round(v, 4) for k, v in scores.items()}), flush=True)
        if scores.get("val", 0) < best:
            best, best_state = scores["val"], {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    out = work / f"neckhead-{args.part}{getattr(args, 'tag', '')}.pt"
    torch.save({"state": best_state, "classes": classes, "history": history, "command": getattr(args, "command", "")}, out)
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
        return ([cv2.imread(str(ln.path), cv2.IMREAD_GRAYSCALE) for ln in items],
                [D.normalise_text(ln.text) for ln in items])

    measure = {"val": lines_of(val_lines),
               "other_sets": lines_of(D.other_collections(Path(args.data), args.other, args.seed))}
    held = list(synthetic_lines(args.synth_val, args.seed + 7, fonts=HELD_OUT_FONTS))
    measure["synth_heldout"] = ([h[0] for h in held], [D.normalise_text(h[1]) for h in held])
    if args.eval and Path(args.eval).is_dir():
        dev = list(D.dev_lines(Path(args.eval)))
        measure["dev_lines"] = ([d[0] for d in dev], [D.normalise_text(d[1]) for d in dev])
    return measure


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
    neck = load_neck_head(str(model_dir() / REC_MODEL), classes, dropout=args.dropout,
                          extra_blocks=getattr(args, "extra_blocks", 0))
    if args.init:
        neck.load_state_dict(torch.load(args.init, weights_only=False)["state"])
    model = Stage(stage_module(work), neck)
    front = Front(work, args.threads)
    gray = lambda p: cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)  # noqa: E731
    lines = D.read_lines(Path(args.data), D.SHIPPABLE_SETS)
    train_lines, val_lines = D.split_by_page(lines, args.val_fraction, args.seed)
    samples = []
    for ln in train_lines:
        y = D.encode(ln.text, index)
        if y is not None:
            samples.append((gray(ln.path), y, True))
    n_real = len(samples)
    fonts = TRAIN_FONTS + fetched(getattr(args, "fonts", ""))
    for img, text, _lang in synthetic_lines(args.synth_lines, run_seed(args), fonts=fonts):
        y = D.encode(text, index)
        if y is not None:
            samples.append((img, y, True))
    print(f"stage training: {n_real} real lines, {len(samples) - n_real} synthetic", flush=True)

    measure = measure_sets(args, val_lines)
    ckpt = work / f"stage{args.tag}.pt"
    teacher = None
    if getattr(args, "distill", 0.0) > 0:  # PP-OCRv6 as shipped, frozen
        teacher = Stage(stage_module(work), load_neck_head(str(model_dir() / REC_MODEL), classes, dropout=0.0))
        teacher.eval()
        for param in teacher.parameters():
            param.requires_grad_(False)
    history = train_stage(model, front, samples, measure, chars, args, ckpt, log=lambda m: print(m, flush=True),
                          teacher=teacher, n_real=n_real)
    model.load_state_dict(torch.load(ckpt, weights_only=False)["state"])
    return {"net": model, "classes": classes, "history": history}


def soup_of(paths: list[str], checkpoints: list[dict]) -> list[dict]:
    """The card's list of the runs a soup averages: each checkpoint's file name and the command
    that trained it."""
    return [{"checkpoint": Path(c).name, "command": k.get("command", "")} for c, k in zip(paths, checkpoints)]


def _from_checkpoint(args) -> dict:
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

        net = Stage(stage_module(Path(args.work)), neck)
    else:
        net = neck
    net.load_state_dict(ckpt["state"])
    history = ckpt["history"]
    if "soup_of" in ckpt and args.part == "stage":  # the average's own figures, measured now
        from .stage import Front, measure_cer

        torch.set_num_threads(args.threads)
        _, val_lines = D.split_by_page(D.read_lines(Path(args.data), D.SHIPPABLE_SETS),
                                            args.val_fraction, args.seed)
        scores = measure_cer(net, Front(Path(args.work), args.threads), measure_sets(args, val_lines), chars)
        history = [history[0], {"epoch": "average", **scores}]
    return {"net": net, "classes": classes, "history": history, "command": ckpt.get("command", ""),
            "soup_of": ckpt.get("soup_of")}


def main(args, rest: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m inkread.training train")
    # the defaults are the shipped recipe: 8 epochs of neck and head on cached features, then 5 of
    # the last backbone stage with them on freshly augmented lines (bench/RESULTS.md has the comparison)
    p.add_argument("--part", choices=("head", "neck", "stage"), default="stage")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--neck-epochs", type=int, default=8, help="all: epochs of the neck phase")
    p.add_argument("--neck-batch", type=int, default=32)
    p.add_argument("--neck-lr", type=float, default=5e-4)
    p.add_argument("--init", default="", help="stage: start the neck and head from this checkpoint")
    p.add_argument("--stage-lr-scale", type=float, default=0.5, help="stage: the backbone stage's share of --lr")
    p.add_argument("--synth-lines", type=int, default=5000, help="stage: synthetic lines rendered")
    p.add_argument("--fonts", default="", help="stage: also render with the fonts in this folder "
                   "(python -m inkread.training fonts fetches them into WORK/fonts; all: fetched and used "
                   "by the first stage run unless --no-fonts)")
    p.add_argument("--no-fonts", action="store_true", help="all: Debian's handwriting fonts only")
    p.add_argument("--extra-blocks", type=int, default=0, help="transformer blocks added to the neck")
    p.add_argument("--tag", default="", help="name of this run's checkpoint (neckhead-<part><tag>.pt)")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--time-mask", type=float, default=0.1)
    p.add_argument("--synth-share", type=float, default=0.5, help="synthetic lines per real line, each epoch")
    p.add_argument("--distill", type=float, default=0.0,
                   help="stage: weight of the KL towards PP-OCRv6's own reading on the synthetic lines")
    p.add_argument("--warp", type=float, default=0.0, help="stage: share of augmented views also bent by a smooth random grid")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument("--out", default=str(WEIGHTS / "hw_rec.onnx"))
    p.add_argument("--no-export", action="store_true")
    p.add_argument("--blend", type=float, default=1.0,
                   help="export: weight of the trained model's probabilities against PP-OCRv6's own (1 = alone)")
    p.add_argument("--run-seed", type=int, default=None,
                   help="stage: seed of this run's initialisation, synthetic lines and order (default --seed; the split keeps --seed)")
    p.add_argument("--soup-distill", type=float, default=1.0,
                   help="all: a second stage run with this --distill, averaged with the first (0: the first alone)")
    p.add_argument("--soup-epochs", type=int, default=4, help="all: epochs of the second stage run")
    p.add_argument("--checkpoint", default="",
                   help="export: the checkpoint to export (no training); several, comma-separated: their average")
    targs = p.parse_args(rest, namespace=args)
    targs.command = "python -m inkread.training " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if targs.step == "export":
        done = _from_checkpoint(targs)
    elif targs.step == "all" and targs.part == "stage":
        if not targs.fonts and not targs.no_fonts:  # the npm registry's handwriting fonts (training.fonts)
            targs.fonts = str(fonts_dir(targs.work))
            fetch(Path(targs.fonts))
        neck = argparse.Namespace(**{**vars(targs), "part": "neck", "epochs": targs.neck_epochs,
                                     "batch": targs.neck_batch, "lr": targs.neck_lr})
        train(neck)
        targs.init = str(Path(targs.work) / f"neckhead-neck{targs.tag}.pt")
        done = train_stage_main(targs)
        if targs.soup_distill > 0:  # a second stage run, distilled, averaged with the first
            # the distilled run renders with Debian's fonts only: that is the run measured in the soup
            # shipped (bench/RESULTS.md, "More fonts")
            kd = argparse.Namespace(**{**vars(targs), "distill": targs.soup_distill, "epochs": targs.soup_epochs,
                                       "tag": f"{targs.tag}-kd", "fonts": ""})
            train_stage_main(kd)
            work = Path(targs.work)
            targs.checkpoint = f"{work / f'stage{targs.tag}.pt'},{work / f'stage{targs.tag}-kd.pt'}"
            done = _from_checkpoint(targs)
            done["command"] = targs.command
    else:
        done = train(targs) if targs.part != "stage" else train_stage_main(targs)
    if targs.no_export:
        return 0
    hist = done["history"]
    best = min(hist[1:], key=lambda h: h.get("val", 9)) if len(hist) > 1 else hist[0]
    card = {
        "command": done.get("command") or targs.command,
        "data_hash": (Path(targs.work) / "data_hash.txt").read_text().strip()
        if (Path(targs.work) / "data_hash.txt").is_file() else "",
        "trained_on": list(D.SHIPPABLE_SETS) + ["synthetic (Debian handwriting fonts, wordfreq text)"]
        + ([f"synthetic ({len(NPM_FONTS)} Google Fonts handwriting fonts, OFL, from npm: "
            "python -m inkread.training fonts)"] if getattr(targs, "fonts", "") else []),
        "part": targs.part, "seed": targs.seed, "epoch": best["epoch"],
        "greedy_cer": {k: round(best[k], 4) for k in MEASURE_SETS if k in best},
        "greedy_cer_at_start": {k: round(hist[0][k], 4) for k in MEASURE_SETS if k in hist[0]},
    }
    if done.get("soup_of"):
        card["averaged_checkpoints"] = done["soup_of"]
    neck_ckpt = Path(targs.work) / f"neckhead-neck{targs.tag}.pt"
    if targs.part == "stage" and neck_ckpt.is_file():  # the stage phase starts from the neck phase
        start = torch.load(neck_ckpt, weights_only=False)["history"][0]
        card["greedy_cer_ppocrv6"] = {k: round(start[k], 4) for k in MEASURE_SETS if k in start}
    elif targs.part != "stage":
        card["greedy_cer_ppocrv6"] = card["greedy_cer_at_start"]
    card["greedy_cer_sets"] = {
        "val": "copiste and poilus pages held out of training (chooses the epoch kept)",
        "other_sets": "hooker and stanford lines: collections never trained on",
        "synth_heldout": "synthetic lines in 15 languages, fonts never trained on (Rufscript, femkeklaver)",
        "dev_lines": "the dev set's hw-line crops (measured, never chosen on)"}
    original = None
    if targs.blend < 1.0:  # PP-OCRv6's own layers beside the trained ones, from the same tensor on
        card["blend_with_ppocrv6"] = targs.blend
        original = load_neck_head(str(model_dir() / REC_MODEL))
    if targs.part == "stage":
        from .stage import STAGE_INPUT, Stage, front_path, stage_module

        if original is not None:
            original = Stage(stage_module(Path(targs.work)), original)
        path = export(done["net"], done["classes"], Path(targs.work), Path(targs.out), card,
                      front=front_path(Path(targs.work)), join=STAGE_INPUT, channels=(384, 3),
                      original=original, blend=targs.blend)
    else:
        path = export(done["net"], done["classes"], Path(targs.work), Path(targs.out), card,
                      original=original, blend=targs.blend)
    Path(targs.out).with_suffix(".json").write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    print(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
    return 0
