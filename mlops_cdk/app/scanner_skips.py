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
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from mlops_cdk.constructs.network import LAMBDA_VPC_ACTIONS

SCANNER = "checkov"


@dataclass(frozen=True)
class Skip:
    check_id: str
    cfn_type: str
    applies: Callable[[cdk.CfnResource, dict[str, Any]], bool]
    reason: str


def _path(node: cdk.CfnResource) -> str:
    return node.node.path


def _cdk_provider_handler(node: cdk.CfnResource, _: dict[str, Any]) -> bool:
    """A handler of aws-cdk-lib's own custom resources (VPC default-SG restriction, bucket and
    repository auto-delete): CDK writes it, CloudFormation invokes it during deploys only."""
    return "CustomResourceProvider" in _path(node)


def _our_function(node: cdk.CfnResource, props: dict[str, Any]) -> bool:
    return not _cdk_provider_handler(node, props)


def _unreserved_function(node: cdk.CfnResource, props: dict[str, Any]) -> bool:
    return _our_function(node, props) and "ReservedConcurrentExecutions" not in props


def _statements(props: dict[str, Any]) -> list[dict[str, Any]]:
    statements = (props.get("PolicyDocument") or {}).get("Statement") or []
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# Actions AWS only authorizes on "*" (no resource-level permissions): a Lambda function's
# network interfaces in a VPC (the AWSLambdaVPCAccessExecutionRole managed policy uses "*") and
# CloudWatch PutMetricData (scoped by the cloudwatch:namespace condition instead).
_STAR_ONLY_ACTIONS = frozenset({*LAMBDA_VPC_ACTIONS, "cloudwatch:PutMetricData"})


def _star_only_writes(_: cdk.CfnResource, props: dict[str, Any]) -> bool:
    """Every statement on "*" lists only actions that have no resource-level permissions."""
    star = [s for s in _statements(props) if "*" in _as_list(s.get("Resource"))]
    return bool(star) and all(set(_as_list(s.get("Action"))) <= _STAR_ONLY_ACTIONS for s in star)


_CDK_PIPELINE_BUILD_ACTIONS = frozenset(
    {"codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"}
)


def _cdk_pipelines_asset_role(node: cdk.CfnResource, props: dict[str, Any]) -> bool:
    """CDK Pipelines' asset-publishing role policy: its statement on '*' holds only the
    CodeBuild build actions aws-cdk-lib's pipelines module writes."""
    if "/Assets/" not in _path(node):
        return False
    star = [s for s in _statements(props) if "*" in _as_list(s.get("Resource"))]
    return bool(star) and all(
        set(_as_list(s.get("Action"))) <= _CDK_PIPELINE_BUILD_ACTIONS for s in star
    )


def _deny_only_public(_: cdk.CfnResource, props: dict[str, Any]) -> bool:
    """The repository policy names "*" only in Deny statements (everyone but publishers)."""
    statements = _statements({"PolicyDocument": props.get("RepositoryPolicyText") or {}})
    public = [s for s in statements if _as_list(s.get("Principal")) == ["*"]
              or (s.get("Principal") or {}) == {"AWS": "*"}]  # fmt: skip
    return bool(public) and all(s.get("Effect") == "Deny" for s in public)


def _access_log_bucket(node: cdk.CfnResource, _: dict[str, Any]) -> bool:
    return "AccessLogs" in _path(node)


def _single_region_trail(_: cdk.CfnResource, props: dict[str, Any]) -> bool:
    return props.get("IsMultiRegionTrail") is not True


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

    An aspect visits every construct through jsii, so each visit reads as little as it can:
    an L1 class's resource type is read once per class (``CFN_RESOURCE_TYPE_NAME``), and only
    plain ``CfnResource`` nodes (aws-cdk-lib's own providers) are asked for theirs."""

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

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource):
            return
        rules = _RULES_BY_TYPE.get(self._cfn_type(node))
        if not rules:
            return
        props = resolved_properties(node)
        entries = [{"id": s.check_id, "comment": s.reason} for s in rules if s.applies(node, props)]
        if entries:
            node.add_metadata(SCANNER, {"skip": entries})


# The properties the conditions read, per type, from the L1's public attributes.
_PROPERTIES = {
    "AWS::Lambda::Function": ("ReservedConcurrentExecutions", "reserved_concurrent_executions"),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument", "policy_document"),
    "AWS::IAM::Policy": ("PolicyDocument", "policy_document"),
    "AWS::ECR::Repository": ("RepositoryPolicyText", "repository_policy_text"),
    "AWS::CloudTrail::Trail": ("IsMultiRegionTrail", "is_multi_region_trail"),
}


def resolved_properties(node: cdk.CfnResource) -> dict[str, Any]:
    """The property a condition reads, as the template will show it (tokens resolved), when
    the node is the L1 class that has it (aws-cdk-lib's own providers are plain CfnResources)."""
    if type(node) is cdk.CfnResource:
        return {}
    static = getattr(type(node), "CFN_RESOURCE_TYPE_NAME", "")
    name, attribute = _PROPERTIES.get(static if isinstance(static, str) else "", ("", ""))
    if not attribute or not hasattr(type(node), attribute):
        return {}
    value = cdk.Stack.of(node).resolve(getattr(node, attribute))
    return {} if value is None else {name: value}
