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
    # A shell without job control starts background commands with SIGINT ignored, and an
    # ignored signal stays ignored across exec (Python then installs no KeyboardInterrupt): under
    # `.ci/run &` the bench would never see the Ctrl-C this test sends. A handled signal is reset
    # to the default at exec, so the bench starts with SIGINT as a terminal's Ctrl-C delivers it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        bench = subprocess.Popen(
            [sys.executable, "scripts/bench.py", "--skip", "synth", "--skip", "import"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        deadline = time.monotonic() + 120
        # the modes section has written its configs and started `npx cdk synth`
        while not list(tmp.glob("mlops-bench-*/modes/configs")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(tmp.glob("mlops-bench-*")), "the bench made no temporary folder"
        time.sleep(2)  # the CLI and the app are running, writing into the folder
        bench.send_signal(sig)
        out, _ = bench.communicate(timeout=60)
    finally:
        if bench.poll() is None:
            bench.kill()
    assert bench.returncode == 130, out
    assert "bench: interrupted" in out
    assert list(tmp.iterdir()) == [], out
