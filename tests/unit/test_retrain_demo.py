"""make retrain-demo walks the whole retraining loop on moto and prints the promotion diff."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT


@pytest.mark.slow  # a subprocess
def test_the_demo_walks_the_loop_to_the_promotion_diff() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "retrain_demo.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in (
        "labels delivered",
        "AUC = 0.68 < 0.75",
        "-> ALARM",
        "retraining function: started",
        "model-package/stage-churn/4 (PendingManualApproval)",
        "approves version 4: Approved",
        "matches the stage-churn rule: True",
        "make promote ENV=stage SERVICE=churn VERSION=4",
        "+      - name: churn-pkg-v4",
        "+        model: churn-pkg-v4",
    ):
        assert step in out, step
