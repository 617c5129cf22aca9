"""The app docs/library.md shows a library user runs as written: it synthesizes with every
compliance gate on (cdk-nag's packs, the SageMaker pack, CDK's template validation), so a copy
of it is a working start, not a failed synth."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # a synth with every pack


def snippet() -> str:
    text = (ROOT / "docs" / "library.md").read_text("utf-8")
    (first, *_) = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    return str(first)


def test_the_library_page_app_synthesizes_with_every_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = snippet()
    assert "enable_compliance_gates(app)" in code
    assert "…" not in code  # nothing to fill in before it runs
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    exec(compile(code, "docs/library.md", "exec"), {"__name__": "library_snippet"})  # noqa: S102

    template: dict[str, Any] = json.loads((tmp_path / "Churn.template.json").read_text())
    resources = template["Resources"].values()
    alarms = [r["Properties"] for r in resources if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) >= 7  # six per variant and the p99 alarm
    assert all(alarm.get("AlarmActions") for alarm in alarms)
    assert [r for r in resources if r["Type"] == "AWS::SageMaker::Endpoint"]
    report = json.loads((tmp_path / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    assert violations == []
