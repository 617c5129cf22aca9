"""Batch jobs in the review report: each state machine that runs a SageMaker transform job
(a Task state on Step Functions' optimized integration ``sagemaker:createTransformJob``,
:func:`mlops_tools.cost.batch.transform_tasks`), with the schedules that start it.

CloudFormation has no transform-job resource; a batch job of a service is a state machine that
makes the CreateTransformJob call ("Create and manage Amazon SageMaker AI jobs with Step
Functions", https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html),
started by an ``AWS::Scheduler::Schedule`` whose target is the state machine, or by hand. Per job
the service's section shows what is added, removed or changed: the model, instance type x count,
schedule (expression and the time zone EventBridge Scheduler evaluates it in, "Schedule types
in EventBridge Scheduler",
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html; shown as UTC when
``ScheduleExpressionTimezone`` is absent, the default CDK's ``aws_scheduler.ScheduleExpression``
documents) and the task's timeout. The cost section adds one line per job: instance-hours per
run x runs a month, priced as ``make cost`` prices it (:mod:`mlops_tools.cost.batch`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_tools.cost.batch import BatchRun, batch_runs, definition_text, transform_tasks
from mlops_tools.cost.estimate import EnvironmentCost
from mlops_tools.cost.prices import CostError
from mlops_tools.cost.render import usd
from mlops_tools.review.changes import ResourceChange, resources
from mlops_tools.review.markdown import MISSING, Values, code, number, plain
from mlops_tools.review.services import part_of

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
SCHEDULE = "AWS::Scheduler::Schedule"
ON_DEMAND = "none (on demand)"
# The order of a job's fields in a line.
FIELDS = ("model", "instances", "schedule", "timeout")
_MODEL_NAME = re.compile(r"^\$\{(?P<model>[^.}]+)\.ModelName\}$")

Templates = Mapping[str, Mapping[str, Any]]  # stack name -> template
Ref = tuple[str, str]  # (stack, logical id)
Changes = Mapping[str, Mapping[str, ResourceChange]]


@dataclass(frozen=True)
class BatchJob:
    """One transform task of a state machine, as the report shows it."""

    stack: str
    logical_id: str
    name: str
    """The state machine's name (``<env>-<service>-<job>``), else its logical id."""
    fields: Mapping[str, str]
    """model, instances (``2 x ml.m5.large``), schedule, timeout."""
    model_id: str | None
    """Logical id of the model (same stack) it runs, when it names one by reference."""
    raw: tuple[Any, ...] = field(repr=False)
    """The state machine and its schedules as in the template: any other change of them."""


def batch_jobs(templates: Templates) -> dict[Ref, BatchJob]:
    """(stack, logical id) -> the batch job of every state machine that runs a transform job
    (the first such task when a definition has several)."""
    values = Values.of(templates)
    found = {}
    for stack in sorted(templates):
        template_resources = resources(templates[stack])
        for logical_id, resource in sorted(template_resources.items()):
            if not isinstance(resource, dict) or resource.get("Type") != STATE_MACHINE:
                continue
            properties = resource.get("Properties") or {}
            tasks = transform_tasks(_definition(properties.get("DefinitionString"), values))
            if not tasks:
                continue
            schedules = [
                s.get("Properties") or {} for s in _schedules(template_resources, logical_id)
            ]
            fields, model_id = _fields(tasks[0], schedules, values)
            name = properties.get("StateMachineName")
            found[(stack, logical_id)] = BatchJob(
                stack=stack,
                logical_id=logical_id,
                name=values.text(name) if name else logical_id,
                fields=fields,
                model_id=model_id,
                raw=(resource, *_schedules(template_resources, logical_id)),
            )
    return found


def _definition(value: Any, values: Values) -> Mapping[str, Any]:
    """The definition with references rendered as ``${Logical.Attr}`` (a placeholder when the
    rendered text would not parse)."""
    texts = [definition_text(value)]
    if isinstance(value, Mapping) and "Fn::Join" in value:
        texts.insert(0, values.text(value))
    for text in texts:
        if text is None:
            continue
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {}


def _schedules(template_resources: Mapping[str, Any], logical_id: str) -> Iterator[Any]:
    for _, resource in sorted(template_resources.items()):
        if not isinstance(resource, dict) or resource.get("Type") != SCHEDULE:
            continue
        arn = ((resource.get("Properties") or {}).get("Target") or {}).get("Arn")
        if isinstance(arn, dict) and logical_id in (
            arn.get("Ref"),
            (arn.get("Fn::GetAtt") or [None])[0],
        ):
            yield resource


def _fields(
    task: Mapping[str, Any], schedules: list[Mapping[str, Any]], values: Values
) -> tuple[dict[str, str], str | None]:
    request = task.get("Arguments") or task.get("Parameters") or {}
    model = values.text(request.get("ModelName", MISSING))
    named = _MODEL_NAME.match(model)
    transform = request.get("TransformResources") or {}
    instance_type = values.text(transform.get("InstanceType", MISSING))
    count = values.text(transform.get("InstanceCount", 1))
    timeout = task.get("TimeoutSeconds")
    fields = {
        "model": code(named["model"] if named else model),
        "instances": code(f"{count} x {instance_type}"),
        "schedule": "; ".join(_schedule_text(s, values) for s in schedules) or ON_DEMAND,
        "timeout": f"{number(timeout / 60)} min" if isinstance(timeout, int | float) else "none",
    }
    return fields, named["model"] if named else None


