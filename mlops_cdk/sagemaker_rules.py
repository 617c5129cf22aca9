"""The project's own cdk-nag 3 pack for SageMaker hosting (the public packs only check the
endpoint-config KMS key). Runs on every synth beside AwsSolutions, HIPAA and NIST 800-53 r5;
its findings are acknowledged like any other pack's (``MlopsSageMaker-<Rule>``).

Rules are plain functions over a resource's resolved CloudFormation properties. Cross-resource
lookups go through a lazily built :class:`StackIndex` (one stack) or :class:`StageIndex` (every
stack of the resource's ``cdk.Stage``); AWS facts (metric names, namespaces, step-size limits)
live in :mod:`mlops_cdk.sagemaker_metrics`.

Rules (id: fails when):

- ``ModelVpc``: a model has no VPC config.
- ``ModelNetworkIsolation``: a model does not enable network isolation.
- ``NoFullAccess``: a role or policy grants AmazonSageMakerFullAccess, ``sagemaker:*`` or ``*``.
- ``EndpointConfigKms``: an endpoint config accepts a KMS key but has none.
- ``DataCaptureKms``: data capture is enabled without a KMS key.
- ``ProdInstanceCount``: a production instance variant has fewer than 2 instances.
- ``VariantAutoscaling``: an instance variant of an endpoint has no scalable target.
- ``ProdDeploymentConfig``: a production endpoint has no blue/green or rolling update policy.
- ``EndpointPrivateDns``: a VPC interface endpoint has private DNS disabled.
- ``EndpointOpenIngress``: an interface endpoint's security group admits 0.0.0.0/0 or ::/0.
- ``AlarmTopicCloudWatch``: an alarm notifies an SNS topic of its stack whose topic policy or KMS
  key policy does not let cloudwatch.amazonaws.com publish.
- ``UtilizationThreshold``: a CPU/GPU utilization alarm's threshold ignores that SageMaker sums
  the metric over the instance's vCPUs/GPUs.
- ``DeploymentStepSize``: a canary / linear step breaks SageMaker's 50 % / 10-50 % limits for
  some instance count the variant can scale to.
- ``RollbackBakingPeriod``: an endpoint has rollback alarms but no baking period.
- ``KeyGrantForAwsResource``: a key policy allows kms:CreateGrant to principals other than AWS
  services without ``kms:GrantIsForAWSResource``.
- ``AlarmMetricPublished``: an alarm watches a metric that nothing publishes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sm
from aws_cdk import aws_sns as sns
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from mlops_cdk.config.serving import has_local_nvme
from mlops_cdk.instance_types import UnknownInstanceType, gpus, vcpus
from mlops_cdk.intrinsics import render_resource_value
from mlops_cdk.sagemaker_metrics import (
    ENDPOINT_METRICS,
    INSTANCE_METRICS,
    INSTANCE_NAMESPACE,
    SAGEMAKER_NAMESPACE,
    STEP_TYPES,
    UTILIZATION_SUMMED,
    effective_step,
    is_aws_published_namespace,
    is_model_monitor_namespace,
    step_share,
    step_within_limits,
)

__all__ = [
    "PACK_NAME",
    "Rule",
    "SageMakerChecks",
    "StackIndex",
    "StageIndex",
    "effective_step",
    "rules",
    "step_share",
    "step_within_limits",
]

PACK_NAME = "MlopsSageMaker"
OPEN_CIDRS = ("0.0.0.0/0", "::/0")
FULL_ACCESS_POLICY = "AmazonSageMakerFullAccess"

COMPLIANT = NagRuleCompliance.COMPLIANT
NON_COMPLIANT = NagRuleCompliance.NON_COMPLIANT
NOT_APPLICABLE = NagRuleCompliance.NOT_APPLICABLE


def properties(node: cdk.CfnResource) -> dict[str, Any]:
    """The resource's CloudFormation properties (PascalCase), tokens resolved."""
    stack = cdk.Stack.of(node)
    # Resolve first: L2 constructs hold lazy values the renderer rejects unresolved.
    raw = stack.resolve(node._cfn_properties)
    resolved: dict[str, Any] = stack.resolve(node._render_properties(raw or {})) or {}
    return resolved


ENDPOINT_TYPE = "AWS::SageMaker::Endpoint"
ENDPOINT_CONFIG_TYPE = "AWS::SageMaker::EndpointConfig"
SCALABLE_TARGET_TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"
TOPIC_TYPE = "AWS::SNS::Topic"
TOPIC_POLICY_TYPE = "AWS::SNS::TopicPolicy"
TOPIC_INLINE_POLICY_TYPE = "AWS::SNS::TopicInlinePolicy"
KEY_TYPE = "AWS::KMS::Key"
ROLE_TYPE = "AWS::IAM::Role"
POLICY_TYPE = "AWS::IAM::Policy"
MANAGED_POLICY_TYPE = "AWS::IAM::ManagedPolicy"

# The only resource types rules look up across a stack (by logical id or by type).
_INDEXED: dict[type[cdk.CfnResource], str] = {
    sm.CfnEndpoint: ENDPOINT_TYPE,
    sm.CfnEndpointConfig: ENDPOINT_CONFIG_TYPE,
    appscaling.CfnScalableTarget: SCALABLE_TARGET_TYPE,
    ec2.CfnSecurityGroup: "AWS::EC2::SecurityGroup",
    ec2.CfnSecurityGroupIngress: "AWS::EC2::SecurityGroupIngress",
    sns.CfnTopic: TOPIC_TYPE,
    sns.CfnTopicPolicy: TOPIC_POLICY_TYPE,
    sns.CfnTopicInlinePolicy: TOPIC_INLINE_POLICY_TYPE,
    kms.CfnKey: KEY_TYPE,
}

# The resource types rules look up across a stage (every stack of one ``cdk.Stage``).
_STAGE_INDEXED: dict[type[cdk.CfnResource], str] = {
    sm.CfnEndpoint: ENDPOINT_TYPE,
    sm.CfnEndpointConfig: ENDPOINT_CONFIG_TYPE,
    iam.CfnRole: ROLE_TYPE,
    iam.CfnPolicy: POLICY_TYPE,
    iam.CfnManagedPolicy: MANAGED_POLICY_TYPE,
}
# Stage-indexed types whose stack and logical id rules need (GetAtt references between them).
_LOCATED = frozenset({ENDPOINT_TYPE, ENDPOINT_CONFIG_TYPE})


