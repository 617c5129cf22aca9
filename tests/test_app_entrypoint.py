"""app.py: bad input gives one clear line per problem, a non-zero exit and no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CONFIG_DIR, ROOT, cdk_context, yaml_data, yaml_text

pytestmark = pytest.mark.slow  # app.py and the CDK CLI in subprocesses


@pytest.fixture(autouse=True, scope="module")
def cdk_outdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the CLI has the app write (``CDK_OUTDIR``): a folder of the test run, so that
    nothing is left in the checkout."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDK_OUTDIR", str(outdir))
        yield outdir


def run_app(
    env: str | None,
    config_dir: Path = CONFIG_DIR,
    *,
    context: dict[str, Any] | None = None,
    through_cli: bool = True,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """app.py as the CLI runs it (CDK_OUTDIR: see cdk_outdir; CDK_CONTEXT_JSON), on the
    fixture configs."""
    environ = {**os.environ, **(extra_env or {})}
    context = {**(context if context is not None else cdk_context())}
    if env:
        context["env"] = env
    environ["CDK_CONTEXT_JSON"] = json.dumps(context)
    if not through_cli:
        del environ["CDK_OUTDIR"], environ["CDK_CONTEXT_JSON"]
    environ["MLOPS_CONFIG_DIR"] = str(config_dir)
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without jsii's Node banner (the Makefile runs Node 24, which prints none)."""
    return [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("b'!!") and "!!" not in line
    ]


def test_unknown_environment_is_one_line_without_traceback() -> None:
    result = run_app("qa")
    assert result.returncode == 2
    assert error_lines(result) == [
        "configuration error: unknown environment 'qa'; known environments: dev, stage, prod"
    ]
    assert "Traceback" not in result.stderr


def test_invalid_config_names_file_and_field_without_traceback(
    tmp_path: Path, cdk_outdir: Path
) -> None:
    data = yaml_data((CONFIG_DIR / "dev.yaml").read_text())
    data["network"]["new_vpc"]["cidr"] = "10.0.0.0/33"
    (tmp_path / "dev.yaml").write_text(yaml_text(data))
    result = run_app("dev", config_dir=tmp_path)
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("configuration error: ")
    assert f"{tmp_path.name}/dev.yaml: network.new_vpc.cidr: " in lines[0]
    assert "Traceback" not in result.stderr
    assert not (cdk_outdir / "manifest.json").exists()


def test_a_file_error_is_reported_before_the_cdk_starts(tmp_path: Path) -> None:
    """The files are read first: with no Node to start (JSII_NODE names none), a file error is
    still its one line; a valid file then needs the CDK (and fails without Node)."""
    data = yaml_data((CONFIG_DIR / "dev.yaml").read_text())
    data["log_retention_days"] = 13
    (tmp_path / "dev.yaml").write_text(yaml_text(data))
    no_node = {"JSII_NODE": str(tmp_path / "no-node")}
    result = run_app("dev", config_dir=tmp_path, extra_env=no_node)
    assert result.returncode == 2
    assert [line.split(": ")[2] for line in error_lines(result)] == ["log_retention_days"]
    assert "Traceback" not in result.stderr
    (tmp_path / "dev.yaml").write_text((CONFIG_DIR / "dev.yaml").read_text())
    assert run_app("dev", config_dir=tmp_path, extra_env=no_node).returncode not in (0, 2)


def test_run_directly_says_to_use_the_cli() -> None:
    result = run_app("dev", through_cli=False)
    assert result.returncode == 2
    assert error_lines(result) == [
        "run the app through the CDK CLI: `make synth` or `npx cdk synth` (python app.py alone "
        "would synthesize without cdk.json's feature flags)"
    ]


def test_missing_availability_zones_are_a_configuration_error_naming_the_key(
    tmp_path: Path,
) -> None:
    (tmp_path / "dev.yaml").write_text((CONFIG_DIR / "dev.yaml").read_text())
    context = {k: v for k, v in cdk_context().items() if not k.startswith("availability-zones")}
    result = run_app("dev", tmp_path, context=context)
    assert result.returncode == 2
    (line,) = error_lines(result)
    assert line.startswith("configuration error: ")
    assert (
        f"{tmp_path.name}/dev.yaml: network.new_vpc: cdk.context.json has no availability zones "
        'for account 111111111111 in eu-west-1: add "availability-zones:account=111111111111:'
        'region=eu-west-1": ["eu-west-1a", "eu-west-1b"]'
    ) in line
    assert "Traceback" not in result.stderr


def test_environment_and_pipeline_problems_are_reported_in_one_run(tmp_path: Path) -> None:
    data = yaml_data((CONFIG_DIR / "dev.yaml").read_text())
    data["log_retention_days"] = 13
    (tmp_path / "dev.yaml").write_text(yaml_text(data))
    pipeline = yaml_data((CONFIG_DIR / "pipeline.yaml").read_text())
    pipeline["brnach"] = "main"
    (tmp_path / "pipeline.yaml").write_text(yaml_text(pipeline))
    (tmp_path / "qa.yml").write_text("account: '111111111111'\n")
    result = run_app(None, tmp_path)
    assert result.returncode == 2
    lines = error_lines(result)
    assert [line.split(": ")[2] for line in lines] == ["not read", "log_retention_days", "brnach"]
    assert "did you mean 'branch'?" in lines[2]
    assert "Traceback" not in result.stderr
