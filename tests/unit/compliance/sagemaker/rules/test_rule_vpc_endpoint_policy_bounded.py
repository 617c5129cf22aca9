"""VpcEndpointPolicyBounded: no endpoint without a policy, and no Allow of every action on every
resource unless the resources are bounded to an account or organization."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms

from mlops_cdk.compliance import record_acknowledgements_only
from mlops_cdk.constructs.network import INTERFACE_ENDPOINTS, PrivateNetwork
from tests.helpers import imported_vpc
from tests.unit.compliance.sagemaker.pack_helpers import findings, fires, stage_stack

RULE = "VpcEndpointPolicyBounded"
ACCOUNT = {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}
RESOURCES = {"StringEquals": {"aws:ResourceAccount": "123456789012"}}


def allow(
    action: Any, resource: Any, condition: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    result = {"Effect": "Allow", "Principal": "*", **kw}
    if action is not None:
        result["Action"] = action
    if resource is not None:
        result["Resource"] = resource
    if condition is not None:
        result["Condition"] = condition
    return result


INVOKE = ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync"]
ENDPOINTS = "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/prod-*"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (None, True),  # no policy: full access
        ({"Statement": [allow("*", "*", ACCOUNT)]}, True),  # issue 21: the runtime endpoint
        ({"Statement": [allow("s3:*", "*", ACCOUNT)]}, True),
        ({"Statement": [allow(None, "*", ACCOUNT, NotAction="s3:DeleteObject")]}, True),
        ({"Statement": [allow("*", None, ACCOUNT, NotResource="arn:aws:s3:::x/*")]}, True),
        ({"Statement": [allow(INVOKE, ENDPOINTS, ACCOUNT)]}, False),
        ({"Statement": [allow("sagemaker:InvokeEndpoint", "*", ACCOUNT)]}, False),  # named action
        ({"Statement": [allow("*", ENDPOINTS, ACCOUNT)]}, False),  # named resources
        (
            {
                "Statement": [
                    allow(
                        "s3:*",
                        "*",
                        {"StringEquals": {**ACCOUNT["StringEquals"], **RESOURCES["StringEquals"]}},
                    )
                ]
            },
            False,
        ),
        ({"Statement": [allow("*", "*", {"StringEquals": {"aws:ResourceOrgID": "o-abc"}})]}, False),
        ({"Statement": [{**allow("*", "*"), "Effect": "Deny"}]}, False),
    ],
)
def test_vpc_endpoint_policy_bounded(document: dict[str, Any] | None, expected: bool) -> None:
    s = stage_stack()
    ec2.CfnVPCEndpoint(
        s,
        "Endpoint",
        vpc_id="vpc-0123456789abcdef0",
        service_name="com.amazonaws.eu-west-1.sagemaker.runtime",
        policy_document=document,
    )
    assert fires(s, "prod/S/Endpoint", RULE) is expected


def test_private_network_fixes_runtime_and_s3_and_acknowledges_the_others() -> None:
    s = stage_stack()
    network = PrivateNetwork(
        s,
        "Network",
        key=kms.Key(s, "Key"),
        removal_policy=cdk.RemovalPolicy.DESTROY,
        existing_vpc=imported_vpc(s),
        runtime_endpoint_prefix="prod-",
    )
    assert network.s3_endpoint is not None
    assert not [path for rule, path in findings(s) if rule == RULE]


def test_private_network_acknowledged_endpoints_really_fire() -> None:
    """Without its acknowledgements, every interface endpoint but the runtime one fires (the
    reason is not stale), and the runtime and S3 endpoints pass on their own."""
    s = stage_stack()
    with record_acknowledgements_only() as recorded:
        PrivateNetwork(s, "Network", key=kms.Key(s, "Key"), existing_vpc=imported_vpc(s))
    fired = {path.split("/")[3] for rule, path in findings(s) if rule == RULE}
    assert fired == set(INTERFACE_ENDPOINTS) - {"SageMakerRuntime"}
    assert len([r for r in recorded if r.finding_id.endswith(RULE)]) == len(fired)
