"""Batch jobs in the app: a service of batch jobs only synthesizes with every gate (no
endpoint, its own dashboard), and adding or removing a batch job changes only that service's
stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.app.builder import build_app
from mlops_cdk.config import EnvConfig
from tests.helpers import cdk_context

pytestmark = pytest.mark.xdist_group("batch-jobs")


def synth(config: EnvConfig, outdir: Path, *, gates: bool) -> dict[str, dict[str, Any]]:
    app, _ = build_app([config], outdir=str(outdir), context=cdk_context(), compliance_gates=gates)
    assembly = app.synth().get_nested_assembly(f"assembly-{config.name}")
    return {
        stack.stack_name: json.loads(Path(stack.template_full_path).read_text())
        for stack in assembly.stacks
    }


def prod_data(env_configs: dict[str, EnvConfig]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(env_configs["prod"].model_dump(mode="json")))
    return data


def types(template: dict[str, Any]) -> list[str]:
    return [r["Type"] for r in template["Resources"].values()]


def test_a_batch_only_service_passes_every_gate(
    env_configs: dict[str, EnvConfig], tmp_path: Path
) -> None:
    data = prod_data(env_configs)
    churn = data["services"]["churn"]
    model = next(m for m in churn["models"] if m["name"] == churn["variants"][0]["model"])
    scoring = {**model, "model_data_key": model["model_data_key"].replace("/churn/", "/scoring/")}
    data["services"]["scoring"] = {
        "models": [scoring],
        "batch_jobs": [
            {
                "name": "weekly",
                "model": model["name"],
                "instance_type": "ml.m5.xlarge",
                "instance_count": 2,  # distributed: the model's group opens to itself
                "schedule": "rate(7 days)",
                "data_processing": {"input_filter": "$[1:]", "join_source": "Input"},
            }
        ],
    }
    templates = synth(EnvConfig.model_validate(data), tmp_path, gates=True)
    built = types(templates["prod-scoring"])
    assert "AWS::SageMaker::Endpoint" not in built
    assert "AWS::SageMaker::EndpointConfig" not in built
    assert built.count("AWS::StepFunctions::StateMachine") == 1
    assert "AWS::Scheduler::Schedule" in built
    assert "AWS::CloudWatch::Dashboard" in built
    assert "AWS::SNS::Topic" in built
    resources = templates["prod-scoring"]["Resources"].values()
    (ingress,) = [r for r in resources if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    assert ingress["Properties"]["SourceSecurityGroupId"] == ingress["Properties"]["GroupId"]


def test_adding_a_batch_job_changes_only_its_services_stack(
    env_configs: dict[str, EnvConfig], tmp_path: Path
) -> None:
    data = prod_data(env_configs)
    before = synth(EnvConfig.model_validate(data), tmp_path / "before", gates=False)
    fraud = data["services"]["fraud"]
    fraud["batch_jobs"] = [
        {
            "name": "backfill",
            "model": fraud["variants"][0]["model"],
            "instance_type": "ml.m5.xlarge",
        }
    ]
    after = synth(EnvConfig.model_validate(data), tmp_path / "after", gates=False)
    changed = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
    assert changed == {"prod-fraud"}
