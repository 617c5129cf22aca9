"""scripts/bench.py removes what it creates when interrupted (Ctrl-C or SIGTERM) mid-synth."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # the bench and the CDK CLI in subprocesses


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_bench_leaves_no_temporary_folder(tmp_path: Path, sig: int) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    bench = subprocess.Popen(
        [sys.executable, "scripts/bench.py", "--skip", "synth", "--skip", "import"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        # the modes section has written its configs and started `npx cdk synth`
        while not list(tmp.glob("mlops-bench-*/modes/configs")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(tmp.glob("mlops-bench-*")), "the bench made no temporary folder"
        time.sleep(2)  # the CLI and the app are running, writing into the folder
        bench.send_signal(sig)
        # Generous: alone this takes ~8 s (stopping the CLI's process group at most ~9 s), but it
        # once exceeded 60 s in a fresh-clone CI run (cause not found, not reproduced: the other
        # worker was running the add-environment copy); the assertions below are what matter.
        out, _ = bench.communicate(timeout=300)
    finally:
        if bench.poll() is None:
            bench.kill()
    assert bench.returncode == 130, out
    assert "bench: interrupted" in out
    assert list(tmp.iterdir()) == [], out
