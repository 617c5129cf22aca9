"""Resources that a release replaces, or re-creates under another logical ID, while they keep the
name they were given: CloudFormation refuses the update.

"You can't perform an update that causes a custom-named resource to be replaced. If you must
replace the resource, specify a new name." ("CloudFormation resource custom naming",
CloudFormation Template Reference). CloudFormation creates a replacement before it deletes the
old resource, so two would hold one name; the stack fails with "CloudFormation cannot update a
stack when a custom-named resource requires replacing. Rename '<name>' and update the stack
again" (AWS Knowledge Center) and rolls back. The same holds for a named resource whose logical
ID changes in its stack (a construct renamed or moved): the new one is created, under the old
one's name, before the old one is removed.

The name is the type's property in :data:`~mlops_cdk.aws.names.NAME_PROPERTIES`; a resource
without it gets a generated name, new on replacement, and is never reported here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_cdk.aws.names import NAME_PROPERTIES
from mlops_tools.review.changes import ResourceChange, resources

Templates = Mapping[str, Mapping[str, Any]]  # stack name -> template


@dataclass(frozen=True)
class NamedReplacement:
    """In ``stack``, ``logical_id`` (of ``resource_type``) is replaced (``change``), or created
    in place of ``moved_from``, under the unchanged ``name``."""

    stack: str
    logical_id: str
    resource_type: str
    name: Any
    change: ResourceChange | None = None
    moved_from: str | None = None


def _name(resource: Mapping[str, Any]) -> Any:
    """The name the resource is given, or None (generated)."""
    prop = NAME_PROPERTIES.get(str(resource.get("Type")))
    properties = resource.get("Properties") or {}
    return properties.get(prop) if prop is not None else None


def named_replacements(
    before: Templates, after: Templates, changes: Mapping[str, Mapping[str, ResourceChange]]
) -> list[NamedReplacement]:
    """Every named resource of a stack on both sides that the release replaces or moves to
    another logical ID under the same name (``changes``: :func:`diff_stacks`' result)."""
    found = []
    for stack in sorted(before.keys() & after.keys()):
        found += list(_of_stack(stack, before[stack], after[stack], changes.get(stack, {})))
    return found


def _of_stack(
    stack: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    changes: Mapping[str, ResourceChange],
) -> Iterator[NamedReplacement]:
    old, new = resources(before), resources(after)
    removed: dict[tuple[str, str], str] = {}
    for logical_id, change in changes.items():
        name = _name(old[logical_id]) if logical_id in old else None
        if name is None:
            continue
        if change.action == "removed":
            removed[(change.resource_type, repr(name))] = logical_id
        elif (
            change.action == "replace"
            and old[logical_id].get("Type") == new[logical_id].get("Type")
            and _name(new[logical_id]) == name
        ):
            yield NamedReplacement(stack, logical_id, change.resource_type, name, change=change)
    for logical_id, change in changes.items():
        name = _name(new[logical_id]) if change.action == "added" else None
        moved_from = removed.get((change.resource_type, repr(name))) if name else None
        if moved_from is not None:
            yield NamedReplacement(
                stack, logical_id, change.resource_type, name, moved_from=moved_from
            )
