"""How long template values resolve to, and what IAM counts in a policy: each form of value
against the length its deployed string has (shapes from the CloudFormation return values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from mlops_cdk.aws.resolved_length import (
    GENERATED_SUFFIX,
    UNKNOWN_LENGTH,
    policy_size,
    value_length,
)

ACCOUNT = "123456789012"


@dataclass
class Stack:
    """A stack as the estimator sees it: resources, exports and the stage's other stacks."""

    resources: dict[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    exports: dict[str, Any] = field(default_factory=dict)
    siblings: list[Stack] = field(default_factory=list)
    account: str | None = ACCOUNT
    region: str | None = "eu-west-1"
    stack_name: str | None = "stage-churn"

    def resource_at(self, logical_id: str) -> tuple[str, Mapping[str, Any]] | None:
        return self.resources.get(logical_id)

    def exported(self, name: str) -> tuple[Stack, Any] | None:
        for stack in [self, *self.siblings]:
            if name in stack.exports:
                return stack, stack.exports[name]
        return None


def generated(stack_name: str, logical_id: str) -> int:
    """A name CloudFormation generates: stack name, logical id, random string."""
    return len(stack_name) + 1 + len(logical_id) + 1 + GENERATED_SUFFIX


def test_literals_count_as_they_are() -> None:
    assert value_length("arn:aws:s3:::bucket/*", Stack()) == 21


@pytest.mark.parametrize(
    ("pseudo", "expected"),
    [
        ("AWS::AccountId", 12),
        ("AWS::Region", len("eu-west-1")),
        ("AWS::Partition", 3),
        ("AWS::URLSuffix", len("amazonaws.com")),
        ("AWS::StackName", len("stage-churn")),
        ("AWS::NoValue", 0),
        # arn:aws:cloudformation:eu-west-1:123456789012:stack/stage-churn/<uuid>
        (
            "AWS::StackId",
            len("arn:aws:cloudformation:eu-west-1:123456789012:stack/stage-churn/") + 36,
        ),
    ],
)
def test_pseudo_parameters_resolve_to_the_stacks_own(pseudo: str, expected: int) -> None:
    assert value_length({"Ref": pseudo}, Stack()) == expected


def test_unknown_account_region_and_partition_count_as_the_longest() -> None:
    stack = Stack(account=None, region=None, stack_name=None)
    assert value_length({"Ref": "AWS::Region"}, stack) == len("us-isof-south-1")
    assert value_length({"Ref": "AWS::Partition"}, stack) == len("aws-us-gov")
    assert value_length({"Ref": "AWS::URLSuffix"}, stack) == len("amazonaws.com.cn")
    assert value_length({"Ref": "AWS::StackName"}, stack) == 128


@pytest.mark.parametrize(
    ("region", "partition", "suffix"),
    [
        ("eu-west-1", "aws", "amazonaws.com"),
        ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
    ],
)
def test_partition_and_url_suffix_follow_the_region(
    region: str, partition: str, suffix: str
) -> None:
    stack = Stack(region=region)
    assert value_length({"Ref": "AWS::Partition"}, stack) == len(partition)
    assert value_length({"Ref": "AWS::URLSuffix"}, stack) == len(suffix)


def test_a_generated_bucket_name_is_stack_name_logical_id_and_a_random_string() -> None:
    stack = Stack(resources={"Artifacts": ("AWS::S3::Bucket", {})})
    name = generated("stage-churn", "Artifacts")
    assert value_length({"Ref": "Artifacts"}, stack) == name
    assert value_length({"Fn::GetAtt": ["Artifacts", "Arn"]}, stack) == len("arn:aws:s3:::") + name
    assert value_length({"Fn::GetAtt": "Artifacts.Arn"}, stack) == len("arn:aws:s3:::") + name


def test_a_generated_name_never_exceeds_the_names_quota() -> None:
    stack = Stack(resources={"R" * 80: ("AWS::IAM::Role", {})})
    assert value_length({"Ref": "R" * 80}, stack) == 64  # CreateRole: RoleName 1-64


def test_a_name_the_template_sets_is_used_as_it_is() -> None:
    stack = Stack(resources={"Role": ("AWS::IAM::Role", {"RoleName": "svc", "Path": "/mlops/"})})
    assert value_length({"Fn::GetAtt": ["Role", "Arn"]}, stack) == len(
        "arn:aws:iam::123456789012:role/mlops/svc"
    )


@pytest.mark.parametrize(
    ("cfn_type", "attribute", "expected"),
    [
        ("AWS::KMS::Key", "Arn", len("arn:aws:kms:eu-west-1:123456789012:key/") + 36),
        ("AWS::KMS::Key", None, 36),
        ("AWS::EC2::VPC", None, len("vpc-0123456789abcdef0")),
        ("AWS::EC2::SecurityGroup", "GroupId", len("sg-0123456789abcdef0")),
        (
            "AWS::SQS::Queue",
            "Arn",
            len("arn:aws:sqs:eu-west-1:123456789012:") + generated("stage-churn", "Q"),
        ),
        (
            "AWS::SNS::Topic",
            None,
            len("arn:aws:sns:eu-west-1:123456789012:") + generated("stage-churn", "Q"),
        ),
        (
            "AWS::Logs::LogGroup",
            "Arn",
            len("arn:aws:logs:eu-west-1:123456789012:log-group::*") + generated("stage-churn", "Q"),
        ),
        (
            "AWS::SageMaker::Endpoint",
            None,
            len("arn:aws:sagemaker:eu-west-1:123456789012:endpoint/")
            + generated("stage-churn", "Q"),
        ),
    ],
)
def test_references_take_the_shape_aws_returns(
    cfn_type: str, attribute: str | None, expected: int
) -> None:
    stack = Stack(resources={"Q": (cfn_type, {})})
    value = {"Ref": "Q"} if attribute is None else {"Fn::GetAtt": ["Q", attribute]}
    assert value_length(value, stack) == expected


def test_what_is_not_known_counts_as_the_unknown_length() -> None:
    stack = Stack(resources={"Thing": ("AWS::Some::Thing", {})})
    assert value_length({"Ref": "Thing"}, stack) == UNKNOWN_LENGTH
    assert value_length({"Ref": "Missing"}, stack) == UNKNOWN_LENGTH
    assert value_length({"Fn::ImportValue": "nobody-exports-this"}, stack) == UNKNOWN_LENGTH


def test_join_sub_select_and_if_add_up_their_parts() -> None:
    stack = Stack(resources={"Key": ("AWS::KMS::Key", {})})
    join = {"Fn::Join": ["/", ["a", {"Ref": "Key"}, "bc"]]}
    assert value_length(join, stack) == 1 + 36 + 2 + 2
    sub = {"Fn::Sub": "arn:${AWS::Partition}:x:::${Key}/${!Literal}"}
    assert value_length(sub, stack) == len("arn::x:::/") + 3 + 36 + len("${Literal}")
    named = {"Fn::Sub": ["${Name}-x", {"Name": "abcd"}]}
    assert value_length(named, stack) == 6
    select = {"Fn::Select": [1, {"Fn::Split": [":", {"Fn::GetAtt": ["Key", "Arn"]}]}]}
    assert value_length(select, stack) == value_length({"Fn::GetAtt": ["Key", "Arn"]}, stack)
    assert value_length({"Fn::Select": [0, ["ab", "abcdef"]]}, stack) == 6
    assert value_length({"Fn::If": ["C", "abc", "a"]}, stack) == 3


def test_an_import_resolves_in_the_exporting_stack() -> None:
    foundation = Stack(
        resources={"Bucket": ("AWS::S3::Bucket", {})},
        exports={"stage-Foundation:BucketArn": {"Fn::GetAtt": ["Bucket", "Arn"]}},
        stack_name="stage-Foundation",
    )
    service = Stack(siblings=[foundation])
    imported = value_length({"Fn::ImportValue": "stage-Foundation:BucketArn"}, service)
    assert imported == len("arn:aws:s3:::") + generated("stage-Foundation", "Bucket")


def test_iam_counts_a_policy_without_white_space() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "a b"}],
    }
    text = (
        '{"Version":"2012-10-17","Statement":'
        '[{"Effect":"Allow","Action":"s3:GetObject","Resource":"ab"}]}'
    )
    assert policy_size(document, Stack()) == len(text)


def test_a_policy_counts_its_references_as_they_resolve() -> None:
    stack = Stack(resources={"Key": ("AWS::KMS::Key", {})})
    document = {"Statement": [{"Resource": {"Fn::GetAtt": ["Key", "Arn"]}}]}
    arn = len("arn:aws:kms:eu-west-1:123456789012:key/") + 36
    assert policy_size(document, stack) == len('{"Statement":[{"Resource":""}]}') + arn
