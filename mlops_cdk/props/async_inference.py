"""Props of an asynchronous endpoint (``services.<name>.async_inference``), declared once: the
constructs take them and the configuration validates YAML into them.

AWS facts relied on (SageMaker developer guide and API reference):

- "Asynchronous inference" (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference.html):
  requests are read from S3 (``InvokeEndpointAsync`` with an input location), queued, and the
  result is written to S3; payloads up to 1 GB, processing up to one hour; instances can scale
  to zero.
- "AsyncInferenceClientConfig"
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AsyncInferenceClientConfig.html):
  ``MaxConcurrentInvocationsPerInstance`` 1-1000; without it SageMaker chooses a value.
- "AsyncInferenceNotificationConfig"
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AsyncInferenceNotificationConfig.html):
  ``SuccessTopic`` / ``ErrorTopic`` (none given: no notification), ``IncludeInferenceResponseIn``
  (responses of at most 128 KB are included in the notification).
- "Autoscale an asynchronous endpoint"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-autoscale.html): target
  tracking on ``ApproximateBacklogSizePerInstance`` (namespace ``AWS/SageMaker``, dimension
  ``EndpointName``), ``MinCapacity`` 0 allowed; without the additional step policy on
  ``HasBacklogWithoutCapacity`` the endpoint scales up from zero only once the backlog exceeds
  the target.
- "Alarms and logs for tracking metrics from asynchronous endpoints"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html): the async
  metric names (``ApproximateAgeOfOldestRequest``, ``InvocationFailures``, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from mlops_cdk.aws.schedules import cron_problem, time_zone_problem
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import NUMBER, PROPS_CONFIG, checked_types, declared_problems

# SageMaker API reference, AsyncInferenceClientConfig: 1-1000.
MAX_CONCURRENT_INVOCATIONS = (1, 1000)
# Application Auto Scaling: a SageMaker variant scales to at most this many instances here (the
# same bound the real-time autoscaling settings use).
MAX_ASYNC_INSTANCES = 1000
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
_ACTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,31}$")
AsyncAlarmKind = Literal["oldest_request_age", "failed_invocations", "backlog_without_capacity"]
ASYNC_ALARM_KINDS: tuple[AsyncAlarmKind, ...] = (
    "oldest_request_age",
    "failed_invocations",
    "backlog_without_capacity",
)


@dataclass(frozen=True)
@checked_types
class AsyncNotifications:
    """Success and error notifications of the endpoint, each to its own encrypted topic of the
    service (``success`` / ``error``, both on by default). ``include_response`` adds the
    inference response (when at most 128 KB) to the notifications."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    success: bool = True
    error: bool = True
    include_response: bool = False

    def __post_init__(self) -> None:
        if self.include_response and not (self.success or self.error):
            raise PropProblems(
                [("include_response", "has no effect without a success or error topic")],
                subject="notifications",
            )


@dataclass(frozen=True)
@checked_types
class AsyncScheduledCapacity:
    """Autoscaling bounds applied on a schedule (``cron(...)`` in ``time_zone``); 0 allowed."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    name: str
    schedule: str
    min_capacity: Annotated[int, NUMBER]
    max_capacity: Annotated[int, NUMBER]
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        declared = declared_problems(self)  # NUMBER: no booleans, nothing infinite
        if declared:
            raise PropProblems(declared, subject=f"scheduled action {self.name}")
        problems: list[tuple[str, str]] = []
        if not _ACTION_NAME.match(self.name):
            problems.append(("name", "1-32 letters and digits, starting with a letter"))
        cron = cron_problem(self.schedule)
        if cron is not None:
            problems.append(("schedule", f"{self.schedule!r}: {cron}"))
        zone = time_zone_problem(self.time_zone)
        if zone is not None:
            problems.append(("time_zone", zone))
        if self.min_capacity < 0:
            problems.append(("min_capacity", "must be 0 or more"))
        elif not 1 <= self.max_capacity <= MAX_ASYNC_INSTANCES:
            problems.append(("max_capacity", f"must be 1-{MAX_ASYNC_INSTANCES}"))
        elif self.min_capacity > self.max_capacity:
            problems.append(("min_capacity", "min_capacity is greater than max_capacity"))
        if problems:
            raise PropProblems(problems, subject=f"scheduled action {self.name}")


@dataclass(frozen=True)
@checked_types
class AsyncScaling:
    """Instance count of the endpoint's variant: target tracking on the backlog per instance
    (``target_backlog_per_instance``), scale to zero when ``min_capacity`` is 0 (with the step
    policy that wakes the endpoint on ``HasBacklogWithoutCapacity``), scheduled bounds."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    max_capacity: Annotated[int, NUMBER]
    min_capacity: Annotated[int, NUMBER] = 0
    target_backlog_per_instance: Annotated[float, NUMBER] = 5.0
    scale_in_cooldown_seconds: Annotated[int, NUMBER] = 600
    scale_out_cooldown_seconds: Annotated[int, NUMBER] = 60
    scheduled: tuple[AsyncScheduledCapacity, ...] = ()

    def __post_init__(self) -> None:
        declared = declared_problems(self)  # NUMBER: no booleans, nothing infinite
        if declared:
            raise PropProblems(declared, subject="async scaling")
        problems = self._bound_problems()
        if not self.target_backlog_per_instance > 0:
            problems.append(("target_backlog_per_instance", "must be greater than 0"))
        for name in ("scale_in_cooldown_seconds", "scale_out_cooldown_seconds"):
            value = getattr(self, name)
            if not 0 <= value <= 86400:
                problems.append((name, "must be 0-86400 seconds"))
        names = [action.name for action in self.scheduled]
        for position, action in enumerate(self.scheduled):
            if names.index(action.name) != position:
                problems.append((f"scheduled[{position}].name", f"duplicate {action.name!r}"))
            if action.max_capacity > self.max_capacity:
                problems.append(
                    (
                        f"scheduled[{position}].max_capacity",
                        f"{action.max_capacity} exceeds max_capacity {self.max_capacity}",
                    )
                )
        if problems:
            raise PropProblems(problems, subject="async scaling")

    def _bound_problems(self) -> list[tuple[str, str]]:
        if not 1 <= self.max_capacity <= MAX_ASYNC_INSTANCES:
            return [("max_capacity", f"must be 1-{MAX_ASYNC_INSTANCES}")]
        if self.min_capacity < 0:
            return [("min_capacity", "must be 0 or more")]
        if self.min_capacity > self.max_capacity:
            return [("min_capacity", "min_capacity is greater than max_capacity")]
        return []

    @property
    def scales_to_zero(self) -> bool:
        """Some bound (the policy's or a scheduled one) lets the variant run no instance."""
        return self.min_capacity == 0 or any(a.min_capacity == 0 for a in self.scheduled)


