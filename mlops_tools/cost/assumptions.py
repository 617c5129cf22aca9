"""Usage the templates cannot tell: request volumes, payload sizes, stored data, log volumes,
pipeline runs. Every line item that rests on one prints it, so a reader can see the figure
the estimate depends on and override it (``python -m mlops_tools.cost --help``)."""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_MONTH = 730  # AWS's own monthly convention (8,760 h / 12)
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
GB = 1_000_000_000


@dataclass(frozen=True)
class Assumptions:
    # Per endpoint
    requests_per_month: float = 1_000_000
    request_kb: float = 10
    response_kb: float = 10
    serverless_duration_ms: float = 100
    # Storage and logs
    bucket_gb: float = 5
    repository_gb: float = 5
    log_gb_per_month: float = 0.5
    flow_log_gb_per_month: float = 1
    log_months_without_retention: float = 12
    # Requests to services billed per request
    kms_requests_per_month: float = 10_000
    endpoint_gb_processed: float = 1
    nat_gb_processed: float = 10
    lambda_invocations_per_month: float = 100
    custom_metrics_per_function: float = 5
    # Endpoint MetricsConfig: extra CloudWatch metrics per instance (not stated by AWS offline)
    detailed_observability_metrics_per_instance: float = 30
    enhanced_metrics_per_instance: float = 10
    # The deployment pipeline
    pipeline_runs_per_month: float = 20
    synth_build_minutes: float = 15
    other_build_minutes: float = 2
    other_action_minutes: float = 1

    def traffic(self) -> str:
        return (
            f"{self.requests_per_month:,.0f} requests/month, {self.request_kb:g} KB in + "
            f"{self.response_kb:g} KB out each"
        )

    def traffic_gb(self) -> float:
        """GB in + out per month through one endpoint."""
        return self.requests_per_month * (self.request_kb + self.response_kb) * 1000 / GB
