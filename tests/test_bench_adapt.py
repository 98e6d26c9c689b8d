"""bench/bench_adapt.py's pure helpers (the bench itself trains and reads: run by hand)."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "bench" / "bench_adapt.py"
_spec = importlib.util.spec_from_file_location("bench_adapt", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_points_parsed_in_order_without_repeats():
    assert bench.parse_points("0, 50,1_000,all,50") == [0, 50, 1000, None]
    with pytest.raises(ValueError):
        bench.parse_points("-1")
    with pytest.raises(ValueError):
        bench.parse_points(" , ")


def test_minutes_one_for_all_or_one_per_point():
    assert bench.parse_minutes("20", 3) == [20.0, 20.0, 20.0]
    assert bench.parse_minutes("1,20,120", 3) == [1.0, 20.0, 120.0]
    with pytest.raises(ValueError):
        bench.parse_minutes("1,2", 3)
    with pytest.raises(ValueError):
        bench.parse_minutes("0", 1)


def test_points_at_or_above_the_collection_are_all_once():
    plan = bench.plan_points([0, 50, 300, 1000, None], [1, 2, 3, 4, 5], 271)
    assert plan == [(0, 1), (50, 2), (None, 3)]


def test_pair_stem_is_page_and_line():
    assert bench.pair_stem("lines/hooker/JDH_2_16_144_001_007.jpg") == "JDH_2_16_144_001_l007"
    with pytest.raises(ValueError):
        bench.pair_stem("lines/x/page.jpg")
