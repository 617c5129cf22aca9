"""IamPolicyLimits: IAM refuses a managed policy over 6,144 characters, a role's inline policies
over 10,240, a trust policy over 2,048 and an 11th managed policy on a role (the default
quotas); sizes count references as they resolve, without white space."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from tests.unit.compliance.sagemaker.pack_helpers import fires, sibling, stage_stack

RULE = "IamPolicyLimits"
# What CDK renders around one statement's Resource, white space aside.
_ONE_STATEMENT = (
    '{"Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":""}],'
    '"Version":"2012-10-17"}'
)


def _document(size: int) -> dict[str, object]:
    """A policy document of exactly ``size`` characters."""
    return {
        "Statement": [
            {
                "Action": "s3:GetObject",
                "Effect": "Allow",
                "Resource": "arn:aws:s3:::b/" + "x" * (size - len(_ONE_STATEMENT) - 15),
            }
        ],
        "Version": "2012-10-17",
    }


@pytest.mark.parametrize(("size", "expected"), [(6144, False), (6145, True)])
def test_a_managed_policy_over_6144_characters(size: int, expected: bool) -> None:
    s = stage_stack()
    iam.CfnManagedPolicy(s, "Policy", policy_document=_document(size))
    assert fires(s, "prod/S/Policy", RULE) is expected


# A bucket of stack prod-S named by CloudFormation: prod-S-Bucket-<13 characters>, 27
# characters; its ARN with /pNN/* is 13 + 27 + 6 = 46, quoted and listed 49 (the last 48).
_LIST_POLICY = (
    '{"Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":[]}],'
    '"Version":"2012-10-17"}'
)
_MOST_RESOURCES = (6144 - len(_LIST_POLICY) + 1) // 49  # 123: 6,122 characters; 124: 6,171


@pytest.mark.parametrize(
    ("count", "expected"), [(_MOST_RESOURCES, False), (_MOST_RESOURCES + 1, True)]
)
def test_references_count_as_they_resolve(count: int, expected: bool) -> None:
    """Far under 6,144 characters as written (each ARN is a short Fn::Join), over it once
    CloudFormation resolves the bucket's ARN."""
    s = stage_stack()
    bucket = s3.CfnBucket(s, "Bucket")
    resources = [cdk.Fn.join("", [bucket.attr_arn, f"/p{i:02d}/*"]) for i in range(count)]
    iam.CfnManagedPolicy(
        s,
        "Policy",
        policy_document={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}],
        },
    )
    assert fires(s, "prod/S/Policy", RULE) is expected


def _role(scope: cdk.Stack, **kwargs: object) -> iam.Role:
    return iam.Role(
        scope, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"), **kwargs
    )  # type: ignore[arg-type]


def _managed(scope: cdk.Stack, name: str, role: iam.IRole) -> iam.ManagedPolicy:
    statement = iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])
    return iam.ManagedPolicy(scope, name, roles=[role], statements=[statement])


@pytest.mark.parametrize(("count", "expected"), [(10, False), (11, True)])
def test_more_than_ten_managed_policies_on_a_role(count: int, expected: bool) -> None:
    s = stage_stack()
    role = _role(
        s, managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("ReadOnlyAccess")]
    )
    for i in range(count - 1):
        _managed(s, f"Policy{i}", role)
    assert fires(s, "prod/S/Role/Resource", RULE) is expected


def test_policies_attached_from_another_stack_of_the_stage_count() -> None:
    s = stage_stack()
    role = _role(s)
    other = sibling(s, "Other")
    for i in range(6):
        _managed(s, f"Policy{i}", role)
    for i in range(5):
        _managed(other, f"Policy{i}", role)  # its Roles import the role's name
    assert fires(s, "prod/S/Role/Resource", RULE) is True


# A trust policy of 30 accounts, white space aside, with an ExternalId padding it.
_TRUST_POLICY = (
    '{"Statement":[{"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":""}},'
    '"Effect":"Allow","Principal":{"AWS":[]}}],"Version":"2012-10-17"}'
)
_ACCOUNTS = 30 * len('"arn:aws:iam::100000000000:root"') + 29


@pytest.mark.parametrize(("size", "expected"), [(2048, False), (2049, True)])
def test_a_trust_policy_over_2048_characters(size: int, expected: bool) -> None:
    principals = [iam.AccountPrincipal(f"{100000000000 + i}") for i in range(30)]
    s = stage_stack()
    iam.Role(
        s,
        "Role",
        assumed_by=iam.CompositePrincipal(*principals),
        external_ids=["x" * (size - len(_TRUST_POLICY) - _ACCOUNTS)],
    )
    assert fires(s, "prod/S/Role/Resource", RULE) is expected


@pytest.mark.parametrize(("second", "expected"), [(5120, False), (5121, True)])
def test_a_roles_inline_policies_add_up(second: int, expected: bool) -> None:
    """One inline policy on the role and one AWS::IAM::Policy attached to it: 10,240 together
    at most."""
    s = stage_stack()
    role = _role(s, inline_policies={"First": iam.PolicyDocument.from_json(_document(5120))})
    iam.CfnPolicy(
        s,
        "Second",
        policy_name="second",
        policy_document=_document(second),
        roles=[role.role_name],
    )
    assert fires(s, "prod/S/Role/Resource", RULE) is expected


def test_an_inline_policy_of_a_role_elsewhere_is_judged_alone() -> None:
    s = stage_stack()
    iam.CfnPolicy(
        s, "Policy", policy_name="p", policy_document=_document(10241), roles=["imported"]
    )
    assert fires(s, "prod/S/Policy", RULE) is True


def test_a_role_with_a_few_small_policies_passes() -> None:
    s = stage_stack()
    role = _role(s)
    for i in range(3):
        _managed(s, f"Policy{i}", role)
    assert fires(s, "prod/S/Role/Resource", RULE) is False
