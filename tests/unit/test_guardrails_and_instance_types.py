"""Pure facts: guardrail arithmetic and SageMaker instance types (botocore's service model)."""

from __future__ import annotations

import botocore.session
import pytest

from mlops_cdk.aws.facts import ENDPOINT_NAME_PATTERN, MAX_ENDPOINT_NAME_LENGTH
from mlops_cdk.aws.guardrails import (
    describe_step,
    effective_step,
    first_step_problem,
    fleet_sizes,
    most_steps,
    step_count,
    step_problem,
)
from mlops_cdk.aws.instance_types import (
    HOSTING_INSTANCE_TYPES,
    UnknownInstanceType,
    gpus,
    is_gpu_instance_type,
    vcpus,
)
from mlops_cdk.props.model import (
    IMAGE_URI_PATTERN,
    MAX_IMAGE_URI_LENGTH,
    MAX_MODEL_DATA_URL_LENGTH,
    MODEL_DATA_URL_PATTERN,
)


def test_hosting_types_match_installed_botocore() -> None:
    """The committed list is SageMaker's ProductionVariantInstanceType enum: when botocore is
    upgraded and lists other types, refresh it
    (python -m mlops_cdk.aws.instance_types --refresh)."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    enum = set(model.shape_for("ProductionVariantInstanceType").enum)
    assert set(HOSTING_INSTANCE_TYPES) == enum


def test_endpoint_name_rule_is_botocores() -> None:
    """mlops_cdk.aws.facts.ENDPOINT_NAME_PATTERN is the EndpointName shape's pattern (which AWS
    matches against the whole name) and its length."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.shape_for("EndpointName")
    assert ENDPOINT_NAME_PATTERN.pattern == f"^{shape.metadata['pattern']}$"
    assert shape.metadata["max"] == MAX_ENDPOINT_NAME_LENGTH


@pytest.mark.parametrize(
    ("instance_type", "cpus", "gpu_count"),
    [
        ("ml.t2.medium", 2, 0),
        ("ml.m5.large", 2, 0),
        ("ml.m5.xlarge", 4, 0),
        ("ml.c5.9xlarge", 36, 0),
        ("ml.c4.8xlarge", 36, 0),
        ("ml.r8g.medium", 1, 0),
        ("ml.inf2.xlarge", 4, 0),
        ("ml.g4dn.xlarge", 4, 1),
        ("ml.g4dn.12xlarge", 48, 4),
        ("ml.g5.48xlarge", 192, 8),
        ("ml.p3.16xlarge", 64, 8),
        ("ml.p4d.24xlarge", 96, 8),
    ],
)
def test_vcpus_and_gpus(instance_type: str, cpus: int, gpu_count: int) -> None:
    assert vcpus(instance_type) == cpus
    assert gpus(instance_type) == gpu_count


def test_every_hosting_type_has_a_vcpu_count() -> None:
    assert all(vcpus(t) >= 1 for t in HOSTING_INSTANCE_TYPES)


def test_unknown_types_are_refused_not_guessed() -> None:
    with pytest.raises(UnknownInstanceType, match="not a SageMaker hosting instance type"):
        vcpus("ml.c5.huge")
    assert is_gpu_instance_type("ml.g7e.2xlarge")
    with pytest.raises(UnknownInstanceType, match=r"GPU count of ml\.g7e\.2xlarge"):
        gpus("ml.g7e.2xlarge")


@pytest.mark.parametrize(
    ("step_type", "value", "fleet", "instances"),
    [
        ("capacity_percent", 10, 2, 1),  # rounds up: 10 % of 2 is one whole instance
        ("capacity_percent", 50, 3, 2),
        ("CAPACITY_PERCENT", 25, 8, 2),
        ("instance_count", 1, 8, 1),
    ],
)
def test_effective_step_rounds_up(step_type: str, value: int, fleet: int, instances: int) -> None:
    assert effective_step(step_type, value, fleet) == instances


@pytest.mark.parametrize(
    ("step_type", "value", "fleet", "steps"),
    [
        ("CAPACITY_PERCENT", 10, 20, 10),  # 2 instances a step
        ("CAPACITY_PERCENT", 10, 19, 10),  # 2, 2, ... 1
        ("CAPACITY_PERCENT", 5, 2, 2),  # 5 % of 2 rounds up to 1 instance
        ("CAPACITY_PERCENT", 50, 3, 2),  # 2 then 1
        ("INSTANCE_COUNT", 3, 10, 4),
        ("INSTANCE_COUNT", 1, 1, 1),
    ],
)
def test_step_count_is_one_baking_period_per_step(
    step_type: str, value: int, fleet: int, steps: int
) -> None:
    assert step_count(step_type, value, fleet) == steps


def test_step_bounds() -> None:
    assert describe_step("canary", "capacity_percent", 10, 2) == "canary: 1 of 2 instances = 50 %"
    assert step_problem("canary", "capacity_percent", 10, 2) is None
    assert step_problem("canary", "instance_count", 1, 1) is not None
    assert step_problem("linear", "instance_count", 1, 10) is None  # exactly 10 %
    assert step_problem("linear", "instance_count", 1, 11) is not None
    assert first_step_problem("canary", "instance_count", 2, fleet_sizes([4, 3, 8])) is not None
    assert list(fleet_sizes([2, 4, 3])) == [2, 3, 4]


def test_container_image_and_model_data_url_rules_are_botocores() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    image, url = model.shape_for("ContainerImage"), model.shape_for("Url")
    assert IMAGE_URI_PATTERN.pattern == f"^{image.metadata['pattern']}$"
    assert image.metadata["max"] == MAX_IMAGE_URI_LENGTH
    assert MODEL_DATA_URL_PATTERN.pattern == f"^{url.metadata['pattern']}$"
    assert url.metadata["max"] == MAX_MODEL_DATA_URL_LENGTH


def test_most_steps_is_the_size_that_bakes_most_often() -> None:
    # 30 % of 10 instances is 4 steps, of 11 only 3: the smaller fleet takes the most
    assert most_steps("LINEAR", "CAPACITY_PERCENT", 30, range(2, 12)) == (4, 10)
    # a tie goes to the larger fleet: 50 % of 3 and of 4 instances are both 2 steps
    assert most_steps("LINEAR", "CAPACITY_PERCENT", 50, [3, 4]) == (2, 4)
    # 1 instance cannot take a linear step at all: left to the step check
    assert most_steps("LINEAR", "INSTANCE_COUNT", 1, range(1, 3)) == (2, 2)
    assert most_steps("LINEAR", "INSTANCE_COUNT", 1, [1]) is None
