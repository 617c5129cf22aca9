"""Update vs replacement of every resource between two versions of a stack's template.

Decided as CloudFormation decides it, from its resource schemas as shipped with cfn-lint:

- a changed create-only property (``createOnlyProperties``; also a nested path inside one)
  replaces the resource; any other changed property updates it in place;
- a property that refers (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``) to a resource that is replaced,
  added or removed changes too (the new resource has a new physical id), which may in turn
  update or replace the referrer: this is propagated to a fixed point;
- across stacks, a property that imports (``Fn::ImportValue``) an export whose value changes
  changes too; ``diff_stacks`` propagates that to a fixed point over all stacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from mlops_cdk.aws.cfn_values import export_key, imports, is_intrinsic, references

Action = Literal["unchanged", "update", "replace", "added", "removed"]

# createOnlyProperties do not differ between regions; us-east-1 has every resource type.
SCHEMA_REGION = "us-east-1"

# Resource attributes (beside Properties) whose change is an in-place update of the stack entry.
UPDATE_ATTRIBUTES = (
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "UpdatePolicy",
    "UpdateReplacePolicy",
)

EMPTY_TEMPLATE: Mapping[str, Any] = {"Resources": {}}


@dataclass(frozen=True)
class PropertyChange:
    """One changed property (or resource attribute such as ``DeletionPolicy``)."""

    name: str
    replaces: bool = False
    """A create-only property (or a create-only path inside it) changes."""
    via: tuple[str, ...] = ()
    """The text is unchanged, but it refers to these replaced, added or removed resources."""
    imports: tuple[str, ...] = ()
    """The text is unchanged, but it imports these exports, whose values change."""


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    resource_type: str
    action: Action
    properties: tuple[PropertyChange, ...] = ()


def create_only(resource_type: str) -> frozenset[str]:
    """Create-only property paths of a type, relative to Properties (``"A"`` or ``"A/B"``)."""
    return frozenset("/".join(path) for path in _create_only_paths(resource_type))


@cache
def _create_only_paths(resource_type: str) -> tuple[tuple[str, ...], ...]:
    # Imported when first needed: cfn-lint brings sympy, networkx and numpy (about 0.5 s), which
    # every process importing the review (each test worker's collection too) would pay.
    from cfnlint.schema import (  # type: ignore[import-untyped]  # noqa: PLC0415
        PROVIDER_SCHEMA_MANAGER,
        ResourceNotFoundError,
    )

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
    except ResourceNotFoundError:
        return ()
    paths: list[str] = schema.get("createOnlyProperties", [])
    return tuple(sorted(tuple(p.removeprefix("/properties/").split("/")) for p in paths))


def _union(sets: Iterable[set[str]]) -> set[str]:
    result: set[str] = set()
    for item in sets:
        result |= item
    return result


def resources(template: Mapping[str, Any]) -> Mapping[str, Any]:
    found: Mapping[str, Any] = template.get("Resources") or {}
    return found


def diff_template(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    changed_imports: frozenset[str] = frozenset(),
) -> dict[str, ResourceChange]:
    """Every resource of either template (logical id -> change), unchanged ones included."""
    old, new = resources(before), resources(after)
    added, removed = new.keys() - old.keys(), old.keys() - new.keys()
    retyped = {k for k in old.keys() & new.keys() if old[k].get("Type") != new[k].get("Type")}
    common = sorted((old.keys() & new.keys()) - retyped)
    replaced = added | removed | retyped
    while True:
        changes = {k: _property_changes(old[k], new[k], replaced, changed_imports) for k in common}
        now_replaced = {k for k, props in changes.items() if any(p.replaces for p in props)}
        if now_replaced <= replaced:
            break
        replaced |= now_replaced

    result: dict[str, ResourceChange] = {}
    for logical_id in removed:
        result[logical_id] = ResourceChange(logical_id, _type(old[logical_id]), "removed")
    for logical_id in added:
        result[logical_id] = ResourceChange(logical_id, _type(new[logical_id]), "added")
    for logical_id in retyped:
        type_change = (PropertyChange("Type", replaces=True),)
        result[logical_id] = ResourceChange(
            logical_id, _type(new[logical_id]), "replace", type_change
        )
    for logical_id, props in changes.items():
        action: Action = "unchanged"
        if any(p.replaces for p in props):
            action = "replace"
        elif props:
            action = "update"
        result[logical_id] = ResourceChange(logical_id, _type(new[logical_id]), action, props)
    return dict(sorted(result.items()))


def classify(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    changed_imports: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """logical id -> 'unchanged' | 'update' | 'replace' | 'added' | 'removed'."""
    changes = diff_template(before, after, changed_imports=changed_imports)
    return {logical_id: change.action for logical_id, change in changes.items()}


def _type(resource: Mapping[str, Any]) -> str:
    return str(resource.get("Type", ""))


def _property_changes(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    replaced: set[str],
    changed_imports: frozenset[str],
) -> tuple[PropertyChange, ...]:
    paths = _create_only_paths(_type(new))
    a: Mapping[str, Any] = old.get("Properties") or {}
    b: Mapping[str, Any] = new.get("Properties") or {}
    found: list[PropertyChange] = []
    for name in sorted(a.keys() | b.keys()):
        before, after = a.get(name), b.get(name)
        via = references(after) & replaced
        imported = imports(after) & changed_imports
        if before == after and not via and not imported:
            continue
        replaces = any(
            _path_changes(before, after, path[1:], replaced, changed_imports)
            for path in paths
            if path[0] == name
        )
        direct = before != after
        found.append(
            PropertyChange(
                name,
                replaces=replaces,
                via=() if direct else tuple(sorted(via)),
                imports=() if direct else tuple(sorted(imported)),
            )
        )
    found.extend(
        PropertyChange(attribute)
        for attribute in UPDATE_ATTRIBUTES
        if old.get(attribute) != new.get(attribute)
    )
    return tuple(found)


def _path_changes(
    before: Any, after: Any, path: tuple[str, ...], replaced: set[str], changed: frozenset[str]
) -> bool:
    """Whether the values at a create-only path inside a property change."""
    old, new = _at(before, path), _at(after, path)
    if old != new:
        return True
    return any(references(v) & replaced or imports(v) & changed for v in new)


def _at(value: Any, path: tuple[str, ...]) -> list[Any]:
    """Values at ``path`` (``*`` for every list item); an intrinsic on the way stands for all."""
    if not path:
        return [value]
    head, rest = path[0], path[1:]
    if is_intrinsic(value):
        return [value]
    if head == "*":
        items = value if isinstance(value, list) else []
        return [found for item in items for found in _at(item, rest)]
    return _at(value.get(head) if isinstance(value, dict) else None, rest)


def exports(template: Mapping[str, Any]) -> dict[str, Any]:
    """Export name -> value expression, from the template's Outputs."""
    found: dict[str, Any] = {}
    for output in (template.get("Outputs") or {}).values():
        if isinstance(output, dict) and isinstance(output.get("Export"), dict):
            found[export_key(output["Export"].get("Name"))] = output.get("Value")
    return found


