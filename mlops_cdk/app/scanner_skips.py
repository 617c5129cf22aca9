"""Reasoned skips for other IaC scanners that users run over our templates (checkov).

cdk-nag acknowledgements are construct metadata and never reach the templates, so a user's
pipeline that runs checkov over ``cdk.out`` would report findings this project has already
decided on. Each decision is written where checkov reads it, the resource's
``Metadata.checkov.skip`` (``[{"id": ..., "comment": ...}]``, checkov's "Suppressing and
skipping policies" for CloudFormation), with its reason. ``make scan`` runs the pinned checkov
over every template and fails on any finding that is neither fixed nor skipped here.

Every rule names its resource type and a condition, so a new resource of the same type that
does not meet the condition is still reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import Construct, IConstruct

from mlops_cdk.constructs.network import LAMBDA_VPC_ACTIONS
from mlops_cdk.constructs.roles import (
    DESCRIBE_NETWORK_ACTIONS,
    ENI_ACTIONS,
    PROCESSING_NETWORK_SID,
)

SCANNER = "checkov"


class Resource:
    """What a condition reads of a resource: its construct path and the property the conditions
    of its type read, as the template will show it. Each is read through jsii the first time a
    condition asks, then kept (a path-only condition never resolves a policy document)."""

    def __init__(self, node: cdk.CfnResource, stack: cdk.Stack | None = None) -> None:
        self.node = node
        self.stack = stack  # the node's stack, when the caller knows it (else Stack.of)

    @cached_property
    def path(self) -> str:
        return self.node.node.path

    @cached_property
    def props(self) -> dict[str, Any]:
        return resolved_properties(self.node, self.stack)


@dataclass(frozen=True)
class Skip:
    check_id: str
    cfn_type: str
    applies: Callable[[Resource], bool]
    reason: str


def _cdk_provider_handler(resource: Resource) -> bool:
    """A handler of aws-cdk-lib's own custom resources (VPC default-SG restriction, bucket and
    repository auto-delete): CDK writes it, CloudFormation invokes it during deploys only."""
    return "CustomResourceProvider" in resource.path


def _our_function(resource: Resource) -> bool:
    return not _cdk_provider_handler(resource)


def _unreserved_function(resource: Resource) -> bool:
    return _our_function(resource) and "ReservedConcurrentExecutions" not in resource.props


def _statements(props: dict[str, Any]) -> list[dict[str, Any]]:
    statements = (props.get("PolicyDocument") or {}).get("Statement") or []
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _on_every_resource(resource: Resource) -> list[dict[str, Any]]:
    """The policy's statements whose resources include "*"."""
    return [s for s in _statements(resource.props) if "*" in _as_list(s.get("Resource"))]


# Actions AWS only authorizes on "*" (no resource-level permissions): a Lambda function's
# network interfaces in a VPC (the AWSLambdaVPCAccessExecutionRole managed policy uses "*") and
# CloudWatch PutMetricData (scoped by the cloudwatch:namespace condition instead).
_STAR_ONLY_ACTIONS = frozenset({*LAMBDA_VPC_ACTIONS, "cloudwatch:PutMetricData"})


def _star_only_writes(resource: Resource) -> bool:
    """Every statement on "*" lists only actions that have no resource-level permissions."""
    star = _on_every_resource(resource)
    return bool(star) and all(set(_as_list(s.get("Action"))) <= _STAR_ONLY_ACTIONS for s in star)


# A processing job in a VPC: SageMaker wants these unscoped (roles.PROCESSING_VPC_REASON).
_PROCESSING_NETWORK_ACTIONS = frozenset({*ENI_ACTIONS, *DESCRIBE_NETWORK_ACTIONS})


def _processing_job_network(resource: Resource) -> bool:
    """The policy's statements on "*" are the processing job's network statement (its Sid and
    the documented actions only) and actions without resource-level permissions."""
    star = _on_every_resource(resource)
    network = [s for s in star if s.get("Sid") == PROCESSING_NETWORK_SID]
    return (
        bool(network)
        and all(set(_as_list(s.get("Action"))) <= _PROCESSING_NETWORK_ACTIONS for s in network)
        and all(
            set(_as_list(s.get("Action"))) <= _STAR_ONLY_ACTIONS for s in star if s not in network
        )
    )


_CDK_PIPELINE_BUILD_ACTIONS = frozenset(
    {"codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"}
)


def _cdk_pipelines_asset_role(resource: Resource) -> bool:
    """CDK Pipelines' asset-publishing role policy: its statement on '*' holds only the
    CodeBuild build actions aws-cdk-lib's pipelines module writes."""
    if "/Assets/" not in resource.path:
        return False
    star = _on_every_resource(resource)
    return bool(star) and all(
        set(_as_list(s.get("Action"))) <= _CDK_PIPELINE_BUILD_ACTIONS for s in star
    )


