"""mypy follows only the aws_cdk modules this code imports (pyproject.toml): every other one is
skipped, its names Any. So an import of an aws_cdk module missing from the followed list would
silently go unchecked: these tests fail first."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from typing import Any

from tests.helpers import ROOT, imports_of

CHECKED = ("mlops_cdk", "mlops_tools", "scripts", "examples")


def _overrides() -> list[dict[str, Any]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    overrides: list[dict[str, Any]] = project["tool"]["mypy"]["overrides"]
    return overrides


def _followed() -> set[str]:
    return {
        module
        for override in _overrides()
        if override.get("follow_imports") == "normal"
        for module in override["module"]
    }


def imported_aws_cdk_modules(path: Path) -> set[str]:
    """The aws_cdk modules ``path`` imports (``from aws_cdk import aws_iam`` names the module
    aws_cdk.aws_iam; a class imported from a module names that module)."""
    return {
        name
        for name in imports_of(path)
        if name.split(".")[0] == "aws_cdk" and importlib.util.find_spec(name) is not None
    }


def test_aws_cdk_modules_are_skipped_unless_followed() -> None:
    skipped = [o for o in _overrides() if o.get("follow_imports") == "skip"]
    assert [o["module"] for o in skipped] == [["aws_cdk.*"]]


def test_every_aws_cdk_module_the_code_imports_is_followed() -> None:
    files = [ROOT / "app.py"] + [p for d in CHECKED for p in sorted((ROOT / d).rglob("*.py"))]
    imported = set().union(*(imported_aws_cdk_modules(p) for p in files))
    assert "aws_cdk.aws_sagemaker" in imported  # the scan sees `from aws_cdk import aws_x as x`
    assert imported <= _followed(), sorted(imported - _followed())


def test_each_followed_service_has_its_reference_interfaces_followed() -> None:
    # Their signatures take aws_cdk.interfaces.aws_<service> types (IKeyRef, IRoleRef...).
    spec = importlib.util.find_spec("aws_cdk")
    assert spec is not None
    assert spec.origin is not None
    interfaces = Path(spec.origin).parent / "interfaces"
    assert (interfaces / "aws_iam" / "__init__.py").exists()
    followed = _followed()
    for module in sorted(followed):
        name = module.removeprefix("aws_cdk.")
        if not name.startswith("aws_"):
            continue
        assert (
            f"aws_cdk.interfaces.{name}" in followed
            or not (interfaces / name / "__init__.py").exists()
        ), module


def test_the_scan_reads_each_import_form(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "import aws_cdk as cdk\n"
        "import aws_cdk.aws_ssm\n"
        "from aws_cdk import aws_iam as iam, Duration\n"
        "from aws_cdk.aws_s3 import Bucket\n"
        "from aws_cdk.interfaces import aws_events\n",
        encoding="utf-8",
    )
    assert imported_aws_cdk_modules(source) == {
        "aws_cdk",
        "aws_cdk.aws_ssm",
        "aws_cdk.aws_iam",
        "aws_cdk.aws_s3",
        "aws_cdk.interfaces",
        "aws_cdk.interfaces.aws_events",
    }
