#!/usr/bin/env python3
"""``language="auto"`` against the language in the manifest: every dev sample read both ways.

    INKREAD_THREADS=1 .venv/bin/python bench/bench_lang.py                 # every kind, sv/de/es notes
    .venv/bin/python bench/bench_lang.py --limit 3 --notes 2               # a quick look

Each sample is read with ``OcrEngine().recognize(path, mode=<matched>, language=<manifest's>)`` and
again with ``language="auto"`` (HANDWRITTEN for ``hw-*`` kinds, PRINTED for ``print-*``, as
bench_pages.py's ``matched``). Reported per kind: CER both ways, the share of samples where ``auto``
chose the manifest's language, seconds per sample both ways, and the networks' runs both ways (``auto``'s
second reading takes those its first reading ran from memory: ``backends/ppocr/memo.py``). Then the rendered notes of
bench_synth_notes.py (Swedish, German, Spanish; held-out fonts) read in their language and with
``auto``, and notes mixing English and French line by line read in each, in ``en+fr`` and ``auto``
(``mixed.tsv``). Per-sample rows go to ``bench/out/lang/samples.tsv``.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from inkread import OcrEngine, evalset, metrics  # noqa: E402
from inkread.backends.ppocr.memo import remembered  # noqa: E402

KINDS = ("hw-page", "print-page", "hw-line", "print-line", "hw-word")


def mode_for(kind: str) -> str:
    return "handwritten" if kind.startswith("hw-") else "printed"


def read(engine: OcrEngine, source, mode: str, language: str) -> tuple[str, str, float, tuple[int, int]]:
    """The text, the language of its first page, the seconds and the memory's (hits, runs)."""
    t0 = time.perf_counter()
    with remembered() as memory:  # the reading's own (auto's first and second readings share it)
        result = engine.recognize(source, mode=mode, language=language)
    seconds = time.perf_counter() - t0
    chosen = result.pages[0].language if result.pages else ""
    return result.text, chosen, seconds, (memory.hits, memory.runs)


