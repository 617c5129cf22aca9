"""PrivateNetwork: isolated subnets, no internet path, flow logs, endpoints and their SG."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs.network import INTERFACE_ENDPOINTS, PrivateNetwork
from mlops_cdk.props.errors import PropProblems
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


def _policies_by_service(template: Template) -> dict[str, list[dict[str, object]]]:
    """Endpoint policy statements by the endpoint's service (``sagemaker.runtime``, ``s3``)."""
    found: dict[str, list[dict[str, object]]] = {}
    for endpoint in template.find_resources("AWS::EC2::VPCEndpoint").values():
        name = json.dumps(endpoint["Properties"]["ServiceName"])
        service = next(
            (s for s in sorted(EXPECTED_SERVICES | {"s3"}, key=len, reverse=True)
             if f".{s}" in name),
            name,
        )  # fmt: skip
        found[service] = endpoint["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_every_endpoint_policy_admits_only_this_account(template: Template) -> None:
    policies = _policies_by_service(template)
    assert set(policies) == EXPECTED_SERVICES | {"s3"}
    for service, statements in policies.items():
        for statement in statements:
            assert statement["Effect"] == "Allow"
            if statement.get("Sid") == "EcrImageLayers":  # AWS's bucket: ECR signs the reads
                assert service == "s3"
                continue
            assert statement["Condition"]["StringEquals"]["aws:PrincipalAccount"] == (  # type: ignore[index]
                "123456789012"
            )


def test_runtime_endpoint_only_invokes_this_accounts_endpoints(template: Template) -> None:
    """Issue 21: the runtime endpoint allowed every action on every resource."""
    (statement,) = _policies_by_service(template)["sagemaker.runtime"]
    assert statement["Action"] == [
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointAsync",
        "sagemaker:InvokeEndpointWithResponseStream",
    ]
    assert statement["Resource"] == "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/*"


def test_runtime_endpoint_prefix_names_the_environments_endpoints() -> None:
    template = network_stack(cidr="10.1.0.0/16", runtime_endpoint_prefix="Stage-")
    (statement,) = _policies_by_service(template)["sagemaker.runtime"]
    # SageMaker writes endpoint names in lowercase in their ARNs.
    assert statement["Resource"] == "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/stage-*"


def test_s3_endpoint_reaches_this_accounts_buckets_and_ecr_layers_only(
    template: Template,
) -> None:
    statements = {s["Sid"]: s for s in _policies_by_service(template)["s3"]}
    assert set(statements) == {"ThisAccountsBucketsOnly", "EcrImageLayers"}
    assert statements["ThisAccountsBucketsOnly"]["Condition"] == {
        "StringEquals": {
            "aws:PrincipalAccount": "123456789012",
            "aws:ResourceAccount": "123456789012",
        }
    }
    assert statements["EcrImageLayers"]["Action"] == "s3:GetObject"
    assert "starport-layer-bucket/*" in json.dumps(statements["EcrImageLayers"]["Resource"])


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


@pytest.mark.parametrize(
    ("cidr", "problem"),
    [
        ("8.8.0.0/16", "8.8.0.0/16 is not a private (RFC 1918) range"),
        ("10.0.0.0/28", "prefix /28 must be between /16 and /24"),
        ("10.0.0/16", "'10.0.0/16' is not an IPv4 CIDR block (e.g. 10.20.0.0/16)"),
    ],
)
def test_a_library_user_gets_the_configurations_cidr_checks(cidr: str, problem: str) -> None:
    """The rules of network.new_vpc.cidr, the construct's own: not CDK's "1 of /22 exceeds
    remaining space" or "InvalidIpAddress" from deep inside the VPC."""
    stack = new_stack()
    with pytest.raises(PropProblems) as raised:
        PrivateNetwork(stack, "Network", key=kms.Key(stack, "Key"), cidr=cidr)
    assert str(raised.value) == f"PrivateNetwork: cidr: {problem}"


def test_an_imported_vpcs_secondary_blocks_reach_the_endpoints() -> None:
    """Private subnets in a secondary block (e.g. 100.64.0.0/16) call the interface endpoints
    too: without an ingress rule for it every call times out."""
    stack = new_stack("Secondary")
    vpc = imported_vpc(stack, cidr="10.50.0.0/16")
    PrivateNetwork(
        stack,
        "Network",
        key=kms.Key(stack, "Key"),
        existing_vpc=vpc,
        secondary_cidrs=["100.64.0.0/16"],
    )
    (group,) = (
        Template.from_stack(stack)
        .find_resources(
            "AWS::EC2::SecurityGroup",
            {
                "Properties": {
                    "GroupDescription": Match.string_like_regexp("VPC interface endpoints")
                }
            },
        )
        .values()
    )
    ingress = {
        (r["CidrIp"], r["FromPort"], r["ToPort"])
        for r in group["Properties"]["SecurityGroupIngress"]
    }
    assert ingress == {("10.50.0.0/16", 443, 443), ("100.64.0.0/16", 443, 443)}


@pytest.mark.parametrize(
    ("secondaries", "problem"),
    [
        (["10.50.128.0/20"], "10.50.128.0/20 overlaps 10.50.0.0/16"),
        (["100.64.0.0/12"], "100.64.0.0/12: a VPC's CIDR blocks are /16 to /28"),
        (["100.64.0/16"], "'100.64.0/16' is not an IPv4 CIDR block (e.g. 100.64.0.0/16)"),
    ],
)
def test_secondary_blocks_are_checked(secondaries: list[str], problem: str) -> None:
    stack = new_stack("BadSecondary")
    vpc = imported_vpc(stack, cidr="10.50.0.0/16")
    with pytest.raises(PropProblems) as raised:
        PrivateNetwork(
            stack, "Network", key=kms.Key(stack, "Key"), existing_vpc=vpc,
            secondary_cidrs=secondaries,
        )  # fmt: skip
    assert str(raised.value) == f"PrivateNetwork: secondary_cidrs: {problem}"


def test_secondary_blocks_come_with_an_imported_vpc_only() -> None:
    with pytest.raises(ValueError, match="secondary_cidrs come with existing_vpc only"):
        network_stack(cidr="10.10.0.0/16", secondary_cidrs=["100.64.0.0/16"])
