"""make promote: the configuration change is written as text into the one service's block
(comments and every other line kept), validates, pins the package version, adds a canary with
the requested share or points the shadow variant at the new model; bad input is one line; and
--check asks SageMaker (moto) that the version is Approved."""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
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


ARN_12 = "arn:aws:sagemaker:eu-west-1:444444444444:model-package/shared-churn/12"
WITH_ARN = ["--env", "stage", "--service", "churn", "--arn", ARN_12]


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
        (
            ["--env", "pipeline", "--service", "churn", "--version", "4"],
            "promote: unknown environment 'pipeline' (known: dev, stage, prod)",
        ),
        (
            [*WITH_ARN, "--version", "4"],
            "promote: --version 4 is not the version of --arn (12)",
        ),
        (
            [*WITH_ARN, "--version", "12", "--group", "shared-churn"],
            "promote: --group with --arn: the arn names the group",
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


def test_a_share_that_rounds_to_weight_zero_names_the_smallest_that_works(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--env", "stage", "--service", "churn", "--version", "4", "--traffic-percent"]
    before = (config_dir / "stage.yaml").read_text()
    assert run(config_dir, *args, "0.001") == promote.EXIT_USAGE
    [line] = capsys.readouterr().err.splitlines()
    assert "--traffic-percent 0.001 rounds the canary's weight to 0" in line
    assert (config_dir / "stage.yaml").read_text() == before
    smallest = re.search(r"give at least (\S+)$", line)
    assert smallest is not None
    assert run(config_dir, *args, smallest[1]) == 0
    [config] = load_environments(config_dir, only="stage")
    weights = {v.name: v.initial_weight for v in config.services["churn"].variants}
    assert weights["pkg-v4"] > 0


def shadowed_service(config_dir: Path, env: str) -> str:
    [config] = load_environments(config_dir, only=env)
    shadowed = [name for name, spec in config.services.items() if spec.shadow_variants]
    if not shadowed:
        pytest.skip(f"no committed {env} service has a shadow variant")
    return shadowed[0]


def test_a_traffic_share_is_refused_for_a_shadow_promotion(
    committed_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shadow variant is what gets promoted: a share given for it would be ignored."""
    service = shadowed_service(committed_dir, "stage")
    before = (committed_dir / "stage.yaml").read_text()
    args = ["--env", "stage", "--service", service, "--version", "7", "--traffic-percent", "10"]
    assert run(committed_dir, *args) == promote.EXIT_USAGE
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("promote: --traffic-percent (PERCENT=): ")
    assert "has a shadow variant" in line
    assert (committed_dir / "stage.yaml").read_text() == before


def indentless(text: str, service: str, key: str) -> str:
    """``text`` with the ``key`` list of ``service`` written at the key's own indentation
    (``key:`` then ``- item`` below it, YAML's indentless sequence)."""
    lines = text.splitlines(keepends=True)
    start = lines.index(f"  {service}:\n")
    index = lines.index(f"    {key}:\n", start) + 1
    while index < len(lines) and (lines[index].startswith("      ") or not lines[index].strip()):
        lines[index] = lines[index][2:] if lines[index].strip() else lines[index]
        index += 1
    return "".join(lines)


def test_lists_at_the_key_indentation_are_extended_in_their_style(config_dir: Path) -> None:
    path = config_dir / "stage.yaml"
    path.write_text(
        indentless(indentless(path.read_text(), "churn", "models"), "churn", "variants")
    )
    assert run(config_dir, "--env", "stage", "--service", "churn", "--version", "4") == 0
    assert "    - name: churn-pkg-v4\n" in path.read_text()
    assert "    - name: pkg-v4\n" in path.read_text()
    [config] = load_environments(config_dir, only="stage")
    churn = config.services["churn"]
    assert next(v for v in churn.variants if v.name == "pkg-v4").model == "churn-pkg-v4"
    assert "churn-pkg-v4" in {m.name for m in churn.models}


def test_a_shadow_list_at_the_key_indentation_is_edited(committed_dir: Path) -> None:
    service = shadowed_service(committed_dir, "stage")
    path = committed_dir / "stage.yaml"
    path.write_text(
        indentless(indentless(path.read_text(), service, "models"), service, "shadow_variants")
    )
    assert run(committed_dir, "--env", "stage", "--service", service, "--version", "7") == 0
    [config] = load_environments(committed_dir, only="stage")
    assert config.services[service].shadow_variants[0].model == f"{service}-pkg-v7"


@pytest.mark.parametrize("key", ["models", "variants"])
def test_a_flow_list_is_one_line_naming_the_file_and_field(
    config_dir: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    """``key: [{...}, {...}]``, valid YAML the text edit cannot extend."""
    path = config_dir / "stage.yaml"
    items = yaml.safe_load(path.read_text())["services"]["churn"][key]
    flow = yaml.safe_dump(items, default_flow_style=True, width=10**6).strip()
    lines = path.read_text().splitlines(keepends=True)
    start = lines.index(f"    {key}:\n", lines.index("  churn:\n"))
    end = start + 1
    while lines[end].startswith("     ") or not lines[end].strip():
        end += 1
    lines[start:end] = [f"    {key}: {flow}\n"]
    path.write_text("".join(lines))
    before = path.read_text()
    assert run(config_dir, "--env", "stage", "--service", "churn", "--version", "4") == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"promote: {path}: services.churn.{key}: this layout of the list")
    assert "block list" in line
    assert path.read_text() == before


def async_service(config_dir: Path) -> tuple[str, str]:
    for config in load_environments(config_dir):
        for name, spec in config.services.items():
            if spec.async_inference is not None:
                return config.name, name
    pytest.skip("no committed service has an asynchronous endpoint")


def test_an_asynchronous_service_is_refused_up_front(
    committed_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env, service = async_service(committed_dir)
    assert run(committed_dir, "--env", env, "--service", service, "--version", "3") == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"promote: service {service!r} is an asynchronous endpoint")
    assert "by hand" in line


def test_a_change_that_does_not_validate_names_the_file_it_would_write(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not the scratch copy it was validated in, which is gone by then."""
    path = config_dir / "stage.yaml"
    path.write_text(path.read_text().replace("- name: challenger", "- name: pkg-v4"))
    assert run(config_dir, "--env", "stage", "--service", "churn", "--version", "4") == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines
    for line in lines:
        assert line.startswith(f"promote: the change would not validate: {path}: services.churn")


def test_a_mistake_already_in_the_file_is_not_blamed_on_the_change(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_dir / "stage.yaml"
    text = path.read_text()
    fraud = text.index("  fraud:\n")
    path.write_text(
        text[:fraud]
        + text[fraud:].replace("initial_instance_count: ", "initial_instance_count: -", 1)
    )
    assert run(config_dir, "--env", "stage", "--service", "churn", "--version", "4") == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(
        f"promote: the configuration does not load as it is: {path}: services.fraud."
    )


@pytest.fixture
def full_disk(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file opened for writing in ``config_dir`` takes half of what is written to it,
    then the disk is full (ENOSPC), as a real one fills up; elsewhere (the scratch copy the
    change is validated in) writing works."""
    real_open = io.open

    class Full:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def write(self, text: str) -> int:
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def __getattr__(self, name: str) -> Any:
            return getattr(self.handle, name)

    def opened(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        written = os.fstat(handle.fileno())
        inside = any(os.path.samestat(written, p.stat()) for p in config_dir.iterdir())
        return Full(handle) if inside and "w" in mode else handle

    monkeypatch.setattr(io, "open", opened)


def test_a_failed_write_leaves_the_file_as_it_was(
    config_dir: Path, full_disk: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_dir / "stage.yaml"
    before = path.read_text()
    files = sorted(config_dir.iterdir())
    assert run(config_dir, "--env", "stage", "--service", "churn", "--version", "4") == 1
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line == f"promote: cannot write {path}: No space left on device: it is left as it was"
    assert captured.out == ""  # no diff of a change that did not happen
    assert path.read_text() == before
    assert sorted(config_dir.iterdir()) == files  # the temporary file is gone


def test_check_with_a_malformed_aws_setting_is_one_line(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "not-a-url")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    before = (config_dir / "stage.yaml").read_text()
    args = ["--env", "stage", "--service", "churn", "--version", "1", "--check"]
    assert run(config_dir, *args) == promote.EXIT_FAILED
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith("failed: Invalid endpoint: not-a-url")
    assert (config_dir / "stage.yaml").read_text() == before
