"""wait_for_role_policies with several waiting resources: one aspect per stack serves them all,
and each resource still gets exactly its own role's policies."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.constructs.role_readiness import wait_for_role_policies
from tests.helpers import new_stack


def _role(stack: cdk.Stack, name: str) -> iam.Role:
    return iam.Role(stack, name, assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))


def _policy(stack: cdk.Stack, name: str, role: iam.IRole) -> iam.ManagedPolicy:
    return iam.ManagedPolicy(
        stack,
        name,
        roles=[role],
        statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])],
    )


def _id(stack: cdk.Stack, policy: iam.ManagedPolicy) -> str:
    return stack.get_logical_id(policy.node.default_child)  # type: ignore[arg-type]


def _depends_on(template: Template, logical_id: str) -> list[str]:
    resource: dict[str, list[str]] = template.to_json()["Resources"][logical_id]
    return resource.get("DependsOn", [])


def test_each_resource_waits_for_its_own_roles_policies_with_one_aspect() -> None:
    stack = new_stack()
    first, second = _role(stack, "First"), _role(stack, "Second")
    things = [s3.CfnBucket(stack, f"Thing{i}") for i in range(3)]
    wait_for_role_policies(things[0], first)
    wait_for_role_policies(things[1], second)
    wait_for_role_policies(things[2], first)
    of_first, of_second = _policy(stack, "OfFirst", first), _policy(stack, "OfSecond", second)
    assert [len(cdk.Aspects.of(thing).all) for thing in things] == [1, 0, 0]
    template = Template.from_stack(stack)
    ids = [stack.get_logical_id(thing) for thing in things]
    assert _depends_on(template, ids[0]) == [_id(stack, of_first)]
    assert _depends_on(template, ids[1]) == [_id(stack, of_second)]
    assert _depends_on(template, ids[2]) == [_id(stack, of_first)]


def test_each_stack_has_its_own_waits() -> None:
    one, two = new_stack("One"), new_stack("Two")
    things = []
    for stack in (one, two):
        role = _role(stack, "Role")
        thing = s3.CfnBucket(stack, "Thing")
        wait_for_role_policies(thing, role)
        things.append((stack, thing, _policy(stack, "Policy", role)))
    for stack, thing, policy in things:
        assert len(cdk.Aspects.of(thing).all) == 1
        template = Template.from_stack(stack)
        assert _depends_on(template, stack.get_logical_id(thing)) == [_id(stack, policy)]
