"""The examples are standalone apps of the installed package: build a wheel, install it into
a fresh virtualenv outside the repository and synthesize each example from a copy outside the
repository, with the compliance gates the examples enable.

The virtualenv gets the wheel with ``--no-deps``; its dependencies (aws-cdk-lib and the rest)
come from the repository's virtualenv through a ``.pth`` file, appended after the virtualenv's
own site-packages, so nothing is downloaded twice and ``mlops_cdk`` resolves to the wheel. What
the package's runtime dependencies do not include (pydantic, PyYAML, boto3) is blocked in that
virtualenv (``sitecustomize``), as it would be missing after ``pip install mlops-cdk``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/app.py"))
TIMEOUT = 900
# Imports of what only the extras install fail in the examples' virtualenv.
BLOCK_EXTRAS = """
import sys

class _NotInstalled:
    BLOCKED = ("pydantic", "pydantic_core", "yaml", "boto3", "botocore")

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ModuleNotFoundError(f"{name} is not a runtime dependency of mlops-cdk")
        return None

sys.meta_path.insert(0, _NotInstalled())
"""


@dataclass(frozen=True)
class InstalledPackage:
    python: Path
    site_packages: Path


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledPackage:
    work = tmp_path_factory.mktemp("library")
    source = work / "source"
    source.mkdir()
    # A clean copy: pip builds in the source tree (build/, *.egg-info), never in the repository.
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    for package in ("mlops_cdk", "mlops_tools"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    dist = work / "dist"
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(source)]
    )
    (wheel,) = dist.glob("mlops_cdk-*.whl")

    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    site_packages = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (site_packages / "zz_repository_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    (site_packages / "sitecustomize.py").write_text(BLOCK_EXTRAS)
    run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)])
    return InstalledPackage(python=python, site_packages=site_packages)


def test_the_wheel_holds_the_package_and_its_function_assets(installed: InstalledPackage) -> None:
    result = run(
        [
            str(installed.python),
            "-c",
            "import json, mlops_cdk, mlops_cdk.functions as f; "
            "print(json.dumps([mlops_cdk.__file__, str(f.asset_dir('retrain')), "
            "str(f.asset_dir('drift'))]))",
        ],
        cwd=installed.site_packages.parent,
    )
    package, retrain, drift = (Path(p) for p in json.loads(result.stdout))
    assert package.is_relative_to(installed.site_packages)
    assert not package.is_relative_to(ROOT)
    assert (retrain / "retrain.py").is_file()
    assert {p.name for p in drift.glob("*.py")} == {"drift.py", "drift_stats.py"}
    assert not (retrain / "events").exists()  # sample events are not shipped
    # The tools ship beside the constructs, with the price file `make cost` reads.
    assert (installed.site_packages / "mlops_tools" / "cost" / "prices.csv").is_file()
    assert (installed.site_packages / "mlops_tools" / "review" / "report.py").is_file()
    assert not (installed.site_packages / "tests").exists()
    assert not (installed.site_packages / "scripts").exists()
    assert not (installed.site_packages / "examples").exists()


def test_the_extras_are_blocked_in_that_virtualenv(installed: InstalledPackage) -> None:
    """Else the examples' test would not show that they need the runtime dependencies only."""
    result = subprocess.run(
        [str(installed.python), "-c", "import pydantic"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    assert "pydantic is not a runtime dependency of mlops-cdk" in result.stderr


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_synthesizes_from_outside_the_repository(
    installed: InstalledPackage, example: str, tmp_path: Path
) -> None:
    app_dir = tmp_path / example
    shutil.copytree(ROOT / "examples" / example, app_dir)
    outdir = tmp_path / "cdk.out"
    context = json.loads((app_dir / "cdk.json").read_text())["context"]
    env = {
        # Node 24 (jsii) from the repository's virtualenv; nothing from the repository's tree.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        # What the CDK CLI passes: the output directory and cdk.json's context.
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
    }
    run([str(installed.python), "app.py"], cwd=app_dir, env=env)

    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = [
        name
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    ]
    assert stacks
    # The gates ran (the report is written when validation plugins are registered) and passed.
    report = json.loads((outdir / "validation-report.json").read_text())
    assert report["pluginReports"]
    for plugin in report["pluginReports"]:
        assert (plugin["conclusion"], plugin["violations"]) == ("success", [])
    for stack in stacks:
        template = json.loads((outdir / f"{stack}.template.json").read_text())
        types = {resource["Type"] for resource in template["Resources"].values()}
        assert {"AWS::SageMaker::Model", "AWS::SageMaker::Endpoint"} <= types
        assert "AWS::IAM::Policy" not in types  # grants are managed policies
