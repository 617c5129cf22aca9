"""A rule of the SageMaker pack: an id, what its finding says, and a check of one resource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from mlops_cdk.compliance.sagemaker.index import Resource, StackIndex


class Compliance(Enum):
    """A rule's verdict on one resource (cdk-nag's ``NagRuleCompliance``, without jsii)."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non-compliant"
    NOT_APPLICABLE = "not-applicable"


COMPLIANT = Compliance.COMPLIANT
NON_COMPLIANT = Compliance.NON_COMPLIANT
NOT_APPLICABLE = Compliance.NOT_APPLICABLE

Check = Callable[[Resource, StackIndex], Compliance]


@dataclass(frozen=True)
class Rule:
    """``MlopsSageMaker-<rule_id>``: ``check`` runs on every resource of ``resource_types``.

    ``info`` is the finding's description, ``explanation`` why it matters and how to fix it
    (the report's suggested fix)."""

    rule_id: str
    info: str
    explanation: str
    check: Check
    resource_types: frozenset[str]
