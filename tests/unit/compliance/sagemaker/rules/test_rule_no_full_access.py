"""NoFullAccess: AmazonSageMakerFullAccess, sagemaker:* or * allowed is non-compliant; listed
actions (and a Deny of sagemaker:*) are compliant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from tests.unit.compliance.sagemaker.pack_helpers import findings, stack


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda s: iam.Role(
                s,
                "R",
                assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSageMakerFullAccess")
                ],
            ),
            {"NoFullAccess"},
        ),
        (
            lambda s: iam.Role(
                s, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
            ).add_to_policy(iam.PolicyStatement(actions=["sagemaker:*"], resources=["*"])),
            {"NoFullAccess"},
        ),
        (
            lambda s: iam.ManagedPolicy(
                s, "R", statements=[iam.PolicyStatement(actions=["*"], resources=["*"])]
            ),
            {"NoFullAccess"},
        ),
        (
            lambda s: iam.ManagedPolicy(
                s,
                "R",
                statements=[
                    iam.PolicyStatement(
                        actions=["sagemaker:InvokeEndpoint"],
                        resources=["arn:aws:sagemaker:eu-west-1:123456789012:endpoint/x"],
                    ),
                    iam.PolicyStatement(
                        effect=iam.Effect.DENY, actions=["sagemaker:*"], resources=["*"]
                    ),
                ],
            ),
            set(),
        ),
    ],
)
def test_no_full_access(build: Callable[[cdk.Stack], Any], expected: set[str]) -> None:
    s = stack()
    build(s)
    assert {rule for rule, _ in findings(s)} == expected


def test_inline_role_policy_with_one_statement_object() -> None:
    """A policy document's Statement may be a single object rather than a list."""
    s = stack()
    iam.CfnRole(
        s,
        "Inline",
        assume_role_policy_document={},
        policies=[
            iam.CfnRole.PolicyProperty(
                policy_name="p",
                policy_document={
                    "Statement": {"Effect": "Allow", "Action": "SageMaker:*", "Resource": "*"}
                },
            )
        ],
    )
    assert findings(s) == {("NoFullAccess", "S/Inline")}
