"""Mutated real files of every format load or raise a typed error, never anything else (issue 14).
A few hundred inputs here, every run; ``bench/bench_fuzz.py`` runs tens of thousands. Inputs that
once failed are kept in ``tests/data/fuzz/crashes`` and loaded here every run."""

from __future__ import annotations

import random
import time

import pytest
from fuzzing import check, corpus, crashes, format_of, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SEEDS = corpus()
BUDGET = 10.0  # seconds one input may take (the slowest of 50,000 took well under one)


def test_the_corpus_has_every_format_and_loads():
    assert {format_of(n) for n, _ in SEEDS} >= {"jpg", "png", "bmp", "tif", "gif", "webp", "heic", "pdf"}
    for name, data in SEEDS:
        assert check(data)[0] == "ok", name


@settings(max_examples=400, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SEEDS) - 1), st.integers(0, 2**32 - 1))
def test_mutated_files_load_or_raise_a_typed_error(which, seed):
    name, data = SEEDS[which]
    mutated = mutate(data, random.Random(seed), [d for _, d in SEEDS])
    t0 = time.monotonic()
    outcome, detail = check(mutated)
    assert outcome != "FAILED", f"{name} mutated with seed {seed}: {detail}"
    assert time.monotonic() - t0 < BUDGET


@pytest.mark.parametrize("name,data", crashes() or [pytest.param("", b"", marks=pytest.mark.skip("none found yet"))])
def test_inputs_that_once_failed(name, data):
    outcome, detail = check(data)
    assert outcome != "FAILED", f"{name}: {detail}"
