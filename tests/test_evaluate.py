"""Tests for ``inkread eval`` (``inkread.evaluate``): datasets, scoring, reports, baselines.

The real models run on a handful of images: the two README examples (plus a corrupt file) as a
plain folder, and three line crops of the evaluation set as a manifest subset. Each dataset is
evaluated once per module and the tests check the reports it wrote.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import os
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from inkread import cli, evalset
from inkread import evaluate as ev
from inkread.metrics import score

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"


def _run_eval(*argv: str | os.PathLike[str]) -> tuple[int, str, str]:
    """``cli.main(["eval", ...])`` with stdout/stderr captured (usable from module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("INKREAD_URL", raising=False)
        mp.delenv("INKREAD_DEBUG", raising=False)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["eval", *(os.fspath(a) for a in argv)])
    return code, out.getvalue(), err.getvalue()


def _load_report(folder: Path) -> dict:
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))


def _mean(values):
    return sum(values) / len(values) if values else None


def _expected_aggregate(records: list[dict], system: str) -> dict:
    """The summary numbers, recomputed from the report's per-sample references and outputs."""
    scores = [score(r["reference"], r["systems"][system]["text"], set_name=r["set"]) for r in records]
    results = [r["systems"][system] for r in records]
    return {
        "n": len(records),
        "cer": _mean([s["cer"] for s in scores]),
        "wer": _mean([s["wer"] for s in scores]),
        "line_cer": _mean([s["line_cer"] for s in scores]),
        "count_match": _mean([float(s["count_match"]) for s in scores]),
        "order_ok": _mean([float(s["order_ok"]) for s in scores]),
        "seconds": _mean([x["seconds"] for x in results if not x["error"]]),
        "errors": sum(1 for x in results if x["error"]),
    }


def _assert_summary_matches_samples(report: dict) -> None:
    summary, samples = report["summary"], report["samples"]
    assert summary["n"] == len(samples)
    for record in samples:
        for system in summary["systems"]:
            result = record["systems"][system]
            expected = score(record["reference"], result["text"], set_name=record["set"])
            for key, value in expected.items():
                assert result[key] == pytest.approx(value), (record["id"], system, key)

    def check(actual: dict, records: list[dict], system: str) -> None:
        expected = _expected_aggregate(records, system)
        assert actual.keys() == expected.keys()
        for key, value in expected.items():
            assert actual[key] == pytest.approx(value), (system, key)

    for system in summary["systems"]:
        check(summary["overall"][system], samples, system)
        for kind in summary["kinds"]:
            of_kind = [r for r in samples if r["kind"] == kind]
            check(summary["by_kind"][kind][system], of_kind, system)
            for set_name, aggs in summary["by_set"][kind].items():
                check(aggs[system], [r for r in of_kind if r["set"] == set_name], system)
        assert sum(len(v) for v in summary["by_set"].values()) >= 1


def _worst_first_key(record: dict) -> tuple:
    main = record["systems"]["inkread"]
    return (0 if main["error"] else 1, -main["cer"], -main["wer"])


