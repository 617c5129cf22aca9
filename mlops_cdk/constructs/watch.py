"""Alarms that tell someone a watcher failed: records waiting in a failure queue, errors of a
function, failed invocations of an EventBridge rule's targets.

What each alarm watches, as AWS documents it:
- ``AWS/SQS`` ``ApproximateNumberOfMessagesVisible`` by ``QueueName`` ("Available CloudWatch
  metrics for Amazon SQS", SQS Developer Guide): SQS publishes it while the queue is active,
  and a queue holding messages is active. Maximum > 0 over 5 minutes: one waiting record is
  enough; the alarm stays in ALARM until someone reads and deletes the records.
- ``AWS/Lambda`` ``Errors`` by ``FunctionName`` ("Types of metrics for Lambda functions",
  Lambda Developer Guide): invocations that ended in a function error (exceptions, timeouts);
  Sum >= 1 over 5 minutes.
- ``AWS/Events`` ``FailedInvocations`` by ``RuleName`` ("Monitoring Amazon EventBridge",
  EventBridge User Guide): target invocations that failed permanently; EventBridge sends the
  metric only when it is not zero. Sum >= 1 over 5 minutes.

All three publish nothing while nothing fails, so missing data is *not breaching*. The alarms
have no actions here: the owner adds them (:meth:`FailureWatch.notify`), usually the alarm
topic of the service, on ALARM and OK.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from mlops_cdk.constructs.metrics import FIVE_MINUTES
from mlops_cdk.props.fields import checked_arguments

EVENTS_NAMESPACE = "AWS/Events"
FAILED_INVOCATIONS_METRIC = "FailedInvocations"
RULE_DIMENSION = "RuleName"
PERIOD = FIVE_MINUTES


def rule_failures(rule: events.IRule, period: cdk.Duration = PERIOD) -> cloudwatch.Metric:
    """Failed target invocations of a rule on the default event bus (Sum)."""
    return cloudwatch.Metric(
        namespace=EVENTS_NAMESPACE,
        metric_name=FAILED_INVOCATIONS_METRIC,
        dimensions_map={RULE_DIMENSION: rule.rule_name},
        statistic="Sum",
        period=period,
    )


class FailureWatch(Construct):
    """One alarm per failure queue (records waiting), per function (errors) and per rule
    (failed target invocations); ``subject`` names what fails in every alarm description
    ("Drift check of dev-churn"), ``replay`` says where the operator reads how to replay.

    Exposes ``alarms`` (in the order given: queues, functions, rules) and ``metrics`` (label,
    metric) for dashboards."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        subject: str,
        queues: Sequence[sqs.IQueue] = (),
        functions: Sequence[lambda_.IFunction] = (),
        rules: Sequence[events.IRule] = (),
        replay: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        if not (queues or functions or rules):
            raise ValueError("FailureWatch: give at least one queue, function or rule to watch")
        if not subject.strip():
            raise ValueError("FailureWatch: subject must name what is watched")
        self.subject = subject
        self.alarms: list[cloudwatch.Alarm] = []
        self.metrics: list[tuple[str, cloudwatch.Metric]] = []
        self._alarm_ids: set[str] = set()  # of the alarms, its only children: no jsii lookups
        hint = f" {replay.strip()}" if replay.strip() else ""

        for queue in queues:
            self._watch(
                queue.node.id,
                "Waiting",
                what="failed invocations waiting",
                many=len(queues) > 1,
                metric=queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=PERIOD
                ),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                threshold=0,
                description=f"{subject}: failed invocations wait in queue "
                f"{queue.queue_name}; read them, fix the cause, replay and delete them.{hint}",
            )
        for function in functions:
            self._watch(
                function.node.id,
                "Errors",
                what="function errors",
                many=len(functions) > 1,
                metric=function.metric_errors(statistic="Sum", period=PERIOD),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                threshold=1,
                description=f"{subject}: the function failed (an exception or a timeout); "
                f"its log group has the error.{hint}",
            )
        for rule in rules:
            self._watch(
                rule.node.id,
                "FailedInvocations",
                what="undelivered events",
                many=len(rules) > 1,
                metric=rule_failures(rule),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                threshold=1,
                description=f"{subject}: the rule could not deliver an event to its target; "
                f"the event is in the target's dead-letter queue.{hint}",
            )

    def _watch(
        self,
        watched_id: str,
        kind: str,
        *,
        what: str,
        many: bool,
        metric: cloudwatch.Metric,
        comparison: cloudwatch.ComparisonOperator,
        threshold: float,
        description: str,
    ) -> None:
        """An alarm on ``metric``, named after the watched construct (``watched_id``, its id read
        once through jsii) and ``kind``; the dashboard label says ``what`` of which, when there
        are ``many`` of its kind."""
        label = f"{self.subject}: {what}" + (f" ({watched_id})" if many else "")
        alarm_id = f"{watched_id}{kind}"
        if alarm_id in self._alarm_ids:
            alarm_id = f"{alarm_id}{len(self.alarms) + 1}"
        self._alarm_ids.add(alarm_id)
        self.alarms.append(
            cloudwatch.Alarm(
                self,
                alarm_id,
                metric=metric,
                alarm_description=description,
                threshold=threshold,
                comparison_operator=comparison,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
        self.metrics.append((label, metric))

    def notify(self, *actions: cloudwatch.IAlarmAction) -> None:
        """Add ``actions`` to every alarm, on ALARM and on OK."""
        for alarm in self.alarms:
            alarm.add_alarm_action(*actions)
            alarm.add_ok_action(*actions)
