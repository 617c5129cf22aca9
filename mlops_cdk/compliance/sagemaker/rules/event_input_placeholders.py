"""EventInputPlaceholders: an EventBridge rule's input template holds a ``<...>`` that is
neither one of its input paths nor a predefined variable.

EventBridge reads every ``<name>`` of an input template as a variable: one of the target's
``InputPathsMap`` keys or a predefined ``aws.events.*`` variable ("Transforming Amazon
EventBridge target input", EventBridge User Guide,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html: "you
can use those variables in the Input Template as <variable-name>", and the predefined variables
listed there). PutTargets refuses a template with any other placeholder ("InputTemplate for
target ... contains invalid placeholder ...": LocalStack's test of it is recorded against AWS,
localstack tests/aws/services/events/test_events_inputs.py,
test_put_events_with_input_transformer_missing_keys), and an older text of the guide says "The
characters "<" and ">" cannot be escaped": so a literal ``<execution id>`` in a message fails
the deploy. Only the literal text of the template is read (an ``Fn::Join``'s strings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_cdk.compliance.sagemaker.index import EVENT_RULE_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

PREDEFINED_VARIABLES = frozenset(
    {
        "aws.events.rule-arn",
        "aws.events.rule-name",
        "aws.events.event",
        "aws.events.event.ingestion-time",
        "aws.events.event.json",
    }
)
_PLACEHOLDER = re.compile(r"<([^<>]*)>")
_NOT_LITERAL = "\x00"  # stands for a reference inside an Fn::Join: never part of a name


def _literal_text(template: Any) -> str:
    """The template's text, references replaced by a character no variable name holds."""
    if isinstance(template, str):
        return template
    join = template.get("Fn::Join") if isinstance(template, Mapping) else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[1], list):
        separator = join[0] if isinstance(join[0], str) else _NOT_LITERAL
        return separator.join(_literal_text(part) for part in join[1])
    return _NOT_LITERAL


def unknown_placeholders(transformer: Mapping[str, Any]) -> list[str]:
    """The ``<...>`` names of ``transformer``'s template that EventBridge cannot fill."""
    paths = transformer.get("InputPathsMap")
    known = PREDEFINED_VARIABLES | (set(paths) if isinstance(paths, Mapping) else set())
    text = _literal_text(transformer.get("InputTemplate", ""))
    return [name for name in _PLACEHOLDER.findall(text) if name not in known]


def _transformers(rule: Resource) -> Iterator[Mapping[str, Any]]:
    targets = rule.properties.get("Targets")
    for target in targets if isinstance(targets, list) else []:
        transformer = target.get("InputTransformer") if isinstance(target, Mapping) else None
        if isinstance(transformer, Mapping):
            yield transformer


def event_input_placeholders(rule: Resource, index: StackIndex) -> Compliance:
    del index
    transformers = list(_transformers(rule))
    if not transformers:
        return NOT_APPLICABLE
    return NON_COMPLIANT if any(unknown_placeholders(t) for t in transformers) else COMPLIANT


RULE = Rule(
    "EventInputPlaceholders",
    "An EventBridge rule's input template holds a <...> that is neither one of its input "
    "paths nor a predefined variable.",
    "EventBridge reads every <name> of an input template as a variable (an InputPathsMap key "
    "or aws.events.rule-arn, rule-name, event, event.ingestion-time, event.json: "
    "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html) "
    "and refuses the target otherwise; '<' and '>' cannot be escaped. Write literal text "
    "without angle brackets (e.g. 'the execution id' instead of '<execution id>').",
    event_input_placeholders,
    frozenset({EVENT_RULE_TYPE}),
)
