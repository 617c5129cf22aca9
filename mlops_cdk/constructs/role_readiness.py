"""Resources that AWS validates with a role when it creates them wait for that role's policies.

CreateModel checks, with the execution role, that it can pull the image and read the model data
("Could not access model data ... ensure that the role has s3:GetObject"; aws/aws-cdk#10064); a
Lambda function in a VPC is refused unless its role may create network interfaces
("CreateFunction", AWS Lambda API reference: InvalidParameterValueException "The provided execution
role does not have permissions to call CreateNetworkInterface on EC2"). CloudFormation creates
resources in parallel unless one depends on another, and a role's policies are resources of their
own (``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy``): without a dependency the resource races
them.

:func:`wait_for_role_policies` makes a resource depend on **every** policy of its stack attached to
the role, wherever it comes from (the construct that made the role, a ``grant_*`` of another
construct, a policy a stack adds later): the policies are looked up when the app is synthesized
(an aspect on the resource only, so no other construct is visited). The SageMaker pack's
``RolePoliciesFirst`` rule checks the synthesized templates for the same thing.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from constructs import IConstruct


def wait_for_role_policies(resource: cdk.CfnResource, role: iam.IRole) -> None:
    """Make ``resource`` depend on every IAM policy and managed policy of its stack that is
    attached to ``role`` (found at synthesis, so later grants count too)."""
    cdk.Aspects.of(resource).add(_WaitForRolePolicies(resource, role))


@jsii.implements(cdk.IAspect)
class _WaitForRolePolicies:
    def __init__(self, resource: cdk.CfnResource, role: iam.IRole) -> None:
        self._resource = resource
        self._path = resource.node.path
        self._role = role

    def visit(self, node: IConstruct) -> None:
        # By path: a resource made inside an L2 comes back through jsii as a new proxy object.
        if node.node.path != self._path:
            return
        stack = cdk.Stack.of(node)
        names = [stack.resolve(self._role.role_name)]
        # A view of a role of this stack (``Role.from_role_arn(..., role.role_arn)``) names it
        # through its ARN: policies attach to the role itself (``Ref``).
        arn = stack.resolve(self._role.role_arn)
        if isinstance(arn, dict) and isinstance(arn.get("Fn::GetAtt"), list):
            names.append({"Ref": arn["Fn::GetAtt"][0]})
        for policy in role_policies(stack, names):
            node.node.add_dependency(policy)


def role_policies(stack: cdk.Stack, role_names: list[Any]) -> list[cdk.CfnResource]:
    """The policies (``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy``) of ``stack`` that attach
    to the role whose resolved name is one of ``role_names`` and that are rendered (a policy
    with no statement is not)."""
    found: list[cdk.CfnResource] = []
    for construct in stack.node.find_all():
        if not isinstance(construct, iam.CfnPolicy | iam.CfnManagedPolicy):
            continue
        if cdk.Stack.of(construct) is not stack:
            continue  # a nested stage's or stack's policy
        roles = stack.resolve(construct.roles) or []
        if not any(name in roles for name in role_names):
            continue
        document = stack.resolve(construct.policy_document) or {}
        if isinstance(document, dict) and not document.get("Statement"):
            continue
        found.append(construct)
    return found
