"""Security-group rules added and removed: inline ingress/egress of AWS::EC2::SecurityGroup and
standalone AWS::EC2::SecurityGroupIngress / SecurityGroupEgress resources."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mlops_cdk.aws.cfn_values import reference
from mlops_tools.review.changes import resources
from mlops_tools.review.markdown import MISSING, Values, code, plain

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
SECURITY_GROUP_RULES = {
    "AWS::EC2::SecurityGroupIngress": "ingress",
    "AWS::EC2::SecurityGroupEgress": "egress",
}
PROTOCOLS = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
PEERS = (
    "CidrIp",
    "CidrIpv6",
    "SourceSecurityGroupId",
    "SourceSecurityGroupName",
    "SourcePrefixListId",
    "DestinationSecurityGroupId",
    "DestinationPrefixListId",
)
RULE_HEADER = (
    "change",
    "stack",
    "security group",
    "direction",
    "protocol",
    "ports",
    "peer",
    "description",
)

Templates = Mapping[str, Mapping[str, Any]]


def rule_rows(
    before: Templates, after: Templates, values_before: Values, values_after: Values
) -> list[list[str]]:
    """Rows of RULE_HEADER: rules added, then rules removed, over all stacks."""
    old, new = _rules(before), _rules(after)
    return [_rule_row("added", key, values_after) for key in sorted(new - old)] + [
        _rule_row("removed", key, values_before) for key in sorted(old - new)
    ]


RuleKey = tuple[str, str, str, str]  # stack, group, direction, rule (canonical JSON)


def _rules(templates: Templates) -> set[RuleKey]:
    rules: set[RuleKey] = set()
    for stack, template in templates.items():
        for logical_id, resource in resources(template).items():
            properties: Mapping[str, Any] = resource.get("Properties") or {}
            resource_type = resource.get("Type")
            if resource_type == SECURITY_GROUP:
                for key, direction in (
                    ("SecurityGroupIngress", "ingress"),
                    ("SecurityGroupEgress", "egress"),
                ):
                    for rule in properties.get(key) or []:
                        rules.add((stack, logical_id, direction, json.dumps(rule, sort_keys=True)))
            elif resource_type in SECURITY_GROUP_RULES:
                group = _group(properties.get("GroupId") or properties.get("GroupName"))
                rule = {k: v for k, v in properties.items() if k not in ("GroupId", "GroupName")}
                direction = SECURITY_GROUP_RULES[str(resource_type)]
                rules.add((stack, group, direction, json.dumps(rule, sort_keys=True)))
    return rules


def _group(value: Any) -> str:
    """A security group reference as the group's logical id when it is one of ours."""
    found = reference(value)
    if found is not None and found[1] in (None, "GroupId"):
        return found[0]
    return Values().text(value)


def _rule_row(change: str, key: RuleKey, values: Values) -> list[str]:
    stack, group, direction, rule_json = key
    rule: dict[str, Any] = json.loads(rule_json)
    protocol = values.text(rule.get("IpProtocol", "-1"))
    protocol = PROTOCOLS.get(protocol, protocol)
    peers = [f"{name}: {code(_peer(name, rule[name], values))}" for name in PEERS if name in rule]
    if "SourceSecurityGroupOwnerId" in rule:
        peers.append(f"owner {code(values.text(rule['SourceSecurityGroupOwnerId']))}")
    return [
        change,
        code(stack),
        code(group),
        direction,
        protocol,
        _ports(protocol, rule, values),
        "<br>".join(peers) or MISSING,
        plain(values.text(rule.get("Description", ""))),
    ]


def _peer(name: str, value: Any, values: Values) -> str:
    return _group(value) if name.endswith("GroupId") else values.text(value)


def _ports(protocol: str, rule: Mapping[str, Any], values: Values) -> str:
    low, high = rule.get("FromPort"), rule.get("ToPort")
    if protocol == "all" or (low in (None, -1) and high in (None, -1)):
        return "all"
    shown_low = values.text(low) if low is not None else "all"
    shown_high = values.text(high) if high is not None else "all"
    if protocol in ("icmp", "icmpv6"):
        return f"type {shown_low}, code {shown_high}"
    return shown_low if shown_low == shown_high else f"{shown_low}-{shown_high}"
