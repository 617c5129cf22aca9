"""Compliance gates: findings fail synthesis (also under the CDK CLI); synth is deterministic."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest

from tests.conftest import SecondSynth
from tests.helpers import ROOT, SERVICES, Synthesized

# Tests that share the session synth of every environment run on one xdist worker.
# A synth of its own under the CLI (a subprocess): make test-fast skips the module.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("environments")]

NONCOMPLIANT_APP = """
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from mlops_cdk.app.builder import create_app


app = create_app()
stack = cdk.Stack(app, "Noncompliant")
s3.Bucket(stack, "PlainBucket")
app.synth()
"""


def test_the_committed_environments_pass_every_gate(synthesized: Synthesized) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    # aws-cdk-lib's built-in validator ran too (tests that synthesize in subprocesses with
    # CDK_VALIDATION=false rely on this synth for it: `make test` must not run without it).
    assert "CloudFormation Validate" in {plugin["pluginName"] for plugin in report["pluginReports"]}
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success", plugin
        assert plugin["violations"] == []


def test_a_finding_fails_cdk_synth_under_the_cli(tmp_path: Path) -> None:
    """The CLI passes failSynthOnValidationErrors=false; our app must still fail."""
    app_file = tmp_path / "noncompliant_app.py"
    app_file.write_text(NONCOMPLIANT_APP)
    # Without aws-cdk-lib's built-in CloudFormation Validate plugin (about 2 s of CPU here):
    # this is about the compliance packs' findings failing the CLI's synth (the rules asserted
    # below are theirs); the session synth above runs that validator on every environment.
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "CDK_VALIDATION": "false"}
    cdk_bin = ROOT / "node_modules" / ".bin" / "cdk"
    if not cdk_bin.exists():
        pytest.fail("the pinned CDK CLI is not installed: run `make install`")
    python = ROOT / ".venv" / "bin" / "python"
    result = subprocess.run(
        [
            str(cdk_bin),
            "synth",
            "--quiet",
            "--app",
            f"{python} {app_file}",
            "-o",
            str(tmp_path / "out"),
        ],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    report_file = tmp_path / "out" / "validation-report.json"
    assert report_file.exists(), output[-3000:]
    report = json.loads(report_file.read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert "AwsSolutions-S1" in rules
    assert "HIPAA.Security-S3BucketVersioningEnabled" in rules
    assert "NIST.800.53.R5-S3DefaultEncryptionKMS" in rules


def test_the_cli_runs_the_app_optimized_as_the_second_synth_does() -> None:
    """cdk.json runs the app under ``python -O`` (jsii's Python-side type checks off; see
    docs/development.md), and the second synth runs that way so that the test below shows
    optimized mode changes nothing in the templates (tests/unit/test_install.py: the Pythons make
    runs keep their optimized bytecode too)."""
    command = json.loads((ROOT / "cdk.json").read_text())["app"].split()
    assert command[1:] == ["-O", "app.py"]


def test_two_synths_are_byte_identical(synthesized: Synthesized, second_synth: SecondSynth) -> None:
    second = second_synth.outdir
    first = sorted(
        p.relative_to(synthesized.outdir) for p in synthesized.outdir.rglob("*.template.json")
    )
    assert first == sorted(p.relative_to(second) for p in second.rglob("*.template.json"))
    stacks = [
        c
        for stage in synthesized.stages.values()
        for c in stage.node.children
        if isinstance(c, cdk.Stack)
    ]
    # Foundation per environment, and a registry and a serving stack per service
    assert len(first) == len(stacks) == 3 + 2 * len(SERVICES)
    for relative in first:
        assert (synthesized.outdir / relative).read_bytes() == (second / relative).read_bytes()