class _ReportParser(HTMLParser):
    """Collects the sample sections in order, images, and checks that tags are balanced."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.sections: list[dict[str, str]] = []
        self.images: list[str] = []
        self.tags: set[str] = set()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag in ("link", "script", "iframe") or (tag == "img" and not attrs.get("src", "").startswith("data:")):
            self.problems.append(f"external or scripted <{tag}>")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def _parse_html(path: Path) -> _ReportParser:
    parser = _ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    assert not parser.problems, parser.problems[:5]
    assert not parser.stack, parser.stack
    return parser


# ----- a plain folder: the README examples and a corrupt image ------------------------------

@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("plain")
    for name in ("handwritten_note.jpg", "handwritten_note.txt", "printed_page.png", "printed_page.txt"):
        shutil.copy(EXAMPLES / name, data / name)
    (data / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)  # a truncated PNG
    (data / "broken.txt").write_text("nothing to read here\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("plain-report") / "report"
    code, stdout, stderr = _run_eval(data, "-o", out)
    return {"code": code, "stdout": stdout, "stderr": stderr, "out": out, "data": data}


def test_plain_folder_runs_and_prints_summary(plain_run):
    assert plain_run["code"] == 0, plain_run["stderr"]
    stdout, out = plain_run["stdout"], plain_run["out"]
    assert "| kind | n | inkread CER | inkread WER |" in stdout
    assert "| page | inkread | 3 |" in stdout
    for name in ("report.html", "report.json", "samples.tsv"):
        assert (out / name).is_file()
        assert str(out / name) in stdout
    assert "Traceback" not in plain_run["stderr"]


def test_plain_folder_summary_equals_recomputed_metrics(plain_run):
    report = _load_report(plain_run["out"])
    summary = report["summary"]
    assert summary["systems"] == ["inkread"]
    assert summary["mode"] == "auto"  # plain folder: no kinds, so AUTO
    assert summary["kinds"] == ["page"]
    assert {r["id"] for r in report["samples"]} == {"handwritten_note", "printed_page", "broken"}
    assert all(r["mode"] == "auto" and r["language"] == "en" for r in report["samples"])
    _assert_summary_matches_samples(report)
    by_id = {r["id"]: r for r in report["samples"]}
    assert by_id["handwritten_note"]["systems"]["inkread"]["cer"] < 0.2
    assert by_id["printed_page"]["systems"]["inkread"]["cer"] < 0.2


def test_corrupt_image_is_reported_and_run_continues(plain_run):
    report = _load_report(plain_run["out"])
    broken = next(r for r in report["samples"] if r["id"] == "broken")
    result = broken["systems"]["inkread"]
    assert result["error"] and result["text"] == ""
    assert result["cer"] == 1.0
    assert report["summary"]["overall"]["inkread"]["errors"] == 1
    assert [(e["id"], e["system"]) for e in report["summary"]["errors"]] == [("broken", "inkread")]
    assert "## Errors (1" in plain_run["stdout"] and "broken" in plain_run["stdout"]
    others = [r for r in report["samples"] if r["id"] != "broken"]
    assert all(not r["systems"]["inkread"]["error"] and r["systems"]["inkread"]["text"] for r in others)


def test_reports_list_worst_first(plain_run):
    report = _load_report(plain_run["out"])
    samples = report["samples"]
    assert [r["rank"] for r in samples] == list(range(1, len(samples) + 1))
    assert [_worst_first_key(r) for r in samples] == sorted(_worst_first_key(r) for r in samples)
    assert samples[0]["id"] == "broken"  # an unreadable sample is the worst

    with (plain_run["out"] / "samples.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert [r["id"] for r in rows] == [r["id"] for r in samples]
    assert set(ev.TSV_COLUMNS) == set(rows[0])
    for row, record in zip(rows, samples):
        assert float(row["cer"]) == pytest.approx(record["systems"]["inkread"]["cer"], abs=1e-6)
    assert rows[0]["error"]
    assert "[-" in rows[0]["diff"]  # the reference's words, missing from the (empty) output


def test_html_report_is_self_contained_and_ordered(plain_run):
    report = _load_report(plain_run["out"])
    html_path = plain_run["out"] / "report.html"
    parsed = _parse_html(html_path)
    text = html_path.read_text(encoding="utf-8")
    ids = [s["data-id"] for s in parsed.sections]
    assert ids == [r["id"] for r in report["samples"]]  # every sample, worst first
    assert ids[0] == max(report["samples"], key=lambda r: (r["systems"]["inkread"]["error"] != "",
                                                           r["systems"]["inkread"]["cer"]))["id"]
    assert {"table", "del"} <= parsed.tags
    assert "<style>" in text and "http://" not in text and "https://" not in text
    # two thumbnails (the corrupt image has none), small JPEGs
    from PIL import Image

    assert len(parsed.images) == 2
    for src in parsed.images:
        assert src.startswith("data:image/jpeg;base64,")
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
            assert im.format == "JPEG" and im.width <= 400
    assert "(no preview: broken.png)" in text


# ----- a manifest subset of the evaluation set ------------------------------------------------

@pytest.fixture(scope="module")
def eval_subset(tmp_path_factory) -> Path:
    """Three line crops of the evaluation set (copiste hw-line fr, sroie and uw3 print-line) copied
    into a small dataset with its own manifest.tsv."""
    try:
        eval_dir = evalset.resolve_eval_dir(None, default=DEFAULT_EVAL_DIR)
    except FileNotFoundError as exc:
        pytest.skip(f"evaluation set not available ({exc}); set ${evalset.EVAL_DIR_ENV}")
    everything = evalset.load_manifest(eval_dir, kinds="hw-line,print-line")
    picked = []
    for set_name in ("copiste", "sroie", "uw3"):
        found = [s for s in everything if s.set == set_name]
        if not found:
            pytest.skip(f"the evaluation set at {eval_dir} has no {set_name} line samples")
        picked.append(found[0])
    root = tmp_path_factory.mktemp("subset")
    lines = ["id\tset\tkind\tlanguage"]
    for sample in picked:
        (root / "images" / sample.set).mkdir(parents=True, exist_ok=True)
        (root / "gt" / sample.set).mkdir(parents=True, exist_ok=True)
        shutil.copy(sample.image_path, root / "images" / sample.set / sample.image_path.name)
        shutil.copy(sample.gt_path, root / "gt" / sample.set / sample.gt_path.name)
        lines.append(f"{sample.id}\t{sample.set}\t{sample.kind}\t{sample.language}")
    (root / "manifest.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def manifest_run(eval_subset, tmp_path_factory):
    out = tmp_path_factory.mktemp("subset-report")
    code, stdout, stderr = _run_eval(eval_subset, "--baseline", "rapidocr", "--format", "json",
                                     "-o", out)
    return {"code": code, "stdout": stdout, "stderr": stderr, "out": out}


def test_manifest_subset_matched_mode_languages_and_baseline(manifest_run, eval_subset):
    assert manifest_run["code"] == 0, manifest_run["stderr"]
    payload = json.loads(manifest_run["stdout"])  # --format json: the summary and the report paths
    assert Path(payload["reports"]["html"]).is_file()
    report = _load_report(manifest_run["out"])
    summary = report["summary"]
    assert payload["summary"]["overall"] == summary["overall"]
    assert summary["mode"] == "matched" and summary["systems"] == ["inkread", "rapidocr"]
    assert summary["kinds"] == ["hw-line", "print-line"]
    assert set(summary["by_set"]["print-line"]) == {"sroie", "uw3"}
    by_set = {r["set"]: r for r in report["samples"]}
    assert by_set["copiste"]["mode"] == "handwritten" and by_set["copiste"]["language"] == "fr"
    assert by_set["uw3"]["mode"] == "printed" and by_set["uw3"]["language"] == "en"
    assert by_set["sroie"]["casefold"] and not by_set["uw3"]["casefold"]
    _assert_summary_matches_samples(report)
    assert summary["overall"]["rapidocr"]["errors"] == 0
    parsed = _parse_html(manifest_run["out"] / "report.html")
    assert [s["data-id"] for s in parsed.sections] == [r["id"] for r in report["samples"]]
    assert {r["id"] for r in report["samples"]} <= set(
        (manifest_run["out"] / "report.html").read_text(encoding="utf-8").split('"'))


def test_tesseract_baseline_adds_a_column(eval_subset, tmp_path):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-fra)")
    # the manifest file itself, under another name, is a dataset too
    manifest = eval_subset / "subset.tsv"
    shutil.copy(eval_subset / "manifest.tsv", manifest)
    code, stdout, stderr = _run_eval(manifest, "--baseline", "tesseract", "--sets", "sroie,uw3",
                                     "-o", tmp_path / "r")
    assert code == 0, stderr
    assert "| kind | n | inkread CER | tesseract CER | inkread WER | tesseract WER |" in stdout
    assert "| print-line | tesseract | 2 |" in stdout
    report = _load_report(tmp_path / "r")
    assert report["summary"]["systems"] == ["inkread", "tesseract"]
    assert all("tesseract" in r["systems"] for r in report["samples"])
    _assert_summary_matches_samples(report)


# ----- errors -----------------------------------------------------------------------------------

def test_missing_dataset_is_one_error_line(tmp_path):
    code, stdout, stderr = _run_eval(tmp_path / "nope")
    assert code == 2 and stdout == ""
    assert stderr.strip().splitlines() == [f"inkread: error: dataset not found: {tmp_path / 'nope'}"]


def test_dataset_without_samples_is_an_error(tmp_path):
    (tmp_path / "lonely.png").write_bytes((EXAMPLES / "printed_page.png").read_bytes())
    code, _, stderr = _run_eval(tmp_path)
    assert code == 3
    assert len(stderr.strip().splitlines()) == 1 and "no images with a ground-truth .txt" in stderr


def test_missing_baseline_names_the_package(tmp_path, monkeypatch):
    shutil.copy(EXAMPLES / "printed_page.png", tmp_path / "p.png")
    shutil.copy(EXAMPLES / "printed_page.txt", tmp_path / "p.txt")
    code, _, stderr = _run_eval(tmp_path, "--baseline", "tesseract", "--tesseract",
                                tmp_path / "no-such-tesseract", "-o", tmp_path / "r")
    assert code == 11, stderr  # MissingDependencyError, before any image is read
    assert "apt-get install tesseract-ocr" in stderr and len(stderr.strip().splitlines()) == 1
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # import rapidocr fails
    code, _, stderr = _run_eval(tmp_path, "--baseline", "rapidocr", "-o", tmp_path / "r")
    assert code == 11 and "pip install rapidocr" in stderr
    assert not (tmp_path / "r").exists()
    code, _, stderr = _run_eval(tmp_path, "--baseline", "abbyy")
    assert code == 2 and "unknown baseline" in stderr


# ----- pieces ----------------------------------------------------------------------------------

def test_word_diff_marks_insertions_and_deletions():
    ops = ev.word_diff("Call the  plumber\nbefore noon", "Call plumber before <noon> today")
    assert ev.diff_text(ops) == "Call [-the-] plumber before [-noon-] {+<noon> today+}"
    assert ev.diff_html(ops) == ("Call <del>the</del> plumber before <del>noon</del> "
                                 "<ins>&lt;noon&gt; today</ins>")
    assert ev.diff_text(ev.word_diff("TOTAL 4.50", "total 4.50", casefold=True)) == "total 4.50"


def test_load_dataset_filters_and_limits_per_kind(eval_subset):
    dataset = ev.load_dataset(eval_subset, kinds="print-line", limit=1)
    assert [(s.set, s.kind) for s in dataset.samples] == [("sroie", "print-line")]
    dataset = ev.load_dataset(eval_subset / "manifest.tsv", limit=1)
    assert [s.kind for s in dataset.samples] == ["hw-line", "print-line"]
    assert dataset.manifest == (eval_subset / "manifest.tsv").resolve()
    with pytest.raises(ev.InputError, match=r"kinds hw-page \(it has hw-line, print-line\)"):
        ev.load_dataset(eval_subset, kinds="hw-page")
