"""Notice endpoint changes made outside the pipeline: an EventBridge rule on CloudTrail's
``AWS API Call via CloudTrail`` events for this service's endpoint, endpoint configs and models
that notifies the service's alarm topic.

Facts this relies on:
- EventBridge receives these events only while a CloudTrail trail with logging is enabled
  ("AWS service events delivered via AWS CloudTrail", Amazon EventBridge User Guide): see
  :class:`mlops_cdk.constructs.change_trail.ChangeTrail` and ``change_detection.trail``.
- SageMaker's CloudTrail entries carry the request's ``endpointName``, ``endpointConfigName``
  and ``modelName`` under ``requestParameters`` ("Understand SageMaker AI log file entries",
  Amazon SageMaker Developer Guide); ``userIdentity.invokedBy`` names the AWS service that made
  a call on someone's behalf and ``userIdentity.sessionContext.sessionIssuer`` the role whose
  session made it ("CloudTrail userIdentity element", AWS CloudTrail User Guide).
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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

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
    """The event pattern (as EventBridge reads it) for the watched calls on these resources,
    made by anyone but CloudFormation, Application Auto Scaling and ``excluded_role_names``."""
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

    def __init__(self, topic: sns.ITopic, message: events.RuleTargetInput) -> None:
        self.topic = topic
        self.message = message

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self.topic.topic_arn, input=self.message)


class EndpointChangeRule(Construct):
    """Notifies ``topic`` when someone other than CloudFormation, Application Auto Scaling or
    ``excluded_role_names`` updates or deletes the endpoint, deletes one of its endpoint
    configs or deletes one of its models (names may be tokens of the same stack).

    The topic policy lets events.amazonaws.com publish for this rule only; an encrypted topic's
    key policy must let events.amazonaws.com use the key (``EncryptionKey.grant_service_use``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        endpoint_name: str,
        endpoint_config_names: Sequence[str] = (),
        model_names: Sequence[str] = (),
        excluded_role_names: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
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
            targets=[TopicTarget(topic, message)],
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeChangeRulePublish",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnEquals": {"aws:SourceArn": self.rule.rule_arn},
                },
            )
        )