def _cfn_type(node: IConstruct, table: dict[type[cdk.CfnResource], str]) -> str | None:
    for cls, cfn_type in table.items():
        if isinstance(node, cls):
            return cfn_type
    return None


class _Templates:
    """Synthesized templates by stack artifact id, read once per stack.

    Validation plugins run after the cloud assembly is written, so a resource's resolved
    properties are in its stack's template file: one file read per stack and one small jsii
    call (the logical id) per resource, instead of three round trips that serialize the whole
    property tree (``properties``), which is what a rule pack spends most of its time on. Falls
    back to ``properties`` when no template is on disk (rules applied outside a synth)."""

    def __init__(self) -> None:
        self._by_artifact: dict[str, dict[str, Any] | None] = {}

    def properties(self, node: cdk.CfnResource) -> dict[str, Any]:
        stack = cdk.Stack.of(node)
        artifact = stack.artifact_id
        if artifact not in self._by_artifact:
            self._by_artifact[artifact] = _read_template(stack)
        template = self._by_artifact[artifact]
        if template is not None:
            logical_id = str(stack.resolve(node.logical_id))
            resource = (template.get("Resources") or {}).get(logical_id)
            if isinstance(resource, dict):
                found: dict[str, Any] = resource.get("Properties") or {}
                return found
        return properties(node)


def _read_template(stack: cdk.Stack) -> dict[str, Any] | None:
    stage = cdk.Stage.of(stack)
    if stage is None:  # pragma: no cover - every stack is in an app
        return None
    path = Path(stage.outdir) / stack.template_file
    try:
        template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return template


class _PropertyCache:
    """Resolved properties by node; the node is kept so its ``id`` stays unique.

    jsii hands out a new Python proxy for a CDK-created construct on every lookup, so only nodes
    an index holds on to are cached (the indexes look resources up, then reuse them)."""

    def __init__(self, templates: _Templates | None = None) -> None:
        self._by_id: dict[int, tuple[cdk.CfnResource, dict[str, Any]]] = {}
        self._templates = templates

    def get(self, node: cdk.CfnResource) -> dict[str, Any]:
        cached = self._by_id.get(id(node))
        if cached is None:
            found = self._templates.properties(node) if self._templates else properties(node)
            cached = (node, found)
            self._by_id[id(node)] = cached
        return cached[1]


class StackIndex:
    """Cross-resource lookups in one stack, and each resource's properties, computed once.

    Rules run as jsii callbacks, so every construct lookup is a round trip to the CDK runtime.
    The index is built on first use, classifies constructs by their Python class (no round
    trip), and resolves logical ids only for the few types rules look up. :meth:`stage` gives
    the (equally lazy) index of the stack's whole stage; ``stages`` shares those between the
    stacks of one app."""

    def __init__(
        self,
        stack: cdk.Stack,
        *,
        stages: dict[str, StageIndex] | None = None,
        templates: _Templates | None = None,
    ) -> None:
        self._stack = stack
        self._templates = templates
        self._by_logical_id: dict[str, cdk.CfnResource] | None = None
        self._types: dict[str, str] = {}
        self._by_type: dict[str, list[cdk.CfnResource]] = {}
        self._properties = _PropertyCache(templates)
        self._stages = stages if stages is not None else {}
        self._stage: StageIndex | None = None

    def _build(self) -> dict[str, cdk.CfnResource]:
        if self._by_logical_id is None:
            self._by_logical_id = {}
            for child in self._stack.node.find_all():
                cfn_type = _cfn_type(child, _INDEXED)
                if cfn_type is not None:
                    node = cast(cdk.CfnResource, child)
                    self._by_type.setdefault(cfn_type, []).append(node)
                    logical_id = str(self._stack.resolve(node.logical_id))
                    self._by_logical_id[logical_id] = node
                    self._types[logical_id] = cfn_type
        return self._by_logical_id

    @property
    def stack_path(self) -> str:
        return self._stack.node.path

    def by_logical_id(self, logical_id: str) -> cdk.CfnResource | None:
        return self._build().get(logical_id)

    def logical_id_of(self, node: cdk.CfnResource) -> str:
        """The logical id of an indexed resource of this stack."""
        for logical_id, candidate in self._build().items():
            if candidate is node:
                return logical_id
        return str(self._stack.resolve(node.logical_id))

    def type_of(self, logical_id: str) -> str | None:
        """The CloudFormation type of an indexed resource of this stack, else None."""
        self._build()
        return self._types.get(logical_id)

    def of_type(self, cfn_type: str) -> list[cdk.CfnResource]:
        self._build()
        return self._by_type.get(cfn_type, [])

    def properties(self, node: cdk.CfnResource) -> dict[str, Any]:
        return self._properties.get(node)

    def stage(self) -> StageIndex:
        """The index of every stack in this stack's ``cdk.Stage`` (built on first use)."""
        if self._stage is None:
            stage = cdk.Stage.of(self._stack)
            root: IConstruct = stage if stage is not None else self._stack.node.root
            path = root.node.path
            if path not in self._stages:
                self._stages[path] = StageIndex(root, self._templates)
            self._stage = self._stages[path]
        return self._stage


@dataclass(frozen=True)
class _StageEntry:
    node: cdk.CfnResource
    cfn_type: str
    stack_path: str = ""
    logical_id: str = ""


