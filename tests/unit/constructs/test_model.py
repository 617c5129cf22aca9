"""HostedModel: VPC placement, own security group, network isolation, no physical name."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.model import AwsImageSpec, ModelSpec
from tests.helpers import imported_vpc, new_stack


def model_template(in_vpc: bool, isolation: bool = True) -> Template:
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    vpc = imported_vpc(stack)
    HostedModel(
        stack,
        "Model",
        execution_role=role,
        image_uri="123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:1.0.0",
        model_data_url="s3://bucket/models/m/model.tar.gz",
        environment={"B": "2", "A": "1"},
        vpc=vpc if in_vpc else None,
        network_isolation=isolation,
    )
    return Template.from_stack(stack)


def test_model_in_isolated_subnets_with_network_isolation() -> None:
    template = model_template(in_vpc=True)
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    props = model["Properties"]
    assert "ModelName" not in props
    assert props["EnableNetworkIsolation"] is True
    assert props["VpcConfig"]["Subnets"] == ["subnet-01234567", "subnet-89abcdef"]
    assert len(props["VpcConfig"]["SecurityGroupIds"]) == 1
    assert props["PrimaryContainer"] == {
        "Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:1.0.0",
        "ModelDataUrl": "s3://bucket/models/m/model.tar.gz",
        "Environment": {"A": "1", "B": "2"},
        "Mode": "SingleModel",
    }
    assert props["ExecutionRoleArn"]["Fn::GetAtt"][1] == "Arn"


def test_model_security_group_has_no_ingress_and_https_egress_only() -> None:
    template = model_template(in_vpc=True)
    (group,) = template.find_resources("AWS::EC2::SecurityGroup").values()
    props = group["Properties"]
    assert "SecurityGroupIngress" not in props
    assert [
        (r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in props["SecurityGroupEgress"]
    ] == [("tcp", 443, 443)]


def test_a_distributed_job_opens_the_models_group_to_itself_once() -> None:
    """A batch transform on several instances: its containers must reach each other
    ("Give Batch Transform Jobs Access to Resources in Your Amazon VPC")."""
    stack = new_stack()
    model = HostedModel(stack, "M", image_uri="i", vpc=imported_vpc(stack))
    model.allow_distributed_jobs()
    model.allow_distributed_jobs()  # a second job of several instances: nothing more
    template = Template.from_stack(stack)
    group_id = stack.resolve(model.security_group.security_group_id)  # type: ignore[union-attr]
    (ingress,) = template.find_resources("AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"]["SourceSecurityGroupId"] == group_id
    assert ingress["Properties"]["GroupId"] == group_id
    assert ingress["Properties"]["IpProtocol"] == "-1"
    (egress,) = template.find_resources("AWS::EC2::SecurityGroupEgress").values()
    assert egress["Properties"]["DestinationSecurityGroupId"] == group_id
    assert egress["Properties"]["IpProtocol"] == "-1"


def test_model_without_vpc_has_no_vpc_config() -> None:
    template = model_template(in_vpc=False, isolation=False)
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    assert "VpcConfig" not in model["Properties"]
    assert model["Properties"]["EnableNetworkIsolation"] is False
    template.resource_count_is("AWS::EC2::SecurityGroup", 0)


def test_model_name_is_the_generated_attribute() -> None:
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    model = HostedModel(stack, "M", execution_role=role, image_uri="i", model_data_url="s3://b/k")
    assert stack.resolve(model.model_name) == {
        "Fn::GetAtt": [stack.get_logical_id(model.model), "ModelName"]
    }
    assert isinstance(model.model, cdk.CfnResource)


# --- the library's conveniences: image and artifact from objects, grants, created role ---------

SPEC = ModelSpec(image_tag="1.0.0", model_data_key="models/churn/v1/model.tar.gz")
XGBOOST = AwsImageSpec(framework="xgboost", version="1.7-1")
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def library_model(
    *, role: bool = False, prefix: str | None = None, vpc: bool = True, **kwargs: Any
) -> tuple[cdk.Stack, HostedModel]:
    stack = new_stack()
    image = {"image_tag": kwargs.pop("image_tag", "1.0.0")}
    if "image_digest" in kwargs:
        image = {"image_digest": kwargs.pop("image_digest")}
    model = HostedModel(
        stack,
        "Model",
        spec=ModelSpec(**image, model_data_key="models/churn/v1/model.tar.gz"),
        repository=ecr.Repository.from_repository_name(stack, "Repo", "models"),
        bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts"),
        model_data_prefix=prefix,
        key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        execution_role=iam.Role.from_role_arn(
            stack, "Existing", "arn:aws:iam::123456789012:role/existing"
        )
        if role
        else None,
        vpc=imported_vpc(stack) if vpc else None,
        **kwargs,
    )
    return stack, model


def statements(stack: cdk.Stack, model: HostedModel) -> dict[str, dict[str, Any]]:
    assert model.policy is not None
    document = stack.resolve(model.policy.document.to_json())
    return {statement["Sid"]: statement for statement in document["Statement"]}


def test_a_created_role_gets_hosting_and_exactly_the_models_image_artifact_and_key() -> None:
    stack, model = library_model()
    assert model.created_role is not None
    assert model.role is model.created_role
    found = statements(stack, model)
    assert set(found) == {
        "EndpointLogs",
        "EndpointMetrics",
        "DescribeNetwork",
        "ManageNetworkInterfacesInVpc",
        "PullModelImages",
        "EcrAuthorizationToken",
        "ReadModelArtifact",
        "DecryptModelArtifacts",
    }
    assert found["ReadModelArtifact"]["Action"] == "s3:GetObject"
    assert found["ReadModelArtifact"]["Resource"] == (
        "arn:aws:s3:::artifacts/models/churn/v1/model.tar.gz"  # that object only
    )
    assert found["PullModelImages"]["Resource"] == (
        "arn:aws:ecr:eu-west-1:123456789012:repository/models"
    )
    assert found["DecryptModelArtifacts"] == {
        "Sid": "DecryptModelArtifacts",
        "Action": "kms:Decrypt",
        "Effect": "Allow",
        "Resource": KEY_ARN,
        "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
    }
    template = Template.from_stack(stack)
    (role,) = template.find_resources("AWS::IAM::Role").values()
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"
    }
    (resource,) = template.find_resources("AWS::SageMaker::Model").values()
    props = resource["Properties"]
    assert (
        props["PrimaryContainer"]["ModelDataUrl"] == "s3://artifacts/models/churn/v1/model.tar.gz"
    )
    assert props["PrimaryContainer"]["Image"]["Fn::Join"][1][-1].endswith("/models:1.0.0")
    # The model waits for its permissions.
    assert stack.get_logical_id(model.policy.node.default_child) in resource["DependsOn"]  # type: ignore[union-attr, arg-type]


def test_a_given_role_is_only_granted_the_models_needs() -> None:
    stack, model = library_model(role=True, image_digest="sha256:" + "a" * 64)
    assert model.created_role is None
    found = statements(stack, model)
    assert set(found) == {
        "PullModelImages",
        "EcrAuthorizationToken",
        "ReadModelArtifact",
        "DecryptModelArtifacts",
    }
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["Roles"] == ["existing"]
    assert model.image_uri.endswith("@sha256:" + "a" * 64)


def test_a_prefix_grants_reading_and_listing_under_it() -> None:
    stack, model = library_model(role=True, prefix="models/churn/")
    found = statements(stack, model)
    assert found["ReadModelArtifacts"]["Resource"] == "arn:aws:s3:::artifacts/models/churn/*"
    assert found["ListModelArtifacts"]["Condition"] == {
        "StringLike": {"s3:prefix": ["models/churn/", "models/churn/*"]}
    }
    with pytest.raises(ValueError, match="is not under 'models/fraud/'"):
        library_model(role=True, prefix="models/fraud/")


def test_without_grants_a_given_role_gets_no_policy() -> None:
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    model = HostedModel(stack, "M", execution_role=role, image_uri="i")
    assert model.policy is None
    assert model.model_data_url is None
    Template.from_stack(stack).resource_count_is("AWS::IAM::ManagedPolicy", 0)


def test_bring_your_own_security_groups() -> None:
    stack = new_stack()
    vpc = imported_vpc(stack)
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0123456789abcdef0")
    model = HostedModel(stack, "M", image_uri="i", vpc=vpc, security_groups=[group])
    assert model.security_group is None
    (resource,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
    assert resource["Properties"]["VpcConfig"]["SecurityGroupIds"] == ["sg-0123456789abcdef0"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give spec .* or image_uri"),
        ({"image_uri": "i", "model_data_prefix": "p/"}, "model_data_prefix goes with bucket"),
        ({"spec": SPEC, "image_uri": "i"}, "spec declares .*: remove image_uri"),
        (
            {"spec": SPEC, "environment": {"A": "1"}, "network_isolation": False},
            "remove environment, network_isolation",
        ),
        ({"spec": SPEC}, r"spec needs repository \(an image tag or digest\)"),
        (
            {"spec": ModelSpec(aws_image=XGBOOST, model_data_key="m/x.tar.gz")},
            r"spec needs bucket \(a model_data_key\)",
        ),
    ],
)
def test_invalid_model_props(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HostedModel(new_stack(), "M", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "model: image_tag: set exactly one of image_tag or image_digest, or aws_image"),
        ({"image_tag": "latest"}, "image_tag: 'latest' does not pin a model version"),
        ({"image_tag": "1", "image_digest": "sha1:x"}, "image_digest: String should match"),
        ({"image_tag": "1", "model_data_key": "/abs.tar.gz"}, "model_data_key: '/abs.tar.gz'"),
        (
            {"image_tag": "1", "model_data_key": "m.tar.gz", "inference_execution": "direct"},
            "inference_execution: applies to a model with containers",
        ),
        ({"image_tag": "1"}, "model_data_key: required: the model archive's S3 key"),
    ],
)
def test_a_library_user_gets_the_configurations_model_errors(
    kwargs: dict[str, Any], message: str
) -> None:
    """ModelSpec is what the configuration's models[] validate into: the same checks."""
    with pytest.raises(PropProblems, match=message):
        ModelSpec(**kwargs)