def _schedule_text(schedule: Mapping[str, Any], values: Values) -> str:
    """``cron(0 2 * * ? *)`` Europe/Dublin (UTC when no time zone is given)."""
    expression = code(values.text(schedule.get("ScheduleExpression", MISSING)))
    zone = values.text(schedule.get("ScheduleExpressionTimezone") or "UTC")
    disabled = ", disabled" if schedule.get("State") == "DISABLED" else ""
    return f"{expression} {zone}{disabled}"


def _described(job: BatchJob) -> str:
    fields = job.fields
    return (
        f"model {fields['model']}, {fields['instances']}, schedule {fields['schedule']}, "
        f"timeout {fields['timeout']}"
    )


def batch_section(
    before: Templates,
    after: Templates,
    changes: Changes,
    stacks: Collection[str],
    *,
    level: int = 3,
) -> list[str]:
    """``Batch jobs`` (a heading of ``level``): one line per batch job of ``stacks`` that is
    added, removed or changed; nothing when neither side has a batch job there."""
    old = {k: v for k, v in batch_jobs(before).items() if k[0] in stacks}
    new = {k: v for k, v in batch_jobs(after).items() if k[0] in stacks}
    if not old and not new:
        return []
    lines = []
    for key in sorted(old.keys() | new.keys()):
        line = _job_line(old.get(key), new.get(key), changes)
        if line:
            lines.append(line)
    heading = [f"{'#' * level} Batch jobs", ""]
    return [*heading, *(lines or ["No batch-job changes."]), ""]


def _job_line(old: BatchJob | None, new: BatchJob | None, changes: Changes) -> str | None:
    job = new or old
    assert job is not None  # noqa: S101 - one side has it
    title = f"- batch job {code(job.name)}"
    if old is None:
        return f"{title} added: {_described(job)}."
    if new is None:
        return f"{title} removed (was: {_described(job)})."
    shown = [
        f"{name} {old.fields[name]} → {new.fields[name]}"
        for name in FIELDS
        if old.fields[name] != new.fields[name]
    ]
    replaced = new.model_id is not None and new.model_id == old.model_id
    if replaced and _action(changes, new.stack, new.model_id) == "replace":
        shown.append(f"model {new.fields['model']} replaced: later runs use the new one")
    if not shown and old.raw != new.raw:
        shown.append("other settings of its state machine or schedule")
    return f"{title} changed: {'; '.join(shown)}." if shown else None


def _action(changes: Changes, stack: str, logical_id: str | None) -> str:
    change = changes.get(stack, {}).get(logical_id or "")
    return change.action if change else "unchanged"


# -- the cost section ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Priced:
    label: str
    run: BatchRun
    monthly: float


def _priced(
    cost: EnvironmentCost | None, templates: Templates
) -> dict[tuple[str, str, int], _Priced]:
    """(stack, state machine, task index) -> a job's figures and its monthly line of ``cost``."""
    if cost is None:
        return {}
    found = {}
    for part in cost.parts:
        for stack in part.stacks:
            template_resources = resources(templates.get(stack, {}))
            items: dict[str, list[float]] = {}
            for item in part.items:
                if item.stack == stack and item.description.startswith("batch transform"):
                    items.setdefault(item.resource, []).append(item.expected)
            for logical_id, monthly in items.items():
                try:
                    runs, _ = batch_runs(template_resources, logical_id)
                except CostError:
                    continue
                name = (template_resources[logical_id].get("Properties") or {}).get(
                    "StateMachineName"
                )
                label = f"{_part_label(cost.environment, stack)}, {code(str(name or logical_id))}"
                for index, (run, figure) in enumerate(zip(runs, monthly, strict=False)):
                    found[(stack, logical_id, index)] = _Priced(label, run, figure)
    return found


def _part_label(environment: str, stack: str) -> str:
    kind, name = part_of(environment, stack)
    return {"foundation": "Foundation", "service": code(name)}.get(kind, code(stack))


def batch_cost_lines(
    old: EnvironmentCost | None,
    new: EnvironmentCost | None,
    before: Templates,
    after: Templates,
) -> list[str]:
    """One line per batch job (expected figure): instance-hours per run x runs a month =
    monthly USD, with the base's figure when it differs; nothing without batch jobs."""
    was, now = _priced(old, before), _priced(new, after)
    if not was and not now:
        return []
    lines = [
        "Batch jobs (expected; a run's instance-hours x runs a month, at the hosting rate of "
        "the instance type):",
        "",
    ]
    for key in sorted(was.keys() | now.keys()):
        previous, current = was.get(key), now.get(key)
        if current is None:
            assert previous is not None  # noqa: S101 - one side has it
            lines.append(f"- {previous.label}: **removed** (was {usd(previous.monthly)})")
            continue
        note = ""
        if previous is None:
            note = " (**new**)"
        elif round(previous.monthly, 2) != round(current.monthly, 2):
            note = f" (**was {usd(previous.monthly)}**)"
        lines.append(f"- {current.label}: {_figures(current)}{note}")
    return [*lines, ""]


def _figures(priced: _Priced) -> str:
    run = priced.run
    minutes = f"{run.minutes:g} min" + ("" if run.expected else " (timeout)")
    return (
        f"{number(run.instance_hours)} instance-h/run ({run.count} x {run.instance_type}, "
        f"{minutes}) x {run.runs:.1f} runs/month ({plain(run.how)}) = {usd(priced.monthly)}"
    )
