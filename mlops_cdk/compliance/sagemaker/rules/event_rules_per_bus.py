"""EventRulesPerBus: the stage gives one event bus more rules than EventBridge's default quota.

EventBridge's "Rules" quota is 300 in most Regions and 100 in af-south-1 and eu-south-1, "the
maximum number of rules an account can have per event bus" ("Amazon EventBridge quotas",
EventBridge User Guide, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html):
past it, PutRule fails (LimitExceededException) and the stack rolls back. Every AWS service
event this package reacts to arrives on the account's default bus, and each service adds up to
six rules there
(changes outside the pipeline, approvals, failed runs or pipeline executions, scaled to the
maximum, image scans; the Foundation two more), so about fifty services in one account and
Region reach the default.

Rules are counted per account, Region and bus (``EventBusName``; none is the default bus) in
stack order, then template order; each rule past the quota is reported. Only this stage's rules
are known offline: the account's others (its security tooling's, another app's) count too, so
the quota is reached sooner than this rule says. The quota is adjustable: where the account's
is raised, acknowledge the finding on the stack (one qualified id).
"""

from __future__ import annotations

from typing import Any

from mlops_cdk.compliance.sagemaker.index import EVENT_RULE_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    Compliance,
    Rule,
)

DEFAULT_RULES_PER_BUS = 300
# Regions where the default quota is lower (the quotas page's "Rules" row).
RULES_PER_BUS_BY_REGION = {"af-south-1": 100, "eu-south-1": 100}


def rules_per_bus(region: str | None) -> int:
    """EventBridge's default quota of rules per event bus in ``region``."""
    return RULES_PER_BUS_BY_REGION.get(region or "", DEFAULT_RULES_PER_BUS)


def _bus_key(stack: StackIndex, rule: Resource) -> tuple[Any, ...]:
    bus = rule.properties.get("EventBusName", "default")
    return stack.account, stack.region, repr(bus)


def event_rules_per_bus(resource: Resource, stack: StackIndex) -> Compliance:
    place = stack.stage().rank_by(EVENT_RULE_TYPE, _bus_key)[id(resource)]
    return NON_COMPLIANT if place > rules_per_bus(stack.region) else COMPLIANT


RULE = Rule(
    "EventRulesPerBus",
    "The stage gives this rule's event bus more rules than EventBridge's default quota (300 "
    "per bus; 100 in af-south-1 and eu-south-1): PutRule fails with LimitExceededException.",
    "Each service adds up to six rules to the default bus. Split the services over accounts or "
    "Regions, turn off notifications a service does not need (alarms.scaled_to_max, "
    "alarms.image_scans), or request a higher 'Rules' quota for Amazon EventBridge in Service "
    "Quotas and acknowledge this finding on the stack. The account's other rules count too.",
    event_rules_per_bus,
    frozenset({EVENT_RULE_TYPE}),
)