def _deny_only_public(resource: Resource) -> bool:
    """The repository policy names "*" only in Deny statements (everyone but publishers)."""
    statements = _statements({"PolicyDocument": resource.props.get("RepositoryPolicyText") or {}})
    public = [s for s in statements if _as_list(s.get("Principal")) == ["*"]
              or (s.get("Principal") or {}) == {"AWS": "*"}]  # fmt: skip
    return bool(public) and all(s.get("Effect") == "Deny" for s in public)


def _access_log_bucket(resource: Resource) -> bool:
    return "AccessLogs" in resource.path


def _single_region_trail(resource: Resource) -> bool:
    return resource.props.get("IsMultiRegionTrail") is not True


SKIPS = (
    Skip("CKV_AWS_115", "AWS::Lambda::Function", _cdk_provider_handler,
         "aws-cdk-lib's custom-resource handler runs only when CloudFormation deploys the "
         "stack; reserving concurrency for it would take capacity from the account's pool"),
    Skip("CKV_AWS_116", "AWS::Lambda::Function", _cdk_provider_handler,
         "aws-cdk-lib's custom-resource handler is invoked synchronously by CloudFormation, "
         "which reports a failure on the stack event; a dead-letter queue never receives one"),
    Skip("CKV_AWS_117", "AWS::Lambda::Function", _cdk_provider_handler,
         "aws-cdk-lib's custom-resource handler calls only AWS control-plane APIs during "
         "deploys and reads no data; it is not configurable into the VPC"),
    Skip("CKV_AWS_115", "AWS::Lambda::Function", _unreserved_function,
         "reserved concurrency is a per-service option (retraining.reserved_concurrency): Lambda "
         "refuses a reservation that leaves fewer than 100 unreserved executions, so it is off "
         "by default; runs are idempotent and scheduled or alarm-driven"),
    Skip("CKV_AWS_116", "AWS::Lambda::Function", _our_function,
         "asynchronous failures go to an on-failure destination (AWS::Lambda::EventInvokeConfig, "
         "a KMS-encrypted SQS queue), which records the request, response and error where a "
         "dead-letter queue would record the event only"),
    Skip("CKV_AWS_173", "AWS::Lambda::Function", _our_function,
         "the environment holds names, prefixes and thresholds, no secrets; Lambda encrypts "
         "environment variables at rest with an AWS owned key"),
    Skip("CKV_AWS_111", "AWS::IAM::ManagedPolicy", _star_only_writes,
         "the only statements on '*' list actions without resource-level permissions: the "
         "function's VPC network interfaces (as in AWSLambdaVPCAccessExecutionRole) and "
         "PutMetricData, which is limited by a cloudwatch:namespace condition"),
    *(
        Skip(check, "AWS::IAM::ManagedPolicy", _processing_job_network,
             "a processing job in a VPC: SageMaker validates that its role may create and "
             "delete network interfaces and their permissions on '*' without conditions ("
             "'How to use SageMaker AI execution roles', CreateProcessingJob: \"Don't scope in "
             "the policy with any conditions or resource filters\"); every other statement on "
             "'*' lists only actions without resource-level permissions")
        for check in ("CKV_AWS_109", "CKV_AWS_111")
    ),
    Skip("CKV_AWS_111", "AWS::IAM::Policy", _cdk_pipelines_asset_role,
         "CDK Pipelines writes this asset-publishing policy (CodeBuild build actions on '*'); "
         "it cannot be narrowed from this app, and the role can only assume the bootstrap "
         "file-publishing roles of the target accounts"),
    Skip("CKV_AWS_32", "AWS::ECR::Repository", _deny_only_public,
         "'*' appears only in Deny statements (uploads by anyone but the publishers); the "
         "repository grants nothing publicly"),
    Skip("CKV_AWS_18", "AWS::S3::Bucket", _access_log_bucket,
         "this is the server access log bucket: logging it into itself would loop; its "
         "lifecycle, encryption and TLS-only policy are set"),
    Skip("CKV_AWS_67", "AWS::CloudTrail::Trail", _single_region_trail,
         "the change trail feeds this region's EventBridge rules for this environment's "
         "endpoints; an organisation trail covers every region (change_detection: existing)"),
)  # fmt: skip


_RULES_BY_TYPE: dict[str, tuple[Skip, ...]] = {}
for _skip in SKIPS:
    _RULES_BY_TYPE[_skip.cfn_type] = (*_RULES_BY_TYPE.get(_skip.cfn_type, ()), _skip)


