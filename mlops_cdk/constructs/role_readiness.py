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
construct, a policy a stack adds later): the policies are looked up when the app is synthesized.
One aspect per stack, on the first waiting resource only (so no other construct is visited), serves
every waiting resource of that stack: the stack is walked and each policy resolved once per
synthesis, not once per waiting resource (each is a jsii round trip; a service stack has several
waiting resources on one role). The SageMaker pack's ``RolePoliciesFirst`` rule checks the
synthesized templates for the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from mlops_cdk.aws.resolve import resolve_each


def wait_for_role_policies(resource: cdk.CfnResource, role: iam.IRole) -> None:
    """Make ``resource`` depend on every IAM policy and managed policy of its stack that is
    attached to ``role`` (found at synthesis, so later grants count too)."""
    _StackWaits.of(resource).add(resource, role)


@jsii.implements(cdk.IAspect)
class _StackWaits:
    """The resources of one stack that wait for their roles' policies, and the aspect (on the
    first of them) that adds their dependencies at synthesis."""

    # By stack object: a stack made in Python is the same object for every resource of it. (A
    # stack made inside an L2 comes back through jsii as a new proxy each time: its resources
    # then get a group each, which is correct, only not shared.)
    _of_stack: ClassVar[WeakKeyDictionary[cdk.Stack, _StackWaits]] = WeakKeyDictionary()

    def __init__(self, first: cdk.CfnResource) -> None:
        self._path = first.node.path
        self._waits: list[tuple[cdk.CfnResource, iam.IRole]] = []

    @classmethod
    def of(cls, resource: cdk.CfnResource) -> _StackWaits:
        stack = cdk.Stack.of(resource)
        waits = cls._of_stack.get(stack)
        if waits is None:
            waits = cls._of_stack[stack] = cls(resource)
            cdk.Aspects.of(resource).add(waits)
        return waits

    def add(self, resource: cdk.CfnResource, role: iam.IRole) -> None:
        self._waits.append((resource, role))

    def visit(self, node: IConstruct) -> None:
        # By path: a resource made inside an L2 comes back through jsii as a new proxy object.
        if node.node.path != self._path:
            return
        stack = cdk.Stack.of(node)
        policies = StackPolicies(stack)
        # Each call into the CDK runtime is a jsii round trip: every role's names are resolved
        # in one call (several resources share a role), every attached policy's document in
        # another, and each resource gets all its policies in one (variadic) add_dependency.
        roles = list({id(role): role for _, role in self._waits}.values())
        names = dict(zip(map(id, roles), role_names(stack, roles), strict=True))
        attached = [policies.attached_to(names[id(role)]) for _, role in self._waits]
        rendered = policies.rendered([index for indexes in attached for index in indexes])
        for (resource, _), indexes in zip(self._waits, attached, strict=True):
            dependencies = [policies.policy(index) for index in indexes if index in rendered]
            if dependencies:  # CloudFormation's DependsOn is rendered sorted: order is moot
                resource.node.add_dependency(*dependencies)


def role_names(stack: cdk.Stack, roles: Sequence[iam.IRole]) -> list[list[Any]]:
    """How the policies of ``stack`` name each of ``roles`` (resolved): its name, and ``Ref`` of
    the role for a view of a role of this stack (``Role.from_role_arn(..., role.role_arn)``),
    which names it through its ARN while policies attach to the role itself."""
    # A role made here (``iam.Role``) is named by its ARN as ``Fn::GetAtt`` of the same logical
    # id its name is a ``Ref`` to (or, across environments, by a physical ARN): its ARN adds no
    # name, so it is not read (a round trip each).
    resolved = resolve_each(
        stack,
        [
            {"name": role.role_name}
            if isinstance(role, iam.Role)
            else {"name": role.role_name, "arn": role.role_arn}
            for role in roles
        ],
    )
    names = []
    for role in resolved:
        names.append([role["name"]])
        arn = role.get("arn")
        if isinstance(arn, dict) and isinstance(arn.get("Fn::GetAtt"), list):
            names[-1].append({"Ref": arn["Fn::GetAtt"][0]})
    return names


class StackPolicies:
    """The policies (``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy``) of ``stack`` as they will
    be rendered, read once: their roles now, whether they are rendered (a policy with no
    statement is not) for the policies asked about."""

    def __init__(self, stack: cdk.Stack) -> None:
        self._stack = stack
        found = stack.node.find_all()  # the stack first, then its descendants
        # Not a nested stage's or stack's policy. ``isinstance`` is answered in Python, while
        # ``Stack.of`` is a round trip per policy: asked only when the stack nests one.
        nests = any(isinstance(construct, cdk.Stack | cdk.Stage) for construct in found[1:])
        policies = [
            construct
            for construct in found
            if isinstance(construct, iam.CfnPolicy | iam.CfnManagedPolicy)
            and (not nests or cdk.Stack.of(construct) is stack)
        ]
        roles = resolve_each(stack, [policy.roles for policy in policies])
        self._policies = [
            (policy, policy_roles or [])
            for policy, policy_roles in zip(policies, roles, strict=True)
        ]

    def policy(self, index: int) -> iam.CfnPolicy | iam.CfnManagedPolicy:
        return self._policies[index][0]

    def attached_to(self, role_names: list[Any]) -> list[int]:
        """The indexes of the policies attached to the role whose resolved name is in
        ``role_names``, rendered or not."""
        return [
            index
            for index, (_, roles) in enumerate(self._policies)
            if any(name in roles for name in role_names)
        ]

    def rendered(self, indexes: Iterable[int]) -> set[int]:
        """Those of ``indexes`` whose policy is rendered: its document, resolved, has a
        statement (all documents resolved in one call)."""
        asked = sorted(set(indexes))
        documents = resolve_each(
            self._stack, [self.policy(index).policy_document for index in asked]
        )
        return {
            index
            for index, document in zip(asked, documents, strict=True)
            if _has_statement(document or {})
        }


def _has_statement(document: Any) -> bool:
    return not isinstance(document, dict) or bool(document.get("Statement"))
