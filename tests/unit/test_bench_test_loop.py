"""scripts/bench_tests.py, section 5 of `make bench FULL=1`: `make test-fast` several times and
`make test` once, each timed (wall, and the CPU of the process tree) against issue 26's targets,
writing nothing outside the bench's folder; the quick run leaves it out."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import scripts.bench
from scripts.bench_tests import (
    FAST_RUNS,
    TEST_FAST_TARGET,
    TEST_TARGET,
    LoopTarget,
    loop_section,
    loop_targets,
)


class FakeTimer:
    """Stands in for scripts/bench.py's ``timed``: records each command and its environment,
    and says each took ``seconds``."""

    def __init__(self, seconds: float = 1.0) -> None:
        self.calls: list[tuple[list[str], dict[str, str]]] = []
        self.seconds = seconds

    def __call__(self, command: list[str], env: dict[str, str]) -> float:
        self.calls.append((command, env))
        return self.seconds


def test_the_targets_are_the_issues_and_run_as_the_makefile_does() -> None:
    fast, whole = loop_targets()
    assert (fast.label, fast.target, fast.command[-1]) == ("make test-fast", 20.0, "test-fast")
    assert (whole.label, whole.target, whole.command[-1]) == ("make test", 90.0, "test")
    assert fast.command[0] == whole.command[0] == "make"
    assert (TEST_FAST_TARGET, TEST_TARGET) == (20.0, 90.0)


def test_fast_runs_then_one_whole_run_with_coverage_and_cache_inside_the_work_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    timer = FakeTimer()
    env = {"PATH": "/bin", "PYTEST_ADDOPTS": "-x"}
    assert loop_section(timer, env, tmp_path, fast_runs=2)
    assert [command[-1] for command, _ in timer.calls] == ["test-fast", "test-fast", "test"]
    for _, used in timer.calls:
        assert used["COVERAGE_FILE"] == str(tmp_path / ".coverage")
        assert used["PYTEST_ADDOPTS"] == "-x -p no:cacheprovider"  # the caller's options kept
        assert used["PATH"] == "/bin"
    assert env == {"PATH": "/bin", "PYTEST_ADDOPTS": "-x"}  # the caller's dict untouched
    out = capsys.readouterr().out
    assert "make test-fast 2 times, then make test once" in out
    assert out.count("target <= ") == 2
    assert "NOT MET" not in out


def test_a_median_above_its_target_is_not_met(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fast = LoopTarget("fast", ["fast"], target=3600.0)
    whole = LoopTarget("whole", ["whole"], target=0.5)  # each run takes 1 s
    assert not loop_section(FakeTimer(), {}, tmp_path, fast_runs=FAST_RUNS, targets=[fast, whole])
    assert fast.walls == [1.0] * FAST_RUNS
    assert whole.walls == [1.0]
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in lines if "target <=" in line] == ["met", "MET"]
    assert "NOT MET" in lines[-1]
    assert lines[-1].lstrip().startswith("whole")


def test_a_failing_run_stops_the_bench_with_the_end_of_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 2, "out\n", "err\n")

    monkeypatch.setattr(scripts.bench, "run", failing)
    with pytest.raises(SystemExit) as stopped:
        loop_section(scripts.bench.timed, {}, tmp_path, fast_runs=1)
    assert str(stopped.value).startswith(
        "benchmark command failed: make --no-print-directory test-fast"
    )
    assert str(stopped.value).endswith("out\nerr\n")


@pytest.mark.slow  # a subprocess
def test_the_cpu_of_the_process_tree_is_counted(tmp_path: Path) -> None:
    burn = [sys.executable, "-c", "import subprocess, sys; subprocess.run([sys.executable, "
            "'-c', 'sum(i * i for i in range(3_000_000))'], check=True)"]  # fmt: skip
    target = LoopTarget("burn", burn, target=60.0)
    target.measure(scripts.bench.timed, {"PATH": "/usr/bin:/bin"})
    assert target.cpus[0] > 0.1  # the grandchild's work, waited for by its parent
    assert target.walls[0] >= target.cpus[0] * 0.5


@pytest.mark.slow  # the bench starts `node --version`
@pytest.mark.parametrize(("argv", "runs"), [([], None), (["--full", "--test-runs", "2"], 2)])
def test_only_the_full_run_has_the_test_loop(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], runs: int | None
) -> None:
    called: list[dict[str, Any]] = []

    def section(timed: Any, env: dict[str, str], work: Path, *, fast_runs: int) -> bool:
        called.append({"timed": timed, "tmp": env["TMPDIR"], "work": work, "fast_runs": fast_runs})
        assert work.is_dir()
        assert work.parent == Path(env["TMPDIR"]).parent
        return True

    monkeypatch.setattr(scripts.bench, "loop_section", section)
    # main() makes SIGTERM and SIGHUP unwind like Ctrl-C: not in this test process
    monkeypatch.setattr(signal, "signal", lambda signum, handler: None)
    skips = ["--skip", "synth", "--skip", "import", "--skip", "modes", "--skip", "scale"]
    monkeypatch.setattr(sys, "argv", ["bench.py", *skips, *argv])
    assert scripts.bench.main() == 0
    assert [c["fast_runs"] for c in called] == ([] if runs is None else [runs])
    if called:
        assert called[0]["timed"] is scripts.bench.timed
        assert not Path(called[0]["tmp"]).exists()  # removed with the bench's folder
