"""scripts/synth_summary.py: the one line `make synth` ends with, from a hand-built assembly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts import synth_summary

ACK = "aws:cdk:acknowledged-rules"


def write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def stack(folder: Path, name: str, resources: int, metadata: dict[str, Any]) -> dict[str, Any]:
    write(folder / f"{name}.template.json", {"Resources": {f"R{i}": {} for i in range(resources)}})
    write(folder / f"{name}.metadata.json", metadata)
    return {
        "type": "aws:cloudformation:stack",
        "properties": {"templateFile": f"{name}.template.json"},
        "additionalMetadataFile": f"{name}.metadata.json",
    }


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    """Two environments (dev: 2 stacks, prod: 1) and a top-level pipeline stack."""
    out = tmp_path / "cdk.out"
    two = {"/dev/a/X": [{"type": ACK, "data": {"AwsSolutions::AwsSolutions-S1": "r", "B::b": "r"}}]}
    builtin = {"/dev/b": [{"type": ACK, "data": {"CloudFormation-Validate::E3001": "cdk"}}]}
    write(
        out / "assembly-dev" / "manifest.json",
        {
            "artifacts": {
                "a": stack(out / "assembly-dev", "a", 3, two),
                "b": stack(out / "assembly-dev", "b", 2, builtin),
            }
        },
    )
    prod = stack(out / "assembly-prod", "p", 4, {})
    prod["metadata"] = {"/prod/p": [{"type": ACK, "data": {"HIPAA::HIPAA-X": "r"}}]}
    write(out / "assembly-prod" / "manifest.json", {"artifacts": {"p": prod}})
    nested = {
        f"assembly-{env}": {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": f"assembly-{env}", "displayName": env},
        }
        for env in ("prod", "dev")
    }
    write(
        out / "manifest.json",
        {
            "artifacts": {
                **nested,
                "Pipeline": stack(out, "Pipeline", 5, {}),
                "Tree": {"type": "cdk:tree"},
            }
        },
    )
    return out


def test_one_line_counts_environments_stacks_resources_and_our_acknowledgements(
    assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert synth_summary.main([str(assembly)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "synth: 2 environments (dev 2 stacks, prod 1, top-level 1), 4 stacks, 14 resources, "
        f"3 findings acknowledged, every gate passed -> {assembly}"
    ]


def test_without_an_assembly_it_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert synth_summary.main([str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"synth summary: no cloud assembly in {tmp_path}/ (manifest.json missing)"]
