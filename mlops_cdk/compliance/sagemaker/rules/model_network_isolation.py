"""ModelNetworkIsolation: a SageMaker model does not enable network isolation."""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.endpoints import serves_only_serverless
from mlops_cdk.compliance.sagemaker.index import MODEL_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def model_network_isolation(model: Resource, index: StackIndex) -> Compliance:
    if model.properties.get("EnableNetworkIsolation") is True:
        return COMPLIANT
    return NOT_APPLICABLE if serves_only_serverless(model, index) else NON_COMPLIANT


RULE = Rule(
    "ModelNetworkIsolation",
    "The SageMaker model does not enable network isolation.",
    "Network isolation stops the model container from making any network calls.",
    model_network_isolation,
    frozenset({MODEL_TYPE}),
)
