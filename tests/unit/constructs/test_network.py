"""PrivateNetwork: isolated subnets, no internet path, flow logs, endpoints and their SG."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs.network import INTERFACE_ENDPOINTS, PrivateNetwork
from tests.helpers import imported_vpc, new_stack

EXPECTED_SERVICES = {
    "sagemaker.api",
    "sagemaker.runtime",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "monitoring",
    "sts",
    "kms",
}


def network_stack(**props: object) -> Template:
    stack = new_stack("Test")
    key = kms.Key(stack, "Key")
    PrivateNetwork(
        stack,
        "Network",
        key=key,
        log_retention=logs.RetentionDays.TWO_WEEKS,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        **props,  # type: ignore[arg-type]
    )
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def template() -> Template:
    return network_stack(cidr="10.10.0.0/16", max_azs=2)


def test_isolated_subnets_in_two_azs_and_no_internet_path(template: Template) -> None:
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.10.0.0/16"})
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert len(subnets) == 2
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets.values()}
    assert len(zones) == 2
    for subnet in subnets.values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    for absent in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        template.resource_count_is(absent, 0)


def test_flow_logs_all_traffic_to_an_encrypted_log_group(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"RetentionInDays": 14, "KmsKeyId": {"Fn::GetAtt": [Match.any_value(), "Arn"]}},
    )
    # The flow-log role has only its managed policy: no inline policy.
    template.resource_count_is("AWS::IAM::Policy", 0)


def test_interface_endpoints_with_private_dns(template: Template) -> None:
    endpoints = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    services = set()
    for endpoint in endpoints.values():
        props = endpoint["Properties"]
        assert props["PrivateDnsEnabled"] is True
        name = props["ServiceName"]
        services.add(name if isinstance(name, str) else "".join(map(str, name["Fn::Join"][1])))
    assert {s.removeprefix("com.amazonaws.eu-west-1.") for s in services} == EXPECTED_SERVICES
    assert len(INTERFACE_ENDPOINTS) == len(EXPECTED_SERVICES)


def test_s3_gateway_endpoint(template: Template) -> None:
    (endpoint,) = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Gateway"}}
    ).values()
    props = endpoint["Properties"]
    assert props["ServiceName"] == {
        "Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]
    }
    assert len(props["RouteTableIds"]) == 2


def test_endpoint_security_group_admits_https_from_the_vpc_cidr_only(template: Template) -> None:
    groups = template.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": Match.string_like_regexp("VPC interface endpoints")}},
    )
    (group,) = groups.values()
    ingress = group["Properties"]["SecurityGroupIngress"]
    assert ingress == [
        {
            "CidrIp": "10.10.0.0/16",
            "Description": "HTTPS from the VPC CIDR",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    # No egress at all (CDK renders a disallow-all placeholder rule).
    egress = group["Properties"]["SecurityGroupEgress"]
    assert [rule["CidrIp"] for rule in egress] == ["255.255.255.255/32"]


def test_every_endpoint_policy_admits_only_this_account(template: Template) -> None:
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint")
    assert len(endpoints) == len(EXPECTED_SERVICES) + 1
    for endpoint in endpoints.values():
        statements = endpoint["Properties"]["PolicyDocument"]["Statement"]
        account_only = [s for s in statements if s.get("Sid") == "PrincipalsOfThisAccountOnly"]
        assert account_only == [
            {
                "Action": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": "123456789012"}},
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Resource": "*",
                "Sid": "PrincipalsOfThisAccountOnly",
            }
        ]
        others = [s for s in statements if s not in account_only]
        # Only the S3 endpoint has one more statement: ECR's image-layer bucket, read only.
        for statement in others:
            assert statement["Sid"] == "EcrImageLayers"
            assert statement["Action"] == "s3:GetObject"


def test_default_security_group_is_restricted(template: Template) -> None:
    template.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_imported_vpc_gets_endpoints_and_flow_logs_without_a_new_vpc() -> None:
    stack = new_stack("Imported")
    vpc = imported_vpc(stack, cidr="10.50.0.0/16")
    network = PrivateNetwork(
        stack,
        "Network",
        key=kms.Key(stack, "Key"),
        log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        existing_vpc=vpc,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::VPC", 0)
    template.has_resource_properties("AWS::EC2::FlowLog", {"ResourceId": "vpc-0123456789abcdef0"})
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [Match.object_like({"CidrIp": "10.50.0.0/16"})]},
    )
    assert len(network.interface_endpoints) == len(EXPECTED_SERVICES)
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"RouteTableIds": ["rtb-01234567", "rtb-89abcdef"]}
    )


def test_imported_vpc_without_endpoints() -> None:
    stack = new_stack("NoEndpoints")
    vpc = imported_vpc(stack, cidr="10.50.0.0/16")
    PrivateNetwork(
        stack,
        "Network",
        key=kms.Key(stack, "Key"),
        log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        existing_vpc=vpc,
        create_endpoints=False,
    )
    Template.from_stack(stack).resource_count_is("AWS::EC2::VPCEndpoint", 0)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({}, "exactly one of cidr or existing_vpc"),
        ({"cidr": "10.0.0.0/16", "max_azs": 1}, "max_azs must be at least 2"),
    ],
)
def test_invalid_props(props: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        network_stack(**props)
