"""An EventBridge Scheduler schedule that invokes a function of a scheduled check (the drift
check, the quality check): its role (assumable by EventBridge Scheduler of this account only),
a customer-managed policy that is the role's only permission (invoke this function, dead-letter
to the check's KMS-encrypted queue) and the schedule, which waits for the policy.

EventBridge Scheduler invokes Lambda asynchronously ("Using Lambda with Amazon EventBridge
Scheduler", AWS Lambda Developer Guide,
https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html): deliveries that
fail (throttling, a missing permission) are retried by the schedule's retry policy, then go to
its dead-letter queue. The parts are made in the caller's scope with fixed ids (``SchedulerRole``,
``SchedulerPolicy``, ``Schedule``), so a check that used to build them itself keeps its logical
ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from mlops_cdk.constructs.function import send_to_queue_statements

ONE_DAY = cdk.Duration.hours(24)  # made once: each Duration is a round trip to jsii


@dataclass(frozen=True)
class ScheduledInvocation:
    """The schedule's parts."""

    role: iam.Role
    policy: iam.ManagedPolicy
    schedule: scheduler.Schedule


def shorter(a: cdk.Duration, b: cdk.Duration) -> cdk.Duration:
    return a if a.to_seconds() <= b.to_seconds() else b


def schedule_function(
    scope: Construct,
    *,
    function: lambda_.IFunction,
    failures: sqs.IQueue,
    key: kms.IKey,
    every: cdk.Duration,
    role_path: str,
    subject: str,
    invoke_sid: str,
) -> ScheduledInvocation:
    """Invoke ``function`` every ``every`` (``subject``, e.g. "drift check of dev-churn", names
    the role, policy and schedule descriptions); failed deliveries go to ``failures``."""
    stack = cdk.Stack.of(scope)
    role = iam.Role(
        scope,
        "SchedulerRole",
        path=role_path,
        description=f"EventBridge Scheduler: run the {subject}",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        ),
    )
    check = subject.split(" of ", maxsplit=1)[0]
    policy = iam.ManagedPolicy(
        scope,
        "SchedulerPolicy",
        description=f"{check[:1].upper()}{check[1:]} schedule: invoke the function, dead-letter "
        "to the queue",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                sid=invoke_sid, actions=["lambda:InvokeFunction"], resources=[function.function_arn]
            ),
            *send_to_queue_statements(stack, failures, key, sid="DeadLetters"),
        ],
    )
    target = scheduler_targets.LambdaInvoke(
        function,
        # An immutable view: the managed policy above is the role's only permission.
        role=role.without_policy_updates(),
        dead_letter_queue=failures,
        # Deliveries that fail (throttling) are retried within one period at most: a later
        # delivery would overlap the next run.
        retry_attempts=3,
        max_event_age=shorter(every, ONE_DAY),
    )
    schedule = scheduler.Schedule(
        scope,
        "Schedule",
        schedule=scheduler.ScheduleExpression.rate(every),
        target=target,
        description=f"{subject[:1].upper()}{subject[1:]}",
    )
    schedule.node.add_dependency(policy)
    return ScheduledInvocation(role=role, policy=policy, schedule=schedule)
