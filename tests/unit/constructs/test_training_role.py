"""SageMakerTrainingRole: a service's training prefixes only, the key, its image, its logs."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk.assertions import Template

from mlops_cdk.constructs.encryption import EncryptionKey
from mlops_cdk.constructs.roles import SageMakerTrainingRole
from mlops_cdk.constructs.storage import ArtifactStorage
from tests.helpers import imported_vpc, new_stack


def training_template(**options: Any) -> Template:
    stack = new_stack("Test")
    key = EncryptionKey(
        stack, "Key", alias="alias/t", description="t", removal_policy=cdk.RemovalPolicy.DESTROY
    )
    storage = ArtifactStorage(
        stack,
        "Artifacts",
        key=key.key,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        model_artifacts_prefix="models/",
        data_capture_prefix="capture/",
        noncurrent_version_expiry=cdk.Duration.days(30),
        access_log_expiry=cdk.Duration.days(90),
    )
    if options.pop("with_repository", False):
        options["repository"] = ecr.Repository(stack, "Repo")
    if options.pop("with_vpc", False):
        options["vpc"] = imported_vpc(stack)
    SageMakerTrainingRole(
        stack,
        "Training",
        bucket=storage.bucket,
        data_prefix="training-data/churn/",
        output_prefix="training-output/churn/",
        key=key.key,
        path="/mlops/test/",
        **options,
    )
    return Template.from_stack(stack)


def statements(template: Template) -> dict[str, dict[str, Any]]:
    (policy,) = [
        p
        for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Description"].startswith("SageMaker training")
    ]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def text(value: Any) -> str:
    return json.dumps(value)


@pytest.fixture(scope="module")
def spot() -> Template:
    return training_template(checkpoint_prefix="checkpoints/churn/")


def test_trusted_by_sagemaker_of_this_account_under_the_service_path(spot: Template) -> None:
    (role,) = spot.find_resources("AWS::IAM::Role").values()
    props = role["Properties"]
    assert props["Path"] == "/mlops/test/"
    (statement,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert "ManagedPolicyArns" not in props  # no AWS managed policy
    policies = spot.find_resources("AWS::IAM::ManagedPolicy")
    (training,) = [p for p in policies.values() if "training" in p["Properties"]["Description"]]
    assert len(training["Properties"]["Roles"]) == 1


def test_reads_training_data_writes_output_and_checkpoints_of_its_service(spot: Template) -> None:
    s = statements(spot)
    assert s["ReadTrainingData"]["Action"] == "s3:GetObject"
    assert "/training-data/churn/*" in text(s["ReadTrainingData"]["Resource"])
    assert sorted(s["WriteModelOutput"]["Action"]) == ["s3:AbortMultipartUpload", "s3:PutObject"]
    assert "/training-output/churn/*" in text(s["WriteModelOutput"]["Resource"])
    assert sorted(s["ReadWriteCheckpoints"]["Action"]) == [
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:PutObject",
    ]
    assert "/checkpoints/churn/*" in text(s["ReadWriteCheckpoints"]["Resource"])
    assert s["ListTrainingPrefixes"]["Condition"] == {
        "StringLike": {
            "s3:prefix": [
                "training-data/churn/",
                "training-data/churn/*",
                "checkpoints/churn/",
                "checkpoints/churn/*",
            ]
        }
    }
    # nothing of the hosting prefixes, no deletes
    everything = text(s)
    assert "models/" not in everything
    assert "capture/" not in everything
    assert "s3:DeleteObject" not in everything


def test_uses_the_key_and_writes_its_logs_and_metrics(spot: Template) -> None:
    s = statements(spot)
    assert "kms:GenerateDataKey" in text(s["UseKey"]["Action"])
    assert ":log-group:/aws/sagemaker/TrainingJobs:*" in text(s["TrainingLogs"]["Resource"])
    assert s["TrainingMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}
    }


def test_image_and_network_permissions_only_when_the_job_needs_them(spot: Template) -> None:
    assert not {"PullTrainingImage", "EcrAuthorizationToken", "ManageNetworkInterfacesInVpc"} & set(
        statements(spot)
    )
    assert "ReadWriteCheckpoints" not in statements(training_template())
    s = statements(training_template(with_repository=True, with_vpc=True))
    assert "ecr:BatchGetImage" in s["PullTrainingImage"]["Action"]
    assert s["PullTrainingImage"]["Resource"]["Fn::GetAtt"][0].startswith("Repo")
    assert s["ManageNetworkInterfacesInVpc"]["Condition"] == {
        "ArnEquals": {"ec2:Vpc": "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0123456789abcdef0"}
    }
