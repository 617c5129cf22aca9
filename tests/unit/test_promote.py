"""make promote: the configuration change is written as text into the one service's block
(comments and every other line kept), validates, pins the package version, adds a canary with
the requested share or points the shadow variant at the new model; bad input is one line; and
--check asks SageMaker (moto) that the version is Approved."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from mlops_cdk.config import load_environments
from mlops_tools import promote
from tests.helpers import COMMITTED_CONFIG_DIR, CONFIG_DIR


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target


@pytest.fixture
def committed_dir(tmp_path: Path) -> Path:
    target = tmp_path / "committed"
    shutil.copytree(COMMITTED_CONFIG_DIR, target)
    return target


def run(config_dir: Path, *args: str) -> int:
    return promote.main(["--config-dir", str(config_dir), *args])


def changed_lines(old: str, new: str) -> list[int]:
    """Line numbers (1-based, of ``old``) that the change touches: removed lines, and the line
    before which lines are added."""
    diff = promote.diff(old, new, "x").splitlines()
    touched: list[int] = []
    line = 0
    for row in diff:
        hunk = re.match(r"^@@ -(\d+)", row)
        if hunk:
            line = int(hunk.group(1))
        elif row.startswith(("---", "+++")):
            continue
        elif row.startswith("-"):
            touched.append(line)
            line += 1
        elif row.startswith("+"):
            touched.append(line)
        else:
            line += 1
    return touched


def service_lines(text: str, service: str) -> range:
    lines = text.splitlines(keepends=True)
    block = promote._service_block(lines, service)
    return range(block.start + 1, block.end + 2)


def test_canary_promotion_validates_and_touches_only_that_service(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_dir / "stage.yaml"
    old = path.read_text()
    assert run(config_dir, "--env", "stage", "--service", "churn", "--version", "4") == 0
    new = path.read_text()
    assert "+      - name: churn-pkg-v4" in capsys.readouterr().out
    [config] = load_environments(config_dir, only="stage")
    churn = config.services["churn"]
    model = next(m for m in churn.models if m.name == "churn-pkg-v4")
    assert model.model_package is not None
    assert model.model_package.version == 4
    weights = {v.name: v.initial_weight for v in churn.variants}
    assert weights["pkg-v4"] / sum(weights.values()) == pytest.approx(0.10, abs=1e-3)
    canary = next(v for v in churn.variants if v.name == "pkg-v4")
    assert canary.model == "churn-pkg-v4"
    assert canary.instance == churn.variants[0].instance  # a copy of the first variant
    assert set(changed_lines(old, new)) <= set(service_lines(old, "churn"))
    comments = [line for line in old.splitlines() if line.strip().startswith("#")]
    assert all(comment in new.splitlines() for comment in comments)
    assert (
        config.services["fraud"] == load_environments(CONFIG_DIR, only="stage")[0].services["fraud"]
    )


def test_traffic_percent_sets_the_canary_share(config_dir: Path) -> None:
    assert (
        run(
            config_dir,
            "--env",
            "prod",
            "--service",
            "churn",
            "--version",
            "9",
            "--traffic-percent",
            "25",
        )
        == 0
    )
    [config] = load_environments(config_dir, only="prod")
    weights = {v.name: v.initial_weight for v in config.services["churn"].variants}
    assert weights["pkg-v9"] / sum(weights.values()) == pytest.approx(0.25, abs=1e-3)


def test_a_service_with_a_shadow_variant_points_the_shadow_at_the_package(
    committed_dir: Path,
) -> None:
    [before] = load_environments(committed_dir, only="stage")
    shadowed = [name for name, spec in before.services.items() if spec.shadow_variants]
    if not shadowed:
        pytest.skip("no committed stage service has a shadow variant")
    service = shadowed[0]
    old_model = before.services[service].shadow_variants[0].model
    old = (committed_dir / "stage.yaml").read_text()
    assert run(committed_dir, "--env", "stage", "--service", service, "--version", "7") == 0
    new = (committed_dir / "stage.yaml").read_text()
    [after] = load_environments(committed_dir, only="stage")
    spec = after.services[service]
    assert spec.shadow_variants[0].model == f"{service}-pkg-v7"
    assert [v.name for v in spec.variants] == [v.name for v in before.services[service].variants]
    assert old_model not in {m.name for m in spec.models}  # served nothing any more
    assert set(changed_lines(old, new)) <= set(service_lines(old, service))


def test_group_and_arn_are_written_as_given(config_dir: Path) -> None:
    arn = "arn:aws:sagemaker:eu-west-1:444444444444:model-package/shared-churn/12"
    assert (
        run(config_dir, "--env", "stage", "--service", "churn", "--version", "12", "--arn", arn)
        == 0
    )
    [config] = load_environments(config_dir, only="stage")
    model = next(m for m in config.services["churn"].models if m.name == "churn-pkg-v12")
    assert model.model_package is not None
    assert model.model_package.arn == arn


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "qa", "--service", "churn", "--version", "4"], "unknown environment 'qa'"),
        (["--env", "stage", "--service", "recs", "--version", "4"], "unknown service 'recs'"),
        (["--env", "stage", "--service", "churn", "--version", "latest"], "not a package version"),
        (["--env", "stage", "--service", "churn", "--version", "0"], "not a package version"),
        (
            ["--env", "stage", "--service", "churn", "--version", "4", "--group", "a_b"],
            "not a model package group name",
        ),
        (
            ["--env", "stage", "--service", "churn", "--version", "4", "--traffic-percent", "80"],
            "at most 50",
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    config_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    before = {p.name: p.read_text() for p in config_dir.glob("*.yaml")}
    assert run(config_dir, *args) == promote.EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]
    assert {p.name: p.read_text() for p in config_dir.glob("*.yaml")} == before


def test_a_version_is_promoted_once(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--env", "stage", "--service", "churn", "--version", "4"]
    assert run(config_dir, *args) == 0
    capsys.readouterr()
    assert run(config_dir, *args) == promote.EXIT_USAGE
    assert "already exists" in capsys.readouterr().err


def test_dry_run_prints_the_diff_and_writes_nothing(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = (config_dir / "stage.yaml").read_text()
    args = ["--env", "stage", "--service", "churn", "--version", "4", "--dry-run"]
    assert run(config_dir, *args) == 0
    assert "+        model: churn-pkg-v4" in capsys.readouterr().out
    assert (config_dir / "stage.yaml").read_text() == old


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> object:
    """moto SageMaker in the stage account, with versions 1 (approved) and 2 (pending) in
    the group stage-churn."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "222222222222")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="eu-west-1")
        sagemaker.create_model_package_group(ModelPackageGroupName="stage-churn")
        for status in ("Approved", "PendingManualApproval"):
            sagemaker.create_model_package(
                ModelPackageGroupName="stage-churn",
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [{"Image": "222222222222.dkr.ecr.eu-west-1.amazonaws.com/r:1"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
            )
        yield sagemaker


def test_check_passes_for_an_approved_version(
    config_dir: Path, registry: object, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--env", "stage", "--service", "churn", "--version", "1", "--check"]
    assert run(config_dir, *args) == 0
    assert "model-package/stage-churn/1 is Approved" in capsys.readouterr().out


def test_check_refuses_a_pending_version(
    config_dir: Path, registry: object, capsys: pytest.CaptureFixture[str]
) -> None:
    old = (config_dir / "stage.yaml").read_text()
    args = ["--env", "stage", "--service", "churn", "--version", "2", "--check"]
    assert run(config_dir, *args) == promote.EXIT_FAILED
    assert "is PendingManualApproval, not Approved" in capsys.readouterr().err
    assert (config_dir / "stage.yaml").read_text() == old
