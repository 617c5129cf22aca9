"""wait_for_role_policies: a resource AWS validates with a role at creation waits for every policy
attached to that role, wherever the policy comes from (issue: CreateModel raced the grants)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.constructs.role_readiness import wait_for_role_policies
from tests.helpers import new_stack


def _logical_ids(template: Template, cfn_type: str) -> set[str]:
    return set(template.find_resources(cfn_type))


def test_model_waits_for_policies_made_elsewhere_and_later() -> None:
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    iam.ManagedPolicy(
        stack,
        "Elsewhere",
        roles=[role],
        statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])],
    )
    HostedModel(
        stack,
        "Model",
        execution_role=role,
        image_uri="123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:1.0.0",
        network_isolation=True,
    )
    # A grant after the model exists: lands in the role's default policy.
    s3.Bucket(stack, "Bucket").grant_read(role)
    template = Template.from_stack(stack)
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    policies = _logical_ids(template, "AWS::IAM::ManagedPolicy") | _logical_ids(
        template, "AWS::IAM::Policy"
    )
    assert len(policies) == 2
    assert set(model["DependsOn"]) == policies


def test_policies_of_other_roles_and_empty_policies_are_not_waited_for() -> None:
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    other = iam.Role(stack, "Other", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    iam.ManagedPolicy(
        stack,
        "ForOther",
        roles=[other],
        statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])],
    )
    iam.Policy(stack, "Empty", roles=[role])  # no statement: not rendered
    bucket = s3.CfnBucket(stack, "Thing")
    wait_for_role_policies(bucket, role)
    template = Template.from_stack(stack)
    (thing,) = template.find_resources("AWS::S3::Bucket").values()
    assert "DependsOn" not in thing


def test_imported_role_policies_in_the_stack_are_waited_for() -> None:
    stack = new_stack()
    role = iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::123456789012:role/x/exec")
    policy = iam.ManagedPolicy(
        stack,
        "Grants",
        roles=[role],
        statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])],
    )
    bucket = s3.CfnBucket(stack, "Thing")
    wait_for_role_policies(bucket, role)
    template = Template.from_stack(stack)
    (thing,) = template.find_resources("AWS::S3::Bucket").values()
    assert thing["DependsOn"] == [stack.get_logical_id(policy.node.default_child)]  # type: ignore[arg-type]


def test_an_immutable_view_of_a_role_of_the_stack_finds_the_roles_policies() -> None:
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    policy = iam.ManagedPolicy(
        stack,
        "Grants",
        roles=[role],
        statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])],
    )
    view = iam.Role.from_role_arn(stack, "View", role.role_arn, mutable=False)
    bucket = s3.CfnBucket(stack, "Thing")
    wait_for_role_policies(bucket, view)
    (thing,) = Template.from_stack(stack).find_resources("AWS::S3::Bucket").values()
    assert thing["DependsOn"] == [stack.get_logical_id(policy.node.default_child)]  # type: ignore[arg-type]


def test_a_nested_stacks_policies_are_not_the_stacks_own() -> None:
    """A nested stack's constructs are found in its parent's tree: their policies are the nested
    stack's, and a resource of the parent cannot wait for them (only the parent's own)."""
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    statements = [iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])]
    own = iam.ManagedPolicy(stack, "Grants", roles=[role], statements=statements)
    nested = cdk.NestedStack(stack, "Nested")
    iam.ManagedPolicy(nested, "NestedGrants", roles=[role], statements=statements)
    bucket = s3.CfnBucket(stack, "Thing")
    wait_for_role_policies(bucket, role)
    (thing,) = Template.from_stack(stack).find_resources("AWS::S3::Bucket").values()
    assert thing["DependsOn"] == [stack.get_logical_id(own.node.default_child)]  # type: ignore[arg-type]
