"""The ``train``, ``export`` and ``all`` steps of ``python -m inkread.training``: their options
(:func:`build_parser`), the shipped recipe run (the neck phase, the stage run, the distilled second run
averaged with it) and the model card (``hw_rec.json``) written beside the exported ``hw_rec.onnx``.

The training itself (the loops, validation, checkpoints) is :mod:`.train`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

import torch

from ..backends.ppocr.models import REC_MODEL, model_dir
from .export import export
from .fonts import NPM_FONTS, fetch, fonts_dir
from .model import NeckHead, load_neck_head
from .train import MEASURE_SETS, from_checkpoint, train, train_stage_main, training_sets

WEIGHTS = Path(__file__).resolve().parent.parent / "weights"


def build_parser() -> argparse.ArgumentParser:
    """The options of the ``train``, ``export`` and ``all`` steps (their defaults: the shipped recipe)."""
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
    p.add_argument(
        "--fonts",
        default="",
        help="stage: also render with the fonts in this folder "
        "(python -m inkread.training fonts fetches them into WORK/fonts; all: fetched and used "
        "by the first stage run unless --no-fonts)",
    )
    p.add_argument("--no-fonts", action="store_true", help="all: Debian's handwriting fonts only")
    p.add_argument("--extra-blocks", type=int, default=0, help="transformer blocks added to the neck")
    p.add_argument("--tag", default="", help="name of this run's checkpoint (neckhead-<part><tag>.pt)")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--time-mask", type=float, default=0.1)
    p.add_argument("--synth-share", type=float, default=0.5, help="synthetic lines per real line, each epoch")
    p.add_argument(
        "--distill",
        type=float,
        default=0.0,
        help="stage: weight of the KL towards PP-OCRv6's own reading on the synthetic lines",
    )
    p.add_argument(
        "--warp", type=float, default=0.0, help="stage: share of augmented views also bent by a smooth random grid"
    )
    p.add_argument(
        "--sets",
        default="",
        help="stage: collections trained on, comma-separated; all: every openly licensed one (default: "
        "copiste,poilus, the shipped model's)",
    )
    p.add_argument(
        "--epoch-lines",
        type=int,
        default=0,
        help="stage: real lines an epoch, drawn across the collections by --balance (0: every line once)",
    )
    p.add_argument("--balance", type=float, default=0.5, help="stage: a collection's share grows as its size ** this")
    p.add_argument("--val-per-set", type=int, default=0, help="stage: validation lines of each collection (0: all)")
    p.add_argument("--checkpoint-every", type=int, default=200, help="stage: batches between resumable checkpoints")
    p.add_argument("--resume", action="store_true", help="stage: continue the run from its last checkpoint")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument("--out", default=str(WEIGHTS / "hw_rec.onnx"))
    p.add_argument("--no-export", action="store_true")
    p.add_argument(
        "--blend",
        type=float,
        default=1.0,
        help="export: weight of the trained model's probabilities against PP-OCRv6's own (1 = alone)",
    )
    p.add_argument(
        "--run-seed",
        type=int,
        default=None,
        help="stage: seed of this run's initialisation, synthetic lines and order "
        "(default --seed; the split keeps --seed)",
    )
    p.add_argument(
        "--soup-distill",
        type=float,
        default=1.0,
        help="all: a second stage run with this --distill, averaged with the first (0: the first alone)",
    )
    p.add_argument("--soup-epochs", type=int, default=4, help="all: epochs of the second stage run")
    p.add_argument(
        "--checkpoint",
        default="",
        help="export: the checkpoint to export (no training); several, comma-separated: their average",
    )
    return p


def main(args, rest: list[str]) -> int:
    p = build_parser()
    targs = p.parse_args(rest, namespace=args)
    targs.command = "python -m inkread.training " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if targs.step == "export":
        done = from_checkpoint(targs)
    elif targs.step == "all" and targs.part == "stage":
        if not targs.fonts and not targs.no_fonts:  # the npm registry's handwriting fonts (training.fonts)
            targs.fonts = str(fonts_dir(targs.work))
            fetch(Path(targs.fonts))
        neck = argparse.Namespace(
            **{
                **vars(targs),
                "part": "neck",
                "epochs": targs.neck_epochs,
                "batch": targs.neck_batch,
                "lr": targs.neck_lr,
            }
        )
        train(neck)
        targs.init = str(Path(targs.work) / f"neckhead-neck{targs.tag}.pt")
        done = train_stage_main(targs)
        if targs.soup_distill > 0:  # a second stage run, distilled, averaged with the first
            # the distilled run renders with Debian's fonts only: that is the run measured in the soup
            # shipped (bench/RESULTS.md, "More fonts")
            kd = argparse.Namespace(
                **{
                    **vars(targs),
                    "distill": targs.soup_distill,
                    "epochs": targs.soup_epochs,
                    "tag": f"{targs.tag}-kd",
                    "fonts": "",
                }
            )
            train_stage_main(kd)
            work = Path(targs.work)
            targs.checkpoint = f"{work / f'stage{targs.tag}.pt'},{work / f'stage{targs.tag}-kd.pt'}"
            done = from_checkpoint(targs)
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
        if (Path(targs.work) / "data_hash.txt").is_file()
        else "",
        "trained_on": list(training_sets(targs))
        + ["synthetic (Debian handwriting fonts, wordfreq text)"]
        + (
            [
                f"synthetic ({len(NPM_FONTS)} Google Fonts handwriting fonts, OFL, from npm: "
                "python -m inkread.training fonts)"
            ]
            if getattr(targs, "fonts", "")
            else []
        ),
        "part": targs.part,
        "seed": targs.seed,
        "epoch": best["epoch"],
        "greedy_cer": {k: round(best[k], 4) for k in best if k in MEASURE_SETS or k.startswith("val/")},
        "greedy_cer_at_start": {k: round(hist[0][k], 4) for k in hist[0] if k in MEASURE_SETS or k.startswith("val/")},
    }
    if done.get("soup_of"):
        card["averaged_checkpoints"] = done["soup_of"]
    neck_ckpt = Path(targs.work) / f"neckhead-neck{targs.tag}.pt"
    if targs.part == "stage" and neck_ckpt.is_file():  # the stage phase starts from the neck phase
        start = torch.load(neck_ckpt, weights_only=False)["history"][0]
        card["greedy_cer_ppocrv6"] = {k: round(start[k], 4) for k in MEASURE_SETS if k in start}
    elif targs.part != "stage" or not targs.init:  # started from PP-OCRv6 itself
        card["greedy_cer_ppocrv6"] = card["greedy_cer_at_start"]
    card["greedy_cer_sets"] = {
        "val": "the trained collections' pages held out of training (with --val-per-set: the mean of the "
        "collections' val/<set>; chooses the epoch kept)",
        "other_sets": "hooker and stanford lines: collections never trained on",
        "synth_heldout": "synthetic lines in 15 languages, fonts never trained on (Rufscript, femkeklaver)",
        "dev_lines": "the dev set's hw-line crops (measured, never chosen on)",
    }
    original: torch.nn.Module | None = None
    if targs.blend < 1.0:  # PP-OCRv6's own layers beside the trained ones, from the same tensor on
        card["blend_with_ppocrv6"] = targs.blend
        original = load_neck_head(str(model_dir() / REC_MODEL))
    if targs.part == "stage":
        from .stage import STAGE_INPUT, Stage, front_path, stage_module

        if original is not None:
            assert isinstance(original, NeckHead)  # load_neck_head's, above
            original = Stage(stage_module(Path(targs.work)), original)
        path = export(
            done["net"],
            done["classes"],
            Path(targs.work),
            Path(targs.out),
            card,
            front=front_path(Path(targs.work)),
            join=STAGE_INPUT,
            channels=(384, 3),
            original=original,
            blend=targs.blend,
        )
    else:
        path = export(
            done["net"], done["classes"], Path(targs.work), Path(targs.out), card, original=original, blend=targs.blend
        )
    Path(targs.out).with_suffix(".json").write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    print(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
    return 0
