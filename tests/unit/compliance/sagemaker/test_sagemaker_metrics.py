"""AWS facts the SageMaker rules check against: documented namespaces and metrics, Model Monitor
namespaces, deployment step sizes (re-exported from mlops_cdk.aws.guardrails)."""

from __future__ import annotations

import pytest

from mlops_cdk.aws import sagemaker_metrics as metrics
from mlops_cdk.aws.sagemaker_metrics import effective_step, step_share


def test_documented_namespaces_and_summed_metrics() -> None:
    assert metrics.SAGEMAKER_NAMESPACE == "AWS/SageMaker"
    assert metrics.INSTANCE_NAMESPACE == "/aws/sagemaker/Endpoints"
    assert metrics.UTILIZATION_SUMMED == {
        "CPUUtilization": "vcpus",
        "GPUUtilization": "gpus",
        "GPUMemoryUtilization": "gpus",
    }
    assert set(metrics.UTILIZATION_SUMMED) <= metrics.ENDPOINT_INSTANCE_METRICS
    assert {"Invocations", "InvocationModelErrors", "ModelLatency", "OverheadLatency"} <= (
        metrics.ENDPOINT_INVOCATION_METRICS
    )
    assert {"CPUReservation", "MemoryReservation", "GPUReservation"} <= metrics.INSTANCE_METRICS
    assert not metrics.ENDPOINT_METRICS & metrics.INSTANCE_METRICS


@pytest.mark.parametrize(
    ("namespace", "model_monitor"),
    [
        ("aws/sagemaker/Endpoints/data-metrics", True),
        ("aws/sagemaker/Endpoints/model-metrics", True),
        ("aws/sagemaker/Endpoints/bias-metrics", True),
        ("aws/sagemaker/Endpoints/explainability-metrics", True),
        ("aws/sagemaker/ModelMonitoring/model-metrics", True),
        ("/aws/sagemaker/Endpoints/data-metric", True),
        ("/aws/sagemaker/Endpoint/data-metrics", True),
        ("/aws/sagemaker/Endpoints", False),
        ("AWS/SageMaker", False),
        ("Mlops/Quality", False),
    ],
)
def test_model_monitor_namespaces(namespace: str, model_monitor: bool) -> None:
    assert metrics.is_model_monitor_namespace(namespace) is model_monitor


@pytest.mark.parametrize(
    ("step_type", "value", "fleet", "instances"),
    [
        ("INSTANCE_COUNT", 1, 5, 1),
        ("INSTANCE_COUNT", 3, 2, 3),
        ("CAPACITY_PERCENT", 10, 3, 1),  # rounded up to a whole instance
        ("CAPACITY_PERCENT", 50, 3, 2),
        ("CAPACITY_PERCENT", 50, 4, 2),
        ("CAPACITY_PERCENT", 25, 10, 3),
        ("CAPACITY_PERCENT", 10, 10, 1),
        ("CAPACITY_PERCENT", 100, 7, 7),
    ],
)
def test_effective_step(step_type: str, value: int, fleet: int, instances: int) -> None:
    assert effective_step(step_type, value, fleet) == instances
    assert step_share(step_type, value, fleet) == instances / fleet
    assert effective_step(step_type.lower(), value, fleet) == instances  # the config's spelling


@pytest.mark.parametrize(
    ("step_type", "value", "fleet", "message"),
    [("PERCENT", 10, 3, "step type"), ("INSTANCE_COUNT", 1, 0, "at least one instance")],
)
def test_effective_step_refuses_nonsense(
    step_type: str, value: int, fleet: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        effective_step(step_type, value, fleet)


@pytest.mark.parametrize(
    ("kind", "step_type", "value", "fleet", "valid"),
    [
        ("CANARY", "INSTANCE_COUNT", 1, 2, True),
        ("CANARY", "INSTANCE_COUNT", 1, 1, False),
        ("CANARY", "CAPACITY_PERCENT", 50, 3, False),  # 2 of 3
        ("LINEAR", "INSTANCE_COUNT", 1, 10, True),
        ("LINEAR", "INSTANCE_COUNT", 1, 11, False),  # 9 %
        ("LINEAR", "CAPACITY_PERCENT", 10, 19, True),  # 2 of 19
        ("LINEAR", "CAPACITY_PERCENT", 10, 30, True),  # exactly 3 of 30 = 10 %
        ("CANARY", "CAPACITY_PERCENT", 50, 100, True),  # exactly 50 of 100
    ],
)
def test_step_within_limits(kind: str, step_type: str, value: int, fleet: int, valid: bool) -> None:
    assert metrics.step_within_limits(kind, step_type, value, fleet) is valid