@pytest.mark.parametrize(
    ("props", "line"),
    [
        (
            {"image_uri": "repo/image latest"},
            "image_uri: 'repo/image latest' is not an image URI (no spaces, at most 255 "
            "characters)",
        ),
        ({"image_uri": "r/" + "i" * 254}, "image_uri: 'r/iii"),
        (
            {"image_uri": "i", "model_data_url": "http://models.example.com/m.tar.gz"},
            "model_data_url: 'http://models.example.com/m.tar.gz' is not a model data URL "
            "(s3://bucket/key or https://..., at most 1024 characters)",
        ),
        (
            {"image_uri": "i", "environment": {"MODEL-NAME": "churn"}},
            "environment: 'MODEL-NAME' is not a valid environment variable name",
        ),
    ],
)
def test_a_model_by_uri_gets_what_sagemaker_accepts_checked(
    props: dict[str, Any], line: str
) -> None:
    """CreateModel's Image, ModelDataUrl and Environment rules (botocore's service model),
    which a spec's images and keys already had: not a failed deploy."""
    with pytest.raises(PropProblems) as raised:
        HostedModel(new_stack(), "M", **props)
    assert str(raised.value).startswith(f"HostedModel: {line}")


def test_a_token_uri_is_left_to_cloudformation() -> None:
    stack = new_stack()
    repository = ecr.Repository(stack, "Repo")
    bucket = s3.Bucket(stack, "Bucket")
    HostedModel(
        stack,
        "M",
        image_uri=repository.repository_uri_for_tag("1.0.0"),
        model_data_url=bucket.s3_url_for_object("models/m.tar.gz"),
    )
