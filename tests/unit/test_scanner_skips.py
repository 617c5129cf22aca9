"""Skips for other IaC scanners (checkov) land in template metadata only where their
condition holds: a resource of the same type that does not meet it is still reported."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.app.scanner_skips import ScannerSkips
from mlops_cdk.constructs.roles import PROCESSING_NETWORK_SID, processing_vpc_network_statement
from tests.helpers import TEST_ENV, cdk_context


def stack() -> cdk.Stack:
    app = cdk.App(context=cdk_context())
    stage = cdk.Stage(app, "Env", env=TEST_ENV)
    cdk.Aspects.of(stage).add(ScannerSkips())
    return cdk.Stack(stage, "S")


def skipped(s: cdk.Stack, cfn_type: str) -> set[str]:
    (resource,) = Template.from_stack(s).find_resources(cfn_type).values()
    entries: list[dict[str, Any]] = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    assert all(len(entry["comment"]) > 40 for entry in entries)  # every skip has its reason
    return {entry["id"] for entry in entries}


def function(s: cdk.Stack, **kwargs: Any) -> None:
    lambda_.Function(
        s,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        **kwargs,
    )


def test_our_function_without_reserved_concurrency() -> None:
    s = stack()
    function(s)
    assert skipped(s, "AWS::Lambda::Function") == {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_173"}


def test_reserved_concurrency_is_not_skipped_when_set() -> None:
    s = stack()
    function(s, reserved_concurrent_executions=2)
    assert skipped(s, "AWS::Lambda::Function") == {"CKV_AWS_116", "CKV_AWS_173"}


def test_cdk_provider_handler_gets_the_deploy_time_skips() -> None:
    s = stack()
    s3.Bucket(s, "B", auto_delete_objects=True, removal_policy=cdk.RemovalPolicy.DESTROY)
    functions = Template.from_stack(s).find_resources("AWS::Lambda::Function")
    (handler,) = functions.values()
    ids = {entry["id"] for entry in handler["Metadata"]["checkov"]["skip"]}
    assert ids == {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"}


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"], {"CKV_AWS_111"}),
        (["cloudwatch:PutMetricData"], {"CKV_AWS_111"}),
        (["s3:PutObject"], set()),  # a real write on '*' stays reported
        (["ec2:CreateNetworkInterface", "s3:DeleteObject"], set()),
    ],
)
def test_managed_policy_star_only_for_actions_without_resource_permissions(
    actions: list[str], expected: set[str]
) -> None:
    s = stack()
    iam.ManagedPolicy(s, "P", statements=[iam.PolicyStatement(actions=actions, resources=["*"])])
    assert skipped(s, "AWS::IAM::ManagedPolicy") == expected


@pytest.mark.parametrize(("effect", "expected"), [("Deny", {"CKV_AWS_32"}), ("Allow", set())])
def test_repository_skip_only_when_star_is_denied(effect: str, expected: set[str]) -> None:
    s = stack()
    repository = ecr.Repository(s, "R")
    repository.add_to_resource_policy(
        iam.PolicyStatement(
            effect=iam.Effect(effect.upper()),
            principals=[iam.AnyPrincipal()],
            actions=["ecr:PutImage"],
        )
    )
    assert skipped(s, "AWS::ECR::Repository") == expected


def test_only_the_access_log_bucket_skips_access_logging() -> None:
    s = stack()
    s3.Bucket(s, "AccessLogs")
    assert skipped(s, "AWS::S3::Bucket") == {"CKV_AWS_18"}
    other = stack()
    s3.Bucket(other, "Data")
    assert skipped(other, "AWS::S3::Bucket") == set()


@pytest.mark.parametrize(
    ("sid", "actions", "expected"),
    [
        # the evaluation job's role (a processing job in a VPC): CKV_AWS_109 and _111 skipped
        (PROCESSING_NETWORK_SID, None, {"CKV_AWS_109", "CKV_AWS_111"}),
        # the same actions under another Sid are not the documented exception
        ("Other", None, set()),
        # the Sid with one more write action is reported
        (PROCESSING_NETWORK_SID, ["ec2:CreateNetworkInterface", "ec2:DeleteVpc"], set()),
    ],
)
def test_processing_job_network_statement_is_skipped_only_as_documented(
    sid: str, actions: list[str] | None, expected: set[str]
) -> None:
    s = stack()
    network = processing_vpc_network_statement()
    statement = iam.PolicyStatement(sid=sid, actions=actions or network.actions, resources=["*"])
    metrics = iam.PolicyStatement(actions=["cloudwatch:PutMetricData"], resources=["*"])
    iam.ManagedPolicy(s, "P", statements=[statement, metrics])
    assert skipped(s, "AWS::IAM::ManagedPolicy") == expected
