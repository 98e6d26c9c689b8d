"""Tests of inkread.metrics (CER/WER/line structure) and inkread.evalset (reading eval sets)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from inkread import evalset, metrics
from inkread.metrics import (
    casefold_for_set,
    cer,
    edit_distance,
    line_structure,
    normalize_text,
    score,
    wer,
)


@pytest.fixture(params=["rapidfuzz", "pure-python"])
def backend(request, monkeypatch):
    """Run a test with the rapidfuzz distance and with the pure-Python fallback."""
    if request.param == "pure-python":
        monkeypatch.setattr(metrics, "_rf_levenshtein", None)
    elif metrics._rf_levenshtein is None:
        pytest.skip("rapidfuzz not installed")
    return request.param


# --------------------------------------------------------------------------- normalize_text

@pytest.mark.parametrize(
    ("text", "casefold", "expected"),
    [
        ("", False, ""),
        ("   \n\t ", False, ""),
        ("a  b", False, "a b"),
        (" a\nb \r\n c\t\td ", False, "a b c d"),
        ("a\u00a0b\u2003c", False, "a b c"),  # no-break space, em space
        ("e\u0301te\u0301", False, "\u00e9t\u00e9"),  # NFD -> NFC
        ("ABC Déf", True, "abc déf"),
        ("Straße", True, "strasse"),
        ("ABC", False, "ABC"),
    ],
)
def test_normalize_text(text, casefold, expected):
    assert normalize_text(text, casefold=casefold) == expected


# --------------------------------------------------------------------------- edit distance

DISTANCES = [
    ("", "", 0),
    ("abc", "", 3),
    ("", "abc", 3),
    ("abc", "abc", 0),
    ("kitten", "sitting", 3),
    ("flaw", "lawn", 2),
    ("intention", "execution", 5),
    ("été", "ete", 2),
    ("Œuvre", "OEuvre", 2),
    ("日本語", "日本", 1),
    (["a", "b", "c"], ["a", "c"], 1),
    (["the", "cat", "sat"], ["the", "bat", "sat", "down"], 2),
]


@pytest.mark.parametrize(("a", "b", "expected"), DISTANCES)
def test_edit_distance(backend, a, b, expected):
    assert edit_distance(a, b) == expected
    assert edit_distance(b, a) == expected


def test_fallback_matches_rapidfuzz():
    pytest.importorskip("rapidfuzz")
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(st.text(alphabet="abcé ", max_size=12), st.text(alphabet="abcé ", max_size=12))
    def check(a, b):
        assert metrics._levenshtein_py(a, b) == metrics._rf_levenshtein.distance(a, b)

    check()


# --------------------------------------------------------------------------- CER / WER

CER_CASES = [
    # reference, hypothesis, casefold, expected
    ("", "", False, 0.0),
    ("", "x", False, 1.0),
    ("  \n ", "", False, 0.0),  # whitespace-only reference is empty
    ("abc", "", False, 1.0),
    ("abcd", "abcd", False, 0.0),
    ("abcd", "abxd", False, 0.25),
    ("kitten", "sitting", False, 0.5),
    ("ab", "abcdef", False, 2.0),  # CER can exceed 1
    ("line one\nline two", "line   one line\ttwo", False, 0.0),  # whitespace collapsed
    ("  padded  ", "padded", False, 0.0),
    ("e\u0301cole", "\u00e9cole", False, 0.0),  # NFC on both sides
    ("TOTAL RM 5.00", "Total rm 5.00", True, 0.0),
    ("TOTAL", "Total", False, 0.8),
]


@pytest.mark.parametrize(("ref", "hyp", "casefold", "expected"), CER_CASES)
def test_cer(backend, ref, hyp, casefold, expected):
    assert cer(ref, hyp, casefold=casefold) == pytest.approx(expected)


WER_CASES = [
    ("", "", False, 0.0),
    ("", "word", False, 1.0),
    ("one two three", "", False, 1.0),
    ("one two three", "one two three", False, 0.0),
    ("one two three", "one too three", False, 1 / 3),
    ("one two three four", "one three four five", False, 0.5),
    ("one\ntwo", "one   two", False, 0.0),
    ("Hello World", "hello world", False, 1.0),
    ("Hello World", "hello world", True, 0.0),
    ("a b", "a b c d e f", False, 2.0),
    ("été à Paris", "ete a Paris", False, 2 / 3),
]


@pytest.mark.parametrize(("ref", "hyp", "casefold", "expected"), WER_CASES)
def test_wer(backend, ref, hyp, casefold, expected):
    assert wer(ref, hyp, casefold=casefold) == pytest.approx(expected)


# --------------------------------------------------------------------------- line structure

REF = "The first line here\nA second line of text\nthird and last line"

LINE_CASES = [
    # id, hypothesis, ref_lines, hyp_lines, count_match, order_ok, line_cer
    ("identical", REF, 3, 3, True, True, 0.0),
    ("blank lines ignored", "\n" + REF.replace("\n", "\n\n  \n") + "\n\n", 3, 3, True, True, 0.0),
    ("inner whitespace ignored", "The  first line here\nA second\tline of text\n third and last line ",
     3, 3, True, True, 0.0),
    ("swapped", "A second line of text\nThe first line here\nthird and last line",
     3, 3, True, False, None),
    ("merged", "The first line here A second line of text\nthird and last line",
     3, 2, False, False, None),
    ("split", "The first line\nhere\nA second line of text\nthird and last line",
     3, 4, False, False, None),
    ("missing last", "The first line here\nA second line of text", 3, 2, False, False, 1 / 3),
    ("empty hypothesis", "", 3, 0, False, False, 1.0),
]


@pytest.mark.parametrize(
    ("hyp", "ref_lines", "hyp_lines", "count_match", "order_ok", "line_cer"),
    [case[1:] for case in LINE_CASES],
    ids=[case[0] for case in LINE_CASES],
)
def test_line_structure(backend, hyp, ref_lines, hyp_lines, count_match, order_ok, line_cer):
    result = line_structure(REF, hyp)
    assert set(result) == {"ref_lines", "hyp_lines", "count_match", "order_ok", "line_cer"}
    assert result["ref_lines"] == ref_lines
    assert result["hyp_lines"] == hyp_lines
    assert result["count_match"] is count_match
    assert result["order_ok"] is order_ok
    if line_cer is not None:
        assert result["line_cer"] == pytest.approx(line_cer)
    assert 0.0 <= result["line_cer"] <= 1.0


def test_line_structure_small_errors_keep_order():
    hyp = "Tne first line hare\nA secnd line of text\nthird and lost line"
    result = line_structure(REF, hyp)
    assert result["count_match"] and result["order_ok"]
    assert 0.0 < result["line_cer"] < 0.1


def test_line_structure_swapped_costs_more_than_typos():
    swapped = line_structure(REF, "A second line of text\nThe first line here\nthird and last line")
    typos = line_structure(REF, "Tne first line hare\nA secnd line of text\nthird and lost line")
    assert swapped["line_cer"] > typos["line_cer"]


def test_line_structure_duplicate_lines_in_order():
    ref = "same\nsame\nother"
    assert line_structure(ref, ref)["order_ok"] is True


def test_line_structure_both_empty():
    assert line_structure("", "\n \n") == {
        "ref_lines": 0, "hyp_lines": 0, "count_match": True, "order_ok": True, "line_cer": 0.0,
    }


def test_line_structure_casefold():
    assert line_structure("ABC\nDEF", "abc\ndef", casefold=True)["line_cer"] == 0.0
    assert line_structure("ABC\nDEF", "abc\ndef")["line_cer"] == 1.0


def test_line_structure_extra_line_aligned_monotonically():
    # an inserted junk line must not shift the pairing of the real lines
    result = line_structure(REF, "The first line here\nxx\nA second line of text\nthird and last line")
    assert result["hyp_lines"] == 4 and not result["count_match"]
    assert result["line_cer"] == pytest.approx(1 / 4)


# --------------------------------------------------------------------------- sets / score

@pytest.mark.parametrize(
    ("set_name", "expected"),
    [("sroie", True), ("SROIE", True), ("copiste", False), ("uw3", False), ("", False), (None, False)],
)
def test_casefold_for_set(set_name, expected):
    assert casefold_for_set(set_name) is expected


def test_score_uses_set_casefold():
    assert score("TOTAL 5.00", "total 5.00", set_name="sroie")["cer"] == 0.0
    assert score("TOTAL 5.00", "total 5.00", set_name="copiste")["cer"] > 0.0
    result = score("a b\nc", "a b\nc")
    assert result["cer"] == 0.0 and result["wer"] == 0.0 and result["order_ok"] is True
    assert not any(isinstance(v, float) and math.isnan(v) for v in result.values())


# --------------------------------------------------------------------------- evalset

def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


@pytest.fixture()
def manifest_dir(tmp_path):
    rows = [
        "id\tset\tkind\tlanguage\tsource_repo\tsource_commit\tsource_image_path\tlicense_if_known",
        "a_p000\tseta\thw-page\tfr\trepo\tc0ffee\tx.jpg\tCC-BY-4.0",
        "a_l001\tseta\thw-line\tfr\trepo\tc0ffee\ty.png\tCC-BY-4.0",
        "b_p000\tsetb\tprint-page\ten\trepo\tc0ffee\tz.png\t",
    ]
    _write(tmp_path / "manifest.tsv", "\n".join(rows) + "\n")
    _write(tmp_path / "images/seta/a_p000.jpg", b"jpg")
    _write(tmp_path / "images/seta/a_l001.png", b"png")
    _write(tmp_path / "images/setb/b_p000.png", b"png")
    _write(tmp_path / "gt/seta/a_p000.txt", "Ligne une\nLigne deux\n")
    _write(tmp_path / "gt/seta/a_l001.txt", "une ligne")
    _write(tmp_path / "gt/setb/b_p000.txt", "\ufeffPRINTED")
    return tmp_path


def test_load_manifest(manifest_dir):
    samples = evalset.load_manifest(manifest_dir)
    assert [s.id for s in samples] == ["a_p000", "a_l001", "b_p000"]
    first = samples[0]
    assert (first.set, first.kind, first.language) == ("seta", "hw-page", "fr")
    assert first.image_path == manifest_dir / "images/seta/a_p000.jpg"
    assert first.gt_path == manifest_dir / "gt/seta/a_p000.txt"
    assert first.is_handwritten and not first.is_line
    assert samples[1].is_line
    assert first.read_gt() == "Ligne une\nLigne deux\n"
    assert samples[2].read_gt() == "PRINTED"  # BOM dropped


def test_load_manifest_filters(manifest_dir):
    assert [s.id for s in evalset.load_manifest(manifest_dir, kinds="hw-page,print-page")] == [
        "a_p000", "b_p000"]
    assert [s.id for s in evalset.load_manifest(manifest_dir, sets=["setb"])] == ["b_p000"]
    assert evalset.load_manifest(manifest_dir, sets="setb", kinds="hw-line") == []


def test_load_manifest_missing_image(manifest_dir):
    (manifest_dir / "images/setb/b_p000.png").unlink()
    with pytest.raises(FileNotFoundError, match="b_p000"):
        evalset.load_manifest(manifest_dir)


def test_load_manifest_missing_manifest(tmp_path):
    with pytest.raises(FileNotFoundError):
        evalset.load_manifest(tmp_path)


def test_load_folder(tmp_path):
    _write(tmp_path / "note1.png", b"png")
    _write(tmp_path / "note1.txt", "hello")
    _write(tmp_path / "note2.JPG", b"jpg")  # no ground truth: skipped
    _write(tmp_path / "sub/page.jpeg", b"jpg")
    _write(tmp_path / "sub/page.txt", "world")
    _write(tmp_path / "readme.txt", "not a sample")
    samples = evalset.load_folder(tmp_path, kind="hw-page", language="fr")
    assert [(s.id, s.set) for s in samples] == [("note1", tmp_path.name), ("page", "sub")]
    assert all(s.kind == "hw-page" and s.language == "fr" for s in samples)
    assert samples[0].read_gt() == "hello"
    assert [s.id for s in evalset.load_folder(tmp_path, recursive=False)] == ["note1"]


def test_load_samples_dispatch(manifest_dir, tmp_path_factory):
    assert len(evalset.load_samples(manifest_dir, kinds=["hw-page"])) == 1
    folder = tmp_path_factory.mktemp("plain")
    _write(folder / "x.png", b"png")
    _write(folder / "x.txt", "x")
    samples = evalset.load_samples(folder, kinds="hw-page", folder_kind="print-page")
    assert [(s.id, s.kind) for s in samples] == [("x", "print-page")]


def test_resolve_eval_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(evalset.EVAL_DIR_ENV, raising=False)
    assert evalset.resolve_eval_dir(tmp_path) == tmp_path.resolve()
    assert evalset.resolve_eval_dir(None, default=tmp_path) == tmp_path.resolve()
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv(evalset.EVAL_DIR_ENV, str(other))
    assert evalset.resolve_eval_dir(None, default=tmp_path) == other.resolve()
    assert evalset.resolve_eval_dir(tmp_path) == tmp_path.resolve()  # explicit wins
    with pytest.raises(FileNotFoundError):
        evalset.resolve_eval_dir(tmp_path / "missing")
    monkeypatch.delenv(evalset.EVAL_DIR_ENV)
    with pytest.raises(FileNotFoundError):
        evalset.resolve_eval_dir(None)


def test_real_eval_set_manifest_if_present():
    """The shared dev set parses completely (skipped where it is not mounted)."""
    root = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
    if not (root / "manifest.tsv").is_file():
        pytest.skip("shared eval set not present")
    samples = evalset.load_manifest(root)
    rows = (root / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(samples) == len([r for r in rows if r.strip()]) >= 247  # every row, none dropped
    assert {s.kind for s in samples} == set(evalset.KINDS)  # hw-word (names) included
    assert all(s.image_path.is_file() for s in samples)
