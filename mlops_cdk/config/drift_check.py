"""``services.<name>.drift``: the service's own drift check (docs/concepts/drift.md).

The settings are the construct's props (:class:`mlops_cdk.props.drift.DriftSpec`, declared
once, with their bounds and checks); the file adds ``retrain`` only: whether the drift alarm
also invokes the service's retraining function is the stack's wiring of two constructs, which
the drift check itself never sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from mlops_cdk.aws.facts import BASELINE_FILE, BASELINES_PREFIX, baseline_key
from mlops_cdk.config.extended_props import extended_props_config
from mlops_cdk.props.drift import (
    MAX_FEATURES,
    MAX_HEARTBEAT_HOURS,
    MAX_RATE_MINUTES,
    MAX_WINDOW_HOURS,
    RATE_PATTERN,
    DriftSpec,
    rate_minutes,
)

# Re-exported: BASELINES_PREFIX, BASELINE_FILE and baseline_key from mlops_cdk.aws.facts, the
# limits and rate_minutes from mlops_cdk.props.drift.
__all__ = [
    "BASELINES_PREFIX",
    "BASELINE_FILE",
    "MAX_FEATURES",
    "MAX_HEARTBEAT_HOURS",
    "MAX_RATE_MINUTES",
    "MAX_WINDOW_HOURS",
    "RATE_PATTERN",
    "DriftConfig",
    "baseline_key",
    "rate_minutes",
]


@dataclass(frozen=True, kw_only=True)
class DriftConfig(DriftSpec):
    """Settings of one service's drift check."""

    __pydantic_config__: ClassVar[Any] = extended_props_config(DriftSpec)

    retrain: bool = False
    """The drift alarm also invokes retraining."""
