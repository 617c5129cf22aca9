"""FailureDestinationWatched: a failure destination, a function or a rule fails unwatched.

Three kinds of resource are checked, each against the alarms of its own stack:
- an SQS queue that a resource of the stack names as a failure destination (a Lambda function's
  asynchronous on-failure destination or dead-letter queue, an event source mapping's
  on-failure destination, an EventBridge Scheduler schedule's or an EventBridge rule target's
  dead-letter queue, a queue's or an SNS subscription's redrive target) needs an alarm on
  ``AWS/SQS`` ``ApproximateNumberOfMessagesVisible``, ``ApproximateAgeOfOldestMessage`` or
  ``NumberOfMessagesSent`` by its ``QueueName``;
- a Lambda function needs an alarm on ``AWS/Lambda`` ``Errors`` by its ``FunctionName``;
- an EventBridge rule with targets needs an alarm on ``AWS/Events`` ``FailedInvocations`` by
  its ``RuleName``;
and the alarm must have an ALARM action (``AlarmActions``, actions not disabled).

Not applicable: queues nothing in the stack names as a failure destination; disabled rules
and rules without targets; functions that serve CloudFormation custom resources (named by a
resource's ``ServiceToken``, or by the environment of such a function, as CDK's provider
framework passes its user handlers): CloudFormation invokes them during a deployment and a
failure fails the deployment, where the person deploying sees it (CDK's LogRetention,
AwsCustomResource, S3 auto-delete and default-security-group handlers are such functions).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from weakref import WeakKeyDictionary

from mlops_cdk.aws.cfn_values import as_list, referenced_logical_id, references
from mlops_cdk.compliance.sagemaker.alarms import watched_metrics
from mlops_cdk.compliance.sagemaker.index import (
    ALARM_TYPE,
    EVENT_RULE_TYPE,
    FUNCTION_TYPE,
    QUEUE_TYPE,
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

# (namespace, metric names, dimension) an alarm must watch, by the watched resource's type, and
# the property holding a literal name of the resource (the dimension's value).
WATCHED_BY: dict[str, tuple[str, frozenset[str], str, str]] = {
    QUEUE_TYPE: (
        "AWS/SQS",
        frozenset(
            {
                "ApproximateNumberOfMessagesVisible",
                "ApproximateAgeOfOldestMessage",
                "NumberOfMessagesSent",
            }
        ),
        "QueueName",
        "QueueName",
    ),
    FUNCTION_TYPE: ("AWS/Lambda", frozenset({"Errors"}), "FunctionName", "FunctionName"),
    EVENT_RULE_TYPE: ("AWS/Events", frozenset({"FailedInvocations"}), "RuleName", "Name"),
}


def _failure_destination_arns(resource: Resource) -> Iterator[Any]:
    """Values naming a failure destination in one resource's properties."""
    props = resource.properties
    if resource.type in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"):
        yield _path(props, "DestinationConfig", "OnFailure", "Destination")
    elif resource.type == FUNCTION_TYPE:
        yield _path(props, "DeadLetterConfig", "TargetArn")
    elif resource.type == "AWS::Scheduler::Schedule":
        yield _path(props, "Target", "DeadLetterConfig", "Arn")
    elif resource.type == EVENT_RULE_TYPE:
        for target in as_list(props.get("Targets")):
            yield _path(target, "DeadLetterConfig", "Arn")
    elif resource.type in (QUEUE_TYPE, "AWS::SNS::Subscription"):
        yield _path(props, "RedrivePolicy", "deadLetterTargetArn")


def _path(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


class _Watched:
    """What one stack's alarms watch, and which of its resources are failure destinations or
    custom-resource handlers (built once per stack)."""

    def __init__(self, index: StackIndex) -> None:
        self.destinations = {
            logical_id
            for resource in index.resources.values()
            for arn in _failure_destination_arns(resource)
            if (logical_id := referenced_logical_id(arn)) is not None
        }
        tokens = {
            logical_id
            for resource in index.resources.values()
            if (logical_id := referenced_logical_id(resource.properties.get("ServiceToken")))
        }
        # CDK's provider framework: the onEvent function passes its user handlers' ARNs in its
        # environment.
        self.handlers = tokens | {
            found
            for logical_id in tokens
            if (handler := index.by_logical_id(logical_id)) is not None
            for found in references(_path(handler.properties, "Environment", "Variables"))
        }
        self.alarmed: set[tuple[str, str, str, Any]] = set()
        for alarm in index.of_type(ALARM_TYPE):
            props = alarm.properties
            if props.get("ActionsEnabled") is False or not as_list(props.get("AlarmActions")):
                continue
            for metric in watched_metrics(props):
                for dimension, value in metric.dimensions.items():
                    named = referenced_logical_id(value)
                    key = named if named is not None else _literal(value)
                    if key is not None:
                        self.alarmed.add((str(metric.namespace), str(metric.name), dimension, key))

    def watches(self, resource: Resource) -> bool:
        namespace, names, dimension, name_property = WATCHED_BY[resource.type]
        keys = {resource.logical_id}
        literal = _literal(resource.properties.get(name_property))
        if literal is not None:
            keys.add(literal)
        return any(
            (namespace, name, dimension, key) in self.alarmed for name in names for key in keys
        )


def _literal(value: Any) -> str | None:
    return f"literal:{value}" if isinstance(value, str) else None


_CACHE: WeakKeyDictionary[StackIndex, _Watched] = WeakKeyDictionary()


def _watched(index: StackIndex) -> _Watched:
    if index not in _CACHE:
        _CACHE[index] = _Watched(index)
    return _CACHE[index]


def failure_destination_watched(resource: Resource, index: StackIndex) -> Compliance:
    watched = _watched(index)
    if resource.type == QUEUE_TYPE and resource.logical_id not in watched.destinations:
        return NOT_APPLICABLE
    if resource.type == FUNCTION_TYPE and resource.logical_id in watched.handlers:
        return NOT_APPLICABLE
    if resource.type == EVENT_RULE_TYPE and (
        not as_list(resource.properties.get("Targets"))
        or resource.properties.get("State") == "DISABLED"
    ):
        return NOT_APPLICABLE
    return COMPLIANT if watched.watches(resource) else NON_COMPLIANT


RULE = Rule(
    "FailureDestinationWatched",
    "A failure destination, a function or an EventBridge rule fails without notifying anyone.",
    "Failed asynchronous invocations and undelivered events end up in queues that nobody "
    "reads unprompted, and a function or a rule that fails every time publishes nothing an "
    "ordinary alarm would notice. In the same stack, give an alarm with an alarm action "
    "(e.g. the service's alarm topic): every SQS queue named as a failure destination "
    "(Lambda on-failure destination or dead-letter queue, event source mapping on-failure, "
    "EventBridge Scheduler or rule-target dead-letter queue, redrive target) one on AWS/SQS "
    "ApproximateNumberOfMessagesVisible (or ApproximateAgeOfOldestMessage / "
    "NumberOfMessagesSent) by QueueName; every Lambda function one on AWS/Lambda Errors by "
    "FunctionName; every enabled EventBridge rule with targets one on AWS/Events "
    "FailedInvocations by RuleName (mlops_cdk.constructs.watch.FailureWatch makes all three). "
    "Functions that serve CloudFormation custom resources (a ServiceToken names them, "
    "directly or through a provider framework function) are not checked: a failure fails "
    "the deployment. Queues named only from other stacks or accounts are not seen.",
    failure_destination_watched,
    frozenset({QUEUE_TYPE, FUNCTION_TYPE, EVENT_RULE_TYPE}),
)
