"""The Makefile's yes/no variables (FULL=, STRICT=, MARKDOWN=, WAIT=, CHECK=): 1, true or yes
turn one on, 0, false, no or nothing leave it off, and anything else stops the target with one
line. Read from `make -n` (nothing runs; the prerequisites are installed already)."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import run_make

BATCH_RUN = ["batch-run", "ENV=dev", "SERVICE=churn", "JOB=x"]
PROMOTE = ["promote", "ENV=dev", "SERVICE=churn", "VERSION=3"]


def dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_make("-n", *args, timeout=60)


pytestmark = pytest.mark.slow  # make in a subprocess


@pytest.mark.parametrize(
    ("target", "variable", "option", "command"),
    [
        (["bench"], "FULL", "--full", "scripts/bench.py"),
        (["bench"], "STRICT", "--strict", "scripts/bench.py"),
        (["inventory"], "MARKDOWN", "--markdown", "mlops_tools.inventory"),
        (BATCH_RUN, "WAIT", "--wait", "mlops_tools.batch_run"),
        (PROMOTE, "CHECK", "--check", "mlops_tools.promote"),
    ],
)
def test_each_flag_is_on_off_or_one_line(
    target: list[str], variable: str, option: str, command: str
) -> None:
    for value in ("1", "true", "yes"):
        done = dry_run(*target, f"{variable}={value}")
        assert done.returncode == 0, done.stderr
        assert command in done.stdout
        assert option in done.stdout
    for value in ("", "0", "false", "no"):
        done = dry_run(*target, f"{variable}={value}")
        assert done.returncode == 0, done.stderr
        assert option not in done.stdout
    done = dry_run(*target, f"{variable}=2")
    assert done.returncode == 2
    assert command not in done.stdout  # the target stopped before its first command
    assert done.stderr.count("\n") == 1
    assert f"*** {variable}=2: use 1, true or yes to turn it on" in done.stderr
