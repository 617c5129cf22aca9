"""Endpoint variants before/after: instance type, count, weight and traffic share of every
ProductionVariant of an AWS::SageMaker::EndpointConfig, plus serverless config where present."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_cdk.review.markdown import MISSING, Values, before_after, code, number, table

ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"
DEFAULT_WEIGHT = 1  # SageMaker's InitialVariantWeight when none is given


def variant_table(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    before, after = _variants(old), _variants(new)
    serverless = any("serverless" in v for v in [*before.values(), *after.values()])
    header = ["variant", "instance type", "count", "weight", "traffic share"]
    fields = ["instance type", "count", "weight", "share"]
    if serverless:
        header.append("serverless")
        fields.append("serverless")
    rows = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name, {}), after.get(name, {})
        rows.append([code(name), *(before_after(a.get(f), b.get(f)) for f in fields)])
    return table(header, rows)


def _variants(resource: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Variant name -> displayed fields (instance type, count, weight, share, serverless)."""
    properties: Mapping[str, Any] = resource.get("Properties") or {}
    variants = [v for v in properties.get("ProductionVariants") or [] if isinstance(v, dict)]
    weights = [v.get("InitialVariantWeight", DEFAULT_WEIGHT) for v in variants]
    total = sum(w for w in weights if isinstance(w, int | float))
    numeric = all(isinstance(w, int | float) for w in weights) and total > 0
    shown: dict[str, dict[str, str]] = {}
    values = Values()
    for variant, weight in zip(variants, weights, strict=True):
        fields = {"weight": values.text(weight)}
        fields["share"] = f"{number(100 * weight / total)} %" if numeric else "?"
        for field, key in (("instance type", "InstanceType"), ("count", "InitialInstanceCount")):
            if key in variant:
                fields[field] = values.text(variant[key])
        config = variant.get("ServerlessConfig")
        if isinstance(config, dict):
            fields["serverless"] = _serverless(config, values)
        shown[values.text(variant.get("VariantName", MISSING))] = fields
    return shown


def _serverless(config: Mapping[str, Any], values: Values) -> str:
    parts = [f"{values.text(config.get('MemorySizeInMB', MISSING))} MB"]
    parts.append(f"max concurrency {values.text(config.get('MaxConcurrency', MISSING))}")
    if "ProvisionedConcurrency" in config:
        parts.append(f"provisioned {values.text(config['ProvisionedConcurrency'])}")
    return ", ".join(parts)
