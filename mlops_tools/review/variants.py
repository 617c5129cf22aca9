"""Endpoint variants before/after: instance type, count, weight and traffic share of every
ProductionVariant of an AWS::SageMaker::EndpointConfig, plus serverless config where present,
and each variant's role when the endpoint has a shadow variant (ShadowProductionVariants): a
shadow promoted by the reviewed config change reads ``shadow → production``. Instance pools
show as their types in priority order (``ml.g5.xlarge > ml.g6.xlarge``).

What a deploy does with those values on a running endpoint (counts kept, blue/green steps) is
decided in ``deployment``; this module only renders the table it is given."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from mlops_tools.review.markdown import MISSING, Values, before_after, code, number, table

ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"
DEFAULT_WEIGHT = 1  # SageMaker's InitialVariantWeight when none is given
NOT_APPLIED = " (not applied)"
PRODUCTION, SHADOW = "production", "shadow"

Steps = Mapping[str, str]  # variant name -> its blue/green step, e.g. "canary: 1 of 2 instances"


def variant_table(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    not_applied: Mapping[str, Collection[str]] | None = None,
    steps: tuple[Steps, Steps] | None = None,
) -> list[str]:
    """Rows per variant name. ``not_applied``: variant -> fields ("count", "weight") whose new
    value a running endpoint does not take. ``steps``: (before, after) blue/green step per
    variant, shown in a column when either side has one."""
    before, after = _variants(old), _variants(new)
    serverless = any("serverless" in v for v in [*before.values(), *after.values()])
    header = ["variant", "instance type", "count", "weight", "traffic share"]
    fields = ["instance type", "count", "weight", "share"]
    if any(v.get("role") == SHADOW for v in [*before.values(), *after.values()]):
        header.append("role")
        fields.append("role")
    if serverless:
        header.append("serverless")
        fields.append("serverless")
    steps_before, steps_after = steps or ({}, {})
    if steps_before or steps_after:
        header.append("blue/green step")
    ignored = not_applied or {}
    rows = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name, {}), after.get(name, {})
        row = [code(name)]
        for f in fields:
            cell = before_after(a.get(f), b.get(f))
            row.append(cell + NOT_APPLIED if f in ignored.get(name, ()) else cell)
        if steps_before or steps_after:
            row.append(before_after(steps_before.get(name), steps_after.get(name)))
        rows.append(row)
    return table(header, rows)


def production_variants(resource: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ProductionVariants of an endpoint config resource (none: an empty list)."""
    properties: Mapping[str, Any] = resource.get("Properties") or {}
    return [v for v in properties.get("ProductionVariants") or [] if isinstance(v, dict)]


def shadow_variants(resource: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ShadowProductionVariants of an endpoint config resource (none: an empty list)."""
    properties: Mapping[str, Any] = resource.get("Properties") or {}
    return [v for v in properties.get("ShadowProductionVariants") or [] if isinstance(v, dict)]


def traffic_shares(resource: Mapping[str, Any]) -> dict[str, str]:
    """Variant name -> its share of traffic (``"90 %"``, ``"?"`` when weights are not numbers)."""
    return {name: fields["share"] for name, fields in _variants(resource).items()}


def _variants(resource: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Variant name -> displayed fields (instance type, count, weight, share, serverless)."""
    variants = production_variants(resource)
    weights = [v.get("InitialVariantWeight", DEFAULT_WEIGHT) for v in variants]
    total = sum(w for w in weights if isinstance(w, int | float))
    numeric = all(isinstance(w, int | float) for w in weights) and total > 0
    shown: dict[str, dict[str, str]] = {}
    values = Values()
    for variant, weight in zip(variants, weights, strict=True):
        fields = {"weight": values.text(weight)}
        fields["share"] = f"{number(100 * weight / total)} %" if numeric else "?"
        _instance_fields(variant, fields, values)
        fields["role"] = PRODUCTION
        shown[values.text(variant.get("VariantName", MISSING))] = fields
    for variant in shadow_variants(resource):
        fields = {"weight": values.text(variant.get("InitialVariantWeight", DEFAULT_WEIGHT))}
        fields["share"] = "copy of production"  # a shadow answers nobody
        _instance_fields(variant, fields, values)
        fields["role"] = SHADOW
        shown[values.text(variant.get("VariantName", MISSING))] = fields
    return shown


def _instance_fields(variant: Mapping[str, Any], fields: dict[str, str], values: Values) -> None:
    for field, key in (("instance type", "InstanceType"), ("count", "InitialInstanceCount")):
        if key in variant:
            fields[field] = values.text(variant[key])
    pools = variant.get("InstancePools")
    if isinstance(pools, list) and pools:
        ordered = sorted(
            (p for p in pools if isinstance(p, dict)), key=lambda p: str(p.get("Priority"))
        )
        fields["instance type"] = " > ".join(
            values.text(p.get("InstanceType", MISSING)) for p in ordered
        )
    config = variant.get("ServerlessConfig")
    if isinstance(config, dict):
        fields["serverless"] = _serverless(config, values)


def _serverless(config: Mapping[str, Any], values: Values) -> str:
    parts = [f"{values.text(config.get('MemorySizeInMB', MISSING))} MB"]
    parts.append(f"max concurrency {values.text(config.get('MaxConcurrency', MISSING))}")
    if "ProvisionedConcurrency" in config:
        parts.append(f"provisioned {values.text(config['ProvisionedConcurrency'])}")
    return ", ".join(parts)
