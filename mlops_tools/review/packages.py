"""Model packages in the review report: which registered version each model of a service is
made from, before and after (``package version 3 → 4``).

A model made from a registered model package has one container with ``ModelPackageName``
(:class:`mlops_cdk.constructs.model.HostedModel`); the service stack records the group, the
version and the configuration's model name in the model's metadata ``MlopsModelPackage``, so
the report reads them offline from the templates. The approval status is not in the
templates and cannot be known offline: ``make preflight`` refuses a version that is not
``Approved`` before the service stack is deployed, so the report says "approved at preflight".
Evaluation metrics show when the metadata carries them (``Metrics``: name -> value); the
registry keeps them with the version (DescribeModelPackage ``ModelMetrics``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_tools.review.changes import resources
from mlops_tools.review.markdown import MISSING, code, number

MODEL_TYPE = "AWS::SageMaker::Model"
METADATA_KEY = "MlopsModelPackage"
APPROVAL = "approved at preflight (make preflight refuses a version that is not Approved)"

Templates = Mapping[str, Mapping[str, Any]]  # stack name -> template


@dataclass(frozen=True)
class PackageModel:
    """One model made from a package, as its metadata records it."""

    model: str
    group: str
    version: int
    account: str
    metrics: Mapping[str, Any]


def package_models(templates: Templates, stacks: Collection[str]) -> dict[str, PackageModel]:
    """Model name -> its package, for every model of ``stacks`` made from one."""
    found: dict[str, PackageModel] = {}
    for stack in sorted(stacks):
        for logical_id, resource in resources(templates.get(stack, {})).items():
            if not isinstance(resource, dict) or resource.get("Type") != MODEL_TYPE:
                continue
            meta = (resource.get("Metadata") or {}).get(METADATA_KEY)
            if not isinstance(meta, dict):
                continue
            name = str(meta.get("Model") or logical_id)
            found[name] = PackageModel(
                model=name,
                group=str(meta.get("Group", MISSING)),
                version=int(meta.get("Version", 0)),
                account=str(meta.get("Account", "")),
                metrics=_mapping(meta.get("Metrics")),
            )
    return found


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _metrics(package: PackageModel) -> str:
    if not package.metrics:
        return ""
    shown = ", ".join(
        f"{name} {number(value) if isinstance(value, int | float) else value}"
        for name, value in sorted(package.metrics.items())
    )
    return f"; metrics: {shown}"


def _model_line(old: PackageModel | None, new: PackageModel | None) -> str | None:
    if new is not None and old is None:
        return (
            f"- model {code(new.model)} added: package version {new.version} of "
            f"{code(new.group)}, {APPROVAL}{_metrics(new)}."
        )
    if old is not None and new is None:
        return (
            f"- model {code(old.model)} removed (was package version {old.version} of "
            f"{code(old.group)})."
        )
    if old is None or new is None:
        return None
    if (old.group, old.version, old.account) == (new.group, new.version, new.account):
        return None
    group = code(new.group) if old.group == new.group else f"{code(old.group)} → {code(new.group)}"
    return (
        f"- model {code(new.model)}: package version {old.version} → {new.version} of {group} "
        f"(the model is replaced), {APPROVAL}{_metrics(new)}."
    )


def _group_lines(old: Mapping[str, PackageModel], new: Mapping[str, PackageModel]) -> list[str]:
    """``package version 3 → 4`` per group: the newest version served before and after."""
    lines = []
    for group in sorted({p.group for p in [*old.values(), *new.values()]}):
        before = max((p.version for p in old.values() if p.group == group), default=None)
        after = max((p.version for p in new.values() if p.group == group), default=None)
        if before != after:
            shown = f"{before or MISSING} → {after or MISSING}"
            lines.append(f"- group {code(group)}: package version {shown} (newest served).")
    return lines


def package_section(
    before: Templates, after: Templates, stacks: Collection[str], *, level: int = 3
) -> list[str]:
    """``Model packages`` (a heading of ``level``): what changes in the packages the models of
    ``stacks`` are made from; nothing when neither side has such a model or nothing changes."""
    old, new = package_models(before, stacks), package_models(after, stacks)
    lines = [
        line
        for name in sorted(old.keys() | new.keys())
        if (line := _model_line(old.get(name), new.get(name))) is not None
    ]
    if not lines:
        return []
    return [f"{'#' * level} Model packages", "", *_group_lines(old, new), *lines, ""]