class StageIndex:
    """Endpoints, endpoint configs and IAM policies of every stack in one ``cdk.Stage``.

    Built once, on first use, from one walk of the stage. Stacks of stages nested in it (a
    pipeline stack's deployment stages) belong to those stages and are left out."""

    def __init__(self, stage: IConstruct, templates: _Templates | None = None) -> None:
        self._stage = stage
        self._entries: list[_StageEntry] | None = None
        self._properties = _PropertyCache(templates)
        self._namespaces: tuple[frozenset[str], tuple[str, ...]] | None = None

    def _build(self) -> list[_StageEntry]:
        if self._entries is None:
            own_path = self._stage.node.path
            found = list(self._stage.node.find_all())
            nested = [
                f"{c.node.path}/"
                for c in found
                if isinstance(c, cdk.Stage) and c.node.path != own_path
            ]
            entries = []
            for child in found:
                cfn_type = _cfn_type(child, _STAGE_INDEXED)
                if cfn_type is None:
                    continue
                node = cast(cdk.CfnResource, child)
                if nested and node.node.path.startswith(tuple(nested)):
                    continue
                if cfn_type in _LOCATED:
                    stack = cdk.Stack.of(node)
                    logical_id = str(stack.resolve(node.logical_id))
                    entries.append(_StageEntry(node, cfn_type, stack.node.path, logical_id))
                else:
                    entries.append(_StageEntry(node, cfn_type))
            self._entries = entries
        return self._entries

    def of_type(self, cfn_type: str) -> list[cdk.CfnResource]:
        return [e.node for e in self._build() if e.cfn_type == cfn_type]

    def properties(self, node: cdk.CfnResource) -> dict[str, Any]:
        return self._properties.get(node)

    def endpoints_named(self, name: str) -> list[_StageEntry]:
        """Endpoints of the stage whose literal ``EndpointName`` is ``name``."""
        return [
            e
            for e in self._build()
            if e.cfn_type == ENDPOINT_TYPE and self.properties(e.node).get("EndpointName") == name
        ]

    def endpoint_config_of(self, endpoint: _StageEntry) -> cdk.CfnResource | None:
        """The endpoint's config: a ``Fn::GetAtt`` to a config of its stack, or a literal name."""
        reference = self.properties(endpoint.node).get("EndpointConfigName")
        configs = [e for e in self._build() if e.cfn_type == ENDPOINT_CONFIG_TYPE]
        if isinstance(reference, dict) and "Fn::GetAtt" in reference:
            logical_id = reference["Fn::GetAtt"][0]
            for config in configs:
                if config.stack_path == endpoint.stack_path and config.logical_id == logical_id:
                    return config.node
        if isinstance(reference, str):
            for config in configs:
                if self.properties(config.node).get("EndpointConfigName") == reference:
                    return config.node
        return None

    def put_metric_namespaces(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Namespaces IAM policies of the stage let principals publish custom metrics to:
        ``cloudwatch:PutMetricData`` allowed under a ``cloudwatch:namespace`` condition.
        Returns (exact names, ``*Like`` patterns)."""
        if self._namespaces is None:
            exact: set[str] = set()
            patterns: list[str] = []
            for entry in self._build():
                if entry.cfn_type not in (ROLE_TYPE, POLICY_TYPE, MANAGED_POLICY_TYPE):
                    continue
                props = self.properties(entry.node)
                documents = [props.get("PolicyDocument")]
                documents += [p.get("PolicyDocument") for p in props.get("Policies") or []]
                for statement in (s for d in documents for s in _statements(d)):
                    if statement.get("Effect") != "Allow" or not _covers_action(
                        statement, "cloudwatch:PutMetricData"
                    ):
                        continue
                    for operator, values in _condition_values(statement, "cloudwatch:namespace"):
                        strings = [v for v in values if isinstance(v, str)]
                        # ForAnyValue:StringEquals, StringLikeIfExists, ...; Not* operators and
                        # others do not name a namespace that may be published.
                        base = operator.rsplit(":", 1)[-1].removesuffix("IfExists")
                        if base == "StringLike":
                            patterns += strings
                        elif base in ("StringEquals", "StringEqualsIgnoreCase"):
                            exact.update(strings)
            self._namespaces = (frozenset(exact), tuple(patterns))
        return self._namespaces


def _logical_id(node: cdk.CfnResource) -> str:
    return str(cdk.Stack.of(node).resolve(node.logical_id))


def _is_production(node: cdk.CfnResource, production_stages: frozenset[str]) -> bool:
    """Named in ``production_stages``, or a stage that says it is (``MlopsStage.production``)."""
    stage = cdk.Stage.of(node)
    if stage is None:
        return False
    return stage.stage_name in production_stages or getattr(stage, "production", False) is True


def _variants(props: dict[str, Any]) -> list[dict[str, Any]]:
    return list(props.get("ProductionVariants") or [])


def _instance_variants(props: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in _variants(props) if "ServerlessConfig" not in v]


# --- rules ---------------------------------------------------------------------------------


def _serves_only_serverless(node: cdk.CfnResource, index: StackIndex) -> bool:
    """True when every variant of this stack that serves the model is serverless.

    Serverless Inference supports neither VPC configuration nor network isolation ("Deploy
    models with Amazon SageMaker Serverless Inference", feature exclusions), so a model that
    only serves serverless variants must have neither: the rules do not apply to it."""
    logical_id = index.logical_id_of(node)
    references = ({"Fn::GetAtt": [logical_id, "ModelName"]}, {"Ref": logical_id})
    serverless = [
        "ServerlessConfig" in variant
        for config in index.of_type(ENDPOINT_CONFIG_TYPE)
        for variant in _variants(index.properties(config))
        if variant.get("ModelName") in references
    ]
    return bool(serverless) and all(serverless)


def model_in_vpc(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    vpc = index.properties(node).get("VpcConfig") or {}
    if vpc.get("Subnets") and vpc.get("SecurityGroupIds"):
        return COMPLIANT
    return NOT_APPLICABLE if _serves_only_serverless(node, index) else NON_COMPLIANT


def model_network_isolation(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    if index.properties(node).get("EnableNetworkIsolation") is True:
        return COMPLIANT
    return NOT_APPLICABLE if _serves_only_serverless(node, index) else NON_COMPLIANT


def _grants_sagemaker_wildcard(document: dict[str, Any] | None) -> bool:
    statements = (document or {}).get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action") or []
        for action in actions if isinstance(actions, list) else [actions]:
            if isinstance(action, str) and action.lower() in ("*", "sagemaker:*"):
                return True
    return False


def no_sagemaker_full_access(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    kind = node.cfn_resource_type
    props = index.properties(node)
    if kind == "AWS::IAM::Role":
        managed = [render_resource_value(arn) for arn in props.get("ManagedPolicyArns") or []]
        if any(arn.endswith(f"/{FULL_ACCESS_POLICY}") for arn in managed):
            return NON_COMPLIANT
        inline = [p.get("PolicyDocument") for p in props.get("Policies") or []]
        return NON_COMPLIANT if any(_grants_sagemaker_wildcard(d) for d in inline) else COMPLIANT
    return NON_COMPLIANT if _grants_sagemaker_wildcard(props.get("PolicyDocument")) else COMPLIANT


def endpoint_config_kms(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    props = index.properties(node)
    variants = _variants(props)
    if any("ServerlessConfig" in v for v in variants) or any(
        has_local_nvme(str(v.get("InstanceType", "ml.x.y"))) for v in variants
    ):
        return NOT_APPLICABLE  # SageMaker rejects a KmsKeyId for these
    return COMPLIANT if props.get("KmsKeyId") else NON_COMPLIANT


def data_capture_kms(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    capture = index.properties(node).get("DataCaptureConfig")
    if not capture or capture.get("EnableCapture") is False:
        return NOT_APPLICABLE
    return COMPLIANT if capture.get("KmsKeyId") else NON_COMPLIANT


def production_instance_count(
    node: cdk.CfnResource, index: StackIndex, production_stages: frozenset[str]
) -> NagRuleCompliance:
    if not _is_production(node, production_stages):
        return NOT_APPLICABLE
    variants = _instance_variants(index.properties(node))
    if not variants:
        return NOT_APPLICABLE
    counts = [v.get("InitialInstanceCount") for v in variants]
    return COMPLIANT if all(isinstance(c, int) and c >= 2 for c in counts) else NON_COMPLIANT


def _endpoint_config_of(endpoint: cdk.CfnResource, index: StackIndex) -> cdk.CfnResource | None:
    reference = index.properties(endpoint).get("EndpointConfigName")
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:
        return index.by_logical_id(reference["Fn::GetAtt"][0])
    if isinstance(reference, str):
        for config in index.of_type("AWS::SageMaker::EndpointConfig"):
            if index.properties(config).get("EndpointConfigName") == reference:
                return config
    return None


def _endpoint_names(endpoint: cdk.CfnResource, index: StackIndex) -> set[str]:
    """How a ScalableTarget's ResourceId can name the endpoint: its literal EndpointName, or
    ``<LogicalId.EndpointName>`` (a ``Fn::GetAtt``, rendered by :func:`render_resource_value`)."""
    names = {f"<{_logical_id(endpoint)}.EndpointName>"}
    literal = index.properties(endpoint).get("EndpointName")
    if isinstance(literal, str):
        names.add(literal)
    return names


def _scalable_targets(endpoint: cdk.CfnResource, index: StackIndex) -> dict[str, dict[str, Any]]:
    """The endpoint's variants' instance-count scalable targets in its stack, by variant name."""
    prefixes = tuple(f"endpoint/{name}/variant/" for name in _endpoint_names(endpoint, index))
    targets: dict[str, dict[str, Any]] = {}
    for target in index.of_type(SCALABLE_TARGET_TYPE):
        props = index.properties(target)
        if props.get("ScalableDimension") != "sagemaker:variant:DesiredInstanceCount":
            continue
        resource_id = render_resource_value(props.get("ResourceId"))
        for prefix in prefixes:
            if resource_id.startswith(prefix):
                targets[resource_id.removeprefix(prefix)] = props
    return targets


def variant_autoscaling(
    node: cdk.CfnResource, index: StackIndex, production_stages: frozenset[str]
) -> NagRuleCompliance:
    """Production instance variants autoscale; elsewhere a fixed fleet is a valid choice (a
    dev endpoint of one instance), as the configuration reference documents."""
    if not _is_production(node, production_stages):
        return NOT_APPLICABLE
    config = _endpoint_config_of(node, index)
    if config is None:
        return NagRuleCompliance.NON_COMPLIANT  # cannot tell which variants exist
    variants = [v["VariantName"] for v in _instance_variants(index.properties(config))]
    if not variants:
        return NOT_APPLICABLE
    scaled = _scalable_targets(node, index)
    return NON_COMPLIANT if any(v not in scaled for v in variants) else COMPLIANT


def production_deployment_config(
    node: cdk.CfnResource, index: StackIndex, production_stages: frozenset[str]
) -> NagRuleCompliance:
    if not _is_production(node, production_stages):
        return NOT_APPLICABLE
    deployment = index.properties(node).get("DeploymentConfig") or {}
    guarded = deployment.get("BlueGreenUpdatePolicy") or deployment.get("RollingUpdatePolicy")
    return COMPLIANT if guarded else NON_COMPLIANT


def _interface_endpoint(node: cdk.CfnResource, index: StackIndex) -> dict[str, Any] | None:
    props = index.properties(node)
    return props if props.get("VpcEndpointType") == "Interface" else None


def interface_endpoint_private_dns(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    props = _interface_endpoint(node, index)
    if props is None:
        return NOT_APPLICABLE
    return COMPLIANT if props.get("PrivateDnsEnabled") is True else NON_COMPLIANT


def _open_ingress(index: StackIndex, group_logical_id: str) -> bool:
    group = index.by_logical_id(group_logical_id)
    rules = list((index.properties(group).get("SecurityGroupIngress") or []) if group else [])
    for ingress in index.of_type("AWS::EC2::SecurityGroupIngress"):
        props = index.properties(ingress)
        reference = props.get("GroupId")
        if (
            isinstance(reference, dict)
            and reference.get("Fn::GetAtt", [None])[0] == group_logical_id
        ):
            rules.append(props)
    return any(r.get("CidrIp") in OPEN_CIDRS or r.get("CidrIpv6") in OPEN_CIDRS for r in rules)


def interface_endpoint_closed_ingress(
    node: cdk.CfnResource, index: StackIndex
) -> NagRuleCompliance:
    props = _interface_endpoint(node, index)
    if props is None:
        return NOT_APPLICABLE
    for group in props.get("SecurityGroupIds") or []:
        is_reference = isinstance(group, dict) and "Fn::GetAtt" in group
        if is_reference and _open_ingress(index, group["Fn::GetAtt"][0]):
            return NON_COMPLIANT
    return COMPLIANT


# --- policy documents ---------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _covers_action(statement: dict[str, Any], action: str) -> bool:
    """Whether the statement's Action (or NotAction) covers ``action``, IAM-style: wildcards,
    case-insensitive. ``action`` may itself end in ``*`` (``kms:GenerateDataKey*``): it is then
    covered only by that pattern or a wider one (``kms:*``, ``kms:Generate*``, ``*``)."""
    target = action.lower()
    if "NotAction" in statement:
        excluded = [a.lower() for a in _as_list(statement["NotAction"]) if isinstance(a, str)]
        return not any(fnmatchcase(target, pattern) for pattern in excluded)
    allowed = [a.lower() for a in _as_list(statement.get("Action")) if isinstance(a, str)]
    return any(fnmatchcase(target, pattern) for pattern in allowed)


def _admits_service(statement: dict[str, Any], service: str) -> bool:
    """Whether the statement's Principal includes the service principal (or is ``*``)."""
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in _as_list(principal.get("AWS")):
        return True
    return service in (render_resource_value(s) for s in _as_list(principal.get("Service")))


def _allows_service(document: Any, service: str, actions: Iterable[str]) -> bool:
    """Every action is allowed to ``service`` by some Allow statement of the document."""
    allowing = [
        s
        for s in _statements(document)
        if s.get("Effect") == "Allow" and "NotPrincipal" not in s and _admits_service(s, service)
    ]
    return all(any(_covers_action(s, action) for s in allowing) for action in actions)


def _condition_values(statement: dict[str, Any], key: str) -> list[tuple[str, list[Any]]]:
    """(operator, values) of every condition on ``key`` (keys compare case-insensitively)."""
    found = []
    for operator, conditions in (statement.get("Condition") or {}).items():
        if not isinstance(conditions, dict):
            continue
        for condition_key, values in conditions.items():
            if isinstance(condition_key, str) and condition_key.lower() == key.lower():
                found.append((str(operator), _as_list(values)))
    return found


def _referenced_logical_id(value: Any) -> str | None:
    """``X`` of ``{"Ref": "X"}`` or ``{"Fn::GetAtt": ["X", ...]}``."""
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], str):
            return attribute[0]
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# --- alarms ----------------------------------------------------------------------------------

