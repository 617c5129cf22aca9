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

from typing import Any, ClassVar
from weakref import WeakKeyDictionary

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from constructs import IConstruct


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
        names: dict[int, list[Any]] = {}  # by role object: several resources share a role
        for resource, role in self._waits:
            if id(role) not in names:
                names[id(role)] = role_names(stack, role)
            for policy in policies.attached_to(names[id(role)]):
                resource.node.add_dependency(policy)


def role_names(stack: cdk.Stack, role: iam.IRole) -> list[Any]:
    """How the policies of ``stack`` name ``role`` (resolved): its name, and ``Ref`` of the role
    for a view of a role of this stack (``Role.from_role_arn(..., role.role_arn)``), which names
    it through its ARN while policies attach to the role itself."""
    names = [stack.resolve(role.role_name)]
    arn = stack.resolve(role.role_arn)
    if isinstance(arn, dict) and isinstance(arn.get("Fn::GetAtt"), list):
        names.append({"Ref": arn["Fn::GetAtt"][0]})
    return names


class StackPolicies:
    """The policies (``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy``) of ``stack`` as they will
    be rendered, read once: their roles now, whether they are rendered (a policy with no
    statement is not) the first time a role of theirs is asked for."""

    def __init__(self, stack: cdk.Stack) -> None:
        self._stack = stack
        self._policies: list[tuple[iam.CfnPolicy | iam.CfnManagedPolicy, list[Any]]] = [
            (construct, stack.resolve(construct.roles) or [])
            for construct in stack.node.find_all()
            if isinstance(construct, iam.CfnPolicy | iam.CfnManagedPolicy)
            and cdk.Stack.of(construct) is stack  # not a nested stage's or stack's policy
        ]
        self._rendered: dict[int, bool] = {}

    def attached_to(self, role_names: list[Any]) -> list[cdk.CfnResource]:
        """The rendered policies attached to the role whose resolved name is in ``role_names``."""
        return [
            policy
            for index, (policy, roles) in enumerate(self._policies)
            if any(name in roles for name in role_names) and self._is_rendered(index)
        ]

    def _is_rendered(self, index: int) -> bool:
        if index not in self._rendered:
            document = self._stack.resolve(self._policies[index][0].policy_document) or {}
            self._rendered[index] = not isinstance(document, dict) or bool(
                document.get("Statement")
            )
        return self._rendered[index]
