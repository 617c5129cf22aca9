"""The app docs/library.md shows a library user runs as written: it synthesizes with every
compliance gate on (cdk-nag's packs, the SageMaker pack, CDK's template validation), so a copy
of it is a working start, not a failed synth."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # a Python of its own and a synth with every pack


def snippet() -> str:
    text = (ROOT / "docs" / "library.md").read_text("utf-8")
    (first, *_) = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    return str(first)


def test_the_library_page_app_synthesizes_with_every_gate(tmp_path: Path) -> None:
    """Run as a user runs it, ``python app.py``, with this checkout's package on the path (as
    ``make example`` does); in a Python of its own, since CDK reads ``CDK_OUTDIR`` in jsii's
    Node process, which a test worker started long before."""
    code = snippet()
    assert "enable_compliance_gates(app)" in code
    assert "…" not in code  # nothing to fill in before it runs
    (tmp_path / "app.py").write_text(code, encoding="utf-8")
    out = tmp_path / "cdk.out"
    environ = {**os.environ, "CDK_OUTDIR": str(out), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=tmp_path, env=environ, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]

    template: dict[str, Any] = json.loads((out / "Churn.template.json").read_text())
    resources = template["Resources"].values()
    alarms = [r["Properties"] for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) >= 7  # six per variant and the p99 alarm
    assert all(alarm.get("AlarmActions") for alarm in alarms)
    assert [r for r in resources if r["Type"] == "AWS::SageMaker::Endpoint"]
    report = json.loads((out / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    assert violations == []
