"""One environment's review report (GitHub-flavoured Markdown) from its stacks' templates
before and after a change, grouped per service (``services``). Deterministic: everything is
sorted; no timestamps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from mlops_tools.review.assembly import Acknowledgement
from mlops_tools.review.async_endpoints import async_section
from mlops_tools.review.batch import batch_section
from mlops_tools.review.changes import PropertyChange, ResourceChange, diff_stacks, resources
from mlops_tools.review.components import components_section
from mlops_tools.review.cost import cost_section
from mlops_tools.review.deployment import EndpointReview
from mlops_tools.review.exports_in_use import exports_in_use_warning
from mlops_tools.review.iam import (
    POLICY_TYPES,
    STATEMENT_HEADER,
    documents,
    managed_policy_rows,
    statement_rows,
)
from mlops_tools.review.markdown import Values, code, plain, table
from mlops_tools.review.named_replacements import named_replacements
from mlops_tools.review.packages import package_section
from mlops_tools.review.scaling import scaling_section
from mlops_tools.review.security_groups import RULE_HEADER, rule_rows
from mlops_tools.review.services import Group, group_stacks, stack_of_path

Templates = Mapping[str, Mapping[str, Any]]  # stack name -> template

# Replacing or removing these loses data or breaks what depends on their identity.
STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::EC2::Subnet",
        "AWS::EC2::VPC",
        "AWS::ECR::Repository",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
    }
)
RETAIN_POLICIES = frozenset({"Retain", "RetainExceptOnCreate"})
ACTION_TITLES = {"added": "Added", "removed": "Removed", "replace": "Replaced", "update": "Updated"}
ACKNOWLEDGEMENT_HEADER = ("change", "finding", "construct path", "reason")
OVERVIEW_HEADER = ("stack", "service", "change", "added", "removed", "replaced", "updated")


def render_report(
    environment: str,
    base: str,
    before: Templates,
    after: Templates,
    *,
    acknowledgements_before: Iterable[Acknowledgement] = (),
    acknowledgements_after: Iterable[Acknowledgement] = (),
    base_has_environment: bool = True,
    base_commit: str | None = None,
    region: str | None = None,
) -> str:
    """The report for ``environment``: ``before`` is the base ref's stacks, ``after`` the
    working tree's (stack name -> template; a stack on one side only is added/removed whole).
    ``base`` is the ref as given, ``base_commit`` the commit it named.

    Stacks are grouped as ``services`` names them: the Foundation, then each service (its
    registry and serving stacks together), then any other stack alone. The report starts with
    the totals, one line per part added or removed whole, a table of every stack, and the
    warnings; then one section per part. An acknowledgement belongs to the stack whose
    construct path (``<env>/<stack id>``) holds it. With ``region``, a cost section (monthly
    estimate per part before and after, :mod:`mlops_tools.review.cost`) follows the warnings."""
    acks_before, acks_after = set(acknowledgements_before), set(acknowledgements_after)
    ack_rows = [("added", a) for a in acks_after - acks_before] + [
        ("removed", a) for a in acks_before - acks_after
    ]
    report = _Report(environment, base, base_commit, before, after, ack_rows=ack_rows)
    lines = [f"# Review of `{environment}` against `{base}`", ""]
    if not report.changed():
        lines += report.no_changes(base_has_environment=base_has_environment)
        return "\n".join(lines) + "\n"
    lines += report.summary(base_has_environment=base_has_environment)
    lines += report.overview()
    lines += report.warnings()
    if region is not None:
        lines += cost_section(environment, before, after, region=region)
    for group in report.groups:
        lines += report.group_section(group)
    lines += report.other_acknowledgements()
    return "\n".join(lines) + "\n"


AckRow = tuple[str, Acknowledgement]  # ("added" | "removed", acknowledgement)


class _Report:
    def __init__(
        self,
        environment: str,
        base: str,
        base_commit: str | None,
        before: Templates,
        after: Templates,
        *,
        ack_rows: Iterable[AckRow],
    ) -> None:
        self.environment, self.base, self.base_commit = environment, base, base_commit
        self.before, self.after = before, after
        self.changes = diff_stacks(before, after)
        self.values_before, self.values_after = Values.of(before), Values.of(after)
        self.endpoints = EndpointReview(before, after, self.changes)
        stacks = before.keys() | after.keys()
        self.groups = group_stacks(environment, stacks)
        self.group_of = {stack: group for group in self.groups for stack in group.stacks}
        self.acks: dict[str | None, list[AckRow]] = {}
        for row in ack_rows:
            stack = stack_of_path(environment, row[1].path, stacks)
            self.acks.setdefault(stack, []).append(row)

    def _resource(self, side: Templates, stack: str, logical_id: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = resources(side.get(stack, {})).get(logical_id) or {}
        return found

    def _of_action(
        self, *actions: str, stacks: Collection[str] | None = None
    ) -> Iterator[tuple[str, ResourceChange]]:
        """Changes of ``actions`` (of ``stacks`` when given), stack by stack in report order."""
        for group in self.groups:
            for stack in group.stacks:
                if stacks is not None and stack not in stacks:
                    continue
                for change in self.changes.get(stack, {}).values():
                    if change.action in actions:
                        yield stack, change

    def _pairs(
        self, types: Iterable[str], stacks: Collection[str]
    ) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
        """(stack, logical id, before, after) of every changed resource of ``types``."""
        wanted = set(types)
        for stack, change in self._of_action(*ACTION_TITLES, stacks=stacks):
            old = self._resource(self.before, stack, change.logical_id)
            new = self._resource(self.after, stack, change.logical_id)
            if old.get("Type") in wanted or new.get("Type") in wanted:
                yield stack, change.logical_id, old, new

    def _counts(self, stacks: Collection[str] | None = None) -> Counter[str]:
        return Counter(
            change.action for _, change in self._of_action(*ACTION_TITLES, stacks=stacks)
        )

    def changed(self) -> bool:
        return bool(self._counts()) or any(self.acks.values())

    def _base_at(self) -> str:
        if self.base_commit and self.base_commit != self.base:
            return f"`{self.base}` at `{self.base_commit}`"
        return f"`{self.base}`"

    # -- the top: totals, parts added or removed whole, a table of every stack -------------

    def no_changes(self, *, base_has_environment: bool) -> list[str]:
        notes = [f"**No changes**: every stack of `{self.environment}` is as in {self._base_at()}."]
        if not base_has_environment:
            notes.append(f"`{self.base}` has no `{self.environment}` environment.")
        return [" ".join(notes), ""]

    def summary(self, *, base_has_environment: bool) -> list[str]:
        counts = self._counts()
        notes = [
            f"**{counts['added']} added, {counts['removed']} removed, "
            f"{counts['replace']} replaced, {counts['update']} updated** resources "
            f"({self._base_at()} → this working tree)."
        ]
        if not base_has_environment:
            notes.append(f"`{self.base}` has no `{self.environment}` environment: all is new.")
        lines = [" ".join(notes), ""]
        items = []
        for group in self.groups:
            status = self._group_status(group)
            if status in ("added", "removed"):
                items.append(f"- {self._whole(group, status)}")
                continue
            for stack in group.stacks:
                where = "" if group.kind == "stack" else f" of {group.label}"
                if stack not in self.before:
                    items.append(f"- stack `{stack}`{where} is new.")
                elif stack not in self.after:
                    items.append(
                        f"- stack `{stack}`{where} leaves the app: once destroyed, each of its "
                        "resources is deleted or orphaned."
                    )
        return [*lines, *items, ""] if items else lines

    def _whole(self, group: Group, status: str) -> str:
        """``**service `fraud` added**: stacks `a`, `b` (12 resources).``"""
        side = self.after if status == "added" else self.before
        number = sum(len(resources(side[stack])) for stack in group.stacks)
        noun = "stacks" if len(group.stacks) > 1 else "stack"
        fate = ", each deleted or orphaned once destroyed" if status == "removed" else ""
        return (
            f"**{group.label} {status}**: {noun} {', '.join(code(s) for s in group.stacks)} "
            f"({number} {_plural(number, 'resource')}{fate})."
        )

    def overview(self) -> list[str]:
        """One row per stack, in report order: what changes in it, or ``unchanged``."""
        rows = []
        for group in self.groups:
            part = {"foundation": "Foundation", "service": code(group.name)}.get(group.kind, "")
            for stack in group.stacks:
                status = self._stack_status(stack)
                if status == "unchanged":
                    rows.append([code(stack), part, status, "", "", "", ""])
                    continue
                counts = self._counts({stack})
                numbers = [str(counts[action]) for action in ACTION_TITLES]
                rows.append([code(stack), part, f"**{status}**", *numbers])
        return [*table(OVERVIEW_HEADER, rows), ""]

    def _stack_status(self, stack: str) -> str:
        if stack not in self.before:
            return "new"
        if stack not in self.after:
            return "removed"
        if self._counts({stack}):
            return "changed"
        if self.acks.get(stack):
            return "acknowledgements"
        return "unchanged"

    def _group_status(self, group: Group) -> str:
        """``added`` or ``removed`` as a whole, ``changed``, or ``unchanged``."""
        if not any(stack in self.before for stack in group.stacks):
            return "added"
        if not any(stack in self.after for stack in group.stacks):
            return "removed"
        if any(self._stack_status(stack) != "unchanged" for stack in group.stacks):
            return "changed"
        return "unchanged"

    def _label(self, stack: str) -> str:
        return self.group_of[stack].label

    # -- warnings ---------------------------------------------------------------------------

    def warnings(self) -> list[str]:
        """Blocks before every section: stateful resources replaced or removed, exports in use
        that change or go (the deploy stops at their stack), endpoint
        updates that autoscaling makes fail (a two-step release), variant names changed under
        an update policy and instance-backed endpoints turned serverless, each naming its
        part."""
        return [
            *self._left_the_app(),
            *self._named_replacements(),
            *self._stateful(),
            # the exports whose value changes, as the endpoint review already found them
            *exports_in_use_warning(
                self.before, self.after, self.endpoints.changed_imports, self._label
            ),
            *self.endpoints.two_step_warning(self._label),
            *self.endpoints.variant_names_warning(self._label),
            *self.endpoints.serverless_switch_warning(self._label),
        ]

    def _left_the_app(self) -> list[str]:
        """A warning naming the stacks that leave the app, in the order to delete them: no
        deploy deletes them."""
        items = []
        for group in self.groups:
            gone = [stack for stack in group.stacks if stack not in self.after]
            if gone:  # a service's serving stack depends on its registry: it goes first
                order = ", then ".join(code(stack) for stack in reversed(gone))
                items.append(f"> - {self._label(gone[0])}: {order}")
        if not items:
            return []
        return [
            "> [!WARNING]",
            "> **Stacks leave the app, and no deploy deletes them.** `cdk deploy` and CDK "
            "Pipelines leave a stack that is no longer in the app deployed, and its endpoints "
            "running and billed (aws/aws-cdk-cli#787, aws/aws-cdk#10190). Delete each in "
            "CloudFormation with the environment's credentials, in this order "
            "(`aws cloudformation delete-stack --stack-name <stack>`, then "
            "`aws cloudformation wait stack-delete-complete --stack-name <stack>`); turn off "
            "termination protection first where the environment sets it. Before the merge, "
            f"`make destroy ENV={self.environment} SERVICE=<service>` run on the base does the "
            "same for a whole service.",
            ">",
            *items,
            "",
        ]

    def _named_replacements(self) -> list[str]:
        """A warning naming each resource replaced, or re-created under another logical ID,
        while it keeps its name: CloudFormation refuses the stack's update."""
        items = []
        for found in named_replacements(self.before, self.after, self.changes):
            where = f"`{found.stack}` / `{found.logical_id}` (`{found.resource_type}`)"
            name = code(self.values_after.text(found.name))
            if found.change is not None:
                causes = ", ".join(
                    _property(p, self.values_after) for p in found.change.properties if p.replaces
                )
                why = f"is replaced ({causes}) and keeps the name {name}"
            else:
                why = f"takes the name {name} from `{found.moved_from}`, which it replaces"
            items.append(f"> - {self._label(found.stack)}: {where} {why}")
        if not items:
            return []
        return [
            "> [!CAUTION]",
            "> **CloudFormation will refuse this release: a named resource is replaced under "
            "the same name.** \"You can't perform an update that causes a custom-named resource "
            'to be replaced. If you must replace the resource, specify a new name" '
            "(CloudFormation resource custom naming): the replacement is created before the old "
            "one is deleted, and the stack's update fails and rolls back. Give it a new name in "
            "the same change, or leave out what replaces it (a create-only property, a "
            "construct id).",
            ">",
            *items,
            "",
        ]

    def _stateful(self) -> list[str]:
        """A caution block listing stateful resources that are replaced or removed."""
        items = []
        for stack, change in self._of_action("replace", "removed"):
            old = self._resource(self.before, stack, change.logical_id)
            old_type = str(old.get("Type", change.resource_type))
            if old_type not in STATEFUL_TYPES:
                continue
            part = self._label(stack)
            where = f"`{stack}` / `{change.logical_id}` (`{old_type}`)"
            if change.action == "removed":
                fate = _fate("DeletionPolicy", old.get("DeletionPolicy"))
                when = f"when `{stack}` is destroyed, " if stack not in self.after else ""
                items.append(f"> - {part}: **Removed** {where}: {when}it {fate}")
                continue
            new = self._resource(self.after, stack, change.logical_id)
            fate = _fate("UpdateReplacePolicy", new.get("UpdateReplacePolicy"))
            causes = ", ".join(
                _property(p, self.values_after, create_only=False)
                for p in change.properties
                if p.replaces
            )
            items.append(
                f"> - {part}: **Replaced** {where}: the old one {fate}; create-only: {causes}"
            )
        if not items:
            return []
        return [
            "> [!CAUTION]",
            "> **Stateful resources are replaced or removed.** Their data does not move to a "
            "replacement, and whatever refers to them by name or ARN must follow.",
            ">",
            *items,
            "",
        ]

    # -- one section per part ---------------------------------------------------------------

    def group_section(self, group: Group) -> list[str]:
        """``## Service `churn` ``: its stacks' resources, IAM statements, security-group rules,
        endpoint variants and acknowledgements; one line when unchanged, collapsed in a
        ``<details>`` block when the part is added or removed whole."""
        status = self._group_status(group)
        stacks = ", ".join(code(stack) for stack in group.stacks)
        lines = [f"## {group.title}", ""]
        if status == "unchanged":
            return [*lines, f"No changes in {stacks}.", ""]
        body = [
            *self.resources(group.stacks),
            *self.iam(group.stacks),
            *self.security_groups(group.stacks),
        ]
        if self.endpoints.has_endpoints(group.stacks):
            body += self.endpoints.section(group.stacks, level=3)
        body += scaling_section(self.before, self.after, group.stacks)
        body += async_section(self.endpoints.before, self.endpoints.after, group.stacks)
        body += components_section(self.before, self.after, group.stacks)
        body += batch_section(self.before, self.after, self.changes, group.stacks)
        body += package_section(self.before, self.after, group.stacks)
        body += _acknowledgements(self._acks(group))
        if status == "changed":
            return [*lines, f"Stacks: {stacks}.", "", *body]
        number = self._counts(group.stacks)[status]
        noun = "stacks" if len(group.stacks) > 1 else "stack"
        return [
            *lines,
            f"{status.capitalize()} as a whole: {noun} {stacks}.",
            "",
            "<details>",
            f"<summary>The {number} {status} {_plural(number, 'resource')}, IAM statements, "
            "security-group rules, endpoint variants and acknowledgements</summary>",
            "",
            *body,
            "</details>",
            "",
        ]

    def _acks(self, group: Group) -> list[AckRow]:
        return [row for stack in group.stacks for row in self.acks.get(stack, [])]

    def other_acknowledgements(self) -> list[str]:
        """Acknowledgements whose construct path is in none of the stacks."""
        rows = self.acks.get(None, [])
        if not rows:
            return []
        return _acknowledgements(rows, level=2, title="Other acknowledgements")

    def resources(self, stacks: Collection[str]) -> list[str]:
        lines = ["### Resources", ""]
        if not self._counts(stacks):
            return [*lines, "No resource changes.", ""]
        for action, title in ACTION_TITLES.items():
            found = list(self._of_action(action, stacks=stacks))
            if not found:
                continue
            header = ["stack", "logical id", "type"]
            if action in ("replace", "update"):
                header.append("changed properties")
            if action in ("replace", "removed"):
                header.append("old resource")
            rows = [self._resource_row(stack, change) for stack, change in found]
            lines += [f"#### {title} ({len(found)})", "", *table(header, rows), ""]
        if any(True for _ in self._of_action("replace", "update", stacks=stacks)):
            lines += [
                "_create-only_: changing it replaces the resource. _via_: the text is unchanged "
                "but refers to a resource that is replaced, added or removed, or imports an "
                "export whose value changes.",
                "",
            ]
        return lines

    def _resource_row(self, stack: str, change: ResourceChange) -> list[str]:
        row = [code(stack), code(change.logical_id), code(change.resource_type)]
        if change.action in ("replace", "update"):
            row.append("<br>".join(_property(p, self.values_after) for p in change.properties))
        if change.action == "replace":
            new = self._resource(self.after, stack, change.logical_id)
            row.append(_fate("UpdateReplacePolicy", new.get("UpdateReplacePolicy"), short=True))
        if change.action == "removed":
            old = self._resource(self.before, stack, change.logical_id)
            row.append(_fate("DeletionPolicy", old.get("DeletionPolicy"), short=True))
        return row

    def iam(self, stacks: Collection[str]) -> list[str]:
        lines = ["### IAM changes", ""]
        found = False
        for stack, logical_id, old, new in self._pairs(POLICY_TYPES, stacks):
            heading = f"#### `{stack}` / `{logical_id}` (`{(new or old).get('Type')}`)"
            documents_before, documents_after = documents(old), documents(new)
            for label in sorted(documents_before.keys() | documents_after.keys()):
                rows = statement_rows(
                    documents_before.get(label),
                    documents_after.get(label),
                    self.values_before,
                    self.values_after,
                )
                if rows:
                    found = True
                    lines += [f"{heading}: {label}", "", *table(STATEMENT_HEADER, rows), ""]
            attached = managed_policy_rows(old, new, self.values_before, self.values_after)
            if attached:
                found = True
                header = ["change", "managed policy"]
                lines += [f"{heading}: managed policies", "", *table(header, attached), ""]
        return lines if found else [*lines, "No IAM statement changes.", ""]

    def security_groups(self, stacks: Collection[str]) -> list[str]:
        before = {k: v for k, v in self.before.items() if k in stacks}
        after = {k: v for k, v in self.after.items() if k in stacks}
        rows = rule_rows(before, after, self.values_before, self.values_after)
        lines = ["### Security-group changes", ""]
        if not rows:
            return [*lines, "No security-group rule changes.", ""]
        return [*lines, *table(RULE_HEADER, rows), ""]


