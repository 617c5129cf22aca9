"""One environment's review report (GitHub-flavoured Markdown) from its stacks' templates
before and after a change. Deterministic: everything is sorted; no timestamps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mlops_cdk.review.assembly import Acknowledgement
from mlops_cdk.review.changes import PropertyChange, ResourceChange, diff_stacks, resources
from mlops_cdk.review.deployment import EndpointReview
from mlops_cdk.review.iam import (
    POLICY_TYPES,
    STATEMENT_HEADER,
    documents,
    managed_policy_rows,
    statement_rows,
)
from mlops_cdk.review.markdown import Values, code, plain, table
from mlops_cdk.review.security_groups import RULE_HEADER, rule_rows

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
) -> str:
    """The report for ``environment``: ``before`` is the base ref's stacks, ``after`` the
    working tree's (stack name -> template; a stack on one side only is added/removed whole).
    ``base`` is the ref as given, ``base_commit`` the commit it named."""
    report = _Report(environment, base, base_commit, before, after)
    acks_before, acks_after = set(acknowledgements_before), set(acknowledgements_after)
    ack_rows = [("added", a) for a in acks_after - acks_before] + [
        ("removed", a) for a in acks_before - acks_after
    ]
    changed = report.changed() or bool(ack_rows)
    lines = [f"# Review of `{environment}` against `{base}`", ""]
    lines += report.summary(changed=changed, base_has_environment=base_has_environment)
    if changed:
        lines += report.warnings()
        lines += report.resources()
        lines += report.iam()
        lines += report.security_groups()
        lines += report.variants()
        lines += _acknowledgements(ack_rows)
    return "\n".join(lines) + "\n"


class _Report:
    def __init__(
        self,
        environment: str,
        base: str,
        base_commit: str | None,
        before: Templates,
        after: Templates,
    ) -> None:
        self.environment, self.base, self.base_commit = environment, base, base_commit
        self.before, self.after = before, after
        self.changes = diff_stacks(before, after)
        self.values_before, self.values_after = Values.of(before), Values.of(after)
        self.endpoints = EndpointReview(before, after, self.changes)

    def _resource(self, side: Templates, stack: str, logical_id: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = resources(side.get(stack, {})).get(logical_id) or {}
        return found

    def _of_action(self, *actions: str) -> Iterator[tuple[str, ResourceChange]]:
        for stack, changes in sorted(self.changes.items()):
            for change in changes.values():
                if change.action in actions:
                    yield stack, change

    def _pairs(
        self, types: Iterable[str]
    ) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
        """(stack, logical id, before, after) of every changed resource of ``types``."""
        wanted = set(types)
        for stack, change in self._of_action(*ACTION_TITLES):
            old = self._resource(self.before, stack, change.logical_id)
            new = self._resource(self.after, stack, change.logical_id)
            if old.get("Type") in wanted or new.get("Type") in wanted:
                yield stack, change.logical_id, old, new

    def changed(self) -> bool:
        return any(True for _ in self._of_action(*ACTION_TITLES))

    def _base_at(self) -> str:
        if self.base_commit and self.base_commit != self.base:
            return f"`{self.base}` at `{self.base_commit}`"
        return f"`{self.base}`"

    def summary(self, *, changed: bool, base_has_environment: bool) -> list[str]:
        counts = Counter(change.action for _, change in self._of_action(*ACTION_TITLES))
        if changed:
            text = (
                f"**{counts['added']} added, {counts['removed']} removed, "
                f"{counts['replace']} replaced, {counts['update']} updated** resources "
                f"({self._base_at()} → this working tree)."
            )
        else:
            text = (
                f"**No changes**: every stack of `{self.environment}` is as in {self._base_at()}."
            )
        notes = [text]
        if not base_has_environment:
            notes.append(f"`{self.base}` has no `{self.environment}` environment: all is new.")
        notes += [f"Stack `{s}` is new." for s in sorted(self.after.keys() - self.before.keys())]
        notes += [
            f"Stack `{s}` is removed: each of its resources is deleted or orphaned."
            for s in sorted(self.before.keys() - self.after.keys())
        ]
        return [" ".join(notes), ""]

    def warnings(self) -> list[str]:
        """Blocks before every section: stateful resources replaced or removed, and endpoint
        updates that autoscaling makes fail (a two-step release)."""
        return [*self._stateful(), *self.endpoints.two_step_warning()]

    def _stateful(self) -> list[str]:
        """A caution block listing stateful resources that are replaced or removed."""
        items = []
        for stack, change in self._of_action("replace", "removed"):
            old = self._resource(self.before, stack, change.logical_id)
            old_type = str(old.get("Type", change.resource_type))
            if old_type not in STATEFUL_TYPES:
                continue
            where = f"`{stack}` / `{change.logical_id}` (`{old_type}`)"
            if change.action == "removed":
                fate = _fate("DeletionPolicy", old.get("DeletionPolicy"))
                items.append(f"> - **Removed** {where}: it {fate}")
                continue
            new = self._resource(self.after, stack, change.logical_id)
            fate = _fate("UpdateReplacePolicy", new.get("UpdateReplacePolicy"))
            causes = ", ".join(
                _property(p, self.values_after, create_only=False)
                for p in change.properties
                if p.replaces
            )
            items.append(f"> - **Replaced** {where}: the old one {fate}; create-only: {causes}")
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

    def resources(self) -> list[str]:
        lines = ["## Resources", ""]
        if not self.changed():
            return [*lines, "No resource changes.", ""]
        for action, title in ACTION_TITLES.items():
            found = list(self._of_action(action))
            if not found:
                continue
            header = ["stack", "logical id", "type"]
            if action in ("replace", "update"):
                header.append("changed properties")
            if action in ("replace", "removed"):
                header.append("old resource")
            rows = [self._resource_row(stack, change) for stack, change in found]
            lines += [f"### {title} ({len(found)})", "", *table(header, rows), ""]
        if any(True for _ in self._of_action("replace", "update")):
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

    def iam(self) -> list[str]:
        lines = ["## IAM changes", ""]
        found = False
        for stack, logical_id, old, new in self._pairs(POLICY_TYPES):
            heading = f"### `{stack}` / `{logical_id}` (`{(new or old).get('Type')}`)"
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

    def security_groups(self) -> list[str]:
        rows = rule_rows(self.before, self.after, self.values_before, self.values_after)
        lines = ["## Security-group changes", ""]
        if not rows:
            return [*lines, "No security-group rule changes.", ""]
        return [*lines, *table(RULE_HEADER, rows), ""]

    def variants(self) -> list[str]:
        return self.endpoints.section()


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


def _acknowledgements(rows: list[tuple[str, Acknowledgement]]) -> list[str]:
    lines = ["## Acknowledgements", ""]
    if not rows:
        return [*lines, "No acknowledgement changes.", ""]
    ordered = sorted(rows, key=lambda row: (row[1], row[0]))
    cells = ([change, code(a.finding), code(a.path), plain(a.reason)] for change, a in ordered)
    return [*lines, *table(ACKNOWLEDGEMENT_HEADER, cells), ""]
