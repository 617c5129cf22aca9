"""The house reads bottom-up (issue 22): AWS facts (``mlops_cdk.aws``) -> construct props
(``mlops_cdk.props``) -> constructs and configuration -> compliance -> the app (stacks, stage,
pipeline: ``mlops_cdk.app``) -> entry points (app.py, scripts). Checked from the code's own
imports (AST), and by importing the constructs in a fresh interpreter: they load neither
cdk-nag, our rule pack nor the configuration."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT, imports_of

PACKAGE = ROOT / "mlops_cdk"
# A part may import only the parts on its floor's list (and itself).
ALLOWED: dict[str, set[str]] = {
    "aws": set(),
    "props": {"aws"},
    "constructs": {"aws", "props", "functions"},
    "config": {"aws", "props"},
    "compliance": {"aws", "props"},
    "app": {"aws", "props", "constructs", "config", "compliance", "functions"},
}


def part_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "mlops_cdk" else None


def violations(part: str) -> list[str]:
    folder = PACKAGE / part
    files = sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{part}.py"]
    found = []
    for path in files:
        for module in sorted(imports_of(path)):
            target = part_of(module)
            if target is not None and target != part and target not in ALLOWED[part]:
                found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_floor_imports_only_the_floors_below(part: str) -> None:
    assert violations(part) == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text("from mlops_cdk.compliance import acknowledge\nimport mlops_cdk.config\n")
    assert {part_of(m) for m in imports_of(source)} >= {"compliance", "config"}


@pytest.mark.slow  # a subprocess that starts jsii
def test_importing_the_constructs_loads_no_compliance_pack() -> None:
    code = textwrap.dedent(
        """
        import sys
        import mlops_cdk.constructs
        upper = ("mlops_cdk.compliance", "mlops_cdk.config")
        loaded = sorted(
            m for m in sys.modules if m.split(".")[0] == "cdk_nag" or m.startswith(upper)
        )
        print(loaded)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
