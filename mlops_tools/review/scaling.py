"""Scale-out detection per autoscaled variant: how long a load increase must last before
target tracking scales out, as the template implies it (each variant's ``ScaleOutDetection``
stack output, written by :class:`mlops_cdk.constructs.autoscaling.VariantAutoscaling` from the
metric's period and the datapoints the scale-out alarm needs: 180 s with one-minute metrics,
30 s with the 10-second high-resolution metric). Read from the templates only."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from mlops_tools.review.markdown import before_after, code, table

Templates = Mapping[str, Mapping[str, Any]]  # stack name -> template
OUTPUT_MARK = "ScaleOutDetection"


def detections(templates: Templates, stacks: Collection[str]) -> dict[tuple[str, str], str]:
    """(stack, variant) -> the detection text of every ``ScaleOutDetection`` output."""
    found: dict[tuple[str, str], str] = {}
    for stack in stacks:
        for key, output in (templates.get(stack, {}).get("Outputs") or {}).items():
            value = output.get("Value") if isinstance(output, Mapping) else None
            if OUTPUT_MARK in key and isinstance(value, str) and ": " in value:
                variant, text = value.split(": ", 1)
                found[(stack, variant)] = text
    return found


def scaling_section(
    before: Templates, after: Templates, stacks: Collection[str], *, level: int = 3
) -> list[str]:
    """``Scale-out detection`` (a heading of ``level``): a row per autoscaled variant of
    ``stacks``, before -> after; nothing when neither side has one, one line when unchanged."""
    old, new = detections(before, stacks), detections(after, stacks)
    if not old and not new:
        return []
    heading = [f"{'#' * level} Scale-out detection", ""]
    if old == new:
        shown = "; ".join(f"{code(variant)} {text}" for (_, variant), text in sorted(new.items()))
        return [*heading, f"Unchanged: {shown}.", ""]
    rows = [
        [code(variant), before_after(old.get(key), new.get(key))]
        for key in sorted(old.keys() | new.keys())
        for variant in [key[1]]
    ]
    return [*heading, *table(["variant", "scale-out detection"], rows), ""]
