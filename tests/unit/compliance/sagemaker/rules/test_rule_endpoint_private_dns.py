"""EndpointPrivateDns: an interface endpoint with private DNS disabled is non-compliant."""

from __future__ import annotations

import pytest
from aws_cdk import aws_ec2 as ec2

from tests.helpers import imported_vpc
from tests.unit.compliance.sagemaker.pack_helpers import rules_for, stack, vpc_endpoint


@pytest.mark.parametrize(
    ("private_dns", "peer", "expected"),
    [
        (True, ec2.Peer.ipv4("10.0.0.0/16"), set()),
        (False, ec2.Peer.ipv4("10.0.0.0/16"), {"EndpointPrivateDns"}),
    ],
)
def test_interface_endpoint_private_dns(
    private_dns: bool, peer: ec2.IPeer, expected: set[str]
) -> None:
    s = stack()
    vpc_endpoint(s, private_dns=private_dns, peer=peer)
    assert rules_for(s, "S/Vpc/Endpoint/Resource") == expected


def test_gateway_endpoints_are_not_checked() -> None:
    s = stack()
    imported_vpc(s).add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
    # Private DNS is an interface-endpoint setting (an unbounded policy is another rule's).
    assert "EndpointPrivateDns" not in rules_for(s, "S/Vpc/S3/Resource")
