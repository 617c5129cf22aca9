"""InstancePoolsValid: a variant's instance pools or provisioning timeout are outside what
SageMaker accepts."""

from __future__ import annotations

from typing import Any

from mlops_cdk.aws.cfn_values import number
from mlops_cdk.aws.variant_facts import MAX_INSTANCE_POOLS, PROVISION_TIMEOUT_SECONDS
from mlops_cdk.compliance.sagemaker.endpoints import variants
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_CONFIG_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def _pools_valid(variant: dict[str, Any]) -> bool:
    pools = variant["InstancePools"]
    if not isinstance(pools, list) or not 1 <= len(pools) <= MAX_INSTANCE_POOLS:
        return False
    if "InstanceType" in variant or "ServerlessConfig" in variant:
        return False  # pools replace InstanceType, on instances
    if not all(isinstance(p, dict) for p in pools):
        return False
    priorities = [number(p.get("Priority")) for p in pools]
    types = [p.get("InstanceType") for p in pools]
    return (
        all(p is not None and p.is_integer() and 1 <= p <= MAX_INSTANCE_POOLS for p in priorities)
        and len(set(priorities)) == len(priorities)
        and len({str(t) for t in types}) == len(types)
    )


def instance_pools_valid(config: Resource, index: StackIndex) -> Compliance:
    del index
    keys = ("InstancePools", "VariantInstanceProvisionTimeoutInSeconds")
    relevant = [
        v
        for v in variants(config.properties)
        if isinstance(v, dict) and any(key in v for key in keys)
    ]
    if not relevant:
        return NOT_APPLICABLE
    low, high = PROVISION_TIMEOUT_SECONDS
    for variant in relevant:
        if "InstancePools" in variant and not _pools_valid(variant):
            return NON_COMPLIANT
        if "VariantInstanceProvisionTimeoutInSeconds" in variant:
            timeout = number(variant["VariantInstanceProvisionTimeoutInSeconds"])
            if timeout is None or not low <= timeout <= high:
                return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "InstancePoolsValid",
    "A variant's instance pools or provisioning timeout are outside what SageMaker accepts.",
    '"Deploy to multiple instance types with instance pools" '
    "(https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-heterogeneous.html): "
    "InstancePools replace the variant's InstanceType, list 1-5 instance types, each with its "
    "own priority 1-5 (1 is tried first); VariantInstanceProvisionTimeoutInSeconds is "
    "300-3600. Give each type once with distinct priorities, and no InstanceType beside them.",
    instance_pools_valid,
    frozenset({ENDPOINT_CONFIG_TYPE}),
)
