"""The ``monitoring`` section: notification e-mails and the default alarm thresholds. The alarm
settings themselves (operational thresholds, quality alarms) are the alarm construct's props
(:mod:`mlops_cdk.props.alarms`), validated from YAML as they are; what is about files stays here
(placeholders in quality alarm dimensions). Retraining is :mod:`.retraining`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from mlops_cdk.aws.facts import email_addresses_problem
from mlops_cdk.config.base import StrictModel
from mlops_cdk.props.alarms import AlarmThresholds, QualityAlarmSpec
from mlops_cdk.props.fields import Check

__all__ = [
    "ENDPOINT_DIMENSIONS",
    "AlarmThresholds",
    "MonitoringConfig",
    "QualityAlarmSpec",
    "dimension_placeholder_problem",
]

ENDPOINT_DIMENSIONS = ("EndpointName", "Endpoint")
# E-mail addresses told of alarms (an environment's) or failures (the pipeline's): AlarmTopic's
# own rule, one address each, none twice.
AlarmEmails = Annotated[list[str], Check(email_addresses_problem)]


def dimension_placeholder_problem(dimensions: Mapping[str, str]) -> str | None:
    """A placeholder the loader did not fill in a quality alarm's dimension values
    (:func:`mlops_cdk.config.service.derive_service_names` fills ``{env}``, ``{service}`` and
    ``{endpoint}``), or None."""
    for key, item in dimensions.items():
        unknown = re.search(r"\{[^{}]*\}", item)
        if unknown:
            return (
                f"{key}: unknown placeholder {unknown.group(0)} (use {{env}}, {{service}} "
                "or {endpoint})"
            )
    return None


class MonitoringConfig(StrictModel):
    """Environment-wide monitoring: who is notified, and the default alarm thresholds every
    service starts from (``services.<name>.alarms`` overrides them field by field)."""

    alarm_emails: AlarmEmails = Field(default_factory=list)
    operational: AlarmThresholds = Field(default_factory=AlarmThresholds)