CLOUDWATCH_SERVICE = "cloudwatch.amazonaws.com"
_ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
# The AWS managed key for SNS: its key policy cannot be changed, so no AWS service can publish.
_SNS_MANAGED_KEY = re.compile(r"(^|:)alias/aws/sns$")


def _topic_policy_documents(index: StackIndex, topic_id: str) -> list[Any]:
    """Policy documents of the stack's topic policies that name the topic (``Ref``: CDK's and
    the usual form; a topic named by a literal ARN is not matched)."""
    reference = {"Ref": topic_id}
    documents = []
    for policy in index.of_type(TOPIC_POLICY_TYPE):
        props = index.properties(policy)
        if reference in _as_list(props.get("Topics")):
            documents.append(props.get("PolicyDocument"))
    for policy in index.of_type(TOPIC_INLINE_POLICY_TYPE):
        props = index.properties(policy)
        if props.get("TopicArn") == reference:
            documents.append(props.get("PolicyDocument"))
    return documents


def _cloudwatch_can_publish(index: StackIndex, topic_id: str) -> bool:
    documents = _topic_policy_documents(index, topic_id)
    # A topic policy replaces the default one (which lets the account's principals publish).
    if not all(_allows_service(d, CLOUDWATCH_SERVICE, ["sns:Publish"]) for d in documents):
        return False
    topic = index.by_logical_id(topic_id)
    key = index.properties(topic).get("KmsMasterKeyId") if topic is not None else None
    if isinstance(key, str) and _SNS_MANAGED_KEY.search(key):
        return False
    key_id = _referenced_logical_id(key)
    if key_id is None or index.type_of(key_id) != KEY_TYPE:
        return True  # unencrypted, or a key of another stack / account: not checked
    key_node = index.by_logical_id(key_id)
    key_policy = index.properties(key_node).get("KeyPolicy") if key_node is not None else None
    return _allows_service(key_policy, CLOUDWATCH_SERVICE, ["kms:Decrypt", "kms:GenerateDataKey*"])


