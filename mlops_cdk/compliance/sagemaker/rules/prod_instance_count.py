"""ProdInstanceCount: a production instance variant has fewer than 2 instances."""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.endpoints import instance_variants
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_CONFIG_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def production_instance_count(config: Resource, index: StackIndex) -> Compliance:
    if not index.production:
        return NOT_APPLICABLE
    found = instance_variants(config.properties)
    if not found:
        return NOT_APPLICABLE
    counts = [v.get("InitialInstanceCount") for v in found]
    return COMPLIANT if all(isinstance(c, int) and c >= 2 for c in counts) else NON_COMPLIANT


RULE = Rule(
    "ProdInstanceCount",
    "A production instance variant has fewer than 2 instances.",
    "Two or more instances let SageMaker spread a variant across availability zones.",
    production_instance_count,
    frozenset({ENDPOINT_CONFIG_TYPE}),
)
