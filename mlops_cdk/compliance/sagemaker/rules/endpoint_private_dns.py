"""EndpointPrivateDns: a VPC interface endpoint has private DNS disabled."""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.endpoints import interface_endpoint
from mlops_cdk.compliance.sagemaker.index import VPC_ENDPOINT_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def interface_endpoint_private_dns(resource: Resource, index: StackIndex) -> Compliance:
    del index
    props = interface_endpoint(resource)
    if props is None:
        return NOT_APPLICABLE
    return COMPLIANT if props.get("PrivateDnsEnabled") is True else NON_COMPLIANT


RULE = Rule(
    "EndpointPrivateDns",
    "The VPC interface endpoint has private DNS disabled.",
    "Without private DNS, SDK calls resolve to public endpoints and leave the VPC.",
    interface_endpoint_private_dns,
    frozenset({VPC_ENDPOINT_TYPE}),
)
