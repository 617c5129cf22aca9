"""BatchStateMachineAlarmed: a state machine that runs transform jobs has no alarm with an
action on its failed, timed-out or aborted executions.

A batch job runs unattended (on a schedule or started by hand and left): a failed run writes no
output, and nothing else notices. Step Functions publishes ``ExecutionsFailed``,
``ExecutionsTimedOut`` and ``ExecutionsAborted`` in ``AWS/States`` by ``StateMachineArn``
("Monitoring Step Functions metrics using Amazon CloudWatch", Step Functions Developer Guide);
each needs an alarm of the same stack whose dimension names the state machine (``Ref`` to it,
or its literal ARN) and that has an ALARM action (``AlarmActions``, actions not disabled).
"""

from __future__ import annotations

from mlops_cdk.aws.cfn_values import as_list, referenced_logical_id
from mlops_cdk.compliance.sagemaker.alarms import watched_metrics
from mlops_cdk.compliance.sagemaker.index import (
    ALARM_TYPE,
    STATE_MACHINE_TYPE,
    Resource,
    StackIndex,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)
from mlops_cdk.compliance.sagemaker.rules.transform_job_protected import (
    UnreadableDefinition,
    definition_of,
    transform_tasks,
)

STATES_NAMESPACE = "AWS/States"
REQUIRED_METRICS = frozenset({"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"})


def _alarmed_metrics(machine: Resource, index: StackIndex) -> set[str]:
    """AWS/States metrics of ``machine`` that an alarm with an action watches."""
    found: set[str] = set()
    for alarm in index.of_type(ALARM_TYPE):
        props = alarm.properties
        if props.get("ActionsEnabled") is False or not as_list(props.get("AlarmActions")):
            continue
        for metric in watched_metrics(props):
            if metric.namespace != STATES_NAMESPACE or not isinstance(metric.name, str):
                continue
            value = metric.dimensions.get("StateMachineArn")
            if referenced_logical_id(value) == machine.logical_id:
                found.add(metric.name)
    return found


def batch_state_machine_alarmed(machine: Resource, index: StackIndex) -> Compliance:
    try:
        definition, _ = definition_of(machine)
    except UnreadableDefinition:
        return NOT_APPLICABLE  # TransformJobProtected reports it
    if not transform_tasks(definition):
        return NOT_APPLICABLE
    missing = REQUIRED_METRICS - _alarmed_metrics(machine, index)
    return NON_COMPLIANT if missing else COMPLIANT


RULE = Rule(
    "BatchStateMachineAlarmed",
    "A state machine that runs transform jobs has no alarm with an action on failed, "
    "timed-out or aborted executions.",
    "Batch jobs run unattended: give every state machine with a createTransformJob task "
    "alarms, in its stack and with an alarm action (e.g. the service's alarm topic), on "
    "AWS/States ExecutionsFailed, ExecutionsTimedOut and ExecutionsAborted by its "
    "StateMachineArn (Ref to the state machine). "
    "mlops_cdk.constructs.batch_transform.BatchTransformJob makes them; its notify() adds "
    "the action.",
    batch_state_machine_alarmed,
    frozenset({STATE_MACHINE_TYPE}),
)
