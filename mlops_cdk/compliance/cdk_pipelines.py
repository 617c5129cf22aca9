"""Reasoned acknowledgements for what CDK Pipelines generates inside the pipeline stack.

CDK Pipelines writes its own role policies, CodeBuild projects and asset roles. Their
wildcards are acknowledged here one finding id per policy, but only for the wildcard patterns
listed below with a reason; a new wildcard matches nothing, stays unacknowledged and fails
synthesis, so the gate still gates.
"""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from mlops_cdk.aws.acknowledgements import acknowledge, acknowledge_all
from mlops_cdk.aws.cfn_values import actions, allow_statements, as_list, render_resource_value

_GRANT_ACTIONS = (
    "aws-cdk-lib's grant helpers on the pipeline's own artifact bucket and key emit these "
    "action families; the resources are that bucket and key only."
)
ACTION_WILDCARDS: dict[str, str] = dict.fromkeys(
    (
        "s3:Abort*",
        "s3:DeleteObject*",
        "s3:GetBucket*",
        "s3:GetObject*",
        "s3:List*",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ),
    _GRANT_ACTIONS,
)
RESOURCE_WILDCARDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^<PipelineArtifacts\w+\.Arn>/\*$"),
        "Objects of the pipeline's own artifact bucket, whose keys CodePipeline generates "
        "per execution.",
    ),
    (
        re.compile(r"^arn:[\w-]+:logs:[\w-]+:\d{12}:log-group:/aws/codebuild/.+$"),
        "CloudWatch log groups of the pipeline's own CodeBuild projects; CodeBuild names the "
        "streams per build.",
    ),
    (
        re.compile(r"^arn:[\w-]+:codebuild:[\w-]+:\d{12}:report-group/.+$"),
        "Test report groups of the pipeline's own CodeBuild projects, created per project "
        "by CodeBuild.",
    ),
    (
        re.compile(r"^arn:\*:iam::\d{12}:role/\*$"),
        "Self-mutation assumes the CDK bootstrap roles (cdk-hnb659fds-*) of each target "
        "account; their trust policies admit only this tooling account.",
    ),
    (
        re.compile(r"^arn:[\w-]+:iam::\d{12}:role/mlops-smoke/[a-z0-9-]+/\*$"),
        "A service's smoke step assumes that service's smoke-test role, which lives under the "
        "/mlops-smoke/<service>/ path with a name CloudFormation generates in that account.",
    ),
    (
        re.compile(r"^arn:[\w-]+:iam::\d{12}:role/mlops-preflight/[a-z0-9-]+/\*$"),
        "A service's preflight step assumes that service's read-only pre-deploy check role, "
        "which lives under the /mlops-preflight/<service>/ path with a name CloudFormation "
        "generates there.",
    ),
    (
        re.compile(r"^\*$"),
        "CDK Pipelines' self-mutation (cloudformation:DescribeStacks, s3:ListBucket) and "
        "asset publishing (codebuild:StartBuild/BatchGetBuilds) as generated; the actions "
        "are read-only or limited to the pipeline's own builds.",
    ),
)


def _wildcard_findings(document: dict[str, Any]) -> dict[str, str]:
    """AwsSolutions-IAM5 ids this policy document triggers, mapped to their reasons."""
    found: dict[str, str] = {}
    for statement in allow_statements(document):
        for action in actions(statement):
            if "*" in action and action in ACTION_WILDCARDS:
                found[f"AwsSolutions-IAM5[Action::{action}]"] = ACTION_WILDCARDS[action]
        for resource in as_list(statement.get("Resource")):
            rendered = render_resource_value(resource)
            if "*" not in rendered:
                continue
            for pattern, reason in RESOURCE_WILDCARDS:
                if pattern.match(rendered):
                    found[f"AwsSolutions-IAM5[Resource::{rendered}]"] = reason
                    break
    return found


def acknowledge_generated(scope: IConstruct) -> None:
    """Acknowledge the known findings of CDK Pipelines' generated resources below ``scope``."""
    stack = cdk.Stack.of(scope)
    for construct in scope.node.find_all():
        if isinstance(construct, iam.CfnPolicy):
            acknowledge_all(
                construct,
                ("HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy"),
                "Role policies that CDK Pipelines generates and keeps in step with each "
                "pipeline action; they are not shared or reused.",
            )
            document = stack.resolve(construct.policy_document)
            for finding_id, reason in sorted(_wildcard_findings(document).items()):
                acknowledge(construct, finding_id, reason)
        elif isinstance(construct, codebuild.CfnProject):
            acknowledge(
                construct,
                "HIPAA.Security-CodeBuildProjectSourceRepoUrl",
                "The project's source is the pipeline artifact (CodePipeline source via "
                "CodeConnections); no repository URL or credentials are configured on it.",
            )
