"""ResourcePolicyLimits: a resource-based policy that its service refuses for its size or its
number of statements, principals, conditions or actions. Each service has limits of its own,
which the resource schemas do not state, so cfn-lint passes what the create then refuses:

- S3: "Bucket policies are limited to 20 KB in size" ("Bucket policies and user policies",
  Amazon S3 User Guide);
- KMS: "The policy size limit is 32 KiB (32768 bytes)" (PutKeyPolicy, CreateKey);
- SNS: 30 KB, 100 statements and 1 to 200 principals ("Amazon SNS API permissions: Actions and
  resources reference", Policy quotas);
- SQS: 8,192 bytes, 20 statements, 50 principals, 10 conditions and 7 actions per statement
  ("Amazon SQS policy quotas");
- ECR: a repository policy of at most 10,240 characters (SetRepositoryPolicy ``policyText``).

Policies that grow with a configuration reach them: the environment key's and bucket's policies
name every publisher and operator, a repository's every publisher; a library user who grants many
principals on one queue or topic adds a statement each. Sizes are of the compact JSON with each
reference at the longest it can resolve to (:mod:`mlops_cdk.aws.resolved_length`): how each
service measures white space is not documented, so a policy within a few percent of a limit may
pass there although it fails here; the finding is then acknowledged with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlops_cdk.aws.cfn_values import as_list, statements
from mlops_cdk.aws.resolved_length import json_bytes
from mlops_cdk.compliance.sagemaker.index import (
    BUCKET_POLICY_TYPE,
    KEY_TYPE,
    REPOSITORY_TYPE,
    TOPIC_POLICY_TYPE,
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

QUEUE_POLICY_TYPE = "AWS::SQS::QueuePolicy"


@dataclass(frozen=True)
class PolicyLimits:
    """What one service accepts in a resource policy (``None``: no such limit)."""

    prop: str
    max_bytes: int
    statements: int | None = None
    principals: int | None = None
    conditions: int | None = None
    actions_per_statement: int | None = None


LIMITS: dict[str, PolicyLimits] = {
    BUCKET_POLICY_TYPE: PolicyLimits("PolicyDocument", 20 * 1024),
    KEY_TYPE: PolicyLimits("KeyPolicy", 32 * 1024),
    TOPIC_POLICY_TYPE: PolicyLimits("PolicyDocument", 30 * 1024, statements=100, principals=200),
    QUEUE_POLICY_TYPE: PolicyLimits(
        "PolicyDocument",
        8192,
        statements=20,
        principals=50,
        conditions=10,
        actions_per_statement=7,
    ),
    REPOSITORY_TYPE: PolicyLimits("RepositoryPolicyText", 10240),
}


def _principals(statement: dict[str, Any]) -> int:
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    if isinstance(principal, dict):
        return sum(len(as_list(values)) for values in principal.values())
    return 1 if principal is not None else 0


def _conditions(statement: dict[str, Any]) -> int:
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return 0
    return sum(len(keys) if isinstance(keys, dict) else 1 for keys in condition.values())


def _within(document: dict[str, Any], limits: PolicyLimits, stack: StackIndex) -> bool:
    found = statements(document)
    counts = (
        (limits.statements, len(found)),
        (limits.principals, sum(_principals(s) for s in found)),
        (limits.conditions, sum(_conditions(s) for s in found)),
    )
    if any(most is not None and count > most for most, count in counts):
        return False
    most_actions = limits.actions_per_statement
    if most_actions is not None and any(
        len(as_list(s.get("Action", s.get("NotAction")))) > most_actions for s in found
    ):
        return False
    return json_bytes(document, stack) <= limits.max_bytes


def resource_policy_limits(resource: Resource, stack: StackIndex) -> Compliance:
    limits = LIMITS[resource.type]
    document = resource.properties.get(limits.prop)
    if not isinstance(document, dict):
        return NOT_APPLICABLE  # no policy, or one CloudFormation builds at deploy time
    return COMPLIANT if _within(document, limits, stack) else NON_COMPLIANT


RULE = Rule(
    "ResourcePolicyLimits",
    "The resource policy is larger than its service accepts, or has more statements, "
    "principals, conditions or actions per statement: S3 bucket policies 20 KB; KMS key "
    "policies 32 KB; SNS topic policies 30 KB, 100 statements, 200 principals; SQS queue "
    "policies 8,192 bytes, 20 statements, 50 principals, 10 conditions, 7 actions per "
    "statement; ECR repository policies 10,240 characters (sizes with each reference at the "
    "longest it can resolve to).",
    "Grant fewer principals on the resource (a role that the principals assume, or a "
    "condition on an IAM path or an organization instead of a list of ARNs), or split the "
    "resource; where the real size is known to fit, acknowledge the finding with the reason.",
    resource_policy_limits,
    frozenset(LIMITS),
)
