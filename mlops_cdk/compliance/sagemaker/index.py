"""What the rules look at: each stack's resources as its synthesized template has them, and
lookups across the stacks of one ``cdk.Stage`` (one environment).

Validation plugins run after the cloud assembly is written, so every property is resolved
(tokens become ``Ref``/``Fn::GetAtt``/literals) and reading a template is plain JSON: no call
into the CDK runtime per resource.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops_cdk.aws.cfn_values import (
    allow_statements,
    as_list,
    condition_values,
    covers_action,
    export_key,
    intrinsic,
    referenced_logical_id,
)

MODEL_TYPE = "AWS::SageMaker::Model"
ENDPOINT_TYPE = "AWS::SageMaker::Endpoint"
ENDPOINT_CONFIG_TYPE = "AWS::SageMaker::EndpointConfig"
SCALABLE_TARGET_TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"
SECURITY_GROUP_TYPE = "AWS::EC2::SecurityGroup"
SECURITY_GROUP_INGRESS_TYPE = "AWS::EC2::SecurityGroupIngress"
VPC_ENDPOINT_TYPE = "AWS::EC2::VPCEndpoint"
TOPIC_TYPE = "AWS::SNS::Topic"
TOPIC_POLICY_TYPE = "AWS::SNS::TopicPolicy"
TOPIC_INLINE_POLICY_TYPE = "AWS::SNS::TopicInlinePolicy"
KEY_TYPE = "AWS::KMS::Key"
ROLE_TYPE = "AWS::IAM::Role"
POLICY_TYPE = "AWS::IAM::Policy"
MANAGED_POLICY_TYPE = "AWS::IAM::ManagedPolicy"
ALARM_TYPE = "AWS::CloudWatch::Alarm"
EVENT_RULE_TYPE = "AWS::Events::Rule"
COMPOSITE_ALARM_TYPE = "AWS::CloudWatch::CompositeAlarm"
FUNCTION_TYPE = "AWS::Lambda::Function"
QUEUE_TYPE = "AWS::SQS::Queue"
BUCKET_POLICY_TYPE = "AWS::S3::BucketPolicy"
REPOSITORY_TYPE = "AWS::ECR::Repository"
INFERENCE_COMPONENT_TYPE = "AWS::SageMaker::InferenceComponent"
STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"
IAM_TYPES = frozenset({ROLE_TYPE, POLICY_TYPE, MANAGED_POLICY_TYPE})


@dataclass(frozen=True)
class Resource:
    """One resource of a synthesized template (``depends_on``: its ``DependsOn`` ids)."""

    logical_id: str
    type: str
    properties: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()


class StackIndex:
    """One synthesized stack: its resources by logical id and by type.

    ``production`` says whether the stack's stage is a production environment; ``account`` and
    ``region`` are the stack's when the app states them, ``stack_name`` its CloudFormation name
    when known (else None); :meth:`stage` gives the index of every stack of that stage (built by
    the pack on first use). It is the :class:`~mlops_cdk.aws.resolved_length.Place` its values
    resolve in."""

    def __init__(
        self,
        template_path: str,
        template: Mapping[str, Any],
        *,
        production: bool = False,
        stage: Callable[[], StageIndex] | None = None,
        account: str | None = None,
        region: str | None = None,
        stack_name: str | None = None,
    ) -> None:
        self.template_path = template_path
        self.production = production
        self.account = account  # the stack's account when the app states it, else None
        self.region = region
        self.stack_name = stack_name
        self._stage = stage
        self.exports: dict[str, Any] = {
            export_key(output["Export"]["Name"]): output.get("Value")
            for output in (template.get("Outputs") or {}).values()
            if isinstance(output, dict)
            and isinstance(output.get("Export"), dict)
            and "Name" in output["Export"]
        }
        self.resources: dict[str, Resource] = {
            str(logical_id): Resource(
                str(logical_id),
                str(resource.get("Type")),
                resource.get("Properties") or {},
                _depends_on(resource.get("DependsOn")),
            )
            for logical_id, resource in (template.get("Resources") or {}).items()
            if isinstance(resource, dict)
        }
        self._by_type: dict[str, list[Resource]] = {}
        for resource in self.resources.values():
            self._by_type.setdefault(resource.type, []).append(resource)

    def by_logical_id(self, logical_id: str) -> Resource | None:
        return self.resources.get(logical_id)

    def type_of(self, logical_id: str) -> str | None:
        """The CloudFormation type of a resource of this stack, else None."""
        found = self.resources.get(logical_id)
        return found.type if found else None

    def of_type(self, cfn_type: str) -> list[Resource]:
        return self._by_type.get(cfn_type, [])

    def policies_attached_to(self, role_id: str) -> list[Resource]:
        """The ``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy`` resources of this stack whose
        ``Roles`` name the role ``role_id`` (a ``Ref`` to it)."""
        return [
            policy
            for cfn_type in (POLICY_TYPE, MANAGED_POLICY_TYPE)
            for policy in self.of_type(cfn_type)
            if any(
                referenced_logical_id(r) == role_id for r in as_list(policy.properties.get("Roles"))
            )
        ]

    def stage(self) -> StageIndex:
        """The index of every stack in this stack's ``cdk.Stage``."""
        return self._stage() if self._stage else StageIndex([self])

    def resource_at(self, logical_id: str) -> tuple[str, Mapping[str, Any]] | None:
        found = self.resources.get(logical_id)
        return (found.type, found.properties) if found else None

    def exported(self, name: str) -> tuple[StackIndex, Any] | None:
        """The stack of this stage exporting ``name``, and the exported value."""
        return self.stage().exported(name)


