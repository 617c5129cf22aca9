"""EndpointOpenIngress: an interface endpoint's security group admits 0.0.0.0/0 or ::/0."""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.endpoints import interface_endpoint
from mlops_cdk.compliance.sagemaker.index import (
    SECURITY_GROUP_INGRESS_TYPE,
    SECURITY_GROUP_TYPE,
    VPC_ENDPOINT_TYPE,
    Resource,
    StackIndex,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

OPEN_CIDRS = ("0.0.0.0/0", "::/0")


def _open_ingress(index: StackIndex, group_logical_id: str) -> bool:
    group = index.by_logical_id(group_logical_id)
    rules = []
    if group is not None and group.type == SECURITY_GROUP_TYPE:
        rules += list(group.properties.get("SecurityGroupIngress") or [])
    for ingress in index.of_type(SECURITY_GROUP_INGRESS_TYPE):
        reference = ingress.properties.get("GroupId")
        if (
            isinstance(reference, dict)
            and reference.get("Fn::GetAtt", [None])[0] == group_logical_id
        ):
            rules.append(ingress.properties)
    return any(r.get("CidrIp") in OPEN_CIDRS or r.get("CidrIpv6") in OPEN_CIDRS for r in rules)


def interface_endpoint_closed_ingress(resource: Resource, index: StackIndex) -> Compliance:
    props = interface_endpoint(resource)
    if props is None:
        return NOT_APPLICABLE
    for group in props.get("SecurityGroupIds") or []:
        is_reference = isinstance(group, dict) and "Fn::GetAtt" in group
        if is_reference and _open_ingress(index, group["Fn::GetAtt"][0]):
            return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "EndpointOpenIngress",
    "The VPC interface endpoint's security group admits 0.0.0.0/0 or ::/0.",
    "Endpoints should accept HTTPS from the VPC only.",
    interface_endpoint_closed_ingress,
    frozenset({VPC_ENDPOINT_TYPE}),
)
