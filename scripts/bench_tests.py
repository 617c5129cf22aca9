"""Section 5 of `make bench FULL=1`: the test loop, timed as a developer runs it.

`make test-fast` (the inner loop: no coverage, no whole-environment synth) several times, then
`make test` (the whole suite, coverage included) once, each as the Makefile runs it, from this
checkout, after the install. Wall seconds and the CPU seconds of the whole process tree (the
xdist workers, jsii's Node processes and every subprocess the tests start, as each is waited
for). Targets (issue 26): `make test-fast` at most 20 s, `make test` at most 90 s, on 2 cores.

What the runs write goes under the bench's temporary folder: pytest's temporary directories and
jsii's (TMPDIR, set by scripts/bench.py), coverage's data file (COVERAGE_FILE); pytest's cache is
off. Only the bytecode that any run writes (__pycache__, ignored by git) stays.
"""

from __future__ import annotations

import resource
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TEST_FAST_TARGET = 20.0  # seconds of wall time, on 2 cores (issue 26)
TEST_TARGET = 90.0
FAST_RUNS = 3
MAKE = ("make", "--no-print-directory")
# scripts/bench.py's ``timed``: a command's wall seconds (the bench stops when it fails), run
# with its environment in a process group of its own.
Timer = Callable[[list[str], dict[str, str]], float]


def children_cpu() -> float:
    """CPU seconds (user and system) of every child process waited for so far, with theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class LoopTarget:
    """One make target of the test loop and its timed runs."""

    label: str
    command: Sequence[str]
    target: float
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    def measure(self, timed: Timer, env: dict[str, str]) -> None:
        """One run of the command: its wall seconds and its process tree's CPU seconds."""
        cpu = children_cpu()
        self.walls.append(timed(list(self.command), env))
        self.cpus.append(children_cpu() - cpu)

    def report(self) -> bool:
        wall = statistics.median(self.walls)
        ok = wall <= self.target
        runs = ", ".join(f"{w:.1f}" for w in self.walls)
        print(
            f"  {self.label:<15} median {wall:6.1f}s wall ({runs}), "
            f"{statistics.median(self.cpus):6.1f}s CPU; target <= {self.target:.0f}s "
            + ("met" if ok else "NOT MET")
        )
        return ok


def loop_targets() -> list[LoopTarget]:
    return [
        LoopTarget("make test-fast", (*MAKE, "test-fast"), TEST_FAST_TARGET),
        LoopTarget("make test", (*MAKE, "test"), TEST_TARGET),
    ]


def loop_section(
    timed: Timer,
    env: dict[str, str],
    work: Path,
    *,
    fast_runs: int = FAST_RUNS,
    targets: list[LoopTarget] | None = None,
) -> bool:
    """Section 5: ``fast_runs`` runs of the first target, then one of the second; returns
    whether both medians meet their targets. ``timed`` is scripts/bench.py's (a process group
    of its own, stopped whole when the bench is interrupted)."""
    fast, whole = targets or loop_targets()
    loop_env = {
        **env,
        "COVERAGE_FILE": str(work / ".coverage"),
        "PYTEST_ADDOPTS": f"{env.get('PYTEST_ADDOPTS', '')} -p no:cacheprovider".strip(),
    }
    print(
        f"\ntests: {fast.label} {fast_runs} times, then {whole.label} once, as the Makefile "
        "runs them (wall; CPU of the whole process tree)"
    )
    for i in range(fast_runs):
        fast.measure(timed, loop_env)
        print(f"  run {i + 1}/{fast_runs}: {fast.label} {fast.walls[-1]:.1f}s")
    whole.measure(timed, loop_env)
    print(f"  run 1/1: {whole.label} {whole.walls[-1]:.1f}s")
    return all([fast.report(), whole.report()])
