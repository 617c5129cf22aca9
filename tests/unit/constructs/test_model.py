"""HostedModel: VPC placement, own security group, network isolation, no physical name."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from mlops_cdk.constructs.model import HostedModel
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