class StageIndex:
    """Endpoints, endpoint configs and IAM policies of every stack in one ``cdk.Stage``.

    Stacks of stages nested in it (a pipeline stack's deployment stages) belong to those
    stages and are not part of it."""

    def __init__(self, stacks: Sequence[StackIndex]) -> None:
        self.stacks = tuple(stacks)
        self._namespaces: tuple[frozenset[str], tuple[str, ...]] | None = None
        self._attached: dict[tuple[int, str], list[Resource]] | None = None
        self._ranks: dict[tuple[str, Callable[..., Any]], dict[int, int]] = {}

    def of_type(self, cfn_type: str) -> list[tuple[StackIndex, Resource]]:
        return [(stack, r) for stack in self.stacks for r in stack.of_type(cfn_type)]

    def exported(self, name: str) -> tuple[StackIndex, Any] | None:
        for stack in self.stacks:
            if name in stack.exports:
                return stack, stack.exports[name]
        return None

    def resource_of(
        self, stack: StackIndex, value: Any, cfn_type: str
    ) -> tuple[StackIndex, Resource] | None:
        """The resource of ``cfn_type`` that ``value`` in ``stack`` names, and its stack: a
        reference to one of ``stack``, or an import of one another stack of the stage exports
        (followed into the exporting stack); None when it names none."""
        found = intrinsic(value)
        if found is not None and found[0] == "Fn::ImportValue":
            exported = self.exported(export_key(found[1]))
            return None if exported is None else self.resource_of(*exported, cfn_type)
        logical_id = referenced_logical_id(value)
        resource = stack.by_logical_id(logical_id) if logical_id is not None else None
        return (stack, resource) if resource is not None and resource.type == cfn_type else None

    def role_of(self, stack: StackIndex, value: Any) -> tuple[StackIndex, str] | None:
        """The role of the stage an entry of a policy's ``Roles`` names: a ``Ref`` to a role of
        ``stack``, or an import of one exported by another stack."""
        found = self.resource_of(stack, value, ROLE_TYPE)
        return None if found is None else (found[0], found[1].logical_id)

    def policies_attached(self, stack: StackIndex, role: Resource) -> list[Resource]:
        """The ``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy`` resources of the stage
        attached to ``role`` of ``stack`` (by a ``Ref`` in its stack or an import elsewhere)."""
        if self._attached is None:
            self._attached = {}
            for cfn_type in (POLICY_TYPE, MANAGED_POLICY_TYPE):
                for owner, policy in self.of_type(cfn_type):
                    for entry in as_list(policy.properties.get("Roles")):
                        found = self.role_of(owner, entry)
                        if found is not None:
                            key = (id(found[0]), found[1])
                            self._attached.setdefault(key, []).append(policy)
        return self._attached.get((id(stack), role.logical_id), [])

    def rank_by(
        self, cfn_type: str, key: Callable[[StackIndex, Resource], Hashable | None]
    ) -> dict[int, int]:
        """Each resource of ``cfn_type`` (by ``id``) -> its place, from 1, among those with the
        same value of ``key``, in stack order, then template order (a ``key`` of None: not
        ranked); built once per type and key. 1 is the first (NamesUnique: the one that keeps
        its name); past a quota, the place says which resources are over it."""
        cache_key = (cfn_type, key)
        if cache_key not in self._ranks:
            counts: dict[Any, int] = {}
            ranks: dict[int, int] = {}
            for stack, resource in self.of_type(cfn_type):
                value = key(stack, resource)
                if value is not None:
                    counts[value] = counts.get(value, 0) + 1
                    ranks[id(resource)] = counts[value]
            self._ranks[cache_key] = ranks
        return self._ranks[cache_key]

    def endpoints_named(self, name: str) -> list[tuple[StackIndex, Resource]]:
        """Endpoints of the stage whose literal ``EndpointName`` is ``name``."""
        return [
            (stack, endpoint)
            for stack, endpoint in self.of_type(ENDPOINT_TYPE)
            if endpoint.properties.get("EndpointName") == name
        ]

    def endpoint_config_of(self, stack: StackIndex, endpoint: Resource) -> Resource | None:
        """The endpoint's config: a ``Fn::GetAtt`` to a config of its stack, or a literal name
        of a config anywhere in the stage."""
        reference = endpoint.properties.get("EndpointConfigName")
        if isinstance(reference, dict) and "Fn::GetAtt" in reference:
            config = stack.by_logical_id(reference["Fn::GetAtt"][0])
            return config if config and config.type == ENDPOINT_CONFIG_TYPE else None
        if isinstance(reference, str):
            for _, config in self.of_type(ENDPOINT_CONFIG_TYPE):
                if config.properties.get("EndpointConfigName") == reference:
                    return config
        return None

    def put_metric_namespaces(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Namespaces IAM policies of the stage let principals publish custom metrics to:
        ``cloudwatch:PutMetricData`` allowed under a ``cloudwatch:namespace`` condition.
        Returns (exact names, ``*Like`` patterns)."""
        if self._namespaces is None:
            exact: set[str] = set()
            patterns: list[str] = []
            for cfn_type in (ROLE_TYPE, POLICY_TYPE, MANAGED_POLICY_TYPE):
                for _, policy in self.of_type(cfn_type):
                    for statement in _policy_statements(policy):
                        if not covers_action(statement, "cloudwatch:PutMetricData"):
                            continue
                        for operator, values in condition_values(statement, "cloudwatch:namespace"):
                            strings = [v for v in values if isinstance(v, str)]
                            # ForAnyValue:StringEquals, StringLikeIfExists, ...; Not* operators
                            # and others do not name a namespace that may be published.
                            base = operator.rsplit(":", 1)[-1].removesuffix("IfExists")
                            if base == "StringLike":
                                patterns += strings
                            elif base in ("StringEquals", "StringEqualsIgnoreCase"):
                                exact.update(strings)
            self._namespaces = (frozenset(exact), tuple(patterns))
        return self._namespaces


def policy_documents(resource: Resource) -> list[Any]:
    """The permission policy documents of an IAM role, policy or managed policy."""
    props = resource.properties
    return [props.get("PolicyDocument")] + [
        p.get("PolicyDocument") for p in props.get("Policies") or [] if isinstance(p, dict)
    ]


def _policy_statements(resource: Resource) -> list[dict[str, Any]]:
    return [s for d in policy_documents(resource) for s in allow_statements(d)]


def _depends_on(value: Any) -> tuple[str, ...]:
    """A template's ``DependsOn``: one logical id or a list of them."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()
