"""EndpointOpenIngress: an interface endpoint whose security group admits 0.0.0.0/0 or ::/0
(inline or in a separate ingress resource) is non-compliant."""

from __future__ import annotations

import pytest
from aws_cdk import aws_ec2 as ec2

from tests.unit.compliance.sagemaker.pack_helpers import rules_for, stack, vpc_endpoint


@pytest.mark.parametrize(
    ("private_dns", "peer", "expected"),
    [
        (True, ec2.Peer.ipv4("10.0.0.0/16"), set()),
        (True, ec2.Peer.any_ipv4(), {"EndpointOpenIngress"}),
        (True, ec2.Peer.any_ipv6(), {"EndpointOpenIngress"}),
    ],
)
def test_interface_endpoint_open_ingress(
    private_dns: bool, peer: ec2.IPeer, expected: set[str]
) -> None:
    s = stack()
    vpc_endpoint(s, private_dns=private_dns, peer=peer)
    assert rules_for(s, "S/Vpc/Endpoint/Resource") == expected


def test_separate_ingress_resource_is_checked_too() -> None:
    s = stack()
    vpc_endpoint(s, private_dns=True, peer=ec2.Peer.ipv4("10.0.0.0/16"))
    group = s.node.find_child("Group").node.default_child
    assert isinstance(group, ec2.CfnSecurityGroup)
    ec2.CfnSecurityGroupIngress(
        s, "Open", group_id=group.attr_group_id, ip_protocol="tcp", cidr_ip="0.0.0.0/0"
    )
    assert rules_for(s, "S/Vpc/Endpoint/Resource") == {"EndpointOpenIngress"}
