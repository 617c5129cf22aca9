"""VpcEndpointPolicyBounded: a VPC endpoint has no policy (full access) or allows every action
on every resource without bounding the resources to an account or organization.

An Allow statement is unbounded when its actions are every action (``*``, ``<service>:*`` or
``NotAction``) and its resources every resource (``*`` or ``NotResource``), unless a condition
on ``aws:ResourceAccount``, ``aws:ResourceOrgID``, ``aws:ResourceOrgPaths`` or
``s3:ResourceAccount`` bounds them. A principal condition (``aws:PrincipalAccount``) does not:
this account's principals could still reach any account's resources through the endpoint.
Without a policy an endpoint allows full access (AWS PrivateLink Guide, "Control access to VPC
endpoints using endpoint policies").
"""

from __future__ import annotations

import json
import re
from typing import Any

from mlops_cdk.aws.cfn_values import allow_statements, as_list, condition_values
from mlops_cdk.compliance.sagemaker.index import VPC_ENDPOINT_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import COMPLIANT, NON_COMPLIANT, Compliance, Rule

_EVERY_ACTION = re.compile(r"^(\*|[a-z0-9-]+:\*)$", re.IGNORECASE)
_RESOURCE_BOUNDS = (
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "s3:ResourceAccount",
)


def _every_action(statement: dict[str, Any]) -> bool:
    if "NotAction" in statement:
        return True
    return any(
        isinstance(a, str) and _EVERY_ACTION.match(a) for a in as_list(statement.get("Action"))
    )


def _every_resource(statement: dict[str, Any]) -> bool:
    return "NotResource" in statement or "*" in as_list(statement.get("Resource"))


def _resources_bounded(statement: dict[str, Any]) -> bool:
    return any(condition_values(statement, key) for key in _RESOURCE_BOUNDS)


def vpc_endpoint_policy_bounded(endpoint: Resource, index: StackIndex) -> Compliance:
    del index
    document = endpoint.properties.get("PolicyDocument")
    if isinstance(document, str):
        document = json.loads(document)
    if not document:
        return NON_COMPLIANT  # no policy: the endpoint allows full access
    for statement in allow_statements(document):
        if (
            _every_action(statement)
            and _every_resource(statement)
            and not _resources_bounded(statement)
        ):
            return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "VpcEndpointPolicyBounded",
    "The VPC endpoint has no policy, or its policy allows every action on every resource "
    "without bounding the resources to an account.",
    "An endpoint without a policy allows full access, and an Allow of * (or <service>:*) on "
    "* lets anything in the VPC reach any account's resources through it, even when only "
    "this account's principals may call it. Allow what runs in the VPC needs (e.g. "
    "sagemaker:InvokeEndpoint* on this environment's endpoints for sagemaker.runtime), or "
    "bound the resources with aws:ResourceAccount (S3: this account's buckets, plus ECR's "
    "prod-<region>-starport-layer-bucket for image layers). PrivateNetwork does this.",
    vpc_endpoint_policy_bounded,
    frozenset({VPC_ENDPOINT_TYPE}),
)
