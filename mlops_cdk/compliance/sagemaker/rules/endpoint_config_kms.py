"""EndpointConfigKms: an endpoint config accepts a KMS key but has none."""

from __future__ import annotations

from mlops_cdk.aws.facts import has_local_nvme
from mlops_cdk.aws.variant_facts import instance_types
from mlops_cdk.compliance.sagemaker.endpoints import variants
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_CONFIG_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def endpoint_config_kms(config: Resource, index: StackIndex) -> Compliance:
    del index
    found = variants(config.properties)
    if any("ServerlessConfig" in v for v in found) or any(
        has_local_nvme(str(t)) for v in found for t in instance_types(v)
    ):
        return NOT_APPLICABLE  # SageMaker rejects a KmsKeyId for these
    return COMPLIANT if config.properties.get("KmsKeyId") else NON_COMPLIANT


RULE = Rule(
    "EndpointConfigKms",
    "The endpoint config has no KMS key for its storage volumes.",
    "Instance types without local NVMe storage accept a customer-managed key.",
    endpoint_config_kms,
    frozenset({ENDPOINT_CONFIG_TYPE}),
)