def _plural(number: int, noun: str) -> str:
    return noun if number == 1 else f"{noun}s"


def _fate(attribute: str, policy: Any, *, short: bool = False) -> str:
    """What happens to the old physical resource under a DeletionPolicy/UpdateReplacePolicy."""
    shown = f"{attribute} `{policy}`" if policy else f"{attribute} default `Delete`"
    if policy in RETAIN_POLICIES:
        return f"retained ({shown})" if short else f"is **orphaned**: kept, unmanaged ({shown})"
    if policy == "Snapshot":
        return f"snapshot, deleted ({shown})" if short else f"is **snapshotted, deleted** ({shown})"
    return f"deleted ({shown})" if short else f"**will be deleted** ({shown})"


def _property(change: PropertyChange, values: Values, *, create_only: bool = True) -> str:
    notes = []
    if change.replaces and create_only:
        notes.append("create-only")
    via = [code(v) for v in change.via]
    via += [f"import {code(values.label(name))}" for name in change.imports]
    if via:
        notes.append(f"via {', '.join(via)}")
    return code(change.name) + (f" ({'; '.join(notes)})" if notes else "")


def _acknowledgements(
    rows: list[AckRow], *, level: int = 3, title: str = "Acknowledgements"
) -> list[str]:
    lines = [f"{'#' * level} {title}", ""]
    if not rows:
        return [*lines, "No acknowledgement changes.", ""]
    ordered = sorted(rows, key=lambda row: (row[1], row[0]))
    cells = ([change, code(a.finding), code(a.path), plain(a.reason)] for change, a in ordered)
    return [*lines, *table(ACKNOWLEDGEMENT_HEADER, cells), ""]