def compare(engine, image, truth: str, mode: str, language: str, group: str, name: str) -> tuple:
    """One sample read with its own language and with ``auto``: (group, name, language, chosen, CER
    given, CER auto, s given, s auto, memo hits, network runs, same text, network runs given)."""
    given, _, s_given, (_, runs_given) = read(engine, image, mode, language)
    auto, chosen, s_auto, (hits, runs) = read(engine, image, mode, "auto")
    return (
        group,
        name,
        language,
        chosen,
        metrics.cer(truth, given),
        metrics.cer(truth, auto),
        s_given,
        s_auto,
        hits,
        runs,
        given == auto,
        runs_given,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", default=str(ROOT.parent / "shared" / "eval"))
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--limit", type=int, default=0, help="samples per kind (0: all)")
    ap.add_argument("--langs", default="sv,de,es", help="rendered notes' languages ('' for none)")
    ap.add_argument("--notes", type=int, default=8, help="notes per language")
    ap.add_argument(
        "--mixed",
        default="en+fr",
        help="notes mixing these languages line by line, read in each alone, in all and auto",
    )
    ap.add_argument("--mixed-notes", type=int, default=16, help="mixed notes (0: none)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "lang"))
    args = ap.parse_args(argv)
    engine = OcrEngine()
    engine.warmup()
    kinds = [k for k in args.kinds.split(",") if k]
    samples = evalset.load_manifest(args.eval, kinds=kinds) if kinds else []
    rows: list[tuple] = []
    taken: dict[str, int] = defaultdict(int)
    for sample in samples:
        if args.limit and taken[sample.kind] >= args.limit:
            continue
        taken[sample.kind] += 1
        truth = sample.gt_path.read_text(encoding="utf-8")
        mode = mode_for(sample.kind)
        rows.append(compare(engine, sample.image_path, truth, mode, sample.language, sample.kind, sample.id))
        _, _, _, chosen, _, _, s_given, s_auto, hits, runs, _, runs_given = rows[-1]
        print(
            f"{sample.id} {sample.language}->{chosen} {rows[-1][4]:.3f} {rows[-1][5]:.3f} "
            f"{s_given:.1f}s {s_auto:.1f}s runs {runs}/{runs_given} memo {hits}",
            file=sys.stderr,
            flush=True,
        )
    if rows:
        report(rows, Path(args.out))  # the dev set's table now; the notes' rows are added below
    if args.langs:
        for lang in [x for x in args.langs.split(",") if x]:
            notes = make_notes(lang, args.notes, args.seed + zlib.crc32(lang.encode()) % 1000)
            for k, (img, truth) in enumerate(notes):
                rows.append(compare(engine, img, truth, "handwritten", lang, f"notes-{lang}", f"{lang}{k}"))
                chosen = rows[-1][3]
                print(f"note {lang}{k} ->{chosen} {rows[-1][4]:.3f} {rows[-1][5]:.3f}", file=sys.stderr, flush=True)
        print()
        report([r for r in rows if r[0].startswith("notes-")], Path(args.out), "notes.tsv")
    if args.mixed and args.mixed_notes:
        mixed(engine, args.mixed, args.mixed_notes, args.seed, Path(args.out))
    return 0


def mixed(engine: OcrEngine, choice: str, n: int, seed: int, out: Path) -> None:
    """Notes whose lines are in the languages of ``choice`` (``en+fr``), each language's lines in turn,
    read in each language alone, in ``choice`` and with ``auto``: the mean CER of each reading (issue 26:
    ``en+fr`` reads a page mixing both at least as well as the better single language)."""
    codes = choice.split("+")
    readings = [*codes, choice, "auto"]
    notes = make_notes(choice, n, seed + zlib.crc32(choice.encode()) % 1000)
    cers: dict[str, list[float]] = defaultdict(list)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "mixed.tsv").open("w", encoding="utf-8") as f:
        f.write("note\t" + "\t".join(readings) + "\n")
        for k, (img, truth) in enumerate(notes):
            row = []
            for language in readings:
                text, _, _, _ = read(engine, img, "handwritten", language)
                cers[language].append(metrics.cer(truth, text))
                row.append(f"{cers[language][-1]:.4f}")
            f.write(f"{choice}{k}\t" + "\t".join(row) + "\n")
            said = " ".join(f"{r}={c}" for r, c in zip(readings, row))
            print(f"mixed {choice}{k} {said}", file=sys.stderr, flush=True)
    print(f"\n{n} notes mixing {' and '.join(codes)} line by line (mean CER; notes read better or worse than in")
    print("the better single language)\n")
    print("| reading | mean CER | notes better than the best single language | worse |")
    print("|---|---:|---:|---:|")
    best = [min(cers[c][k] for c in codes) for k in range(len(notes))]
    for language in readings:
        values = cers[language]
        better = sum(v < b - 1e-9 for v, b in zip(values, best))
        worse = sum(v > b + 1e-9 for v, b in zip(values, best))
        print(f"| {language} | {sum(values) / len(values):.4f} | {better} | {worse} |")


def make_notes(lang: str, n: int, seed: int) -> list[tuple[np.ndarray, str]]:
    """bench_synth_notes.py's notes (the same lines, sizes, jitter, noise, blur, light, rotation and
    rules), each in the first held-out font, in turn, that has a glyph for every character of its lines
    (Rufscript has no accented letter: bench_synth_notes.py's strict turns wait long for a Swedish note
    without one)."""
    from inkread.training.synth import HELD_OUT_FONTS, available_fonts, random_text
    from synth import render_note

    fonts = available_fonts(HELD_OUT_FONTS)
    if not fonts:
        raise SystemExit("held-out fonts missing: apt-get install fonts-rufscript fonts-femkeklaver")
    rng = np.random.default_rng(seed)
    codes = lang.split("+")  # several (en+fr): lines of each in turn, a random language first
    notes: list[tuple[np.ndarray, str]] = []
    while len(notes) < n:
        first = int(rng.integers(len(codes)))
        lines = [random_text(codes[(first + i) % len(codes)], rng) for i in range(int(rng.integers(5, 8)))]
        chars = set("".join(lines)) - {" "}
        at = len(notes) % len(fonts)
        font = next((f for f in fonts[at:] + fonts[:at] if chars <= f.chars), None)
        if font is None:
            continue
        img, _ = render_note(
            lines,
            font.path,
            size=int(rng.integers(44, 60)),
            jitter=1.0,
            noise=0.02,
            blur=0.6,
            shading=0.3,
            rotation_deg=float(rng.uniform(-1.5, 1.5)),
            ruled=len(notes) % 2 == 1,
            seed=int(rng.integers(1 << 30)),
        )
        notes.append((np.asarray(img), "\n".join(lines)))
    return notes


def report(rows: list[tuple], out: Path, name: str = "samples.tsv") -> None:
    """``rows`` to ``out/name`` and their table (per kind) to stdout."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / name).open("w", encoding="utf-8") as f:
        f.write(
            "kind\tid\tlanguage\tchosen\tcer_given\tcer_auto\ts_given\ts_auto\tmemo_hits\tmemo_runs\tsame_text"
            "\truns_given\n"
        )
        for r in rows:
            f.write("\t".join(f"{x:.4f}" if isinstance(x, float) else str(x) for x in r) + "\n")
    print(
        "| kind | samples | CER, manifest language | CER, auto | difference | auto chose it | "
        "s / sample, manifest | s / sample, auto | networks' runs, auto / manifest | same text where right |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    by_kind: dict[str, list[tuple]] = defaultdict(list)
    for r in rows:
        by_kind[r[0]].append(r)
    for kind, group in by_kind.items():
        n = len(group)
        cer_given = sum(r[4] for r in group) / n
        cer_auto = sum(r[5] for r in group) / n
        right = sum(r[2] == r[3] for r in group)
        runs, runs_given = sum(r[9] for r in group), sum(r[11] for r in group)
        same = [r[10] for r in group if r[2] == r[3]]
        print(
            f"| {kind} | {n} | {cer_given:.4f} | {cer_auto:.4f} | {cer_auto - cer_given:+.4f} | "
            f"{right}/{n} ({right / n:.0%}) | {sum(r[6] for r in group) / n:.2f} | "
            f"{sum(r[7] for r in group) / n:.2f} | {runs} / {runs_given} | {sum(same)}/{len(same)} |"
        )
    pages = [r for r in rows if r[0].endswith("-page")]
    if pages:
        right = sum(r[2] == r[3] for r in pages)
        print(f"\ndev pages whose language auto chose right: {right}/{len(pages)} ({right / len(pages):.1%})")
    wrong = [f"{r[1]} ({r[2]}->{r[3] or '?'})" for r in rows if r[2] != r[3]]
    print(f"chosen otherwise ({len(wrong)}): {', '.join(wrong)}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
