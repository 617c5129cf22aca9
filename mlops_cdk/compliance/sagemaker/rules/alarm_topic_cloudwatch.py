"""AlarmTopicCloudWatch: an alarm notifies an SNS topic of its stack whose topic policy or KMS
key policy does not let cloudwatch.amazonaws.com publish.

The topic's key is followed where CloudFormation resolves it, as ``EventTargetKeys`` and
``LogGroupKey`` follow theirs (:func:`key_of`): a key of the alarm's stack, or one another stack
of the stage exports (each service's topic is encrypted with the environment key the Foundation
exports)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from mlops_cdk.aws.cfn_values import (
    as_list,
    covers_action,
    referenced_logical_id,
    render_resource_value,
    statements,
)
from mlops_cdk.compliance.sagemaker.index import (
    ALARM_TYPE,
    COMPOSITE_ALARM_TYPE,
    KEY_TYPE,
    TOPIC_INLINE_POLICY_TYPE,
    TOPIC_POLICY_TYPE,
    TOPIC_TYPE,
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

CLOUDWATCH_SERVICE = "cloudwatch.amazonaws.com"
_ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
# The AWS managed key for SNS: its key policy cannot be changed, so no AWS service can publish.
SNS_MANAGED_KEY = re.compile(r"(^|:)alias/aws/sns$")


def _admits_service(statement: dict[str, Any], service: str | re.Pattern[str]) -> bool:
    """Whether the statement's Principal includes the service principal (or is ``*``); a
    pattern matches the whole rendered principal (``logs.<AWS::Region>.amazonaws.com``)."""
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in as_list(principal.get("AWS")):
        return True
    named = [render_resource_value(s) for s in as_list(principal.get("Service"))]
    if isinstance(service, re.Pattern):
        return any(service.fullmatch(name) for name in named)
    return service in named


def key_of(stack: StackIndex, value: Any) -> Resource | None:
    """The KMS key resource ``value`` names in ``stack`` or, through an import, in the stack of
    the stage that exports it; None when it cannot be followed (``StageIndex.resource_of``)."""
    found = stack.stage().resource_of(stack, value, KEY_TYPE)
    return None if found is None else found[1]


def allows_service(document: Any, service: str | re.Pattern[str], actions: Iterable[str]) -> bool:
    """Every action is allowed to ``service`` by some Allow statement of the document."""
    allowing = [
        s
        for s in statements(document)
        if s.get("Effect") == "Allow" and "NotPrincipal" not in s and _admits_service(s, service)
    ]
    return all(any(covers_action(s, action) for s in allowing) for action in actions)


def topic_policy_documents(index: StackIndex, topic_id: str) -> list[Any]:
    """Policy documents of the stack's topic policies that name the topic (``Ref``: CDK's and
    the usual form; a topic named by a literal ARN is not matched)."""
    reference = {"Ref": topic_id}
    documents = []
    for policy in index.of_type(TOPIC_POLICY_TYPE):
        if reference in as_list(policy.properties.get("Topics")):
            documents.append(policy.properties.get("PolicyDocument"))
    for policy in index.of_type(TOPIC_INLINE_POLICY_TYPE):
        if policy.properties.get("TopicArn") == reference:
            documents.append(policy.properties.get("PolicyDocument"))
    return documents


def _cloudwatch_can_publish(index: StackIndex, topic_id: str) -> bool:
    documents = topic_policy_documents(index, topic_id)
    # A topic policy replaces the default one (which lets the account's principals publish).
    if not all(allows_service(d, CLOUDWATCH_SERVICE, ["sns:Publish"]) for d in documents):
        return False
    topic = index.by_logical_id(topic_id)
    key = topic.properties.get("KmsMasterKeyId") if topic is not None else None
    if isinstance(key, str) and SNS_MANAGED_KEY.search(key):
        return False
    key_resource = key_of(index, key)
    if key_resource is None:
        return True  # unencrypted, or a key this stage does not hold: not checked
    key_policy = key_resource.properties.get("KeyPolicy")
    return allows_service(key_policy, CLOUDWATCH_SERVICE, ["kms:Decrypt", "kms:GenerateDataKey*"])


def alarm_topic_cloudwatch(alarm: Resource, index: StackIndex) -> Compliance:
    topics = {
        logical_id
        for name in _ALARM_ACTIONS
        for action in as_list(alarm.properties.get(name))
        if (logical_id := referenced_logical_id(action)) is not None
        and index.type_of(logical_id) == TOPIC_TYPE
    }
    if not topics:
        return NOT_APPLICABLE
    return COMPLIANT if all(_cloudwatch_can_publish(index, t) for t in topics) else NON_COMPLIANT


RULE = Rule(
    "AlarmTopicCloudWatch",
    "The alarm notifies an SNS topic that CloudWatch is not allowed to publish to.",
    "CloudWatch publishes alarm notifications as the service principal "
    "cloudwatch.amazonaws.com; when it may not, the alarm changes state but nobody is "
    "notified, and nothing fails at deploy time. An AWS::SNS::TopicPolicy replaces the "
    "topic's default access policy (which admits the account's own publishers), so it "
    "must Allow Service cloudwatch.amazonaws.com sns:Publish: "
    "topic.add_to_resource_policy(...), scoped with an aws:SourceArn condition on the "
    "alarm ARNs. A topic encrypted with a KMS key of this stage (its own stack's, or one "
    "another stack exports) needs the key policy to "
    "Allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*: "
    "key.grant(iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', "
    "'kms:GenerateDataKey*'); the AWS managed key alias/aws/sns cannot be granted at "
    "all. Only topics of the alarm's own stack (Ref, Fn::GetAtt) are checked, and keys "
    "of this stage; topics of other stacks and keys of other accounts or given as "
    "literal ARNs are not.",
    alarm_topic_cloudwatch,
    frozenset({ALARM_TYPE, COMPOSITE_ALARM_TYPE}),
)
