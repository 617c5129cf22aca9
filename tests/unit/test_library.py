"""The package as a library: what importing the constructs costs, where the function assets
are, and that the facts the functions repeat match the package's."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from constructs import Construct

import mlops_cdk.constructs
import mlops_cdk.props
from mlops_cdk.aws import facts
from mlops_cdk.functions import ASSET_EXCLUDE, FUNCTIONS_DIR, asset_dir

ROOT = Path(__file__).resolve().parents[2]

# A meta-path finder that refuses the configuration layer's and the tools' (mlops_tools: boto3,
# cfn-lint) dependencies: an import of any of them (or of their submodules) raises. The other
# direction, the tools without aws_cdk, is tests/unit/test_layout.py's.
BLOCKED_IMPORTS = textwrap.dedent(
    """
    import sys

    BLOCKED = ("pydantic", "pydantic_core", "yaml", "boto3", "botocore", "cfnlint")

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked import: {name}")
            return None

    sys.meta_path.insert(0, Refuse())
    """
)


def run_blocked(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_IMPORTS + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow  # a subprocess that starts jsii
def test_the_blocker_blocks() -> None:
    """Without this, the next test could pass by not blocking anything."""
    result = run_blocked("import mlops_cdk.config")
    assert result.returncode != 0
    assert "blocked import: pydantic" in result.stderr


@pytest.mark.slow  # a subprocess that starts jsii
def test_constructs_import_without_pydantic_yaml_or_boto3() -> None:
    result = run_blocked(
        """
        import mlops_cdk.constructs, mlops_cdk.aws.facts, mlops_cdk.functions
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        assert "mlops_cdk.config" not in sys.modules, "the configuration layer was imported"
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


def test_constructs_export_every_construct_and_spec() -> None:
    exported = set(mlops_cdk.constructs.__all__)
    modules = [
        module
        for name, module in inspect.getmembers(mlops_cdk.constructs, inspect.ismodule)
        if module.__name__.startswith("mlops_cdk.constructs.") and name != "metrics"
    ]
    public = {
        name
        for module in modules
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and value.__module__ == module.__name__
        and not name.startswith("_")
        and (issubclass(value, Construct) or dataclasses.is_dataclass(value))
    }
    # The props of every serving mode, too: a library user builds the constructs from them
    # (field markers and problem types are the props' own machinery, not props).
    props = [
        importlib.import_module(f"mlops_cdk.props.{info.name}")
        for info in pkgutil.iter_modules(mlops_cdk.props.__path__)
        if info.name not in ("fields", "errors")
    ]
    public |= {
        name
        for module in props
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and value.__module__ == module.__name__
        and not name.startswith("_")
        and dataclasses.is_dataclass(value)
    }
    assert public
    assert public <= exported, sorted(public - exported)
    for name in exported:
        assert getattr(mlops_cdk.constructs, name) is not None


@pytest.mark.parametrize("function", ["retrain", "drift"])
def test_function_sources_live_in_the_package(function: str) -> None:
    folder = asset_dir(function)
    assert folder.parent == FUNCTIONS_DIR
    assert FUNCTIONS_DIR.is_relative_to(Path(mlops_cdk.constructs.__file__).parents[1])
    assert (folder / f"{function}.py").is_file()
    assert (folder / "requirements.txt").is_file()
    assert not (folder / "__init__.py").exists()
    # Bundled alone: a function imports nothing from the package.
    for source in folder.glob("*.py"):
        imports = [
            line.split()[1]
            for line in source.read_text().splitlines()
            if line.startswith(("import ", "from "))
        ]
        assert imports
        assert not [name for name in imports if name.split(".")[0] == "mlops_cdk"], source
    assert {"__pycache__", "*.pyc", "events", "requirements.txt"} <= set(ASSET_EXCLUDE)


def test_an_unknown_function_is_refused() -> None:
    with pytest.raises(FileNotFoundError, match="no Lambda function source 'train'"):
        asset_dir("train")


def test_the_functions_publish_what_the_package_expects() -> None:
    import drift  # the function modules are on pytest's pythonpath
    import retrain

    assert retrain.DEFAULT_NAMESPACE == facts.RETRAINING_NAMESPACE
    assert retrain.METRIC_NAME == facts.RETRAIN_DECISION_METRIC
    source = Path(retrain.__file__).read_text()
    for decision in facts.RETRAIN_DECISIONS:
        assert f'"{decision}"' in source, decision
    assert drift.CONTENT_TYPES == facts.DRIFT_CONTENT_TYPES
    assert (
        drift.PSI_METRIC,
        drift.KS_METRIC,
        drift.SHARE_METRIC,
        drift.RECORDS_METRIC,
        drift.MALFORMED_METRIC,
        drift.BASELINE_METRIC,
    ) == (
        facts.DRIFT_PSI_METRIC,
        facts.DRIFT_KS_METRIC,
        facts.DRIFT_SHARE_METRIC,
        facts.DRIFT_RECORDS_METRIC,
        facts.DRIFT_MALFORMED_METRIC,
        facts.DRIFT_BASELINE_METRIC,
    )


@pytest.mark.parametrize(
    ("instance_type", "nvme"),
    [
        ("ml.m5.large", False),
        ("ml.m5d.large", True),
        ("ml.c6gd.xlarge", True),
        ("ml.g4dn.xlarge", True),
        ("ml.p4de.24xlarge", True),
        ("ml.inf2.xlarge", False),
        ("ml.trn1.2xlarge", True),
        ("not-a-type", False),
    ],
)
def test_local_nvme_facts(instance_type: str, nvme: bool) -> None:
    assert facts.has_local_nvme(instance_type) is nvme


def test_baseline_key() -> None:
    assert facts.baseline_key("churn") == "baselines/churn/baseline.json"
