"""Props of the endpoint constructs that the configuration validates YAML into.

Pure Python (no aws_cdk, pydantic or boto3): :mod:`mlops_cdk.constructs.endpoint` takes them as
typed props and :mod:`mlops_cdk.config` validates ``config/<env>.yaml`` into the same classes, so
each setting (name, type, default, bounds) is declared once and a library user gets the same
errors as a YAML user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from mlops_cdk.aws.facts import (
    DEFAULT_METRIC_PUBLISH_FREQUENCY_SECONDS,
    METRIC_PUBLISH_FREQUENCIES_SECONDS,
)
from mlops_cdk.props.errors import PropProblems


@dataclass(frozen=True)
class MetricsSpec:
    """What the endpoint publishes to CloudWatch beyond its standard metrics (the endpoint
    config's ``MetricsConfig``; SageMaker API reference "MetricsConfig",
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MetricsConfig.html).

    Stated in every instance-backed endpoint config, because AWS's defaults changed under us:
    endpoint configs created after 2026-06-17 turn **detailed observability** on unless it is
    set ("Getting started with detailed observability": container-level Prometheus metrics,
    per-GPU metrics, per-instance host metrics, placement metrics), and those metrics are
    billed. ``enhanced_metrics`` adds ``InstanceId`` (and for GPUs ``AcceleratorId``)
    dimensions to utilization and invocation metrics ("Amazon SageMaker AI enhanced metrics
    for inference endpoints"). ``publish_frequency_seconds`` is one of 10, 30, 60, 120, 180,
    240, 300: it applies to utilization metrics, and with enhanced metrics to invocation metrics
    too. Standard invocation and utilization metrics (what the alarms and autoscaling here watch)
    are published either way."""

    # The configuration validates YAML into this class (pydantic): unknown keys are refused.
    __pydantic_config__: ClassVar[Any] = {"extra": "forbid"}

    detailed_observability: bool = False
    enhanced_metrics: bool = False
    publish_frequency_seconds: int = DEFAULT_METRIC_PUBLISH_FREQUENCY_SECONDS

    def __post_init__(self) -> None:
        if self.publish_frequency_seconds not in METRIC_PUBLISH_FREQUENCIES_SECONDS:
            allowed = ", ".join(str(f) for f in METRIC_PUBLISH_FREQUENCIES_SECONDS)
            raise PropProblems(
                [
                    (
                        "publish_frequency_seconds",
                        f"must be one of {allowed} (SageMaker MetricsConfig), "
                        f"got {self.publish_frequency_seconds}",
                    )
                ],
                subject="metrics",
            )

    @property
    def is_default(self) -> bool:
        return self == MetricsSpec()


@dataclass(frozen=True)
class DataCaptureSpec:
    """Data capture of the endpoint's requests and responses (``services.<name>.data_capture``):
    ``sampling_percentage`` of the invocations (1-100), inputs and/or outputs, KMS-encrypted
    under the service's capture prefix. ``enabled=False`` captures nothing; the other fields then
    have no effect and are refused when they differ from their defaults (a setting that does
    nothing is a mistake, not an option)."""

    __pydantic_config__: ClassVar[Any] = {"extra": "forbid"}

    sampling_percentage: int = 20
    capture_input: bool = True
    capture_output: bool = True
    enabled: bool = True

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        if isinstance(self.sampling_percentage, bool) or not 1 <= self.sampling_percentage <= 100:
            problems.append(("sampling_percentage", "must be 1-100"))
        if self.enabled and not (self.capture_input or self.capture_output):
            problems.append(("capture_input", "capture at least one of input or output"))
        if not self.enabled:
            defaults = DataCaptureSpec()
            problems += [
                (name, "has no effect while data capture is disabled: remove it")
                for name in ("capture_input", "capture_output", "sampling_percentage")
                if getattr(self, name) != getattr(defaults, name)
            ]
        if problems:
            raise PropProblems(problems, subject="data capture")
