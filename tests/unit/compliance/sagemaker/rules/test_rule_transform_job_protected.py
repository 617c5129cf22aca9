"""TransformJobProtected: a transform-job task needs output and volume keys (no volume key on
local-NVMe types) and a model of the stage with a VPC and network isolation."""

from __future__ import annotations

import pytest

from tests.unit.compliance.sagemaker.pack_helpers import rules_for, stack
from tests.unit.compliance.sagemaker.rules.batch_helpers import isolated_model, transform_machine

RULE = "TransformJobProtected"


def fires(**changes: object) -> bool:
    s = stack()
    vpc = bool(changes.pop("vpc", True))
    isolation = bool(changes.pop("isolation", True))
    model = isolated_model(s, vpc=vpc, isolation=isolation)
    transform_machine(s, model_name=model.attr_model_name, **changes)  # type: ignore[arg-type]
    return RULE in rules_for(s, "S/Machine")


def test_encrypted_job_of_an_isolated_model_in_a_vpc_is_compliant() -> None:
    assert not fires()


@pytest.mark.parametrize(
    "changes",
    [
        {"output_key": False},
        {"volume_key": False},
        {"vpc": False},
        {"isolation": False},
        {"output_key": False, "instance_type": "ml.m5d.xlarge", "volume_key": False},
    ],
)
def test_missing_key_vpc_or_isolation_fails(changes: dict[str, object]) -> None:
    assert fires(**changes)


def test_local_nvme_instance_types_need_no_volume_key() -> None:
    assert not fires(instance_type="ml.m5d.xlarge", volume_key=False)


def test_request_response_integration_is_checked_too() -> None:
    assert fires(integration="createTransformJob", output_key=False)


def test_a_literal_model_name_must_be_a_model_of_the_stage() -> None:
    s = stack()
    transform_machine(s, model_name="someone-elses-model")
    assert RULE in rules_for(s, "S/Machine")


def test_state_machines_without_transform_jobs_are_not_checked() -> None:
    s = stack()
    transform_machine(s, model_name="x", integration="createTrainingJob.sync", output_key=False)
    assert RULE not in rules_for(s, "S/Machine")
