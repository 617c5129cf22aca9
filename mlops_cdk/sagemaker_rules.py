"""The project's own cdk-nag 3 pack for SageMaker hosting (the public packs only check the
endpoint-config KMS key). Runs on every synth beside AwsSolutions, HIPAA and NIST 800-53 r5;
its findings are acknowledged like any other pack's (``MlopsSageMaker-<Rule>``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sagemaker as sm
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from mlops_cdk.config.serving import has_local_nvme
from mlops_cdk.intrinsics import render_resource_value

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


# The only resource types rules look up across a stack (by logical id or by type).
_INDEXED: dict[type[cdk.CfnResource], str] = {
    sm.CfnEndpointConfig: "AWS::SageMaker::EndpointConfig",
    appscaling.CfnScalableTarget: "AWS::ApplicationAutoScaling::ScalableTarget",
    ec2.CfnSecurityGroup: "AWS::EC2::SecurityGroup",
    ec2.CfnSecurityGroupIngress: "AWS::EC2::SecurityGroupIngress",
}


class StackIndex:
    """Cross-resource lookups in one stack, and each resource's properties, computed once.

    Rules run as jsii callbacks, so every construct lookup is a round trip to the CDK runtime.
    The index is built on first use, classifies constructs by their Python class (no round
    trip), and resolves logical ids only for the few types rules look up."""

    def __init__(self, stack: cdk.Stack) -> None:
        self._stack = stack
        self._by_logical_id: dict[str, cdk.CfnResource] | None = None
        self._by_type: dict[str, list[cdk.CfnResource]] = {}
        # id(node) -> (node, properties); the node is kept so its id stays unique.
        self._properties: dict[int, tuple[cdk.CfnResource, dict[str, Any]]] = {}

    def _build(self) -> dict[str, cdk.CfnResource]:
        if self._by_logical_id is None:
            self._by_logical_id = {}
            for child in self._stack.node.find_all():
                for cls, cfn_type in _INDEXED.items():
                    if isinstance(child, cls):
                        self._by_type.setdefault(cfn_type, []).append(child)
                        logical_id = str(self._stack.resolve(child.logical_id))
                        self._by_logical_id[logical_id] = child
        return self._by_logical_id

    def by_logical_id(self, logical_id: str) -> cdk.CfnResource | None:
        return self._build().get(logical_id)

    def of_type(self, cfn_type: str) -> list[cdk.CfnResource]:
        self._build()
        return self._by_type.get(cfn_type, [])

    def properties(self, node: cdk.CfnResource) -> dict[str, Any]:
        cached = self._properties.get(id(node))
        if cached is None:
            cached = (node, properties(node))
            self._properties[id(node)] = cached
        return cached[1]


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


def model_in_vpc(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    vpc = index.properties(node).get("VpcConfig") or {}
    return COMPLIANT if vpc.get("Subnets") and vpc.get("SecurityGroupIds") else NON_COMPLIANT


def model_network_isolation(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    return (
        COMPLIANT if index.properties(node).get("EnableNetworkIsolation") is True else NON_COMPLIANT
    )


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


def variant_autoscaling(node: cdk.CfnResource, index: StackIndex) -> NagRuleCompliance:
    config = _endpoint_config_of(node, index)
    if config is None:
        return NagRuleCompliance.NON_COMPLIANT  # cannot tell which variants exist
    variants = [v["VariantName"] for v in _instance_variants(index.properties(config))]
    if not variants:
        return NOT_APPLICABLE
    names = {f"<{_logical_id(node)}.EndpointName>"}
    literal = index.properties(node).get("EndpointName")
    if isinstance(literal, str):
        names.add(literal)
    scaled = set()
    for target in index.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
        props = index.properties(target)
        if props.get("ScalableDimension") != "sagemaker:variant:DesiredInstanceCount":
            continue
        scaled.add(render_resource_value(props.get("ResourceId")))
    missing = [v for v in variants if not any(f"endpoint/{n}/variant/{v}" in scaled for n in names)]
    return NON_COMPLIANT if missing else COMPLIANT


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


# --- the pack --------------------------------------------------------------------------------


MODEL = frozenset({"AWS::SageMaker::Model"})
ENDPOINT_CONFIG = frozenset({"AWS::SageMaker::EndpointConfig"})
ENDPOINT = frozenset({"AWS::SageMaker::Endpoint"})
IAM = frozenset({"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"})
VPC_ENDPOINT = frozenset({"AWS::EC2::VPCEndpoint"})


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
        return self._rule.check(node, self._index)


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
        Rule("VariantAutoscaling", "An instance variant of the endpoint has no scalable target.",
             "Without autoscaling a traffic spike degrades the endpoint instead of adding "
             "instances.", variant_autoscaling, ENDPOINT),
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
            self._indexes[path] = StackIndex(stack)
        for rule in applicable:
            # jsii declares IApplyRule's members settable; cdk-nag only reads them.
            self._apply_rule(cast(IApplyRule, _AppliedRule(rule, node, self._indexes[path])))