def changed_exports(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    changes: Mapping[str, ResourceChange],
    changed_imports: frozenset[str] = frozenset(),
) -> set[str]:
    """Exports whose value changes: new text, or it refers to a replaced/added/removed
    resource or to another changed export. An export on only one side counts as changed."""
    replaced = {k for k, c in changes.items() if c.action in ("replace", "added", "removed")}
    old, new = exports(before), exports(after)
    result = set(old.keys() ^ new.keys())
    for name in old.keys() & new.keys():
        value = new[name]
        if old[name] != value or references(value) & replaced or imports(value) & changed_imports:
            result.add(name)
    return result


def changing_exports(
    before: Mapping[str, Mapping[str, Any]],
    after: Mapping[str, Mapping[str, Any]],
    changes: Mapping[str, Mapping[str, ResourceChange]],
) -> frozenset[str]:
    """Exports whose value changes, over all stacks (stack name -> template on each side, the
    changes as :func:`diff_stacks` found them), through imports of changing exports too."""
    found: frozenset[str] = frozenset()
    stacks = sorted(before.keys() | after.keys())
    while True:
        now = frozenset(
            name
            for stack in stacks
            for name in changed_exports(
                before.get(stack, EMPTY_TEMPLATE),
                after.get(stack, EMPTY_TEMPLATE),
                changes.get(stack, {}),
                found,
            )
        )
        if now <= found:
            return found
        found |= now


def diff_stacks(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, ResourceChange]]:
    """Stack name -> its resources' changes; a stack on one side only is added/removed whole.

    An import of an export whose value changes counts as a changed property of the importer,
    propagated over all the stacks given until nothing more changes.
    """
    stacks = sorted(before.keys() | after.keys())
    changed_imports: frozenset[str] = frozenset()
    while True:
        result = {
            stack: diff_template(
                before.get(stack, EMPTY_TEMPLATE),
                after.get(stack, EMPTY_TEMPLATE),
                changed_imports=changed_imports,
            )
            for stack in stacks
        }
        exported = _union(
            changed_exports(
                before.get(stack, EMPTY_TEMPLATE),
                after.get(stack, EMPTY_TEMPLATE),
                result[stack],
                changed_imports,
            )
            for stack in stacks
        )
        if exported <= changed_imports:
            return result
        changed_imports |= exported
