"""The split between the CDK package and the tools (issue 11): every module of ``mlops_tools``
imports without aws_cdk, jsii or constructs, and the package ships with its price file.

The other direction (``import mlops_cdk.constructs`` pulls in neither boto3, botocore, cfn-lint,
pydantic nor PyYAML) is asserted in ``tests/unit/test_library.py``
(``test_constructs_import_without_pydantic_yaml_or_boto3``).
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import setuptools

import mlops_tools

ROOT = Path(__file__).resolve().parents[2]
CDK_ROOTS = ("aws_cdk", "jsii", "constructs")


def tool_modules() -> list[str]:
    """Every module and package under mlops_tools, but ``__main__`` modules (they run)."""
    found = [
        info.name
        for info in pkgutil.walk_packages(mlops_tools.__path__, prefix="mlops_tools.")
        if not info.name.endswith(".__main__")
    ]
    return ["mlops_tools", *sorted(found)]


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# A meta-path finder that refuses the CDK's packages: an import of any of them raises, even one
# a module would catch or later drop from sys.modules.
REFUSE_CDK = textwrap.dedent(
    f"""
    import importlib, sys

    BLOCKED = {CDK_ROOTS!r}

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked import: {{name}}")
            return None

    sys.meta_path.insert(0, Refuse())
    """
)


def test_every_tool_is_listed() -> None:
    """Without this, the next test could pass by importing nothing."""
    modules = tool_modules()
    for expected in (
        "mlops_tools.smoke",
        "mlops_tools.preflight",
        "mlops_tools.review.report",
        "mlops_tools.review.changes",
        "mlops_tools.cost.cli",
        "mlops_tools.cost.estimate",
    ):
        assert expected in modules


@pytest.mark.slow  # a subprocess
def test_tools_import_without_aws_cdk_jsii_or_constructs() -> None:
    modules = tool_modules()
    result = run(
        REFUSE_CDK
        + textwrap.dedent(
            f"""
            for name in {modules!r}:
                importlib.import_module(name)
            loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
            assert not loaded, loaded
            print(len({modules!r}))
            """
        )
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == str(len(modules))


@pytest.mark.slow  # a subprocess
def test_the_cdk_blocker_blocks() -> None:
    """Without this, the previous test could pass by blocking nothing."""
    result = run(REFUSE_CDK + "import mlops_cdk.constructs\n")
    assert result.returncode != 0
    assert "blocked import: aws_cdk" in result.stderr


def test_the_package_ships_the_tools_and_their_price_file() -> None:
    """setuptools' discovery (pyproject.toml) finds every tools package, and the price file
    ``mlops_tools.cost.prices`` reads with importlib.resources is package data."""
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    find = setup["packages"]["find"]
    shipped = set(
        setuptools.find_namespace_packages(
            where=str(ROOT), include=find["include"], exclude=find.get("exclude", ())
        )
    )
    packages = {
        info.name
        for info in pkgutil.walk_packages(mlops_tools.__path__, prefix="mlops_tools.")
        if info.ispkg
    }
    assert {"mlops_tools", *packages} <= shipped
    assert "prices.csv" in setup["package-data"]["mlops_tools.cost"]
    assert (ROOT / "mlops_tools" / "cost" / "prices.csv").is_file()
