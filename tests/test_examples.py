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

from tests.helpers import MAKE

pytestmark = pytest.mark.slow
# One worker builds the wheel once for the tests that use it (pytest-xdist --dist loadgroup); the
# `make example` tests need no wheel and run on whichever worker is free.
WITH_THE_WHEEL = pytest.mark.xdist_group("examples")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/app.py"))
TIMEOUT = 900
GIT = shutil.which("git") or "git"
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
    # Without build isolation: the build backend is the pinned setuptools of requirements-dev.lock
    # (pyproject.toml's [build-system]), not whatever the index serves while the tests run.
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "-w", str(dist), str(source)])  # fmt: skip
    (wheel,) = dist.glob("mlops_cdk-*.whl")

    venv = work / "venv"
    # Without a pip of its own (ensurepip takes seconds): this checkout's pip installs into it.
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
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
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet",
         str(wheel)])  # fmt: skip
    return InstalledPackage(python=python, site_packages=site_packages)


@WITH_THE_WHEEL
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


@WITH_THE_WHEEL
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


def documented_commands(example: str) -> list[str]:
    """The commands the example's docstring gives (its `pip install`, `cdk synth`, `make example`
    lines), so that the tests below run what a reader types."""
    text = (ROOT / "examples" / example / "app.py").read_text()
    return [
        line.strip().split("#")[0].strip()
        for line in text.split('"""')[1].splitlines()
        if line.startswith("    ") and line.strip().split(" ")[0] in {"pip", "cdk", "make"}
    ]


def assert_synthesized_with_every_gate(outdir: Path) -> list[str]:
    """The stacks of the cloud assembly in ``outdir``; every gate ran and passed."""
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
    return stacks


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_documents_both_ways_to_run_it(example: str) -> None:
    assert documented_commands(example) == [
        "pip install /path/to/mlops-cdk",
        "cdk synth",
        f"make example NAME={example}",
    ]


@WITH_THE_WHEEL
@pytest.mark.parametrize("example", EXAMPLES)
def test_example_synthesizes_from_outside_the_repository(
    installed: InstalledPackage, example: str, tmp_path: Path
) -> None:
    """`cdk synth` (the CDK CLI, which runs cdk.json's `python3 app.py`) in a copy of the
    example, with the virtualenv that has the package active, as its docstring says."""
    app_dir = tmp_path / example
    shutil.copytree(ROOT / "examples" / example, app_dir)
    tools = tmp_path / "bin"  # Node 24 and the pinned CDK CLI, nothing else of the repository
    tools.mkdir()
    (tools / "node").symlink_to(Path(sys.executable).parent / "node")
    (tools / "cdk").symlink_to(ROOT / "node_modules" / ".bin" / "cdk")
    env = {
        # An active virtualenv: its bin/ first on PATH (python3 is the virtualenv's).
        "PATH": os.pathsep.join([str(installed.python.parent), str(tools), "/usr/bin", "/bin"]),
        "VIRTUAL_ENV": str(installed.python.parent.parent),
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    run(["cdk", "synth", "--quiet"], cwd=app_dir, env=env)
    assert_synthesized_with_every_gate(app_dir / "cdk.out")


def copy_of_the_checkout(target: Path) -> Path:
    """What `make example` reads of a checkout (its Makefile, package and examples), committed
    in a git repository of its own, with this checkout's installed .venv and node_modules."""
    for name in ("Makefile", ".gitignore", "pyproject.toml"):
        shutil.copy2(ROOT / name, target / name)
    skip = shutil.ignore_patterns("__pycache__", "cdk.out")
    for folder in ("mlops_cdk", "examples"):
        shutil.copytree(ROOT / folder, target / folder, ignore=skip)
    for folder in (".venv", "node_modules"):
        (target / folder).symlink_to(ROOT / folder)
    git = [GIT, "-c", "user.name=t", "-c", "user.email=t@example.com"]
    run([*git, "init", "--quiet"], cwd=target)
    run([*git, "add", "--all"], cwd=target)
    run([*git, "commit", "--quiet", "-m", "checkout"], cwd=target)
    return target


@pytest.mark.parametrize("example", EXAMPLES)
def test_make_example_runs_from_the_repository_and_leaves_nothing_untracked(
    example: str, tmp_path: Path
) -> None:
    """`make example NAME=...` from a checkout, without installing the package; `-o install`:
    this checkout's .venv and node_modules are installed already (the target's prerequisite)."""
    checkout = copy_of_the_checkout(tmp_path)
    status = [GIT, "status", "--porcelain", "--untracked-files=all"]
    assert run(status, cwd=checkout).stdout == ""
    # Not the outer make's variables either (under `make test` a nested make would print
    # "Entering/Leaving directory" lines and inherit its flags).
    outer = {"PYTHONPATH", "VIRTUAL_ENV", "MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"}
    environ = {k: v for k, v in os.environ.items() if k not in outer}
    # Without aws-cdk-lib's built-in CloudFormation Validate plugin (about 3 s of CPU per synth):
    # the same example's templates pass it in test_example_synthesizes_from_outside_the_repository;
    # here the compliance packs still run and must pass (assert_synthesized_with_every_gate).
    environ["CDK_VALIDATION"] = "false"
    done = run([MAKE, "-o", "install", "example", f"NAME={example}"], cwd=checkout, env=environ)

    stacks = assert_synthesized_with_every_gate(checkout / "examples" / example / "cdk.out")
    assert done.stdout.splitlines()[-1] == (
        f"example {example}: synthesized {','.join(sorted(stacks))} into "
        f"examples/{example}/cdk.out/ (every gate passed)"
    )
    assert run(status, cwd=checkout).stdout == ""  # the output is ignored, nothing else is left


def test_make_example_without_a_known_name_lists_the_examples() -> None:
    done = subprocess.run(
        [MAKE, "-o", "install", "example", "NAME=nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == f"usage: make example NAME=<{'|'.join(EXAMPLES)}>"