@dataclass(frozen=True)
@checked_types
class AsyncAlarms:
    """Alarm thresholds of an asynchronous endpoint: the age of the oldest queued request
    (seconds), failed invocations per 5 minutes, and minutes a backlog may wait without any
    instance before it alarms (the wake-up policy should have added one by then).
    ``retrain_on``: kinds whose alarm also starts retraining."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    oldest_request_age_seconds: Annotated[int, NUMBER] = 1800
    failed_invocations: Annotated[int, NUMBER] = 1
    backlog_without_capacity_minutes: Annotated[int, NUMBER] = 15
    retrain_on: tuple[AsyncAlarmKind, ...] = ()

    def __post_init__(self) -> None:
        declared = declared_problems(self)  # NUMBER: no booleans, nothing infinite
        if declared:
            raise PropProblems(declared, subject="async alarms")
        bounds = {
            "oldest_request_age_seconds": (60, 86400),
            "failed_invocations": (1, 1_000_000),
            "backlog_without_capacity_minutes": (5, 1440),
        }
        problems = [
            (name, f"must be {low}-{high}")
            for name, (low, high) in bounds.items()
            if not low <= getattr(self, name) <= high
        ]
        problems += [
            (f"retrain_on[{i}]", f"{kind!r} is not one of {', '.join(ASYNC_ALARM_KINDS)}")
            for i, kind in enumerate(self.retrain_on)
            if kind not in ASYNC_ALARM_KINDS
        ]
        if problems:
            raise PropProblems(problems, subject="async alarms")


@dataclass(frozen=True)
@checked_types
class AsyncInferenceSpec:
    """An asynchronous endpoint (its presence makes the service's endpoint asynchronous).

    - ``max_concurrent_invocations_per_instance``: 1-1000, or None (SageMaker chooses).
    - ``submitters``: IAM role ARNs of this account that may write the service's input prefix
      and call InvokeEndpointAsync on this endpoint; nobody else may.
    - ``notifications``, ``scaling`` (None: a fixed fleet of the variant's initial count),
      ``alarms``; ``smoke_timeout_seconds``: how long the smoke test waits for the result."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    max_concurrent_invocations_per_instance: Annotated[int, NUMBER] | None = None
    submitters: tuple[str, ...] = ()
    notifications: AsyncNotifications = field(default_factory=AsyncNotifications)
    scaling: AsyncScaling | None = None
    alarms: AsyncAlarms = field(default_factory=AsyncAlarms)
    smoke_timeout_seconds: Annotated[int, NUMBER] = 900

    def __post_init__(self) -> None:
        declared = declared_problems(self)  # NUMBER: no booleans, nothing infinite
        if declared:
            raise PropProblems(declared, subject="async inference")
        problems: list[tuple[str, str]] = []
        concurrency = self.max_concurrent_invocations_per_instance
        low, high = MAX_CONCURRENT_INVOCATIONS
        if concurrency is not None and not low <= concurrency <= high:
            problems.append(
                (
                    "max_concurrent_invocations_per_instance",
                    f"must be {low}-{high} (SageMaker AsyncInferenceClientConfig)",
                )
            )
        for position, arn in enumerate(self.submitters):
            if not _ROLE_ARN.match(arn):
                problems.append((f"submitters[{position}]", f"{arn!r} is not an IAM role ARN"))
            elif self.submitters.index(arn) != position:
                problems.append((f"submitters[{position}]", f"duplicate {arn!r}"))
        if not 60 <= self.smoke_timeout_seconds <= 3600:
            problems.append(("smoke_timeout_seconds", "must be 60-3600"))
        if problems:
            raise PropProblems(problems, subject="async inference")

    @staticmethod
    def account_of(role_arn: str) -> str | None:
        """The account of a role ARN (None when it is not one)."""
        match = _ROLE_ARN.match(role_arn)
        return match.group(1) if match else None


def async_prefix(service: str) -> str:
    """Everything an asynchronous service keeps in the environment bucket."""
    return f"async/{service}/"


def async_prefixes(service: str) -> tuple[str, str, str]:
    """Input, output and failure prefixes of a service (``async/<service>/input/`` ...)."""
    base = async_prefix(service)
    return f"{base}input/", f"{base}output/", f"{base}failures/"
