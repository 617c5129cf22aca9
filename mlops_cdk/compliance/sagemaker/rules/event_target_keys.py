"""EventTargetKeys: an EventBridge rule sends to an SNS topic, or keeps undelivered events in a
dead-letter queue, encrypted with a KMS key whose policy does not let events.amazonaws.com use
it, or to a topic whose policy does not let it publish.

AWS's Knowledge Center ("Why isn't my Amazon SNS topic receiving the EventBridge
notifications?"): the topic's resource-based policy "must allow EventBridge" (``sns:Publish``
for the service principal events.amazonaws.com), and an encrypted topic must use a customer
managed key whose key policy grants EventBridge key use (the article's words, paraphrased);
a failed delivery shows as the rule's ``FailedInvocations``. A dead-letter queue encrypted with
a customer managed key needs the same key use ("Using dead-letter queues to process undelivered
events in EventBridge"). Nothing fails at deploy time: each event fails to deliver, goes to a
dead-letter queue that EventBridge cannot write either, and only the rule's
``FailedInvocations`` tells. The AWS managed key ``alias/aws/sns`` cannot be granted at all.

The key is followed where CloudFormation resolves it: a key of the rule's stack (``Ref``,
``Fn::GetAtt``), or one another stack of the stage exports (``Fn::ImportValue``, as the
environment key the Foundation exports). Keys of other accounts or given as literal ARNs are not
checked.
"""

from __future__ import annotations

from typing import Any

from mlops_cdk.aws.cfn_values import as_list, referenced_logical_id
from mlops_cdk.compliance.sagemaker.index import (
    EVENT_RULE_TYPE,
    QUEUE_TYPE,
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
from mlops_cdk.compliance.sagemaker.rules.alarm_topic_cloudwatch import (
    SNS_MANAGED_KEY,
    allows_service,
    key_of,
    topic_policy_documents,
)

EVENTS_SERVICE = "events.amazonaws.com"
_KEY_USE = ("kms:Decrypt", "kms:GenerateDataKey*")


def _events_can_use(stack: StackIndex, key: Any) -> bool:
    if isinstance(key, str) and SNS_MANAGED_KEY.search(key):
        return False
    resource = key_of(stack, key)
    if resource is None:
        return True  # unencrypted, or a key this stage does not hold: not checked
    return allows_service(resource.properties.get("KeyPolicy"), EVENTS_SERVICE, _KEY_USE)


def _target_problem(stack: StackIndex, target: dict[str, Any]) -> bool:
    topic_id = referenced_logical_id(target.get("Arn"))
    if topic_id is not None and stack.type_of(topic_id) == TOPIC_TYPE:
        documents = topic_policy_documents(stack, topic_id)
        if not all(allows_service(d, EVENTS_SERVICE, ["sns:Publish"]) for d in documents):
            return True
        topic = stack.by_logical_id(topic_id)
        if topic is not None and not _events_can_use(stack, topic.properties.get("KmsMasterKeyId")):
            return True
    dead_letters = (target.get("DeadLetterConfig") or {}).get("Arn")
    queue_id = referenced_logical_id(dead_letters)
    if queue_id is not None and stack.type_of(queue_id) == QUEUE_TYPE:
        queue = stack.by_logical_id(queue_id)
        if queue is not None and not _events_can_use(stack, queue.properties.get("KmsMasterKeyId")):
            return True
    return False


def event_target_keys(rule: Resource, stack: StackIndex) -> Compliance:
    targets = [t for t in as_list(rule.properties.get("Targets")) if isinstance(t, dict)]
    if not targets:
        return NOT_APPLICABLE
    return NON_COMPLIANT if any(_target_problem(stack, t) for t in targets) else COMPLIANT


RULE = Rule(
    "EventTargetKeys",
    "The EventBridge rule sends to an SNS topic or keeps undelivered events in an SQS queue "
    "that events.amazonaws.com may not use: the topic's policy does not let it publish, or the "
    "topic's or the queue's KMS key policy does not let it use the key (or it is the AWS "
    "managed alias/aws/sns). Every event then fails to deliver and nothing fails at deploy time.",
    "Let the service principal events.amazonaws.com publish to the topic "
    "(topic.add_to_resource_policy, scoped by aws:SourceArn to the rule) and use the key "
    "(kms:Decrypt and kms:GenerateDataKey*, bounded by the encryption context of this "
    "account's topics or queues), or encrypt with a key whose policy allows it.",
    event_target_keys,
    frozenset({EVENT_RULE_TYPE}),
)
