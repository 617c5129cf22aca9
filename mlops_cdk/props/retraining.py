"""Props of a service's retraining function (``services.<name>.retraining``): how often it may
start retraining and how much concurrency it reserves. Taken by
:class:`mlops_cdk.constructs.retraining.RetrainingFunction`; the configuration validates YAML
into the same class (adding what the function starts: a team's pipeline, a training job or the
managed pipeline, whose names, roles and templates the stack resolves).

Pure Python: no aws_cdk, pydantic or boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from annotated_types import Ge, Le

from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import NUMBER, PROPS_CONFIG, checked_types, declared_problems

MIN_COOLDOWN = 5  # minutes
MAX_COOLDOWN = 7 * 24 * 60  # minutes: one week
# Lambda reserves up to the account's unreserved concurrency minus 100 ("Configuring reserved
# concurrency for a function", AWS Lambda Developer Guide,
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html); 1000 is the
# default regional quota of concurrent executions (the bound kept from the configuration).
MAX_RESERVED_CONCURRENCY = 1000


@dataclass(frozen=True, kw_only=True)
@checked_types
class RetrainingSpec:
    """How the retraining function runs: at most one retraining per ``cooldown_minutes``
    window (runs are idempotent per window), with ``reserved_concurrency`` if set."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    cooldown_minutes: Annotated[int, Ge(MIN_COOLDOWN), Le(MAX_COOLDOWN), NUMBER] = 60
    """At most one run per window."""
    reserved_concurrency: Annotated[int, Ge(1), Le(MAX_RESERVED_CONCURRENCY), NUMBER] | None = None
    """Reserved concurrency of the retraining function. Off by default: Lambda refuses a
    reservation that leaves fewer than 100 unreserved executions (or the whole quota where it
    is lower, as in new accounts); idempotency comes from SageMaker state and the request
    token."""

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if problems:
            raise PropProblems(problems, subject="retraining")

    @property
    def cooldown_seconds(self) -> int:
        """The cooldown window in seconds (the function's ``COOLDOWN_SECONDS``)."""
        return self.cooldown_minutes * 60
