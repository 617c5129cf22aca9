"""Short ways to write production variants in the endpoint tests."""

from __future__ import annotations

from collections.abc import Sequence

from mlops_cdk.props.scaling import InstanceAutoscaling
from mlops_cdk.props.variants import InstanceCapacity, ServerlessCapacity, VariantSpec


def on_instances(
    name: str,
    model: str,
    weight: float,
    instance_type: str,
    count: int,
    *,
    autoscaling: InstanceAutoscaling | None = None,
) -> VariantSpec:
    return VariantSpec(
        name=name,
        model=model,
        initial_weight=weight,
        instance=InstanceCapacity(
            instance_type=instance_type, initial_instance_count=count, autoscaling=autoscaling
        ),
    )


def serverless(
    name: str,
    model: str,
    weight: float,
    memory_size_mb: int = 2048,
    max_concurrency: int = 5,
    *,
    provisioned_concurrency: int | None = None,
) -> VariantSpec:
    return VariantSpec(
        name=name,
        model=model,
        initial_weight=weight,
        serverless=ServerlessCapacity(
            memory_size_mb=memory_size_mb,  # type: ignore[arg-type]
            max_concurrency=max_concurrency,
            provisioned_concurrency=provisioned_concurrency,
        ),
    )


def models_of(variants: Sequence[VariantSpec]) -> dict[str, str]:
    """Each variant's model, named as its SageMaker model (the tests' models are names)."""
    return {v.model: v.model for v in variants}
