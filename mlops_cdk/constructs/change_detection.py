"""Notice endpoint changes made outside the pipeline: an EventBridge rule on CloudTrail's
``AWS API Call via CloudTrail`` events for this service's endpoint, endpoint configs and models
that notifies the service's alarm topic.

Facts this relies on:
- EventBridge receives these events only while a CloudTrail trail with logging is enabled
  ("AWS service events delivered via AWS CloudTrail", Amazon EventBridge User Guide): see
  :class:`mlops_cdk.constructs.change_trail.ChangeTrail` and ``change_detection.trail``.
- SageMaker's CloudTrail entries carry the request's ``endpointName``, ``endpointConfigName``
  and ``modelName`` under ``requestParameters`` ("Understand SageMaker AI log file entries",
  Amazon SageMaker Developer Guide); ``errorCode`` is present only when the request returned
  an error ("CloudTrail record contents", AWS CloudTrail User Guide), so a refused or invalid
  call, which changed nothing, carries it and is left out; ``userIdentity.invokedBy`` names
  the AWS service that made a call on someone's behalf and
  ``userIdentity.sessionContext.sessionIssuer`` the role whose session made it ("CloudTrail
  userIdentity element", AWS CloudTrail User Guide).
- Application Auto Scaling scales a variant by calling UpdateEndpointWeightsAndCapacities with
  its service-linked role ``AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`` (service
  principal ``sagemaker.application-autoscaling.amazonaws.com``; "Amazon SageMaker AI and
  Application Auto Scaling", Application Auto Scaling User Guide): every scaling event would
  match otherwise.
- CloudFormation (the pipeline's and ``cdk deploy``'s changes) calls with ``invokedBy``
  ``cloudformation.amazonaws.com``, through the CDK bootstrap's execution role.

Both exclusions are written as "the field is absent, or is none of these" (``$or`` of
``exists: false`` and ``anything-but``), so a call by a person (no ``invokedBy``, no role
session) matches whatever EventBridge does with ``anything-but`` on a missing field.

A notification that cannot be delivered (the topic or its key refuses EventBridge) is not lost
silently: the target has a dead-letter queue, a standard SQS queue encrypted with the
environment key whose queue policy admits events.amazonaws.com for this rule only ("Event retry
policy and using dead-letter queues", EventBridge User Guide), and the rule's
``FailedInvocations`` and the queue's depth are alarms
(:class:`~mlops_cdk.constructs.watch.FailureWatch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.constructs.function import failure_queue
from mlops_cdk.constructs.watch import FailureWatch
from mlops_cdk.props.fields import checked_arguments

WATCHED_CALLS = (
    "DeleteEndpoint",
    "DeleteEndpointConfig",
    "DeleteModel",
    "UpdateEndpoint",
    "UpdateEndpointWeightsAndCapacities",
)
AUTOSCALING_ROLE = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
EXCLUDED_SERVICES = (
    "application-autoscaling.amazonaws.com",
    "cloudformation.amazonaws.com",
    "sagemaker.application-autoscaling.amazonaws.com",
)
DEFAULT_QUALIFIER = "hnb659fds"
QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"


def cfn_execution_role_name(stack: cdk.Stack) -> str:
    """The name of the role CloudFormation deploys ``stack`` with (the CDK bootstrap's
    ``cdk-<qualifier>-cfn-exec-role-<account>-<region>``)."""
    synthesizer = stack.synthesizer
    arn = None
    if isinstance(synthesizer, cdk.DefaultStackSynthesizer):
        try:
            arn = synthesizer.cloud_formation_execution_role_arn
        except RuntimeError:  # jsii: a synthesizer object made in Python may not report it
            arn = None
    name = arn.rsplit("role/", 1)[-1].rsplit("/", 1)[-1] if arn and "role/" in arn else None
    if name and not cdk.Token.is_unresolved(name) and "${" not in name:
        return name
    qualifier = stack.node.try_get_context(QUALIFIER_CONTEXT) or DEFAULT_QUALIFIER
    return f"cdk-{qualifier}-cfn-exec-role-{stack.account}-{stack.region}"


def _absent_or_none_of(field: str, values: Sequence[str]) -> list[dict[str, Any]]:
    return [{field: [{"exists": False}]}, {field: [{"anything-but": sorted(values)}]}]


def change_event_pattern(
    *,
    endpoint_name: str,
    endpoint_config_names: Sequence[str] = (),
    model_names: Sequence[str] = (),
    excluded_role_names: Sequence[str] = (),
) -> dict[str, Any]:
    """The event pattern (as EventBridge reads it) for the watched calls on these resources
    that succeeded (no ``errorCode``), made by anyone but CloudFormation, Application Auto
    Scaling and ``excluded_role_names``."""
    resources: list[dict[str, Any]] = [{"endpointName": [endpoint_name]}]
    if endpoint_config_names:
        resources.append({"endpointConfigName": list(endpoint_config_names)})
    if model_names:
        resources.append({"modelName": list(model_names)})
    return {
        "source": ["aws.sagemaker"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["sagemaker.amazonaws.com"],
            "eventName": list(WATCHED_CALLS),
            "errorCode": [{"exists": False}],
            "requestParameters": {"$or": resources},
            "userIdentity": {
                "$or": _absent_or_none_of("invokedBy", EXCLUDED_SERVICES),
                "sessionContext": {
                    "sessionIssuer": {
                        "$or": _absent_or_none_of(
                            "userName", [AUTOSCALING_ROLE, *excluded_role_names]
                        )
                    }
                },
            },
        },
    }


@jsii.implements(events.IRuleTarget)
class TopicTarget:
    """An SNS topic as a rule target, bound by ARN only.

    ``aws_events_targets.SnsTopic`` also grants events.amazonaws.com ``sns:Publish`` without a
    condition; :class:`EndpointChangeRule` writes the topic policy itself, scoped to the rule."""

    def __init__(
        self,
        topic: sns.ITopic,
        message: events.RuleTargetInput,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        self.topic = topic
        self.message = message
        self.dead_letter_queue = dead_letter_queue

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        dead_letters = self.dead_letter_queue
        return events.RuleTargetConfig(
            arn=self.topic.topic_arn,
            input=self.message,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dead_letters.queue_arn)
            if dead_letters is not None
            else None,
        )


class EndpointChangeRule(Construct):
    """Notifies ``topic`` when someone other than CloudFormation, Application Auto Scaling or
    ``excluded_role_names`` updates or deletes the endpoint, deletes one of its endpoint
    configs or deletes one of its models (names may be tokens of the same stack).

    The topic policy lets events.amazonaws.com publish for this rule only; an encrypted topic's
    key policy must let events.amazonaws.com use the key (``EncryptionKey.grant_service_use``),
    and so must the policy of ``key``, which encrypts the target's dead-letter queue
    (``dead_letters``). ``watch`` holds the alarms (failed invocations, records waiting in the
    dead-letter queue), without actions: ``alarms`` lists them for the owner to notify.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        key: kms.IKey,
        endpoint_name: EndpointName,
        endpoint_config_names: Sequence[str] = (),
        model_names: Sequence[str] = (),
        excluded_role_names: Sequence[str] = (),
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.dead_letters = failure_queue(
            self, "DeadLetters", key=key, removal_policy=removal_policy
        )
        self.pattern = change_event_pattern(
            endpoint_name=endpoint_name,
            endpoint_config_names=endpoint_config_names,
            model_names=model_names,
            excluded_role_names=excluded_role_names,
        )
        detail = events.EventField.from_path
        message = events.RuleTargetInput.from_text(
            f"Endpoint {endpoint_name} was changed outside the pipeline: "
            f"{detail('$.detail.eventName')} by {detail('$.detail.userIdentity.arn')} at "
            f"{detail('$.detail.eventTime')} from {detail('$.detail.sourceIPAddress')} "
            f"(request {detail('$.detail.requestParameters')}). The live endpoint may no longer "
            "match the reviewed templates: redeploy through the pipeline or revert the change."
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"SageMaker changes to {endpoint_name} made outside CloudFormation",
            event_pattern=events.EventPattern(
                source=self.pattern["source"],
                detail_type=self.pattern["detail-type"],
                detail=self.pattern["detail"],
            ),
            targets=[TopicTarget(topic, message, self.dead_letters)],
        )
        self._admit_rule(stack, topic)
        self.watch = FailureWatch(
            self,
            "Watch",
            subject=f"Change notifications of {endpoint_name}",
            queues=[self.dead_letters],
            rules=[self.rule],
            replay="See docs/concepts/change-detection.md.",
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the rule's target (the end of its retry "
            "chain); a dead-letter queue of its own would only move undelivered events again.",
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Failed invocations of the rule, and events waiting in the dead-letter queue."""
        return list(self.watch.alarms)

    def _admit_rule(self, stack: cdk.Stack, topic: sns.ITopic) -> None:
        """The topic and the dead-letter queue admit events.amazonaws.com for this rule only."""
        source = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnEquals": {"aws:SourceArn": self.rule.rule_arn},
        }
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeChangeRulePublish",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=source,
            )
        )
        self.dead_letters.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeChangeRuleDeadLetters",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.dead_letters.queue_arn],
                conditions=source,
            )
        )
