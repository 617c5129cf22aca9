"""The optional ``budget`` of an environment: a monthly AWS Budgets cost budget filtered to the
environment's ``Environment`` cost allocation tag, notifying the environment's budget topic.

Limits from the AWS Budgets API (botocore's ``budgets`` service model): at most 10
notifications per budget (``NotificationWithSubscribersList``), a notification threshold from 0
to 15,000,000,000,000 (``NotificationThreshold``), a limit amount matching
``([0-9]*\\.)?[0-9]+`` (``NumericValue``)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, field_validator, model_validator

from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.errors import FieldProblem

MAX_NOTIFICATIONS = 10
# A percentage threshold far above any useful one still is a typo (10000 for 100).
MAX_THRESHOLD_PERCENT = 1000


def _thresholds(value: list[float], field: str) -> list[float]:
    if len(set(value)) != len(value):
        raise ValueError(f"{field} lists a threshold twice")
    return sorted(value)


class BudgetConfig(StrictModel):
    """``budget: {monthly_usd: 500, thresholds_percent: [80, 100], forecast_percent: [100]}``"""

    monthly_usd: float = Field(
        gt=0, le=1_000_000_000, description="Monthly cost limit in USD (the budget amount)."
    )
    thresholds_percent: list[float] = Field(
        default_factory=lambda: [80.0, 100.0],
        description="Notify when actual cost passes these percentages of the limit.",
    )
    forecast_percent: list[float] = Field(
        default_factory=lambda: [100.0],
        description="Notify when the month's forecast passes these percentages.",
    )

    @field_validator("thresholds_percent", "forecast_percent")
    @classmethod
    def _percentages(cls, value: list[float]) -> list[float]:
        for threshold in value:
            if not 0 < threshold <= MAX_THRESHOLD_PERCENT:
                raise ValueError(
                    f"{threshold:g} is not a percentage of the limit in (0, "
                    f"{MAX_THRESHOLD_PERCENT}]"
                )
        return _thresholds(value, "the list")

    @model_validator(mode="after")
    def _notifications(self) -> BudgetConfig:
        count = len(self.thresholds_percent) + len(self.forecast_percent)
        if count == 0:
            raise FieldProblem(
                "thresholds_percent", "give at least one threshold: a budget notifies nobody"
            )
        if count > MAX_NOTIFICATIONS:
            raise FieldProblem(
                "thresholds_percent",
                f"{count} notifications (thresholds_percent + forecast_percent); AWS Budgets "
                f"allows {MAX_NOTIFICATIONS} per budget",
            )
        return self

    @property
    def limit(self) -> str:
        """The amount as AWS Budgets takes it (a decimal string, at most 2 decimals)."""
        return f"{self.monthly_usd:.2f}"


def budget_problems(
    budget: BudgetConfig | None, alarm_emails: Sequence[str] | None
) -> list[tuple[str, str]]:
    """Cross-field rules: a budget notifies the environment's alarm e-mail addresses, so it
    needs ``monitoring.alarm_emails``."""
    if budget is not None and not alarm_emails:
        return [
            (
                "budget",
                "a budget notifies monitoring.alarm_emails through the environment's budget "
                "topic: configure at least one address",
            )
        ]
    return []
