"""RolePoliciesFirst: a model (and a function in a VPC) must wait for every policy attached to
the role AWS checks when it creates it; waiting through a chain of DependsOn counts."""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sagemaker as sm

from tests.unit.compliance.sagemaker.pack_helpers import fires, stage_stack

RULE = "RolePoliciesFirst"


def _policies(s: object, role: iam.Role) -> tuple[iam.ManagedPolicy, iam.Policy]:
    statement = iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])
    managed = iam.ManagedPolicy(s, "Managed", roles=[role], statements=[statement])  # type: ignore[arg-type]
    inline = iam.Policy(s, "Inline", roles=[role], statements=[statement])  # type: ignore[arg-type]
    return managed, inline


@pytest.mark.parametrize(
    ("waits_for", "expected"),
    [("both", False), ("chain", False), ("managed", True), ("none", True)],
)
def test_model_waits_for_every_policy_of_its_role(waits_for: str, expected: bool) -> None:
    s = stage_stack()
    role = iam.Role(s, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    managed, inline = _policies(s, role)
    model = sm.CfnModel(s, "Model", execution_role_arn=role.role_arn)
    if waits_for == "both":
        model.node.add_dependency(managed, inline)
    elif waits_for == "chain":  # model -> managed -> inline
        model.node.add_dependency(managed)
        managed.node.add_dependency(inline)
    elif waits_for == "managed":
        model.node.add_dependency(managed)
    assert fires(s, "prod/S/Model", RULE) is expected


def test_a_role_of_another_stack_or_account_is_not_judged() -> None:
    s = stage_stack()
    sm.CfnModel(s, "Model", execution_role_arn="arn:aws:iam::123456789012:role/elsewhere")
    assert fires(s, "prod/S/Model", RULE) is False


@pytest.mark.parametrize(("in_vpc", "expected"), [(True, True), (False, False)])
def test_function_in_a_vpc_waits_for_its_roles_policies(in_vpc: bool, expected: bool) -> None:
    s = stage_stack()
    role = iam.Role(s, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    _policies(s, role)
    lambda_.CfnFunction(
        s,
        "Function",
        role=role.role_arn,
        code=lambda_.CfnFunction.CodeProperty(zip_file="def handler(e, c): pass"),
        runtime="python3.13",
        handler="index.handler",
        vpc_config=lambda_.CfnFunction.VpcConfigProperty(
            security_group_ids=["sg-0123456789abcdef0"], subnet_ids=["subnet-01234567"]
        )
        if in_vpc
        else None,
    )
    assert fires(s, "prod/S/Function", RULE) is expected
