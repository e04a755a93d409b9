"""Fuzzing format detection and tag reading/writing: a bounded coverage-guided run (tests/fuzzcov.py)
and a hypothesis property, both seeded with real files of every format. A long run is behind the
``faults`` marker (``make test-faults``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzzcov import check, fuzz, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from media import EXTRA_FORMATS, FORMATS, make_cover, make_extra_track, make_track


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    out = []
    for fmt in FORMATS:
        cover = make_cover(size=(16, 16)) if fmt in ("flac", "mp3", "m4a") else None
        out.append(make_track(folder / f"s.{fmt}", fmt, seconds=0.05, cover=cover).read_bytes())
    for fmt in EXTRA_FORMATS:
        out.append(make_extra_track(folder / f"s.{fmt}", fmt).read_bytes()[:6000])
    return out


def _report(stats) -> str:
    return "; ".join(f"{reason} (input {data[:32]!r}…)" for data, reason in stats.findings[:5])


@pytest.mark.timeout(120)
def test_coverage_guided_fuzz_finds_nothing(seeds: list[bytes], tmp_path: Path) -> None:
    stats = fuzz(seeds, tmp_path, seconds=6, seed=1)
    assert stats.execs > 100 and stats.corpus > len(seeds)  # it ran and it learned
    assert not stats.findings, _report(stats)


@pytest.mark.faults
@pytest.mark.timeout(900)
def test_coverage_guided_fuzz_long(seeds: list[bytes], tmp_path: Path) -> None:
    stats = fuzz(seeds, tmp_path, seconds=240, seed=2)
    assert not stats.findings, _report(stats)


@pytest.mark.timeout(120)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_mutated_files_are_read_or_refused_cleanly(seeds: list[bytes], tmp_path: Path, data) -> None:
    import random

    seed = data.draw(st.sampled_from(seeds))
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    check(mutate(seed, seeds, rng), tmp_path)
