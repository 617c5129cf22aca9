"""CloudFormation values as synthesized templates hold them, walked in one place.

The SageMaker rule pack, the acknowledgements of what CDK Pipelines generates and the review
report all read resolved template values, whose shapes vary:

- intrinsic functions are one-key objects (``{"Ref": "X"}``, ``{"Fn::GetAtt": ["X", "Arn"]}``
  or ``{"Fn::GetAtt": "X.Arn"}``, ``{"Fn::Join": [",", [...]]}``, ``{"Fn::Sub": ...}``,
  ``{"Fn::ImportValue": ...}``);
- a policy document's ``Statement`` is one statement or a list of them, and a statement's
  ``Action``, ``Resource``, principals and condition values are a string or a list;
- IAM compares actions case-insensitively, with ``*`` and ``?`` wildcards.

Nothing here imports CDK or the rest of the package (the review tool must not load jsii).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

# ${Name} or ${Logical.Attr} in an Fn::Sub string; ${!Literal} is not a variable.
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")

# --- intrinsic functions ---------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """A value that may be one item or a list (or tuple) of them, as a list (``None``: empty)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def intrinsic(value: Any) -> tuple[str, Any] | None:
    """(function, argument) of ``{"Ref": ...}`` or ``{"Fn::<name>": ...}``, else None."""
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref" or (isinstance(function, str) and function.startswith("Fn::")):
            return function, argument
    return None


def is_intrinsic(value: Any) -> bool:
    return intrinsic(value) is not None


def reference(value: Any) -> tuple[str, str | None] | None:
    """(logical id, attribute) of ``{"Ref": "X"}`` (attribute None) or ``{"Fn::GetAtt": ...}``
    in either of its forms; None for anything else."""
    found = intrinsic(value)
    if found is None:
        return None
    function, argument = found
    if function == "Ref" and isinstance(argument, str):
        return argument, None
    if function == "Fn::GetAtt":
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        if isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts):
            return parts[0], parts[1]
    return None


def referenced_logical_id(value: Any) -> str | None:
    """``X`` of ``{"Ref": "X"}`` or ``{"Fn::GetAtt": ["X", ...]}``."""
    found = reference(value)
    return found[0] if found else None


def references(value: Any) -> set[str]:
    """Logical ids a value points at anywhere inside it, through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, dict):
        found = intrinsic(value)
        if found is not None:
            named = _intrinsic_references(*found)
            if named is not None:
                return named
        return _union(references(v) for v in value.values())
    if isinstance(value, list):
        return _union(references(v) for v in value)
    return set()


def _intrinsic_references(function: str, argument: Any) -> set[str] | None:
    if function == "Ref" and isinstance(argument, str):
        return {argument}
    if function == "Fn::GetAtt":
        if isinstance(argument, str):
            return {argument.split(".", 1)[0]}
        if isinstance(argument, list) and argument and isinstance(argument[0], str):
            return {argument[0]} | references(argument[1:])
    if function == "Fn::Sub":
        return _sub_references(argument)
    return None


def _sub_references(argument: Any) -> set[str]:
    text: Any = argument
    variables: Any = {}
    if isinstance(argument, list) and argument:
        text, variables = argument[0], (argument[1] if len(argument) > 1 else {})
    if not isinstance(text, str) or not isinstance(variables, dict):
        return references(argument)
    named = {match.split(".", 1)[0].strip() for match in _SUB_VARIABLE.findall(text)}
    return (named - variables.keys()) | references(variables)


def export_key(name: Any) -> str:
    """An export's name: the literal string, or canonical JSON of an expression."""
    return name if isinstance(name, str) else json.dumps(name, sort_keys=True)


def imports(value: Any) -> set[str]:
    """Export names a value reads anywhere inside it through Fn::ImportValue."""
    if isinstance(value, dict):
        if len(value) == 1 and "Fn::ImportValue" in value:
            return {export_key(value["Fn::ImportValue"])}
        return _union(imports(v) for v in value.values())
    if isinstance(value, list):
        return _union(imports(v) for v in value)
    return set()


def _union(sets: Iterable[set[str]]) -> set[str]:
    result: set[str] = set()
    for item in sets:
        result |= item
    return result


def render_resource_value(value: Any, *, strict: bool = False) -> str:
    """A value as cdk-nag names it in granular finding ids: ``{"Fn::GetAtt": ["B", "Arn"]}``
    -> ``<B.Arn>``, ``{"Ref": "X"}`` -> ``<X>``, ``{"Fn::ImportValue": "name"}`` -> ``name``,
    joins concatenated. Other intrinsics raise with ``strict``, else render as sorted JSON."""
    if isinstance(value, str):
        return value
    found = reference(value)
    if found is not None:
        logical_id, attribute = found
        return f"<{logical_id}.{attribute}>" if attribute else f"<{logical_id}>"
    function, argument = intrinsic(value) or ("", None)
    if function == "Fn::ImportValue" and isinstance(argument, str):
        return argument  # cdk-nag shows an import as its export name
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        delimiter, parts = argument
        return str(delimiter).join(render_resource_value(p, strict=strict) for p in parts)
    if strict:
        raise ValueError(f"cannot render {value!r} as a cdk-nag resource string")
    return json.dumps(value, sort_keys=True)


# --- policy documents ------------------------------------------------------------------------


def statements(document: Any) -> list[dict[str, Any]]:
    """The statements of a policy document (``Statement`` one object or a list)."""
    if not isinstance(document, dict):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def allow_statements(document: Any) -> list[dict[str, Any]]:
    return [s for s in statements(document) if s.get("Effect") == "Allow"]


def actions(statement: dict[str, Any]) -> list[str]:
    """The literal strings of the statement's ``Action`` (not ``NotAction``)."""
    return [a for a in as_list(statement.get("Action")) if isinstance(a, str)]


def covers_action(statement: dict[str, Any], action: str) -> bool:
    """Whether the statement's Action (or NotAction) covers ``action``, IAM-style: wildcards,
    case-insensitive. ``action`` may itself end in ``*`` (``kms:GenerateDataKey*``): it is then
    covered only by that pattern or a wider one (``kms:*``, ``kms:Generate*``, ``*``)."""
    target = action.lower()
    if "NotAction" in statement:
        excluded = [a.lower() for a in as_list(statement["NotAction"]) if isinstance(a, str)]
        return not any(fnmatchcase(target, pattern) for pattern in excluded)
    return any(fnmatchcase(target, pattern.lower()) for pattern in actions(statement))


def condition_values(statement: dict[str, Any], key: str) -> list[tuple[str, list[Any]]]:
    """(operator, values) of every condition on ``key`` (keys compare case-insensitively)."""
    found = []
    for operator, conditions in (statement.get("Condition") or {}).items():
        if not isinstance(conditions, dict):
            continue
        for condition_key, values in conditions.items():
            if isinstance(condition_key, str) and condition_key.lower() == key.lower():
                found.append((str(operator), as_list(values)))
    return found


def number(value: Any) -> float | None:
    """A template value as a number, or None for a token, a string or a boolean."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
