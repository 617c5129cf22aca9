"""Configuration rules for what AWS enforces at deploy and run time (one clear line each)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.unit.config.test_monitoring_validation import MONITORING, load, problem
from tests.unit.config.test_serving_validation import (
    PUBLISHER,
    SERVING,
    config_with,
    instance_variant,
)


def serving_with(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SERVING)
    data.update(changes)
    return data


# --- publishers and operators ------------------------------------------------------------


def test_serving_needs_publishers(tmp_path: Path) -> None:
    data = config_with(SERVING)
    del data["publishers"]
    assert problem(tmp_path, data).startswith(
        "config/dev.yaml: publishers: name at least one role (e.g. your CI role)"
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "publishers",
            ["arn:aws:iam::123456789012:user/bob"],
            "config/dev.yaml: publishers: 'arn:aws:iam::123456789012:user/bob' is not an IAM "
            "role ARN (arn:aws:iam::<12 digits>:role/<name>)",
        ),
        ("publishers", [PUBLISHER, PUBLISHER], "config/dev.yaml: publishers: lists a role twice"),
        (
            "operators",
            ["arn:aws:iam::999999999999:role/ops"],
            "config/dev.yaml: operators[0]: operators must be roles of this environment's "
            "account 123456789012",
        ),
    ],
)
def test_access_lists(tmp_path: Path, field: str, value: list[str], expected: str) -> None:
    assert problem(tmp_path, config_with(SERVING, **{field: value})) == expected


def test_cross_account_publisher_and_path_are_accepted(tmp_path: Path) -> None:
    arn = "arn:aws:iam::444444444444:role/ci/model-publisher"
    config = load(tmp_path, config_with(SERVING, publishers=[arn]))
    assert config.publishers == [arn]


# --- instance types ----------------------------------------------------------------------


def test_instance_type_must_be_a_hosting_type(tmp_path: Path) -> None:
    variant = instance_variant("a")
    variant["instance"]["instance_type"] = "ml.c5.huge"
    found = problem(tmp_path, config_with(serving_with(variants=[variant])))
    assert found.startswith(
        "config/dev.yaml: services.svc.variants[0].instance.instance_type: 'ml.c5.huge' is not a "
        "SageMaker hosting instance type (did you mean "
    ), found


def test_gpu_type_with_unknown_gpu_count_is_refused_with_alarms(tmp_path: Path) -> None:
    variant = instance_variant("a")
    variant["instance"]["instance_type"] = "ml.g7e.2xlarge"
    data = config_with(serving_with(variants=[variant]), monitoring=MONITORING)
    assert problem(tmp_path, data) == (
        "config/dev.yaml: services.svc.variants[0].instance.instance_type: the GPU count of "
        "ml.g7e.2xlarge is not known to this package (mlops_cdk/aws/instance_types.py): add it "
        "from the EC2 instance specifications"
    )


# --- deployment guardrails ---------------------------------------------------------------


def canary(step_type: str, value: int, **deployment: Any) -> dict[str, Any]:
    return {"strategy": "canary", "canary_size": {"type": step_type, "value": value}, **deployment}


def linear(step_type: str, value: int) -> dict[str, Any]:
    return {"strategy": "linear", "linear_step_size": {"type": step_type, "value": value}}


@pytest.mark.parametrize(
    ("variants", "deployment", "expected"),
    [
        (
            [instance_variant("a", count=1)],
            canary("capacity_percent", 50),
            "variant 'a': canary: 1 of 1 instance = 100 %; SageMaker allows a canary of at "
            "most 50 % of the variant's fleet",
        ),
        (
            [instance_variant("a", count=3)],
            canary("capacity_percent", 50),
            "variant 'a': canary: 2 of 3 instances = 66.7 %; SageMaker allows a canary of at "
            "most 50 % of the variant's fleet",
        ),
        (
            # valid at the initial 4 instances, not once scaled in to 2
            [instance_variant("a", count=4, min_capacity=2, max_capacity=4, target_value=1)],
            canary("instance_count", 2),
            "variant 'a': canary: 2 of 2 instances = 100 %",
        ),
        (
            [instance_variant("a", count=2, min_capacity=2, max_capacity=20, target_value=1)],
            linear("instance_count", 1),
            "variant 'a': linear: 1 of 11 instances = 9.09 %; SageMaker requires a linear step "
            "of 10-50 % of the variant's fleet",
        ),
        (
            [instance_variant("a", count=4)],
            linear("capacity_percent", 60),
            "variant 'a': linear: 3 of 4 instances = 75 %",
        ),
    ],
)
def test_step_sizes_outside_sagemaker_bounds(
    tmp_path: Path, variants: list[dict[str, Any]], deployment: dict[str, Any], expected: str
) -> None:
    field = "canary_size" if deployment["strategy"] == "canary" else "linear_step_size"
    found = problem(tmp_path, config_with(serving_with(variants=variants, deployment=deployment)))
    assert found.startswith(
        f"config/dev.yaml: services.svc.deployment.{field}.value: {expected}"
    ), found


def test_step_sizes_within_bounds(tmp_path: Path) -> None:
    variants = [
        instance_variant("a", 90, count=2, min_capacity=2, max_capacity=8, target_value=1),
        instance_variant("b", 10, count=2),
    ]
    config = load(
        tmp_path,
        config_with(serving_with(variants=variants, deployment=canary("instance_count", 1))),
    )
    assert config.services["svc"].deployment.canary_size.value == 1


def test_rollback_alarms_need_a_baking_period(tmp_path: Path) -> None:
    data = config_with(
        serving_with(deployment={"strategy": "all_at_once", "wait_seconds": 0}),
        monitoring=MONITORING,
    )
    assert problem(tmp_path, data).startswith(
        "config/dev.yaml: services.svc.deployment.wait_seconds: rollback alarms are only evaluated "
        "during the baking period"
    )


def test_no_rollback_alarms_no_baking_needed(tmp_path: Path) -> None:
    monitoring = copy.deepcopy(MONITORING)
    monitoring["operational"] = {"rollback_on": []}
    data = config_with(
        serving_with(deployment={"strategy": "all_at_once", "wait_seconds": 0}),
        monitoring=monitoring,
    )
    assert load(tmp_path, data).services["svc"].deployment.wait_seconds == 0


# --- alarms on published metrics ---------------------------------------------------------


def with_quality(**alarm: Any) -> dict[str, Any]:
    monitoring = copy.deepcopy(MONITORING)
    monitoring["quality_alarms"] = [{**monitoring["quality_alarms"][0], **alarm}]
    return config_with(SERVING, monitoring=monitoring)


@pytest.mark.parametrize(
    ("alarm", "expected"),
    [
        (
            {"namespace": "aws/sagemaker/Endpoints/data-metrics", "published_by": None},
            "services.svc.quality_alarms[0].namespace: 'aws/sagemaker/Endpoints/data-metrics' is "
            "a SageMaker Model Monitor namespace",
        ),
        (
            {"namespace": "Team/Quality", "published_by": None},
            "services.svc.quality_alarms[0].published_by: namespace 'Team/Quality' is not "
            "published by AWS: say who puts this metric",
        ),
        (
            {"namespace": "AWS/SageMaker", "metric_name": "Invocations"},
            "services.svc.quality_alarms[0].published_by: 'AWS/SageMaker' is published by AWS: "
            "remove published_by",
        ),
        (
            {
                "namespace": "AWS/SageMaker",
                "metric_name": "Invocations",
                "published_by": None,
                "dimensions": {"EndpointName": "stage-Serving", "VariantName": "a"},
            },
            "services.svc.quality_alarms[0].dimensions.EndpointName: 'stage-Serving' is not "
            "this service's endpoint ('dev-svc')",
        ),
    ],
)
def test_quality_alarms_watch_published_metrics(
    tmp_path: Path, alarm: dict[str, Any], expected: str
) -> None:
    data = with_quality(**alarm)
    found = problem(tmp_path, data)
    assert found.startswith(f"config/dev.yaml: {expected}"), found


def test_alarm_on_own_endpoint_is_accepted(tmp_path: Path) -> None:
    data = with_quality(
        namespace="AWS/SageMaker",
        metric_name="Invocations",
        published_by=None,
        dimensions={"EndpointName": "dev-svc", "VariantName": "a"},
    )
    quality = load(tmp_path, data).services["svc"].quality_alarms[0]
    assert quality.dimensions["EndpointName"] == "dev-svc"


# --- thresholds and retraining -----------------------------------------------------------


def test_cpu_percent_is_a_share_of_the_instance(tmp_path: Path) -> None:
    monitoring = {**copy.deepcopy(MONITORING), "operational": {"cpu_percent": 360}}
    found = problem(tmp_path, config_with(SERVING, monitoring=monitoring))
    assert found.startswith("config/dev.yaml: monitoring.operational.cpu_percent: Input should be")


@pytest.mark.parametrize(("value", "ok"), [(None, True), (5, True), (0, False)])
def test_reserved_concurrency_is_optional(tmp_path: Path, value: int | None, ok: bool) -> None:
    monitoring = copy.deepcopy(MONITORING)
    monitoring["retraining"] = {**monitoring["retraining"], "reserved_concurrency": value}
    data = config_with(SERVING, monitoring=monitoring)
    if ok:
        assert load(tmp_path, data).services["svc"].retraining.reserved_concurrency == value
    else:
        assert problem(tmp_path, data).startswith(
            "config/dev.yaml: services.svc.retraining.reserved_concurrency: Input should be"
        )