@jsii.implements(cdk.IAspect)
class ScannerSkips:
    """Writes ``Metadata.checkov.skip`` on the resources each :data:`SKIPS` rule covers.

    As an aspect it visits every construct through jsii (one round trip each); the app and its
    stages use :func:`add_scanner_skips` instead, which writes the same skips in one visit per
    scope. Each visit reads as little as it can: an L1 class's resource type is read once per
    class (``CFN_RESOURCE_TYPE_NAME``), and only plain ``CfnResource`` nodes (aws-cdk-lib's own
    providers) are asked for theirs."""

    def __init__(self) -> None:
        self._type_of_class: dict[type, str] = {}

    def _cfn_type(self, node: cdk.CfnResource) -> str:
        cls = type(node)
        if cls is cdk.CfnResource:
            return node.cfn_resource_type
        if cls not in self._type_of_class:
            static = getattr(cls, "CFN_RESOURCE_TYPE_NAME", None)
            self._type_of_class[cls] = static if isinstance(static, str) else ""
        return self._type_of_class[cls] or node.cfn_resource_type

    def rules(self, node: cdk.CfnResource) -> tuple[Skip, ...]:
        """The rules of ``node``'s resource type."""
        return _RULES_BY_TYPE.get(self._cfn_type(node), ())

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource):
            return
        rules = self.rules(node)
        if rules:
            write(node, rules)


def write(node: cdk.CfnResource, rules: tuple[Skip, ...], stack: cdk.Stack | None = None) -> None:
    """The skips of ``rules`` (of ``node``'s type) that apply to it, as its checkov metadata
    (``stack``: ``node``'s stack, if known)."""
    resource = Resource(node, stack)
    entries = [{"id": s.check_id, "comment": s.reason} for s in rules if s.applies(resource)]
    if entries:
        node.add_metadata(SCANNER, {"skip": entries})


def add_scanner_skips(scope: cdk.Stage) -> None:
    """Write the skips on the resources of ``scope`` (an App or a Stage) when it is synthesized,
    exactly as ``cdk.Aspects.of(scope).add(ScannerSkips())`` would (a nested stage's resources
    are its own, as for aspects), but with one jsii round trip for the whole scope instead of
    one per construct: the aspect sits on a construct of its own that has no children, and its
    one visit walks the scope (``find_all``) in Python. At about 230 constructs per service, the
    per-construct visits were a large share of a service's synthesis time. (A resource that
    another aspect would create during synthesis is not seen; this app has no such aspect.)"""
    cdk.Aspects.of(Construct(scope, "ScannerSkips")).add(_WholeScope(scope))


@jsii.implements(cdk.IAspect)
class _WholeScope:
    def __init__(self, scope: cdk.Stage) -> None:
        self._scope = scope

    def visit(self, _node: IConstruct) -> None:
        skips = ScannerSkips()
        for child in self._scope.node.children:
            if isinstance(child, cdk.Stage):
                continue  # synthesized with skips of its own
            found = child.node.find_all()
            # A stage nested deeper (the pipeline stack's) is its own, too.
            nested = any(isinstance(construct, cdk.Stage) for construct in found)
            # Without nested stages or stacks, every resource found is in the stack `child`:
            # known here, it need not be looked up per resource (a round trip to jsii each).
            stack = (
                child
                if isinstance(child, cdk.Stack)
                and not nested
                and not any(isinstance(c, cdk.NestedStack) for c in found)
                else None
            )
            for construct in found:
                if not isinstance(construct, cdk.CfnResource):
                    continue
                rules = skips.rules(construct)
                if rules and (not nested or cdk.Stage.of(construct) is self._scope):
                    write(construct, rules, stack)


# The properties the conditions read, per type, from the L1's public attributes.
_PROPERTIES = {
    "AWS::Lambda::Function": ("ReservedConcurrentExecutions", "reserved_concurrent_executions"),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument", "policy_document"),
    "AWS::IAM::Policy": ("PolicyDocument", "policy_document"),
    "AWS::ECR::Repository": ("RepositoryPolicyText", "repository_policy_text"),
    "AWS::CloudTrail::Trail": ("IsMultiRegionTrail", "is_multi_region_trail"),
}


def resolved_properties(node: cdk.CfnResource, stack: cdk.Stack | None = None) -> dict[str, Any]:
    """The property a condition reads, as the template will show it (tokens resolved), when
    the node is the L1 class that has it (aws-cdk-lib's own providers are plain CfnResources).
    ``stack`` is ``node``'s stack when the caller knows it (else looked up)."""
    if type(node) is cdk.CfnResource:
        name, attribute = "", ""
    else:
        name, attribute = _property_of_class(type(node))
    if not attribute:
        return {}
    value = getattr(node, attribute)
    if value is None:  # not set: nothing to resolve (resolving None gives None)
        return {}
    value = (stack or cdk.Stack.of(node)).resolve(value)
    return {} if value is None else {name: value}


@cache
def _property_of_class(cls: type) -> tuple[str, str]:
    """(template name, attribute) of the property the conditions read of an L1 class, or
    empty strings; per class, as reading ``CFN_RESOURCE_TYPE_NAME`` is a round trip to jsii."""
    static = getattr(cls, "CFN_RESOURCE_TYPE_NAME", "")
    name, attribute = _PROPERTIES.get(static if isinstance(static, str) else "", ("", ""))
    if not attribute or not hasattr(cls, attribute):
        return "", ""
    return name, attribute
