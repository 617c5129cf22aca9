"""BatchStateMachineAlarmed: a state machine with a transform-job task needs alarms with actions
on ExecutionsFailed, ExecutionsTimedOut and ExecutionsAborted by its StateMachineArn."""

from __future__ import annotations

import pytest
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tests.unit.compliance.sagemaker.pack_helpers import alarm, rules_for, stack
from tests.unit.compliance.sagemaker.rules.batch_helpers import isolated_model, transform_machine

RULE = "BatchStateMachineAlarmed"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:alarms"
ALL = ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")


def alarmed(scope: Construct, machine: sfn.CfnStateMachine, metrics: tuple[str, ...], *,
            actions: bool = True) -> None:  # fmt: skip
    for metric in metrics:
        alarm(
            scope,
            f"Alarm{metric}",
            namespace="AWS/States",
            metric=metric,
            dimensions={"StateMachineArn": machine.ref},
            alarm_actions=[TOPIC] if actions else None,
        )


def test_every_execution_failure_alarmed_with_an_action_is_compliant() -> None:
    s = stack()
    model = isolated_model(s)
    machine = transform_machine(s, model_name=model.attr_model_name)
    alarmed(s, machine, ALL)
    assert RULE not in rules_for(s, "S/Machine")


@pytest.mark.parametrize("missing", ALL)
def test_a_missing_alarm_fails(missing: str) -> None:
    s = stack()
    model = isolated_model(s)
    machine = transform_machine(s, model_name=model.attr_model_name)
    alarmed(s, machine, tuple(m for m in ALL if m != missing))
    assert RULE in rules_for(s, "S/Machine")


def test_alarms_without_actions_fail() -> None:
    s = stack()
    model = isolated_model(s)
    machine = transform_machine(s, model_name=model.attr_model_name)
    alarmed(s, machine, ALL, actions=False)
    assert RULE in rules_for(s, "S/Machine")


def test_state_machines_without_transform_jobs_need_no_alarms() -> None:
    s = stack()
    transform_machine(s, model_name="x", integration="createTrainingJob.sync")
    assert RULE not in rules_for(s, "S/Machine")
