"""EventPatternSize: an EventBridge rule's event pattern can be longer than PutRule accepts.

PutRule takes ``EventPattern`` as a string of at most 4,096 characters (botocore's events
service model: :data:`~mlops_cdk.aws.facts.EVENT_PATTERN_MAX_CHARS`); CloudFormation sends the
pattern as JSON, so a longer one fails the deploy. Patterns that name resources grow with them:
the change-detection rule of a service lists its endpoint, its configuration and every model by
name (about 66 characters each). The length counts each reference at the longest it can
resolve to (:func:`mlops_cdk.aws.resolved_length.json_length`).
"""

from __future__ import annotations

from mlops_cdk.aws.facts import EVENT_PATTERN_MAX_CHARS
from mlops_cdk.aws.resolved_length import json_length
from mlops_cdk.compliance.sagemaker.index import EVENT_RULE_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def event_pattern_size(rule: Resource, stack: StackIndex) -> Compliance:
    pattern = rule.properties.get("EventPattern")
    if pattern is None:
        return NOT_APPLICABLE  # a scheduled rule
    length = len(pattern) if isinstance(pattern, str) else json_length(pattern, stack)
    return COMPLIANT if length <= EVENT_PATTERN_MAX_CHARS else NON_COMPLIANT


RULE = Rule(
    "EventPatternSize",
    "The EventBridge rule's event pattern can be longer than the 4,096 characters PutRule "
    "accepts (each reference at the longest it can resolve to).",
    "Match fewer names: a prefix, or a tag the resources share, instead of one name each; or "
    "split the rule in two, each with its own targets.",
    event_pattern_size,
    frozenset({EVENT_RULE_TYPE}),
)
