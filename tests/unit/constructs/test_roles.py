"""SageMakerExecutionRole: least privilege, no managed AWS policies, scoped resources."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk.assertions import Template

from mlops_cdk.constructs.encryption import EncryptionKey
from mlops_cdk.constructs.roles import SageMakerExecutionRole
from mlops_cdk.constructs.storage import ArtifactStorage
from tests.helpers import imported_vpc, new_stack


@pytest.fixture(scope="module")
def template() -> Template:
    return execution_template()


@pytest.fixture(scope="module")
def batch() -> Template:
    """The role of a service with batch jobs: its transform jobs run as it."""
    return execution_template(
        batch_read_prefix="batch/churn/", batch_write_prefixes=["batch/churn/score/output/"]
    )


def execution_template(**options: Any) -> Template:
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
    vpc = imported_vpc(stack)
    SageMakerExecutionRole(
        stack,
        "Execution",
        repository=ecr.Repository(stack, "Repo"),
        bucket=storage.bucket,
        model_prefix="models/churn/",
        capture_prefix="capture/churn/",
        key=key.key,
        vpc=vpc,
        path="/mlops/test/",
        **options,
    )
    return Template.from_stack(stack)


def statements(template: Template) -> dict[str, dict[str, Any]]:
    """The execution role's own policy (the key's use policy is tested with the key)."""
    (policy,) = [
        p
        for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Description"].startswith("SageMaker hosting")
    ]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def join(value: Any) -> str:
    """Readable form of an Fn::Join ARN for assertions."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else next(iter(p.values()))[0] for p in parts)


def test_trusts_sagemaker_from_this_account_only(template: Template) -> None:
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
                    }
                ]
            }
        },
    )


def test_no_aws_managed_policies_and_no_inline_policies(template: Template) -> None:
    (role,) = template.find_resources("AWS::IAM::Role").values()
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "Policies" not in role["Properties"]
    template.resource_count_is("AWS::IAM::Policy", 0)


def test_exact_statement_set(template: Template) -> None:
    assert set(statements(template)) == {
        "PullModelImages",
        "EcrAuthorizationToken",
        "ReadModelArtifacts",
        "ListModelArtifacts",
        "WriteDataCapture",
        "EndpointLogs",
        "EndpointMetrics",
        "DescribeNetwork",
        "ManageNetworkInterfacesInVpc",
        "UseKey",
        "KeyGrantsForAwsResources",
    }
    for statement in statements(template).values():
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all(not a.endswith(":*") and a != "*" for a in actions), statement
        assert "sagemaker:*" not in actions


def test_images_from_this_repository_only(template: Template) -> None:
    pull = statements(template)["PullModelImages"]
    assert pull["Resource"]["Fn::GetAtt"][0].startswith("Repo")


def test_reads_model_prefix_and_writes_capture_prefix_only(template: Template) -> None:
    s = statements(template)
    assert s["ReadModelArtifacts"]["Action"] == "s3:GetObject"
    assert join(s["ReadModelArtifacts"]["Resource"]).endswith("/models/churn/*")
    assert s["WriteDataCapture"]["Action"] == "s3:PutObject"
    assert join(s["WriteDataCapture"]["Resource"]).endswith("/capture/churn/*")
    assert s["ListModelArtifacts"]["Condition"] == {
        "StringLike": {"s3:prefix": ["models/churn/", "models/churn/*"]}
    }


def test_logs_and_metrics_are_scoped(template: Template) -> None:
    s = statements(template)
    assert join(s["EndpointLogs"]["Resource"]).endswith(
        ":logs:eu-west-1:123456789012:log-group:/aws/sagemaker/Endpoints/*"
    )
    assert s["EndpointMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": ["AWS/SageMaker", "/aws/sagemaker/Endpoints"]}
    }


def test_wildcard_resources_only_where_the_api_takes_none(template: Template) -> None:
    star = {sid for sid, s in statements(template).items() if s["Resource"] == "*"}
    assert star == {
        "EcrAuthorizationToken",
        "EndpointMetrics",
        "DescribeNetwork",
        "ManageNetworkInterfacesInVpc",
    }
    eni = statements(template)["ManageNetworkInterfacesInVpc"]
    assert join(eni["Condition"]["ArnEquals"]["ec2:Vpc"]).endswith(
        ":ec2:eu-west-1:123456789012:vpc/vpc-0123456789abcdef0"
    )


def test_key_use_is_in_the_roles_own_policy_and_the_role_has_the_path(
    template: Template,
) -> None:
    """Adding a service must not edit the shared key policy: the role carries its key use
    and lives under the path the key policy admits."""
    s = statements(template)
    assert "kms:Decrypt" in s["UseKey"]["Action"]
    assert s["KeyGrantsForAwsResources"]["Condition"] == {
        "Bool": {"kms:GrantIsForAWSResource": "true"}
    }
    (key,) = template.find_resources("AWS::KMS::Key").values()
    sids = {st["Sid"] for st in key["Properties"]["KeyPolicy"]["Statement"]}
    assert not any("Execution" in sid for sid in sids)
    (role,) = template.find_resources("AWS::IAM::Role").values()
    assert role["Properties"]["Path"] == "/mlops/test/"


def test_transform_jobs_write_their_logs_and_metrics(batch: Template) -> None:
    """Batch transform jobs log to /aws/sagemaker/TransformJobs and publish their instance
    metrics to the namespace of that name ("Log groups and streams that Amazon SageMaker AI
    sends to Amazon CloudWatch Logs"; "SageMaker AI job metrics")."""
    s = statements(batch)
    logs = s["TransformJobLogs"]
    assert join(logs["Resource"]).endswith(
        ":logs:eu-west-1:123456789012:log-group:/aws/sagemaker/TransformJobs:*"
    )
    assert set(logs["Action"]) >= {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert s["TransformJobMetrics"]["Action"] == "cloudwatch:PutMetricData"
    assert s["TransformJobMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TransformJobs"}
    }
    assert {"ReadBatchInput", "ListBatchInput", "WriteBatchOutput"} <= set(s)


def test_endpoint_role_keeps_its_eni_actions_in_its_vpc(batch: Template) -> None:
    """Hosting and transform jobs take the scoped ENI statement (the CreateModel section of "How
    to use SageMaker AI execution roles" does not ask for it unscoped): only processing-job
    roles get the unconditioned one."""
    for statement in statements(batch).values():
        if "ec2:CreateNetworkInterface" in statement["Action"]:
            assert "ArnEquals" in statement["Condition"], statement["Sid"]
