"""Reading templates and acknowledgements from a cloud assembly directory."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from mlops_tools.review.assembly import (
    ACKNOWLEDGED_RULES_METADATA_KEY,
    Acknowledgement,
    AssemblyError,
    read_assembly,
    read_top_level_stacks,
)


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def ack(data: dict[str, str]) -> dict[str, Any]:
    return {"type": ACKNOWLEDGED_RULES_METADATA_KEY, "data": data, "trace": ["..."]}


def test_the_metadata_key_is_aws_cdks() -> None:
    assert cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY == ACKNOWLEDGED_RULES_METADATA_KEY


def test_reads_environments_stacks_templates_and_acknowledgements(tmp_path: Path) -> None:
    write(
        tmp_path / "manifest.json",
        {
            "artifacts": {
                "assembly-dev": {
                    "type": "cdk:cloud-assembly",
                    "properties": {"directoryName": "assembly-dev", "displayName": "dev"},
                },
                "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
            }
        },
    )
    nested = tmp_path / "assembly-dev"
    template = {"Resources": {"Key": {"Type": "AWS::KMS::Key"}}}
    write(nested / "devFoundation.template.json", template)
    write(
        nested / "devFoundation.metadata.json",
        {
            "/dev/Foundation/Key": [
                {"type": "aws:cdk:logicalId", "data": "Key"},
                ack({"Annotation::AwsSolutions-KMS5": "Rotation is on"}),
            ],
        },
    )
    write(
        nested / "manifest.json",
        {
            "artifacts": {
                "devFoundation": {
                    "type": "aws:cloudformation:stack",
                    "properties": {
                        "templateFile": "devFoundation.template.json",
                        "stackName": "dev-Foundation",
                    },
                    "metadata": {
                        "/dev/Foundation/Bucket": [
                            ack({"AwsSolutions::AwsSolutions-S1": "Logs go to the archive"})
                        ]
                    },
                    "additionalMetadataFile": "devFoundation.metadata.json",
                },
                "devFoundation.assets": {"type": "cdk:asset-manifest", "properties": {}},
            }
        },
    )
    environments = read_assembly(tmp_path)
    assert list(environments) == ["dev"]
    stack = environments["dev"]["dev-Foundation"]
    assert stack.template == template
    assert stack.acknowledgements == {
        Acknowledgement("dev/Foundation/Key", "AwsSolutions-KMS5", "Rotation is on"),
        Acknowledgement(
            "dev/Foundation/Bucket", "AwsSolutions::AwsSolutions-S1", "Logs go to the archive"
        ),
    }


def test_a_missing_assembly_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match=r"cannot read .*manifest\.json"):
        read_assembly(tmp_path)


@pytest.mark.parametrize(
    ("content", "found"), [("[]", "an array"), ('"x"', "a string"), ("null", "null")]
)
def test_a_manifest_that_is_not_a_json_object_is_one_clear_error(
    tmp_path: Path, content: str, found: str
) -> None:
    (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(AssemblyError) as raised:
        read_assembly(tmp_path)
    assert str(raised.value) == (
        f"cannot read {tmp_path / 'manifest.json'}: it is {found}, not a JSON object"
    )


def test_a_template_that_is_not_a_json_object_names_the_file(tmp_path: Path) -> None:
    write(
        tmp_path / "manifest.json",
        {
            "artifacts": {
                "dev-Foundation": {
                    "type": "aws:cloudformation:stack",
                    "properties": {"templateFile": "dev-Foundation.template.json"},
                }
            }
        },
    )
    (tmp_path / "dev-Foundation.template.json").write_text("[1]")
    with pytest.raises(AssemblyError, match=r"dev-Foundation\.template\.json: it is an array"):
        read_top_level_stacks(tmp_path)


@pytest.mark.parametrize("tool", ["mlops_tools.cost", "mlops_tools.inventory"])
def test_the_tools_say_it_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tool: str
) -> None:
    (tmp_path / "manifest.json").write_text("[]")
    main = importlib.import_module(f"{tool}.cli").main
    assert main([str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{tool.rsplit('.', 1)[1]}: cannot read {tmp_path / 'manifest.json'}: it is an array, "
        "not a JSON object"
    ]
