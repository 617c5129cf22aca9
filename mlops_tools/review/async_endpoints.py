"""Asynchronous endpoints in the review report: for each endpoint whose endpoint config has an
``AsyncInferenceConfig`` (on either side), its asynchronous settings and their autoscaling,
before → after, in a table like the variants table (one column per endpoint).

What is shown, from the template alone:

- the concurrency per instance (``ClientConfig.MaxConcurrentInvocationsPerInstance``; absent,
  "SageMaker chooses an optimal value", API reference "AsyncInferenceClientConfig",
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AsyncInferenceClientConfig.html),
  the output and failure locations, the output key and whether success / error notifications
  go to topics (``OutputConfig``, API reference "AsyncInferenceOutputConfig",
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AsyncInferenceOutputConfig.html);
- per variant its scalable target's minimum and maximum (a minimum of 0, also one a scheduled
  action sets, lets it scale to zero: "Autoscale an asynchronous endpoint",
  https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-autoscale.html), the target
  of the target tracking policy on ``ApproximateBacklogSizePerInstance``, and whether a step
  scaling policy of the target is the action of an alarm on ``HasBacklogWithoutCapacity``: the
  same page says that without such a policy the endpoint scales up from zero only once the
  backlog exceeds the tracking target.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from mlops_cdk.aws.cfn_values import references
from mlops_cdk.aws.sagemaker_metrics import (
    APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE,
    HAS_BACKLOG_WITHOUT_CAPACITY,
)
from mlops_tools.review.deployment import (
    ALARM,
    INSTANCE_COUNT_DIMENSION,
    SCALABLE_TARGET,
    Endpoint,
    Ref,
    Side,
)
from mlops_tools.review.markdown import MISSING, before_after, code, table

ASYNC_CONFIG = "AsyncInferenceConfig"
SAGEMAKER_CHOOSES = "SageMaker's choice"
# Rows of the table, in order; per-variant rows follow (prefixed with the variant when several).
ENDPOINT_ROWS = (
    "mode",
    "concurrency per instance",
    "output",
    "failures",
    "output key",
    "notifications",
)
VARIANT_ROWS = ("instances (min / max)", "scheduled bounds", "target backlog per instance")
WAKE_ROW = "wake from zero"

Fields = dict[str, str]


def is_async(side: Side, endpoint: Endpoint | None) -> bool:
    """Whether the config ``endpoint`` serves has an AsyncInferenceConfig."""
    properties = side.config(endpoint).get("Properties") or {}
    return bool(properties.get(ASYNC_CONFIG))


def async_section(
    before: Side, after: Side, stacks: Collection[str] | None = None, *, level: int = 3
) -> list[str]:
    """``Asynchronous endpoints`` (a heading of ``level``): a table of settings before → after
    with one column per asynchronous endpoint (of ``stacks`` when given) whose settings change;
    nothing when neither side has an asynchronous endpoint there."""
    keys = [
        key
        for key in sorted(before.endpoints.keys() | after.endpoints.keys())
        if (stacks is None or key[0] in stacks)
        and (
            is_async(before, before.endpoints.get(key)) or is_async(after, after.endpoints.get(key))
        )
    ]
    if not keys:
        return []
    heading = [f"{'#' * level} Asynchronous endpoints", ""]
    columns = []
    for key in keys:
        old = _fields(before, before.endpoints.get(key))
        new = _fields(after, after.endpoints.get(key))
        if old != new:
            columns.append((key, old, new))
    if not columns:
        return [*heading, "No asynchronous-endpoint changes.", ""]
    rows = []
    names = [name for _, old, new in columns for name in [*old, *new]]
    for name in dict.fromkeys(names):
        rows.append(
            [name, *(before_after(old.get(name), new.get(name)) for _, old, new in columns)]
        )
    header = ["setting", *(_title(before, after, key) for key, _, _ in columns)]
    return [*heading, *table(header, rows), ""]


def _title(before: Side, after: Side, key: Ref) -> str:
    endpoint = after.endpoints.get(key) or before.endpoints[key]
    if key not in before.endpoints:
        status = " (new)"
    elif key not in after.endpoints:
        status = " (removed)"
    else:
        status = ""
    return f"{code(endpoint.name)}{status}"


def _fields(side: Side, endpoint: Endpoint | None) -> Fields:
    """The displayed settings of one side's endpoint (empty when it is absent)."""
    if endpoint is None:
        return {}
    properties = side.config(endpoint).get("Properties") or {}
    config = properties.get(ASYNC_CONFIG)
    if not isinstance(config, dict):
        return {"mode": "real-time"}
    client = config.get("ClientConfig") or {}
    output = config.get("OutputConfig") or {}
    concurrency = client.get("MaxConcurrentInvocationsPerInstance")
    fields = {
        "mode": "asynchronous",
        "concurrency per instance": SAGEMAKER_CHOOSES
        if concurrency is None
        else side.values.text(concurrency),
        "output": _text(side, output.get("S3OutputPath")),
        "failures": _text(side, output.get("S3FailurePath")),
        "output key": _text(side, output.get("KmsKeyId")),
        "notifications": _notifications(output.get("NotificationConfig")),
    }
    variants = sorted(side.variants(endpoint))
    for variant in variants:
        prefix = f"{code(variant)} " if len(variants) > 1 else ""
        fields |= {f"{prefix}{k}": v for k, v in _scaling(side, endpoint, variant).items()}
    return fields


