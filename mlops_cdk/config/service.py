"""One model service of an environment (``services.<name>`` in ``config/<env>.yaml``).

A service is what one team releases on its own cadence: its models and weighted variants
(everything :class:`ServingConfig` holds), its alarm thresholds (overriding the environment's
``monitoring.operational`` defaults field by field), quality alarms, retraining target and,
optionally, a narrower list of publishers. Each service becomes its own stacks
(``<env>-<service>-Registry`` and ``<env>-<service>``) with its own endpoint ``<env>-<service>``.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from pydantic import Field, create_model, model_validator

from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.errors import FieldProblem
from mlops_cdk.config.monitoring import MetricAlarmConfig, OperationalThresholds, RetrainingConfig
from mlops_cdk.config.serving import ServingConfig

# Lowercase letters, digits and single '-' between them; starts with a letter. Derived names
# (endpoint ``<env>-<service>``, stacks, roles) are checked against AWS limits by EnvConfig.
SERVICE_NAME_PATTERN = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")
RESERVED_SERVICE_NAMES = frozenset({"foundation", "overview", "pipeline"})

# Every threshold of the environment's defaults, optional: a service overrides some of them.
OperationalOverrides: type[StrictModel] = create_model(  # type: ignore[call-overload]
    "OperationalOverrides",
    __base__=StrictModel,
    __doc__="Overrides of monitoring.operational for one service (validated after merging).",
    **{
        name: (Optional[field.annotation], None)  # noqa: UP045 - a runtime type expression
        for name, field in OperationalThresholds.model_fields.items()
    },
)


class ServiceConfig(ServingConfig):
    """Models, variants, data capture, deployment, smoke test (from :class:`ServingConfig`),
    plus the service's monitoring and publishers."""

    alarms: OperationalOverrides = Field(
        default_factory=OperationalOverrides,
        description="Overrides of the environment's monitoring.operational thresholds.",
    )
    quality_alarms: list[MetricAlarmConfig] = Field(default_factory=list)
    retraining: RetrainingConfig | None = None
    publishers: list[str] | None = Field(
        None,
        description="Roles that may push this service's images: a subset of the environment's "
        "publishers (default: all of them).",
    )

    @model_validator(mode="after")
    def _unique_alarms(self) -> ServiceConfig:
        names = [a.name for a in self.quality_alarms]
        for index, name in enumerate(names):
            if names.index(name) != index:
                raise FieldProblem(f"quality_alarms[{index}].name", f"duplicate alarm {name!r}")
        return self

    def thresholds(self, defaults: OperationalThresholds) -> OperationalThresholds:
        """The environment's defaults with this service's overrides applied."""
        overrides: dict[str, Any] = self.alarms.model_dump(exclude_unset=True, exclude_none=True)
        return OperationalThresholds.model_validate(
            {**defaults.model_dump(exclude_unset=True), **overrides}
        )
