"""IAM changes: statements added to and removed from the policy documents of roles, policies,
managed policies and KMS keys, compared as IAM does (the order of actions, resources,
principals and condition values does not matter)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from mlops_cdk.aws.cfn_values import statements
from mlops_tools.review.markdown import MISSING, Values, code, codes

POLICY_TYPES = frozenset(
    {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::KMS::Key"}
)
STATEMENT_HEADER = ("change", "effect", "actions", "resources", "principal", "condition")


def documents(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Policy documents of an IAM or KMS resource, by a readable label."""
    properties: Mapping[str, Any] = resource.get("Properties") or {}
    resource_type = resource.get("Type")
    documents: dict[str, Any] = {}
    if resource_type == "AWS::IAM::Role":
        documents["trust policy"] = properties.get("AssumeRolePolicyDocument")
        for policy in properties.get("Policies") or []:
            if not isinstance(policy, dict):
                continue
            name = Values().text(policy.get("PolicyName"))
            documents[f"inline policy {code(name)}"] = policy.get("PolicyDocument")
    elif resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        documents["policy document"] = properties.get("PolicyDocument")
    elif resource_type == "AWS::KMS::Key":
        documents["key policy"] = properties.get("KeyPolicy")
    return {label: document for label, document in documents.items() if document}


def _statements(document: Any) -> Counter[str]:
    return Counter(json.dumps(_normalize(s), sort_keys=True) for s in statements(document))


def _normalize(statement: Any) -> Any:
    """Order-insensitive where IAM is: actions, resources, principals, condition values."""
    if not isinstance(statement, dict):
        return statement
    normalized: dict[str, Any] = {}
    for key, value in statement.items():
        if key in ("Action", "NotAction", "Resource", "NotResource"):
            normalized[key] = _sorted_list(value)
        elif key in ("Principal", "NotPrincipal") and isinstance(value, dict):
            normalized[key] = {k: _sorted_list(v) for k, v in value.items()}
        elif key == "Condition" and isinstance(value, dict):
            normalized[key] = {
                operator: {k: _sorted_list(v) for k, v in pairs.items()}
                if isinstance(pairs, dict)
                else pairs
                for operator, pairs in value.items()
            }
        else:
            normalized[key] = value
    return normalized


def _sorted_list(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    unique = {json.dumps(item, sort_keys=True): item for item in items}
    return [unique[key] for key in sorted(unique)]


def statement_rows(
    before: Any, after: Any, values_before: Values, values_after: Values
) -> list[list[str]]:
    """Rows of STATEMENT_HEADER: statements added to and removed from one policy document."""
    old, new = _statements(before), _statements(after)
    added = sorted((new - old).elements())
    removed = sorted((old - new).elements())
    return [_statement_row("added", json.loads(s), values_after) for s in added] + [
        _statement_row("removed", json.loads(s), values_before) for s in removed
    ]


def _statement_row(change: str, statement: dict[str, Any], values: Values) -> list[str]:
    effect = str(statement.get("Effect", MISSING))
    if "Sid" in statement:
        effect += f" ({code(values.text(statement['Sid']))})"
    return [
        change,
        effect,
        _negatable(statement, "Action", values),
        _negatable(statement, "Resource", values),
        _principal(statement, values),
        _condition(statement.get("Condition"), values),
    ]


def _negatable(statement: Mapping[str, Any], key: str, values: Values) -> str:
    if key in statement:
        return codes(values.text(item) for item in statement[key])
    if f"Not{key}" in statement:
        return "NOT " + codes(values.text(item) for item in statement[f"Not{key}"])
    return MISSING


def _principal(statement: Mapping[str, Any], values: Values) -> str:
    for key, prefix in (("Principal", ""), ("NotPrincipal", "NOT ")):
        principal = statement.get(key)
        if principal is None:
            continue
        if not isinstance(principal, dict):
            return prefix + code(values.text(principal))
        return prefix + "<br>".join(
            f"{kind}: {code(values.text(item))}"
            for kind, items in sorted(principal.items())
            for item in items
        )
    return MISSING


def _condition(condition: Any, values: Values) -> str:
    if not isinstance(condition, dict):
        return MISSING if condition is None else code(values.text(condition))
    lines = []
    for operator, pairs in sorted(condition.items()):
        if not isinstance(pairs, dict):
            lines.append(f"{operator} {code(values.text(pairs))}")
            continue
        for key, items in sorted(pairs.items()):
            shown = ", ".join(code(values.text(item)) for item in items)
            lines.append(f"{operator} {code(key)} = {shown}")
    return "<br>".join(lines) or MISSING


def managed_policy_rows(
    old: Mapping[str, Any], new: Mapping[str, Any], values_before: Values, values_after: Values
) -> list[list[str]]:
    """Rows (change, managed policy) of a role's attached managed policies."""
    if "AWS::IAM::Role" not in (old.get("Type"), new.get("Type")):
        return []
    arns_before, arns_after = _arns(old), _arns(new)
    return [
        [change, code(values.text(json.loads(arn)))]
        for change, arns, values in (
            ("attached", arns_after - arns_before, values_after),
            ("detached", arns_before - arns_after, values_before),
        )
        for arn in sorted(arns)
    ]


def _arns(resource: Mapping[str, Any]) -> set[str]:
    properties: Mapping[str, Any] = resource.get("Properties") or {}
    return {json.dumps(arn, sort_keys=True) for arn in properties.get("ManagedPolicyArns") or []}
