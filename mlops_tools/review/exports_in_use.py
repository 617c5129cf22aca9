"""Exports that change or go away while a deployed stack imports them: the deploy stops there.

"After another stack imports an output value, you can't delete the stack that is exporting the
output value or modify the exported output value. All the imports must be removed before you
can delete the exporting stack or modify the output value." (``Fn::ImportValue``, CloudFormation
Template Reference). The base side is what is deployed, so an export of a stack that both sides
hold, imported by another stack of the base, cannot change value (a new text, or a resource it
names replaced) or be removed in this release: CloudFormation fails the exporting stack's update
("Export ... cannot be updated as it is in use by ..."), and CDK deploys an exporting stack
before the stacks that import from it. A stack that leaves the app is not deployed again, so
its exports stay.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_cdk.aws.cfn_values import imports
from mlops_tools.review.changes import exports
from mlops_tools.review.markdown import Values, code

Templates = Mapping[str, Mapping[str, Any]]  # stack name -> template


@dataclass(frozen=True)
class ExportInUse:
    """``stack``'s export ``name`` changes value (or is ``removed``) while ``importers`` (stacks
    of the base) import it; ``dropped`` are the importers whose new template no longer does,
    ``leaving`` those that leave the app (no deploy deletes them)."""

    stack: str
    name: str
    removed: bool
    importers: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    leaving: tuple[str, ...] = ()


def exports_in_use(
    before: Templates, after: Templates, changing: Collection[str]
) -> list[ExportInUse]:
    """Every export that the base imports and this release changes or removes, by stack
    (``changing``: the exports whose value changes,
    :func:`~mlops_tools.review.changes.changing_exports`)."""
    imported = {stack: imports(template) for stack, template in before.items()}
    still = {stack: imports(template) for stack, template in after.items()}
    found = []
    for stack in sorted(before.keys() & after.keys()):
        kept = exports(after[stack])
        for name in sorted(exports(before[stack])):
            if name in kept and name not in changing:
                continue
            importers = tuple(s for s in sorted(imported) if s != stack and name in imported[s])
            if importers:
                leaving = tuple(s for s in importers if s not in after)
                dropped = tuple(s for s in importers if s in after and name not in still[s])
                found.append(
                    ExportInUse(stack, name, name not in kept, importers, dropped, leaving)
                )
    return found


def exports_in_use_warning(
    before: Templates, after: Templates, changing: Collection[str], label: Callable[[str], str]
) -> list[str]:
    """A warning block naming each export in use that changes or goes, or nothing."""
    found = exports_in_use(before, after, changing)
    if not found:
        return []
    values = Values.of(before)
    items = []
    for export in found:
        change = "removes" if export.removed else "changes the value of"
        importers = ", ".join(code(s) for s in export.importers)
        line = (
            f"> - {label(export.stack)}: `{export.stack}` {change} export "
            f"{code(values.label(export.name))}, which {importers} "
            f"{'imports' if len(export.importers) == 1 else 'import'}"
        )
        if export.removed and len(export.dropped) + len(export.leaving) == len(export.importers):
            line += ": none imports it after this release, so " + _first(export)
        items.append(line + ".")
    return [
        "> [!WARNING]",
        "> **This release stops at the stack that exports a value another stack imports.** "
        "CloudFormation refuses to change or remove an export while any stack imports it "
        '(Fn::ImportValue: "All the imports must be removed before you can delete the '
        'exporting stack or modify the output value"), and CDK deploys the exporting stack '
        "first. Release it in steps: the importers without the import (or without the "
        "service) first, then the exporting stack, then the importers again.",
        ">",
        *items,
        "",
    ]


def _first(export: ExportInUse) -> str:
    """What to do before this release, when no importer keeps the removed export."""
    steps = []
    if export.leaving:
        steps.append(f"delete {', '.join(code(s) for s in export.leaving)} first (leaving the app)")
    if export.dropped:
        steps.append(
            f"deploy {', '.join(code(s) for s in export.dropped)} first and alone "
            "(`cdk deploy --exclusively`)"
        )
    return "; ".join(steps) + ", or keep the export one more release (`Stack.export_value`)"
