"""Batch transform jobs in ``make cost``: each state machine that runs a transform job costs its
instances for each run: ``InstanceCount`` x the instance type's hourly rate x the run's expected
minutes (the state machine's ``MlopsBatch.ExpectedMinutesPerRun`` metadata, else the task's
``TimeoutSeconds``) x the runs a month of the schedule that starts it (an
``AWS::Scheduler::Schedule`` whose target is the state machine: weekly ``cron(...)`` expressions
through :func:`mlops_tools.cost.schedule.weekly_firings`, ``rate(...)`` expressions by their
period). A job without a schedule is counted as one run a month (started by hand).

SageMaker bills batch transform per instance-hour ("Amazon SageMaker AI pricing", Batch
Transform): the hosting rate of the same instance type is used, stated in the line's
assumption. Idle is zero (nothing runs between runs); peak equals expected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops_tools.cost.assumptions import HOURS_PER_MONTH
from mlops_tools.cost.prices import CostError
from mlops_tools.cost.schedule import WEEK_MINUTES, UnsupportedSchedule, weekly_firings

TRANSFORM_INTEGRATION = ":states:::sagemaker:createTransformJob"
METADATA_KEY = "MlopsBatch"
_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)s?\)$")
_RATE_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
MONTH_MINUTES = HOURS_PER_MONTH * 60


def definition_text(value: Any) -> str | None:
    """A DefinitionString with references replaced by a placeholder (JSON stays parseable)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(p if isinstance(p, str) else "ref" for p in parts)
    return None


def transform_tasks(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Task states of the definition that run a transform job (top level)."""
    return [
        state
        for state in (definition.get("States") or {}).values()
        if isinstance(state, Mapping)
        and state.get("Type") == "Task"
        and TRANSFORM_INTEGRATION in str(state.get("Resource", ""))
    ]


def runs_per_month(expression: str, time_zone: str | None) -> float:
    """How often a Scheduler expression fires in a month of 730 hours."""
    rate = _RATE.match(expression.strip())
    if rate is not None:
        return MONTH_MINUTES / (int(rate.group(1)) * _RATE_MINUTES[rate.group(2)])
    return len(weekly_firings(expression, time_zone)) * MONTH_MINUTES / WEEK_MINUTES


@dataclass(frozen=True)
class BatchRun:
    """One transform task of a batch job's state machine: what a run uses and how often it runs
    (the figures ``make cost`` prices and the review report shows)."""

    instance_type: str
    count: int
    minutes: float
    """Minutes per run: the expected minutes when stated, else the task's timeout."""
    expected: bool
    """Whether ``minutes`` are the stated expected minutes (else the timeout)."""
    runs: float
    """Runs a month."""
    how: str
    """Where ``runs`` come from: ``<expression> <time zone>`` or the started-by-hand note."""

    @property
    def instance_hours(self) -> float:
        """Instance-hours of one run."""
        return self.count * self.minutes / 60


def _literal(value: Any, what: str) -> Any:
    if isinstance(value, Mapping):
        raise CostError(f"{what} is not a literal value ({', '.join(value)})")
    return value


def _referenced(value: Any) -> str | None:
    if isinstance(value, Mapping):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def schedules_of(
    resources: Mapping[str, Mapping[str, Any]], logical_id: str
) -> list[Mapping[str, Any]]:
    """The properties of the EventBridge Scheduler schedules whose target is ``logical_id``
    (a state machine, a function)."""
    return [
        resource.get("Properties") or {}
        for resource in resources.values()
        if resource.get("Type") == "AWS::Scheduler::Schedule"
        and _referenced(((resource.get("Properties") or {}).get("Target") or {}).get("Arn"))
        == logical_id
    ]


def batch_runs(
    resources: Mapping[str, Mapping[str, Any]], logical_id: str
) -> tuple[list[BatchRun], list[str]]:
    """The transform tasks of state machine ``logical_id`` among a template's ``resources``
    (none for other state machines), and notes on what could not be read. Raises
    :class:`CostError` when an instance type or count is not a literal."""
    resource = resources.get(logical_id) or {}
    text = definition_text((resource.get("Properties") or {}).get("DefinitionString"))
    if text is None:
        return [], []
    try:
        tasks = transform_tasks(json.loads(text))
    except json.JSONDecodeError:
        return [], ["definition not readable"]
    notes: list[str] = []
    expected = ((resource.get("Metadata") or {}).get(METADATA_KEY) or {}).get(
        "ExpectedMinutesPerRun"
    )
    runs, how = runs_of(schedules_of(resources, logical_id), notes) or (
        1.0,
        "started by hand: 1 run/month assumed",
    )
    found = []
    for task in tasks:
        request = task.get("Arguments") or task.get("Parameters") or {}
        transform = request.get("TransformResources") or {}
        found.append(
            BatchRun(
                instance_type=str(_literal(transform.get("InstanceType"), "instance type")),
                count=int(_literal(transform.get("InstanceCount", 1), "instance count")),
                minutes=float(expected or int(task.get("TimeoutSeconds", 3600)) / 60),
                expected=bool(expected),
                runs=runs,
                how=how,
            )
        )
    return found, notes


def state_machine(estimator: Any, logical_id: str, props: Mapping[str, Any]) -> Iterator[Any]:
    """The instance cost of the transform jobs a state machine runs (nothing for others)."""
    del props  # read with its metadata from the estimator's resources
    runs, notes = batch_runs(estimator.resources, logical_id)
    estimator.notes.extend(f"{estimator.stack}/{logical_id}: {note}" for note in notes)
    for run in runs:
        hourly = estimator.price(
            "sagemaker",
            f"{run.instance_type} hosting",
            "hour",
            "AWS::StepFunctions::StateMachine",
            "batch transform",
        )
        cost = hourly * run.instance_hours * run.runs
        yield estimator.item(
            logical_id,
            f"batch transform: {run.count} x {run.instance_type}, {run.minutes:g} min/run, "
            f"{run.runs:.1f} runs/month",
            0,
            cost,
            cost,
            keys=[("sagemaker", f"{run.instance_type} hosting")],
            assumption=f"{run.how}; {'expected' if run.expected else 'timeout'} minutes per "
            "run; billed per instance-hour at the hosting rate",
        )


def runs_of(schedules: Sequence[Mapping[str, Any]], notes: list[str]) -> tuple[float, str] | None:
    """(runs per month, how): the sum over the enabled schedules (a disabled one starts
    nothing), or None when none is enabled; a schedule not understood counts one run and
    adds to ``notes``."""
    enabled = [s for s in schedules if s.get("State", "ENABLED") != "DISABLED"]
    if not enabled:
        return None
    total, hows = 0.0, []
    for schedule in enabled:
        expression = str(schedule.get("ScheduleExpression", ""))
        zone = schedule.get("ScheduleExpressionTimezone")
        try:
            total += runs_per_month(expression, zone)
            hows.append(f"{expression} {zone or 'UTC'}")
        except UnsupportedSchedule as exc:
            notes.append(f"{exc}; 1 run/month assumed")
            total += 1.0
            hows.append(f"{expression} (1 run/month assumed)")
    return total, " + ".join(hows)
