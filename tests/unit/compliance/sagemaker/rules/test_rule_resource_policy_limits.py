"""ResourcePolicyLimits: each service's limits on its resource policies (S3 20 KB, KMS 32 KB,
SNS 30 KB / 100 statements / 200 principals, SQS 8,192 bytes / 20 statements / 50 principals /
10 conditions / 7 actions per statement, ECR 10,240 characters), sized as compact JSON with each
reference at its longest."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from tests.unit.compliance.sagemaker.pack_helpers import fires, stage_stack

RULE = "ResourcePolicyLimits"
ROOT = "arn:aws:iam::123456789012:root"


def statement(sid: str = "A", **fields: Any) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": ROOT},
        "Action": "s3:GetObject",
        "Resource": "*",
    } | fields


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def sized(size: int) -> dict[str, Any]:
    """A one-statement policy of exactly ``size`` bytes of compact JSON (its Sid pads it)."""
    base = len(json.dumps(document(statement("")), separators=(",", ":")))
    return document(statement("A" * (size - base)))


def bucket_policy(scope: cdk.Stack, policy: dict[str, Any]) -> None:
    s3.CfnBucketPolicy(scope, "Policy", bucket="b", policy_document=policy)


def key(scope: cdk.Stack, policy: dict[str, Any]) -> None:
    kms.CfnKey(scope, "Policy", key_policy=policy)


def topic_policy(scope: cdk.Stack, policy: dict[str, Any]) -> None:
    topic = "arn:aws:sns:eu-west-1:123456789012:t"
    sns.CfnTopicPolicy(scope, "Policy", topics=[topic], policy_document=policy)


def queue_policy(scope: cdk.Stack, policy: dict[str, Any]) -> None:
    sqs.CfnQueuePolicy(scope, "Policy", queues=["https://q"], policy_document=policy)


def repository(scope: cdk.Stack, policy: dict[str, Any]) -> None:
    ecr.CfnRepository(scope, "Policy", repository_policy_text=policy)


Builder = Callable[[cdk.Stack, dict[str, Any]], None]


def fires_on(build: Builder, policy: dict[str, Any]) -> bool:
    s = stage_stack()
    build(s, policy)
    return fires(s, "prod/S/Policy", RULE)


@pytest.mark.parametrize(
    ("build", "limit"),
    [
        (bucket_policy, 20 * 1024),
        (key, 32 * 1024),
        (topic_policy, 30 * 1024),
        (queue_policy, 8192),
        (repository, 10240),
    ],
)
def test_each_service_refuses_a_policy_one_byte_over_its_size(build: Builder, limit: int) -> None:
    assert not fires_on(build, sized(limit))
    assert fires_on(build, sized(limit + 1))


@pytest.mark.parametrize(
    ("build", "statements", "expected"),
    [(queue_policy, 20, False), (queue_policy, 21, True), (topic_policy, 100, False),
     (topic_policy, 101, True), (bucket_policy, 101, False)],
)  # fmt: skip
def test_statements_are_counted_where_the_service_limits_them(
    build: Builder, statements: int, expected: bool
) -> None:
    policy = document(*(statement(f"S{i}") for i in range(statements)))
    assert fires_on(build, policy) is expected


@pytest.mark.parametrize(
    ("build", "principals", "expected"),
    [(queue_policy, 50, False), (queue_policy, 51, True), (topic_policy, 200, False),
     (topic_policy, 201, True)],
)  # fmt: skip
def test_principals_are_counted_over_the_statements(
    build: Builder, principals: int, expected: bool
) -> None:
    """Split over two statements, one of them naming services too."""
    accounts = [f"arn:aws:iam::{i:012d}:root" for i in range(principals - 1)]
    half = len(accounts) // 2
    service = "events.amazonaws.com"
    policy = document(
        statement("A", Principal={"AWS": accounts[:half]}),
        statement("B", Principal={"AWS": accounts[half:], "Service": service}),
    )
    assert fires_on(build, policy) is expected


@pytest.mark.parametrize(("conditions", "expected"), [(10, False), (11, True)])
def test_a_queue_policy_takes_10_conditions(conditions: int, expected: bool) -> None:
    arns = {f"aws:SourceArn{i}": f"arn:aws:events:eu-west-1:1:rule/r{i}" for i in range(conditions)}
    policy = document(
        statement("A", Condition={"ArnEquals": dict(list(arns.items())[:5])}),
        statement("B", Condition={"ArnLike": dict(list(arns.items())[5:])}),
    )
    assert fires_on(queue_policy, policy) is expected


@pytest.mark.parametrize(("actions", "expected"), [(7, False), (8, True)])
def test_a_queue_policy_statement_takes_7_actions(actions: int, expected: bool) -> None:
    names = ["SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes", "GetQueueUrl",
             "ChangeMessageVisibility", "PurgeQueue", "SetQueueAttributes"]  # fmt: skip
    policy = document(statement(Action=[f"sqs:{name}" for name in names[:actions]]))
    assert fires_on(queue_policy, policy) is expected


def test_references_count_at_the_longest_they_can_resolve_to() -> None:
    """500 references to a role with a generated name: about 15 KB as written, nearly twice
    that once each is the role's ARN (its name as long as CloudFormation can generate it)."""
    s = stage_stack()
    role = iam.CfnRole(s, "Role", assume_role_policy_document=document(statement()))
    policy = document(statement(Principal={"AWS": [role.attr_arn] * 500}))
    written = len(json.dumps(s.resolve(policy), separators=(",", ":")))
    assert written < 20 * 1024
    bucket_policy(s, policy)
    assert fires(s, "prod/S/Policy", RULE)


def test_a_key_without_a_policy_is_not_checked() -> None:
    s = stage_stack()
    kms.CfnKey(s, "Policy")
    assert not fires(s, "prod/S/Policy", RULE)