def alarm_topic_cloudwatch(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    props = index.properties(node)
    topics = {
        logical_id
        for name in _ALARM_ACTIONS
        for action in _as_list(props.get(name))
        if (logical_id := _referenced_logical_id(action)) is not None
        and index.type_of(logical_id) == TOPIC_TYPE
    }
    if not topics:
        return NOT_APPLICABLE
    return COMPLIANT if all(_cloudwatch_can_publish(index, t) for t in topics) else NON_COMPLIANT


@dataclass(frozen=True)
class _WatchedMetric:
    """One metric an alarm watches: the alarm's own, or a MetricStat of its metric math."""

    metric_id: str | None  # None for the alarm's top-level metric
    namespace: Any
    name: Any
    dimensions: dict[str, Any]
    returned: bool  # the alarm evaluates this metric itself (not through an expression)


def _dimensions(metric: dict[str, Any]) -> dict[str, Any]:
    return {
        str(d.get("Name")): d.get("Value")
        for d in _as_list(metric.get("Dimensions"))
        if isinstance(d, dict)
    }


def _watched_metrics(props: dict[str, Any]) -> list[_WatchedMetric]:
    """The alarm's metric, or the MetricStats of its metric math (expressions are skipped)."""
    if props.get("MetricName") is not None:
        namespace, name = props.get("Namespace"), props["MetricName"]
        return [_WatchedMetric(None, namespace, name, _dimensions(props), returned=True)]
    watched = []
    for query in _as_list(props.get("Metrics")):
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        metric = stat.get("Metric") if isinstance(stat, dict) else None
        if not isinstance(metric, dict):
            continue
        namespace, name = metric.get("Namespace"), metric.get("MetricName")
        metric_id = query.get("Id")
        watched.append(
            _WatchedMetric(
                metric_id if isinstance(metric_id, str) else None,
                namespace,
                name,
                _dimensions(metric),
                returned=query.get("ReturnData") is not False,
            )
        )
    return watched


def _returned_expression(props: dict[str, Any]) -> str | None:
    for query in _as_list(props.get("Metrics")):
        if (
            isinstance(query, dict)
            and "Expression" in query
            and query.get("ReturnData") is not False
        ):
            expression = query["Expression"]
            return expression if isinstance(expression, str) else None
    return None


def _stage_endpoint(index: StackIndex, name: Any) -> tuple[StageIndex, _StageEntry] | None:
    """The endpoint an alarm's EndpointName dimension names: a literal name defined in the
    stage, or a ``Fn::GetAtt`` to an endpoint of the alarm's stack."""
    stage = index.stage()
    if isinstance(name, str):
        found = stage.endpoints_named(name)
        return (stage, found[0]) if found else None
    logical_id = _referenced_logical_id(name)
    if logical_id is not None and index.type_of(logical_id) == ENDPOINT_TYPE:
        endpoint = index.by_logical_id(logical_id)
        if endpoint is not None:
            return stage, _StageEntry(endpoint, ENDPOINT_TYPE, index.stack_path, logical_id)
    return None


def _variant_of(index: StackIndex, dimensions: dict[str, Any]) -> dict[str, Any] | None:
    """The production variant an alarm's EndpointName/VariantName dimensions name, if the
    stage defines it."""
    found = _stage_endpoint(index, dimensions.get("EndpointName"))
    if found is None:
        return None
    stage, endpoint = found
    config = stage.endpoint_config_of(endpoint)
    if config is None:
        return None
    for variant in _variants(stage.properties(config)):
        if variant.get("VariantName") == dimensions.get("VariantName"):
            return variant
    return None


def _summed_over(metric_name: str, instance_type: Any) -> int:
    """How many vCPUs / GPUs the metric sums over; raises :class:`UnknownInstanceType`."""
    if not isinstance(instance_type, str):
        raise UnknownInstanceType(f"instance type {instance_type!r} is not a literal")
    if UTILIZATION_SUMMED[metric_name] == "vcpus":
        return vcpus(instance_type)
    return gpus(instance_type)


def _divides(expression: str, metric_id: str, count: int) -> bool:
    """``expression`` divides the metric by ``count``: ``cpu / 4``, ``(cpu) / 4.0``."""
    pattern = rf"(?<![\w.])\(?\s*{re.escape(metric_id)}\s*\)?\s*/\s*{count}(\.0*)?(?![\w.])"
    return re.search(pattern, expression) is not None


def utilization_threshold(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    props = index.properties(node)
    checked = False
    for metric in _watched_metrics(props):
        if metric.namespace != INSTANCE_NAMESPACE or metric.name not in UTILIZATION_SUMMED:
            continue
        variant = _variant_of(index, metric.dimensions)
        if variant is None or "ServerlessConfig" in variant:
            continue  # a foreign endpoint (AlarmMetricPublished), or no instances to sum over
        try:
            count = _summed_over(metric.name, variant.get("InstanceType"))
        except UnknownInstanceType:
            return NON_COMPLIANT
        if metric.returned:
            threshold = _number(props.get("Threshold"))
            if threshold is None:
                continue  # an anomaly-detection band, not a static threshold
            checked = True
            if not (threshold <= 100 * count and (count == 1 or threshold > 100)):
                return NON_COMPLIANT
        else:
            checked = True
            expression = _returned_expression(props) or ""
            if count != 1 and not _divides(expression, metric.metric_id or "", count):
                return NON_COMPLIANT
    return COMPLIANT if checked else NOT_APPLICABLE


def _endpoint_defined(index: StackIndex, name: Any) -> bool:
    return _stage_endpoint(index, name) is not None


def alarm_metric_published(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    metrics = _watched_metrics(index.properties(node))
    if not metrics:
        return NOT_APPLICABLE
    for metric in metrics:
        namespace, name = metric.namespace, metric.name
        if not isinstance(namespace, str) or not isinstance(name, str):
            continue  # a token: cannot tell
        if namespace in (SAGEMAKER_NAMESPACE, INSTANCE_NAMESPACE):
            known = ENDPOINT_METRICS if namespace == SAGEMAKER_NAMESPACE else INSTANCE_METRICS
            if name not in known or not _endpoint_defined(
                index, metric.dimensions.get("EndpointName")
            ):
                return NON_COMPLIANT
        elif is_model_monitor_namespace(namespace):
            return NON_COMPLIANT
        elif is_aws_published_namespace(namespace):
            continue
        else:
            exact, patterns = index.stage().put_metric_namespaces()
            if namespace not in exact and not any(fnmatchcase(namespace, p) for p in patterns):
                return NON_COMPLIANT
    return COMPLIANT


# --- deployments -----------------------------------------------------------------------------


def _fleet_sizes(variant: dict[str, Any], target: dict[str, Any] | None) -> range:
    """Every instance count the variant can have: its initial count and its scaling range."""
    counts = [
        int(c)
        for c in (
            variant.get("InitialInstanceCount"),
            *((target.get("MinCapacity"), target.get("MaxCapacity")) if target else ()),
        )
        if _number(c) is not None
    ]
    if not counts:
        return range(0)
    return range(max(min(counts), 1), max(counts) + 1)


def deployment_step_size(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    deployment = index.properties(node).get("DeploymentConfig") or {}
    routing = (deployment.get("BlueGreenUpdatePolicy") or {}).get("TrafficRoutingConfiguration")
    if not isinstance(routing, dict) or routing.get("Type") not in ("CANARY", "LINEAR"):
        return NOT_APPLICABLE
    kind = str(routing["Type"])
    step = routing.get("CanarySize" if kind == "CANARY" else "LinearStepSize")
    step_type = step.get("Type") if isinstance(step, dict) else None
    value = _number(step.get("Value")) if isinstance(step, dict) else None
    if step_type not in STEP_TYPES or value is None:
        return NON_COMPLIANT  # SageMaker needs the step of a canary / linear shift
    config = _endpoint_config_of(node, index)
    if config is None:
        return NOT_APPLICABLE
    targets = _scalable_targets(node, index)
    for variant in _variants(index.properties(config)):
        if "ServerlessConfig" in variant:
            if step_type == "INSTANCE_COUNT":
                return NON_COMPLIANT  # a serverless variant has no instances to count
            continue
        target = targets.get(str(variant.get("VariantName")))
        for fleet in _fleet_sizes(variant, target):
            if not step_within_limits(kind, step_type, value, fleet):
                return NON_COMPLIANT
    return COMPLIANT


def rollback_baking_period(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    deployment = index.properties(node).get("DeploymentConfig") or {}
    alarms = (deployment.get("AutoRollbackConfiguration") or {}).get("Alarms")
    if not alarms:
        return NOT_APPLICABLE
    waits = []
    if deployment.get("BlueGreenUpdatePolicy"):
        routing = deployment["BlueGreenUpdatePolicy"].get("TrafficRoutingConfiguration") or {}
        waits.append(routing.get("WaitIntervalInSeconds"))
    if deployment.get("RollingUpdatePolicy"):
        waits.append(deployment["RollingUpdatePolicy"].get("WaitIntervalInSeconds"))
    baked = [(_number(w) or 0) > 0 for w in waits]
    return COMPLIANT if baked and all(baked) else NON_COMPLIANT


# --- KMS -------------------------------------------------------------------------------------


def _grant_is_for_aws_resource(statement: dict[str, Any]) -> bool:
    for operator, values in _condition_values(statement, "kms:GrantIsForAWSResource"):
        if (
            operator.lower() == "bool"
            and values
            and all(v is True or (isinstance(v, str) and v.lower() == "true") for v in values)
        ):
            return True
    return False


def _only_service_principals(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    return isinstance(principal, dict) and set(principal) == {"Service"}


def key_grant_for_aws_resource(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    policy = index.properties(node).get("KeyPolicy")
    if policy is None:
        return NON_COMPLIANT  # KMS's default key policy: the account root may call kms:*
    for statement in _statements(policy):
        if (
            statement.get("Effect") == "Allow"
            and _covers_action(statement, "kms:CreateGrant")
            and not _only_service_principals(statement)
            and not _grant_is_for_aws_resource(statement)
        ):
            return NON_COMPLIANT
    return COMPLIANT


# --- the pack --------------------------------------------------------------------------------


MODEL = frozenset({"AWS::SageMaker::Model"})
ENDPOINT_CONFIG = frozenset({"AWS::SageMaker::EndpointConfig"})
ENDPOINT = frozenset({"AWS::SageMaker::Endpoint"})
IAM = frozenset({"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"})
VPC_ENDPOINT = frozenset({"AWS::EC2::VPCEndpoint"})
ALARM = frozenset({"AWS::CloudWatch::Alarm"})
ALARM_WITH_ACTIONS = frozenset({"AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"})
KMS_KEY = frozenset({KEY_TYPE})


@dataclass(frozen=True)
class Rule:
    rule_id: str
    info: str
    explanation: str
    check: Callable[[cdk.CfnResource, StackIndex], NagRuleCompliance]
    resource_types: frozenset[str]


@jsii.implements(IApplyRule)
class _AppliedRule:
    """Adapter handed to cdk-nag (jsii reads interface members from class properties)."""

    def __init__(self, rule: Rule, node: cdk.CfnResource, index: StackIndex) -> None:
        self._rule = rule
        self._node = node
        self._index = index

    @property
    def node(self) -> cdk.CfnResource:
        return self._node

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.rule_id

    @property
    def info(self) -> str:
        return self._rule.info

    @property
    def explanation(self) -> str:
        return self._rule.explanation

    @property
    def level(self) -> NagMessageLevel:
        return NagMessageLevel.ERROR

    def rule(self, node: cdk.CfnResource) -> NagRuleCompliance:
        # ``node`` is the resource handed to ``checkResource``, but jsii passes a new proxy of
        # it: checking the adapter's own node lets the rules of one resource share its cached
        # properties (resolving them is the pack's main cost).
        del node
        return self._rule.check(self._node, self._index)


def rules(production_stages: frozenset[str]) -> list[Rule]:
    def prod(
        check: Callable[[cdk.CfnResource, StackIndex, frozenset[str]], NagRuleCompliance],
    ) -> Callable[[cdk.CfnResource, StackIndex], NagRuleCompliance]:
        return lambda node, index: check(node, index, production_stages)

    return [
        Rule("ModelVpc", "The SageMaker model has no VPC config.",
             "Models should run in private subnets behind their own security group.",
             model_in_vpc, MODEL),
        Rule("ModelNetworkIsolation", "The SageMaker model does not enable network isolation.",
             "Network isolation stops the model container from making any network calls.",
             model_network_isolation, MODEL),
        Rule("NoFullAccess", "The role or policy grants AmazonSageMakerFullAccess, "
             "sagemaker:* or *.",
             "Execution roles should list the SageMaker actions and resources they need.",
             no_sagemaker_full_access, IAM),
        Rule("EndpointConfigKms", "The endpoint config has no KMS key for its storage volumes.",
             "Instance types without local NVMe storage accept a customer-managed key.",
             endpoint_config_kms, ENDPOINT_CONFIG),
        Rule("DataCaptureKms", "Data capture is not encrypted with a KMS key.",
             "Captured requests and responses may contain personal data.", data_capture_kms,
             ENDPOINT_CONFIG),
        Rule("ProdInstanceCount", "A production instance variant has fewer than 2 instances.",
             "Two or more instances let SageMaker spread a variant across availability zones.",
             prod(production_instance_count), ENDPOINT_CONFIG),
        Rule("VariantAutoscaling", "An instance variant of the production endpoint has no "
             "scalable target.",
             "Without autoscaling a traffic spike degrades the endpoint instead of adding "
             "instances.", prod(variant_autoscaling), ENDPOINT),
        Rule("ProdDeploymentConfig", "The production endpoint has no deployment guardrails.",
             "Blue/green or rolling updates with rollback alarms keep a bad model version "
             "from taking all production traffic.", prod(production_deployment_config),
             ENDPOINT),
        Rule("EndpointPrivateDns", "The VPC interface endpoint has private DNS disabled.",
             "Without private DNS, SDK calls resolve to public endpoints and leave the VPC.",
             interface_endpoint_private_dns, VPC_ENDPOINT),
        Rule("EndpointOpenIngress", "The VPC interface endpoint's security group admits "
             "0.0.0.0/0 or ::/0.",
             "Endpoints should accept HTTPS from the VPC only.", interface_endpoint_closed_ingress,
             VPC_ENDPOINT),
        Rule("AlarmTopicCloudWatch",
             "The alarm notifies an SNS topic that CloudWatch is not allowed to publish to.",
             "CloudWatch publishes alarm notifications as the service principal "
             "cloudwatch.amazonaws.com; when it may not, the alarm changes state but nobody is "
             "notified, and nothing fails at deploy time. An AWS::SNS::TopicPolicy replaces the "
             "topic's default access policy (which admits the account's own publishers), so it "
             "must Allow Service cloudwatch.amazonaws.com sns:Publish: "
             "topic.add_to_resource_policy(...), scoped with an aws:SourceArn condition on the "
             "alarm ARNs. A topic encrypted with a KMS key of this stack needs the key policy to "
             "Allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*: "
             "key.grant(iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', "
             "'kms:GenerateDataKey*'); the AWS managed key alias/aws/sns cannot be granted at "
             "all. Only topics referenced with Ref and keys of the alarm's own stack are "
             "checked; topics and keys of other stacks or accounts (Fn::ImportValue, literal "
             "ARNs) are not.",
             alarm_topic_cloudwatch, ALARM_WITH_ACTIONS),
        Rule("UtilizationThreshold",
             "The CPU/GPU utilization alarm's threshold does not account for SageMaker summing "
             "the metric over the instance's vCPUs/GPUs.",
             "In /aws/sagemaker/Endpoints, CPUUtilization is the sum of every vCPU's utilization "
             "(0-400 % on 4 vCPUs) and GPUUtilization / GPUMemoryUtilization the sum over the "
             "GPUs. On a multi-vCPU instance a threshold of at most 100 is a per-core figure (90 "
             "on ml.m5.xlarge fires at 22.5 % of the instance), and one above 100 x count never "
             "fires. Set the threshold to the percentage x the variant's vCPU/GPU count "
             "(mlops_cdk.instance_types.vcpus / gpus), or alarm on metric math that divides by "
             "the count ('cpu / 4'). Also fails when the count of the variant's instance type is "
             "not known to mlops_cdk/instance_types.py, or a GPU metric watches an instance type "
             "without GPUs.",
             utilization_threshold, ALARM),
        Rule("DeploymentStepSize",
             "A canary or linear traffic-shifting step is outside SageMaker's limits for a fleet "
             "size the variant can have.",
             "SageMaker (TrafficRoutingConfig) requires CanarySize <= 50 % and LinearStepSize "
             "10-50 % of the variant's instance count at the time of the update, so a step that "
             "fits today's count fails the deployment after autoscaling has changed it. Every "
             "count from min(InitialInstanceCount, MinCapacity) to max(InitialInstanceCount, "
             "MaxCapacity) of the variant's scalable target is checked; CAPACITY_PERCENT is "
             "rounded up to whole instances (10 % of 3 instances moves 1 = 33 %). Choose a step "
             "valid over the whole range (usually CAPACITY_PERCENT) or narrow the range. "
             "Serverless variants accept only CAPACITY_PERCENT.",
             deployment_step_size, ENDPOINT),
        Rule("RollbackBakingPeriod",
             "The endpoint has auto-rollback alarms but no baking period.",
             "SageMaker evaluates rollback alarms only during a deployment's baking periods; "
             "with WaitIntervalInSeconds missing or 0 all traffic moves to the new fleet and the "
             "old fleet is terminated before any alarm can trip, so a bad model version is never "
             "rolled back. Set BlueGreenUpdatePolicy.TrafficRoutingConfiguration."
             "WaitIntervalInSeconds (or RollingUpdatePolicy.WaitIntervalInSeconds) to at least "
             "the time the rollback alarms need to go into ALARM.",
             rollback_baking_period, ENDPOINT),
        Rule("KeyGrantForAwsResource",
             "The KMS key policy allows kms:CreateGrant to principals other than AWS services "
             "without the kms:GrantIsForAWSResource condition.",
             "A principal that may call kms:CreateGrant can grant itself or anyone else use of "
             "the key, outside the key policy and IAM. With Condition Bool "
             "kms:GrantIsForAWSResource 'true' only AWS services integrated with KMS (SageMaker, "
             "EBS, ...) can create grants on the principal's behalf. Add the condition, or move "
             "kms:CreateGrant out of the kms:* statement into a conditioned one. CDK's default "
             "key policy (account root, kms:*) and a key without KeyPolicy (KMS's default) "
             "fail this rule: acknowledge it on the key with the reason that is acceptable.",
             key_grant_for_aws_resource, KMS_KEY),
        Rule("AlarmMetricPublished",
             "The alarm watches a metric that nothing publishes.",
             "An alarm on a metric that is never published stays in INSUFFICIENT_DATA (or its "
             "missing-data state) and never fires. SageMaker metrics must be documented ones "
             "(AWS/SageMaker endpoint invocation metrics, /aws/sagemaker/Endpoints instance "
             "metrics; see mlops_cdk/sagemaker_metrics.py) with an EndpointName dimension naming "
             "an endpoint this stage defines (a literal EndpointName, or Fn::GetAtt in the same "
             "stack): an alarm of one environment watching another's endpoint fails here. "
             "SageMaker Model Monitor namespaces fail: Model Monitor is closed to new customers "
             "and nothing in this app creates a monitoring schedule. Other AWS/ namespaces pass. "
             "A custom namespace passes when an IAM policy of this stage allows "
             "cloudwatch:PutMetricData with a cloudwatch:namespace condition naming it; "
             "otherwise acknowledge the finding with a reason naming the publisher.",
             alarm_metric_published, ALARM),
    ]  # fmt: skip


class SageMakerChecks(NagPack):
    """cdk-nag 3 pack: ``cdk.Validations.of(app).add_plugins(SageMakerChecks(app, ...))``.

    ``production_stages`` names the stages (environments) the production rules apply to.
    """

    def __init__(self, scope: IConstruct | None = None, *, production_stages: Iterable[str] = ()):
        super().__init__(scope)
        self._pack_name = PACK_NAME
        self._rules = rules(frozenset(production_stages))
        self._indexes: dict[str, StackIndex] = {}  # by stack path; a pack serves one app
        self._templates = _Templates()
        self._stages: dict[str, StageIndex] = {}  # by stage path, shared by the stack indexes

    @property
    @jsii.member(jsii_name="name")
    def name(self) -> str:
        return PACK_NAME

    @jsii.member(jsii_name="checkResource")
    def _check_resource(self, node: cdk.CfnResource) -> None:
        # One jsii call for the type; rules for other types are not applied at all (most
        # resources in a stack are none of the types these rules look at).
        kind = node.cfn_resource_type
        applicable = [rule for rule in self._rules if kind in rule.resource_types]
        if not applicable:
            return
        stack = cdk.Stack.of(node)
        path = stack.node.path
        if path not in self._indexes:
            self._indexes[path] = StackIndex(stack, stages=self._stages, templates=self._templates)
        for rule in applicable:
            # jsii declares IApplyRule's members settable; cdk-nag only reads them.
            self._apply_rule(cast(IApplyRule, _AppliedRule(rule, node, self._indexes[path])))