def _text(side: Side, value: Any) -> str:
    return MISSING if value is None else code(side.values.text(value))


def _notifications(config: Any) -> str:
    """``success, error`` (the topics given), or ``off``."""
    if not isinstance(config, dict):
        return "off"
    kinds = [kind for kind in ("success", "error") if config.get(f"{kind.capitalize()}Topic")]
    return ", ".join(kinds) or "off"


def _scaling(side: Side, endpoint: Endpoint, variant: str) -> Fields:
    refs = side.scaling(endpoint, variant, INSTANCE_COUNT_DIMENSION)
    targets = [ref for ref in refs if side.resource(*ref).get("Type") == SCALABLE_TARGET]
    if not targets:
        return {VARIANT_ROWS[0]: "no autoscaling"}
    target = side.resource(*targets[0]).get("Properties") or {}
    policies = [
        (ref, side.resource(*ref).get("Properties") or {}) for ref in refs if ref not in targets
    ]
    tracking = [
        p["TargetTrackingScalingPolicyConfiguration"]
        for _, p in policies
        if isinstance(p.get("TargetTrackingScalingPolicyConfiguration"), dict)
        and (
            p["TargetTrackingScalingPolicyConfiguration"].get("CustomizedMetricSpecification") or {}
        ).get("MetricName")
        == APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE
    ]
    steps = {ref for ref, p in policies if p.get("PolicyType") == "StepScaling"}
    fields = {
        VARIANT_ROWS[0]: f"{_bound(side, target.get('MinCapacity'))} / "
        f"{side.values.text(target.get('MaxCapacity', MISSING))}",
        VARIANT_ROWS[2]: side.values.text(tracking[0].get("TargetValue", MISSING))
        if tracking
        else MISSING,
        WAKE_ROW: "yes" if _wakes(side, steps) else "no",
    }
    scheduled = [_scheduled(side, a) for a in target.get("ScheduledActions") or []]
    if scheduled:
        fields[VARIANT_ROWS[1]] = "<br>".join(scheduled)
    return {name: fields[name] for name in (*VARIANT_ROWS, WAKE_ROW) if name in fields}


def _bound(side: Side, value: Any) -> str:
    if value is None:
        return MISSING
    text = side.values.text(value)
    return f"{text} (scales to zero)" if value == 0 else text


def _scheduled(side: Side, action: Any) -> str:
    """``WeekendSmall: min 0 (scales to zero), max 1 at cron(0 20 ? * FRI *) Europe/Dublin``
    (Application Auto Scaling uses UTC when an action names no time zone)."""
    if not isinstance(action, dict):
        return side.values.text(action)
    bounds = action.get("ScalableTargetAction") or {}
    parts = []
    if "MinCapacity" in bounds:
        parts.append(f"min {_bound(side, bounds['MinCapacity'])}")
    if "MaxCapacity" in bounds:
        parts.append(f"max {side.values.text(bounds['MaxCapacity'])}")
    zone = side.values.text(action.get("Timezone") or "UTC")
    schedule = side.values.text(action.get("Schedule", MISSING))
    name = side.values.text(action.get("ScheduledActionName", MISSING))
    return f"{name}: {', '.join(parts) or 'no bounds'} at {code(schedule)} {zone}"


def _wakes(side: Side, step_policies: set[Ref]) -> bool:
    """Whether an alarm on HasBacklogWithoutCapacity has one of ``step_policies`` as action."""
    for stack, _, alarm in side.of_type(ALARM):
        if alarm.get("MetricName") != HAS_BACKLOG_WITHOUT_CAPACITY:
            continue
        for action in alarm.get("AlarmActions") or []:
            if any((stack, lid) in step_policies for lid in references(action)):
                return True
    return False
