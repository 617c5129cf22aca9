"""Constructs used without the project's configuration: the fewest props give sensible
defaults, and what is given (bring your own key, role, VPC) is used instead of created."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from mlops_cdk.constructs import (
    ArtifactStorage,
    ModelImageRepository,
    PrivateNetwork,
    RetrainingFunction,
)
from tests.helpers import imported_vpc, new_stack

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(resource_type).values()
    return resource


def test_repository_defaults_retain_and_aws_managed_encryption() -> None:
    stack = new_stack()
    images = ModelImageRepository(stack, "Images")
    repository = only(Template.from_stack(stack), "AWS::ECR::Repository")
    assert repository["DeletionPolicy"] == "Retain"
    assert repository["Properties"]["EncryptionConfiguration"] == {"EncryptionType": "KMS"}
    rules = repository["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
    assert '"countNumber":30' in rules
    assert '"countNumber":7' in rules
    assert images.repository.node.scope is images


def test_repository_with_its_own_key() -> None:
    stack = new_stack()
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    ModelImageRepository(stack, "Images", key=key, max_tagged_images=5)
    repository = only(Template.from_stack(stack), "AWS::ECR::Repository")
    assert repository["Properties"]["EncryptionConfiguration"]["KmsKey"] == KEY_ARN


def test_storage_defaults() -> None:
    stack = new_stack()
    storage = ArtifactStorage(stack, "Storage", key=kms.Key.from_key_arn(stack, "Key", KEY_ARN))
    assert (storage.model_artifacts_prefix, storage.data_capture_prefix) == (
        "models/",
        "data-capture/",
    )
    template = Template.from_stack(stack)
    buckets = template.find_resources("AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in buckets.values()} == {"Retain"}
    expiries = sorted(
        rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", 0)
        + rule.get("ExpirationInDays", 0)
        for bucket in buckets.values()
        for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    )
    assert expiries == [90, 366]  # access logs: 365 days (+1 day for noncurrent versions)


def test_network_defaults_keep_flow_logs_a_year_and_retain_them() -> None:
    stack = new_stack()
    PrivateNetwork(
        stack,
        "Network",
        key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        existing_vpc=imported_vpc(stack),
        create_endpoints=False,
    )
    group = only(Template.from_stack(stack), "AWS::Logs::LogGroup")
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"


def test_retraining_function_creates_its_role_and_uses_the_vpcs_subnets() -> None:
    stack = new_stack()
    function = RetrainingFunction(
        stack,
        "Retraining",
        key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        vpc=imported_vpc(stack),
        endpoint_name="churn",
        pipeline_name="churn-retraining",
    )
    template = Template.from_stack(stack)
    role = only(template, "AWS::IAM::Role")
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    assert isinstance(function.role, iam.Role)
    props = only(template, "AWS::Lambda::Function")["Properties"]
    assert props["VpcConfig"]["SubnetIds"] == ["subnet-01234567", "subnet-89abcdef"]
    assert props["Environment"]["Variables"]["COOLDOWN_SECONDS"] == "3600"
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    attached = [p for p in policies.values() if p["Properties"].get("Roles")]
    assert len(attached) == 2  # the function's permissions and the IAM half of key use
    assert cdk.Stack.of(function) is stack


def test_retraining_function_uses_a_given_role_without_creating_one() -> None:
    stack = new_stack()
    role = iam.Role.from_role_arn(stack, "Given", "arn:aws:iam::123456789012:role/retrain")
    function = RetrainingFunction(
        stack,
        "Retraining",
        role=role,
        key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        vpc=imported_vpc(stack),
        endpoint_name="churn",
        pipeline_name="churn-retraining",
    )
    assert function.role is role
    Template.from_stack(stack).resource_count_is("AWS::IAM::Role", 0)
