"""Serving configuration: every bad-input rule gives one line naming the file and field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import ConfigError, load_environment
from mlops_cdk.config.endpoint import has_local_nvme
from tests.helpers import yaml_text
from tests.unit.config.test_config_validation import VALID

SERVICE = "svc"
MODEL = {"name": "m1", "image_tag": "1.0.0", "model_data_key": "models/svc/m1/model.tar.gz"}


def instance_variant(
    name: str, weight: float = 1, count: int = 2, **scaling: Any
) -> dict[str, Any]:
    instance: dict[str, Any] = {"instance_type": "ml.m5.large", "initial_instance_count": count}
    if scaling:
        instance["autoscaling"] = scaling
    return {"name": name, "model": "m1", "initial_weight": weight, "instance": instance}


SCALING = {"min_capacity": 2, "max_capacity": 4, "target_value": 100}
SERVING: dict[str, Any] = {
    "models": [MODEL],
    "variants": [instance_variant("a", 90, **SCALING), instance_variant("b", 10, **SCALING)],
}


PUBLISHER = "arn:aws:iam::123456789012:role/ci-publisher"


SERVICE_MONITORING = ("quality_alarms", "retraining")


def config_with(serving: dict[str, Any], **top: Any) -> dict[str, Any]:
    """An environment with one service ``svc`` built from ``serving``; the service's part of a
    ``monitoring`` mapping (quality alarms, retraining) moves into the service."""
    service = copy.deepcopy(serving)
    top = copy.deepcopy(top)
    monitoring = top.get("monitoring")
    if isinstance(monitoring, dict):
        for key in SERVICE_MONITORING:
            if key in monitoring:
                service[key] = monitoring.pop(key)
    return {
        **copy.deepcopy(VALID),
        "publishers": [PUBLISHER],
        **top,
        "services": {SERVICE: service},
    }


def problems(tmp_path: Path, data: dict[str, Any], name: str = "dev") -> list[str]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml_text(data))
    with pytest.raises(ConfigError) as excinfo:
        load_environment(path, display=f"config/{name}.yaml")
    return excinfo.value.problems


def assert_one(found: list[str], expected_prefix: str) -> None:
    assert len(found) == 1, found
    assert found[0].startswith(expected_prefix), found[0]


def serving(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SERVING)
    data.update(changes)
    return data


def test_valid_serving_config(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(config_with(SERVING)))
    config = load_environment(path)
    assert config.services["svc"] is not None
    assert [v.name for v in config.services["svc"].variants] == ["a", "b"]
    assert config.services["svc"].deployment.strategy == "all_at_once"


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        (
            [instance_variant("a", -1)],
            "config/dev.yaml: services.svc.variants[0].initial_weight: Input should be greater"
            " than "
            "or equal to 0",
        ),
        (
            [instance_variant("a", 0), instance_variant("b", 0)],
            "config/dev.yaml: services.svc.variants: all initial weights are 0",
        ),
        (
            [instance_variant("a"), instance_variant("a")],
            "config/dev.yaml: services.svc.variants[1].name: duplicate variant name 'a'",
        ),
        (
            [{**instance_variant("a"), "model": "nope"}],
            "config/dev.yaml: services.svc.variants[0].model: unknown model 'nope' (models: m1)",
        ),
        (
            [instance_variant(f"v{i}") for i in range(11)],
            "config/dev.yaml: services.svc.variants: 11 variants; SageMaker allows at most 10",
        ),
        (
            [
                {
                    **instance_variant("a"),
                    "instance": {"instance_type": "m5.large", "initial_instance_count": 1},
                }
            ],
            "config/dev.yaml: services.svc.variants[0].instance.instance_type: 'm5.large' is not a "
            "SageMaker instance type",
        ),
        (
            [instance_variant("a", 1, 2, min_capacity=3, max_capacity=2, target_value=1)],
            "config/dev.yaml: services.svc.variants[0].instance.autoscaling.min_capacity: "
            "min_capacity is greater than max_capacity",
        ),
        (
            [instance_variant("a", 1, 5, min_capacity=1, max_capacity=4, target_value=1)],
            "config/dev.yaml: services.svc.variants[0].instance.initial_instance_count: 5 is"
            " outside "
            "autoscaling [1, 4]",
        ),
        (
            [{"name": "a", "model": "m1", "initial_weight": 1}],
            "config/dev.yaml: services.svc.variants[0].instance: set exactly one of instance or "
            "serverless",
        ),
        (
            [],
            "config/dev.yaml: services.svc.variants: a service needs variants (an endpoint), "
            "inference_components or batch_jobs",
        ),
    ],
)
def test_variant_rules(tmp_path: Path, variants: list[dict[str, Any]], expected: str) -> None:
    assert_one(problems(tmp_path, config_with(serving(variants=variants))), expected)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            {**MODEL, "image_tag": "latest"},
            "services.svc.models[0].image_tag: 'latest' does not pin",
        ),
        (
            {**MODEL, "image_digest": "sha256:" + "a" * 64},
            "services.svc.models[0].image_tag: set exactly one of image_tag or image_digest",
        ),
        (
            {**MODEL, "image_digest": "sha1:abc", "image_tag": None},
            "services.svc.models[0].image_digest",
        ),
        (
            {**MODEL, "model_data_key": "models/svc/m1/model.zip"},
            "services.svc.models[0].model_data_key",
        ),
        (
            {**MODEL, "model_data_key": "elsewhere/model.tar.gz"},
            "services.svc.models[0].model_data_key: must be under 'models/svc/'",
        ),
        ({**MODEL, "environment": {"1BAD": "x"}}, "services.svc.models[0].environment: '1BAD'"),
        (
            {**MODEL, "name": "bad_name!"},
            "services.svc.models[0].name: String should match pattern",
        ),
    ],
)
def test_model_rules(tmp_path: Path, model: dict[str, Any], expected: str) -> None:
    assert_one(
        problems(tmp_path, config_with(serving(models=[model]))), f"config/dev.yaml: {expected}"
    )


def test_duplicate_model_names(tmp_path: Path) -> None:
    assert_one(
        problems(tmp_path, config_with(serving(models=[MODEL, MODEL]))),
        "config/dev.yaml: services.svc.models[1].name: duplicate model name 'm1'",
    )


PROD = {
    "production": True,
    "removal_policy": "retain",
    "termination_protection": True,
    "monitoring": {"alarm_emails": ["ops@example.com"]},
}


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        (
            instance_variant("a", 1, 1, min_capacity=1, max_capacity=3, target_value=1),
            # Both problems, in one run.
            "services.svc.variants[0].instance.initial_instance_count: production variants need at "
            "least 2 instances (spread across AZs)\nconfig/prod.yaml: "
            "services.svc.variants[0].instance.autoscaling.min_capacity: production variants need"
            " at least 2 instances",
        ),
        (
            instance_variant("a", 1, 2, min_capacity=1, max_capacity=3, target_value=1),
            "services.svc.variants[0].instance.autoscaling.min_capacity: production variants need"
            " at "
            "least 2 instances",
        ),
        (
            instance_variant("a", 1, 2),
            "services.svc.variants[0].instance.autoscaling: production variants must autoscale",
        ),
        (
            {
                "name": "a",
                "model": "m1",
                "initial_weight": 1,
                "serverless": {"memory_size_mb": 2048, "max_concurrency": 10},
            },
            "services.svc.variants[0].serverless: production endpoints run on instances in the VPC",
        ),
    ],
)
def test_production_fleet_rules(tmp_path: Path, variant: dict[str, Any], expected: str) -> None:
    found = problems(
        tmp_path,
        config_with(
            serving(
                variants=[variant],
                models=[{**MODEL, "network_isolation": "serverless" not in variant}],
                data_capture={"enabled": "serverless" not in variant},
            ),
            **PROD,
        ),
        name="prod",
    )
    assert len(found) == expected.count("\n") + 1, found
    assert "\n".join(found).startswith(f"config/prod.yaml: {expected}"), found


def test_production_scheduled_scale_down_keeps_two_instances(tmp_path: Path) -> None:
    scheduled = [
        {"name": "Night", "schedule": "cron(0 20 * * ? *)", "min_capacity": 1, "max_capacity": 2}
    ]
    variant = instance_variant("a", 1, 2, **SCALING, scheduled=scheduled)
    assert_one(
        problems(tmp_path, config_with(serving(variants=[variant]), **PROD), name="prod"),
        "config/prod.yaml:"
        " services.svc.variants[0].instance.autoscaling.scheduled[0].min_capacity: "
        "production variants need at least 2",
    )


SERVERLESS = {
    "name": "s",
    "model": "m1",
    "initial_weight": 1,
    "serverless": {"memory_size_mb": 2048, "max_concurrency": 10},
}
OPEN_MODEL = {**MODEL, "network_isolation": False}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {
                "variants": [SERVERLESS, instance_variant("a")],
                "models": [OPEN_MODEL],
                "data_capture": {"enabled": False},
            },
            "services.svc.variants[0].serverless: SageMaker does not support multiple production "
            "variants on a serverless endpoint",
        ),
        (
            {"variants": [SERVERLESS], "models": [OPEN_MODEL]},
            "services.svc.data_capture.enabled: SageMaker does not support data capture on"
            " serverless",
        ),
        (
            {"variants": [SERVERLESS], "data_capture": {"enabled": False}},
            "services.svc.models[0].network_isolation: serverless endpoints support neither VPC "
            "config nor network isolation",
        ),
        (
            {
                "variants": [SERVERLESS],
                "models": [OPEN_MODEL],
                "data_capture": {"enabled": False},
                "deployment": {
                    "strategy": "canary",
                    "canary_size": {"type": "instance_count", "value": 1},
                },
            },
            "services.svc.deployment.canary_size.type: a serverless endpoint has no instances",
        ),
        (
            {
                "variants": [
                    {
                        **SERVERLESS,
                        "serverless": {
                            **SERVERLESS["serverless"],  # type: ignore[dict-item]
                            "provisioned_concurrency": 20,
                        },
                    }
                ],
                "models": [OPEN_MODEL],
                "data_capture": {"enabled": False},
            },
            "services.svc.variants[0].serverless.provisioned_concurrency: must not exceed "
            "max_concurrency",
        ),
        (
            {
                "variants": [
                    {
                        **SERVERLESS,
                        "serverless": {
                            "memory_size_mb": 2048,
                            "max_concurrency": 10,
                            "autoscaling": {"min_capacity": 1, "max_capacity": 5},
                        },
                    }
                ],
                "models": [OPEN_MODEL],
                "data_capture": {"enabled": False},
            },
            "services.svc.variants[0].serverless.autoscaling: scales provisioned concurrency: set "
            "provisioned_concurrency",
        ),
        (
            {
                "variants": [
                    {**SERVERLESS, "serverless": {"memory_size_mb": 1500, "max_concurrency": 10}}
                ],
                "models": [OPEN_MODEL],
                "data_capture": {"enabled": False},
            },
            "services.svc.variants[0].serverless.memory_size_mb: Input should be 1024",
        ),
    ],
)
def test_serverless_rules(tmp_path: Path, changes: dict[str, Any], expected: str) -> None:
    assert_one(problems(tmp_path, config_with(serving(**changes))), f"config/dev.yaml: {expected}")


@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        (
            {"strategy": "canary", "canary_size": {"type": "instance_count", "value": 3}},
            "services.svc.deployment.canary_size.value: variant 'a': canary: 3 of 2 instances = "
            "150 %; SageMaker allows a canary of at most 50 % of the variant's fleet",
        ),
        (
            {"strategy": "linear", "linear_step_size": {"type": "instance_count", "value": 5}},
            "services.svc.deployment.linear_step_size.value: variant 'a': linear: 5 of 2"
            " instances = "
            "250 %; SageMaker requires a linear step of 10-50 %",
        ),
        ({"strategy": "canary"}, "services.svc.deployment.canary_size: required for the canary"),
        (
            {"strategy": "linear"},
            "services.svc.deployment.linear_step_size: required for the linear",
        ),
        (
            {"strategy": "canary", "canary_size": {"type": "capacity_percent", "value": 100}},
            "services.svc.deployment.canary_size.value: a percentage below 100",
        ),
        (
            {"strategy": "all_at_once", "canary_size": {"type": "capacity_percent", "value": 5}},
            "services.svc.deployment.canary_size: only used by the canary strategy, not"
            " all_at_once",
        ),
        ({"strategy": "blue"}, "services.svc.deployment.strategy: Input should be 'all_at_once'"),
        ({"wait_seconds": -1}, "services.svc.deployment.wait_seconds: must be 0-3600 seconds"),
        (
            {"strategy": "linear", "linear_step_size": {"type": "instance_count", "value": 0}},
            "services.svc.deployment.linear_step_size.value: must be at least 1",
        ),
        (
            {"maximum_execution_timeout_seconds": 60},
            "services.svc.deployment.maximum_execution_timeout_seconds: must be 600-28800 seconds",
        ),
        (
            {
                "strategy": "linear",
                "linear_step_size": {"type": "capacity_percent", "value": 10},
                "wait_seconds": 3600,
                "termination_wait_seconds": 3600,
                "maximum_execution_timeout_seconds": 10800,
            },
            "services.svc.deployment.maximum_execution_timeout_seconds: 10800 s is not more than "
            "the update's waits (2 baking periods of 3600 s + 3600 s termination wait = 10800 s)"
            ": the update would time out and roll back; raise it (at most 28800) or shorten the "
            "waits",
        ),
        (
            {"wait_seconds": 3000, "termination_wait_seconds": 600},
            "services.svc.deployment.maximum_execution_timeout_seconds: 3600 s is not more than "
            "the update's waits (1 baking period of 3000 s + 600 s termination wait = 3600 s)",
        ),
    ],
)
def test_deployment_rules(tmp_path: Path, deployment: dict[str, Any], expected: str) -> None:
    one_variant = [instance_variant("a", 1, **SCALING)]
    assert_one(
        problems(tmp_path, config_with(serving(deployment=deployment, variants=one_variant))),
        f"config/dev.yaml: {expected}",
    )


def test_the_timeout_must_outlast_every_step_of_the_largest_fleet(tmp_path: Path) -> None:
    """Linear 10 % of 20 instances is 10 steps, each baked: 10 x 900 s + 600 s."""
    deployment = {
        "strategy": "linear",
        "linear_step_size": {"type": "capacity_percent", "value": 10},
        "wait_seconds": 900,
        "termination_wait_seconds": 600,
        "maximum_execution_timeout_seconds": 7200,
    }
    scaling = {"min_capacity": 2, "max_capacity": 20, "target_value": 100}
    variants = [instance_variant("a", 1, **scaling)]
    assert_one(
        problems(tmp_path, config_with(serving(deployment=deployment, variants=variants))),
        "config/dev.yaml: services.svc.deployment.maximum_execution_timeout_seconds: variant 'a' "
        "at 20 instances: 7200 s is not more than the update's waits (10 baking periods of 900 "
        "s + 600 s termination wait = 9600 s): the update would time out and roll back; raise "
        "it (at most 28800) or shorten the waits",
    )
    deployment["maximum_execution_timeout_seconds"] = 9601
    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(config_with(serving(deployment=deployment, variants=variants))))
    assert load_environment(path).services["svc"].deployment.maximum_execution_timeout_seconds == (
        9601
    )


def test_a_smaller_fleet_may_take_more_steps(tmp_path: Path) -> None:
    """30 % of 10 instances is 3 + 3 + 3 + 1 (4 steps), of 11 is 4 + 4 + 3 (3 steps)."""
    deployment = {
        "strategy": "linear",
        "linear_step_size": {"type": "capacity_percent", "value": 30},
        "wait_seconds": 600,
        "termination_wait_seconds": 0,
        "maximum_execution_timeout_seconds": 2000,
    }
    scaling = {"min_capacity": 2, "max_capacity": 11, "target_value": 100}
    assert_one(
        problems(
            tmp_path,
            config_with(
                serving(deployment=deployment, variants=[instance_variant("a", 1, **scaling)])
            ),
        ),
        "config/dev.yaml: services.svc.deployment.maximum_execution_timeout_seconds: variant 'a' "
        "at 10 instances: 2000 s is not more than the update's waits (4 baking periods of 600 s "
        "= 2400 s)",
    )


def test_a_step_too_large_for_every_variant_names_each_variant(tmp_path: Path) -> None:
    deployment = {"strategy": "canary", "canary_size": {"type": "instance_count", "value": 3}}
    found = problems(tmp_path, config_with(serving(deployment=deployment)))
    assert [line.split("value: ")[1][:11] for line in found] == ["variant 'a'", "variant 'b'"]


def test_scheduled_action_rules(tmp_path: Path) -> None:
    bad_cron = [{"name": "N", "schedule": "0 20 * * *", "min_capacity": 2, "max_capacity": 2}]
    assert_one(
        problems(
            tmp_path,
            config_with(serving(variants=[instance_variant("a", **SCALING, scheduled=bad_cron)])),
        ),
        "config/dev.yaml: services.svc.variants[0].instance.autoscaling.scheduled[0].schedule: "
        "'0 20 * * *': expected cron(minutes hours day-of-month month day-of-week year)",
    )
    too_big = [
        {"name": "N", "schedule": "cron(0 20 * * ? *)", "min_capacity": 2, "max_capacity": 9}
    ]
    assert_one(
        problems(
            tmp_path,
            config_with(serving(variants=[instance_variant("a", **SCALING, scheduled=too_big)])),
        ),
        "config/dev.yaml: services.svc.variants[0].instance.autoscaling.scheduled[0].max_capacity: "
        "9 exceeds the autoscaling max_capacity 4",
    )


def test_data_capture_must_capture_something(tmp_path: Path) -> None:
    assert_one(
        problems(
            tmp_path,
            config_with(serving(data_capture={"capture_input": False, "capture_output": False})),
        ),
        "config/dev.yaml: services.svc.data_capture.capture_input: capture at least one of input",
    )


@pytest.mark.parametrize(
    ("instance_type", "nvme"),
    [
        ("ml.m5.large", False),
        ("ml.m5d.large", True),
        ("ml.c5d.xlarge", True),
        ("ml.g4dn.xlarge", True),
        ("ml.g5.2xlarge", True),
        ("ml.p4d.24xlarge", True),
        ("ml.c5.xlarge", False),
        ("ml.inf2.xlarge", False),
        ("ml.t2.medium", False),
    ],
)
def test_local_nvme_detection(instance_type: str, nvme: bool) -> None:
    assert has_local_nvme(instance_type) is nvme
