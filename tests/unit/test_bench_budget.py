"""scripts/bench.py's quick run fits section 1's repetitions to its time budget: the first pair
always runs, each further one only while the last pair's time still fits before the deadline."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import scripts.bench
from scripts.bench import SynthSection

RUN_SECONDS = 10.0  # what each (faked) synth reports; a pair: 20 s


@pytest.fixture
def synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SynthSection:
    """Section 1 with three pairs planned, its synths recorded instead of run: only the
    planning is under test here (tests/unit/test_bench_cleanup.py runs the CLI)."""
    started: list[list[str]] = []

    def fake_timed(command: list[str], env: dict[str, str]) -> float:
        started.append(command)
        return RUN_SECONDS

    monkeypatch.setattr(scripts.bench, "timed", fake_timed)
    section = SynthSection(dict(os.environ), tmp_path, total=3)
    assert section.full.command[:3] == ["npx", "cdk", "synth"]
    return section


def pairs_done(section: SynthSection) -> int:
    assert len(section.full.times) == len(section.empty.times)
    return len(section.full.times)


def test_without_a_deadline_every_pair_is_run_and_never_more_than_the_total(
    synth: SynthSection,
) -> None:
    synth.pairs(1)
    assert pairs_done(synth) == 1
    synth.pairs(5)
    assert pairs_done(synth) == 3


def test_the_first_pair_runs_even_past_the_deadline(synth: SynthSection) -> None:
    synth.pairs(3, deadline=time.perf_counter() - 1)
    assert pairs_done(synth) == 1


def test_another_pair_only_while_the_last_ones_time_fits(
    synth: SynthSection, capsys: pytest.CaptureFixture[str]
) -> None:
    synth.pairs(1)
    synth.pairs(3, deadline=time.perf_counter() + 2 * RUN_SECONDS - 1)
    assert pairs_done(synth) == 1
    assert "synth: 1 of 3 runs: the quick run's time budget is spent" in capsys.readouterr().out
    synth.pairs(3, deadline=time.perf_counter() + 2 * RUN_SECONDS + 5)
    assert pairs_done(synth) == 3  # the clock does not move: the last pair always fits
