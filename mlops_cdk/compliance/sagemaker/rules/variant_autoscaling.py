"""VariantAutoscaling: an instance production variant of a production endpoint has no scalable
target. Shadow variants are left out: AWS documents registering a production variant
("Register a model": "the resource identifier for the model (specifically, the production
variant)"), not a shadow, whose fleet is its instance count, as the configuration treats it."""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.endpoints import (
    endpoint_config_of,
    instance_variants,
    scalable_targets,
)
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def variant_autoscaling(endpoint: Resource, index: StackIndex) -> Compliance:
    """Production instance variants autoscale; elsewhere a fixed fleet is a valid choice (a
    dev endpoint of one instance), as the configuration reference documents."""
    if not index.production:
        return NOT_APPLICABLE
    config = endpoint_config_of(endpoint, index)
    if config is None:
        return NON_COMPLIANT  # cannot tell which variants exist
    production = {"ProductionVariants": config.properties.get("ProductionVariants") or []}
    names = [v["VariantName"] for v in instance_variants(production)]
    if not names:
        return NOT_APPLICABLE
    scaled = scalable_targets(endpoint, index)
    return NON_COMPLIANT if any(name not in scaled for name in names) else COMPLIANT


RULE = Rule(
    "VariantAutoscaling",
    "An instance production variant of the production endpoint has no scalable target.",
    "Without autoscaling a traffic spike degrades the endpoint instead of adding instances.",
    variant_autoscaling,
    frozenset({ENDPOINT_TYPE}),
)
