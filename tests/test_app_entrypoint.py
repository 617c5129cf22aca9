"""app.py: bad input gives one clear line per problem, a non-zero exit and no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import ROOT


def run_app(env: str | None, config_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ)
    context = {"env": env} if env else {}
    environ["CDK_CONTEXT_JSON"] = json.dumps(context)
    environ["CDK_OUTDIR"] = str(ROOT / "cdk.out.test-entrypoint")
    if config_dir is not None:
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


def test_invalid_config_names_file_and_field_without_traceback(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["network"]["new_vpc"]["cidr"] = "10.0.0.0/33"
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(data))
    result = run_app("dev", config_dir=tmp_path)
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("configuration error: ")
    assert f"{tmp_path.name}/dev.yaml: network.new_vpc.cidr: " in lines[0]
    assert "Traceback" not in result.stderr
    assert not (ROOT / "cdk.out.test-entrypoint" / "manifest.json").exists()
