"""``services.<name>.async_inference``: the committed example (``documents`` in config/dev.yaml)
loads, and every mistake is one line naming the file and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import load_environment
from mlops_cdk.props.async_inference import (
    AsyncInferenceSpec,
    AsyncScaling,
    async_prefixes,
)
from mlops_cdk.props.errors import PropProblems
from tests.helpers import COMMITTED_CONFIG_DIR, yaml_data, yaml_text
from tests.unit.config.test_bad_input import problems_in

AT = "services.documents.async_inference"
BASE: dict[str, Any] = yaml_data((COMMITTED_CONFIG_DIR / "dev.yaml").read_text())


def documents(data: dict[str, Any]) -> dict[str, Any]:
    service: dict[str, Any] = data["services"]["documents"]
    return service


def edited(path: str, value: Any) -> dict[str, Any]:
    """The committed dev file with ``documents.<path>`` (dotted) set to ``value``."""
    data = copy.deepcopy(BASE)
    target: Any = documents(data)
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[int(last) if isinstance(target, list) else last] = value
    return data


def test_the_committed_async_service_loads() -> None:
    spec = AsyncInferenceSpec()
    assert spec.notifications.success
    assert spec.notifications.error
    assert async_prefixes("documents") == (
        "async/documents/input/",
        "async/documents/output/",
        "async/documents/failures/",
    )
    assert documents(BASE)["async_inference"]["scaling"]["min_capacity"] == 0


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (
            "async_inference.max_concurrent_invocations_per_instance",
            0,
            f"{AT}.max_concurrent_invocations_per_instance: must be 1-1000 (SageMaker "
            "AsyncInferenceClientConfig)",
        ),
        (
            "async_inference.scaling.min_capacity",
            3,
            f"{AT}.scaling.min_capacity: min_capacity is greater than max_capacity",
        ),
        (
            "async_inference.scaling.target_backlog_per_instance",
            0,
            f"{AT}.scaling.target_backlog_per_instance: must be greater than 0",
        ),
        (
            "async_inference.scaling.scheduled.0.schedule",
            "cron(0 20 * * *)",
            f"{AT}.scaling.scheduled[0].schedule: 'cron(0 20 * * *)': 5 fields; Application "
            "Auto Scaling cron has 6: minutes hours day-of-month month day-of-week year",
        ),
        (
            "async_inference.scaling.scheduled.1.max_capacity",
            3,
            f"{AT}.scaling.scheduled[1].max_capacity: 3 exceeds max_capacity 2",
        ),
        (
            "async_inference.alarms.backlog_without_capacity_minutes",
            1,
            f"{AT}.alarms.backlog_without_capacity_minutes: must be 5-1440",
        ),
        (
            "async_inference.submitters",
            ["not-an-arn"],
            f"{AT}.submitters[0]: 'not-an-arn' is not an IAM role ARN",
        ),
        (
            "async_inference.notifications",
            {"success": False, "error": False, "include_response": True},
            f"{AT}.notifications.include_response: has no effect without a success or error topic",
        ),
    ],
)
def test_bad_async_settings_are_one_line_each(
    tmp_path: Path, path: str, value: Any, problem: str
) -> None:
    assert problems_in(tmp_path, edited(path, value)) == [f"config/dev.yaml: {problem}"]


def test_an_unknown_async_key_is_refused(tmp_path: Path) -> None:
    data = edited("async_inference.queue_size", 3)
    [problem] = problems_in(tmp_path, data)
    assert problem.startswith(f"config/dev.yaml: {AT}.queue_size: ")


def test_a_serverless_async_endpoint_is_refused(tmp_path: Path) -> None:
    data = edited(
        "variants.0",
        {
            "name": "primary",
            "model": "documents-v1",
            "initial_weight": 1,
            "serverless": {"memory_size_mb": 2048, "max_concurrency": 5},
        },
    )
    documents(data)["models"][0]["network_isolation"] = False
    problems = problems_in(tmp_path, data)
    assert (
        "config/dev.yaml: services.documents.variants[0].serverless: asynchronous endpoints run "
        "on instances (they queue requests and scale instances, to zero included): use instance"
    ) in problems


def test_real_time_autoscaling_on_an_async_variant_is_refused(tmp_path: Path) -> None:
    data = edited(
        "variants.0.instance.autoscaling", {"min_capacity": 1, "max_capacity": 2, "target_value": 5}
    )
    assert problems_in(tmp_path, data) == [
        "config/dev.yaml: services.documents.variants[0].instance.autoscaling: an asynchronous "
        "endpoint scales on its backlog: move the bounds to async_inference.scaling"
    ]


def test_two_variants_on_an_async_endpoint_are_refused(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    variants = documents(data)["variants"]
    variants.append({**variants[0], "name": "challenger"})
    [problem] = problems_in(tmp_path, data)
    assert problem.startswith("config/dev.yaml: services.documents.variants: 2 variants; an ")


def test_a_no_invocations_alarm_on_an_async_endpoint_is_refused(tmp_path: Path) -> None:
    """It was dropped without a word: an asynchronous endpoint publishes no Invocations."""
    data = edited("alarms", {"no_invocations_minutes": 30})
    assert problems_in(tmp_path, data) == [
        "config/dev.yaml: services.documents.alarms.no_invocations_minutes: an asynchronous "
        "endpoint publishes no Invocations metric, so the alarm would be in ALARM for ever: "
        "leave it unset (the asynchronous endpoint's own alarms watch the backlog and the "
        "failed invocations)"
    ]


@pytest.mark.parametrize(("execution", "refused"), [("direct", True), ("serial", False)])
def test_a_direct_invocation_model_on_an_async_endpoint_is_refused(
    tmp_path: Path, execution: str, refused: bool
) -> None:
    """InvokeEndpointAsync cannot name the target container a direct endpoint requires."""
    data = copy.deepcopy(BASE)
    service = documents(data)
    service["models"][0] = {
        "name": "documents-v1",
        "inference_execution": execution,
        "containers": [
            {
                "hostname": "pre",
                "image_tag": "1.0.0",
                "model_data_key": "models/documents/1.0.0/pre.tar.gz",
            },
            {
                "hostname": "main",
                "image_tag": "1.0.0",
                "model_data_key": "models/documents/1.0.0/model.tar.gz",
            },
        ],
    }
    if execution == "direct":
        service["smoke_test"]["target_container"] = "main"
    expected = (
        "config/dev.yaml: services.documents.variants[0].model: model 'documents-v1' uses direct "
        "invocation, which needs a target container in every request; asynchronous requests "
        "(InvokeEndpointAsync) cannot name one: use serial invocation (an inference pipeline) "
        "or a real-time endpoint"
    )
    if refused:
        assert problems_in(tmp_path, data) == [expected]
    else:  # an inference pipeline is served asynchronously like any model
        path = tmp_path / "dev.yaml"
        path.write_text(yaml_text(data, sort_keys=False), encoding="utf-8")
        assert load_environment(path).services["documents"].models[0].is_direct is False


@pytest.mark.parametrize(
    ("arn", "reason"),
    [
        ("arn:aws:iam::999999999999:role/caller", "must be a role of this environment's account"),
        ("arn:aws:iam::111111111111:role/caller", "is not one of the environment's publishers"),
    ],
)
def test_submitters_are_publishers_of_this_account(tmp_path: Path, arn: str, reason: str) -> None:
    [problem] = problems_in(tmp_path, edited("async_inference.submitters", [arn]))
    assert problem.startswith(f"config/dev.yaml: {AT}.submitters[0]: ")
    assert reason in problem


def test_async_retrain_triggers_count_as_triggers(tmp_path: Path) -> None:
    data = edited("async_inference.alarms.retrain_on", ["failed_invocations"])
    assert problems_in(tmp_path, data) == [
        "config/dev.yaml: services.documents.retraining: alarms are marked as retraining "
        "triggers: configure retraining"
    ]


def test_props_refuse_what_the_configuration_refuses() -> None:
    with pytest.raises(PropProblems, match="async scaling: max_capacity: must be 1-1000"):
        AsyncScaling(max_capacity=0)
    assert AsyncScaling(max_capacity=2).scales_to_zero
    assert not AsyncScaling(max_capacity=2, min_capacity=1).scales_to_zero
