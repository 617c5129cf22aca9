"""IamPolicyLimits: a role or policy that IAM can refuse at deploy time for its size or its
number of attached policies ("IAM and AWS STS quotas, name requirements, and character limits",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):

- a customer-managed policy over 6,144 characters;
- a role whose inline policies (its ``Policies`` and every ``AWS::IAM::Policy`` of the stage
  attached to it) add up to over 10,240 characters, or an ``AWS::IAM::Policy`` over that alone;
- a role whose trust policy is over 2,048 characters (the default quota);
- a role with more than 10 managed policies (the default quota): its ``ManagedPolicyArns`` and
  every ``AWS::IAM::ManagedPolicy`` of the stage attached to it.

IAM does not count white space. Sizes are what the documents can grow to once CloudFormation
resolves their references (:mod:`mlops_cdk.aws.resolved_length`), so a policy that grows with
the services, models or batch jobs of a configuration is refused at synth, not halfway through
a deploy. The size is an upper bound: a policy within a few percent of a limit may be refused
although its real names are shorter; the finding is then acknowledged with the reason. At deploy,
IAM says "Cannot exceed quota for PolicySize: 6144" or "... PoliciesPerRole: 10". CDK splits
only its own default policies (into ``OverflowPolicy`` managed policies); this package attaches
customer-managed policies, which nothing splits.
"""

from __future__ import annotations

from mlops_cdk.aws.cfn_values import as_list
from mlops_cdk.aws.resolved_length import (
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_MAX_CHARS,
    ROLE_INLINE_POLICIES_MAX_CHARS,
    TRUST_POLICY_MAX_CHARS,
    policy_size,
)
from mlops_cdk.compliance.sagemaker.index import (
    MANAGED_POLICY_TYPE,
    POLICY_TYPE,
    ROLE_TYPE,
    Resource,
    StackIndex,
)
from mlops_cdk.compliance.sagemaker.rule import COMPLIANT, NON_COMPLIANT, Compliance, Rule


def _inline_size(role: Resource, stack: StackIndex, attached: list[Resource]) -> int:
    own = sum(
        policy_size(policy.get("PolicyDocument"), stack)
        for policy in as_list(role.properties.get("Policies"))
        if isinstance(policy, dict)
    )
    # An AWS::IAM::Policy resolves where it is declared; attached ones of other stacks are rare
    # enough (CDK attaches a role's default policy in the role's stack) to size them here too.
    return own + sum(
        policy_size(policy.properties.get("PolicyDocument"), stack)
        for policy in attached
        if policy.type == POLICY_TYPE
    )


def _role_within_limits(role: Resource, stack: StackIndex) -> bool:
    attached = stack.stage().policies_attached(stack, role)
    managed = len(as_list(role.properties.get("ManagedPolicyArns"))) + sum(
        1 for policy in attached if policy.type == MANAGED_POLICY_TYPE
    )
    return (
        managed <= MANAGED_POLICIES_PER_ROLE
        and policy_size(role.properties.get("AssumeRolePolicyDocument"), stack)
        <= TRUST_POLICY_MAX_CHARS
        and _inline_size(role, stack, attached) <= ROLE_INLINE_POLICIES_MAX_CHARS
    )


def iam_policy_limits(resource: Resource, stack: StackIndex) -> Compliance:
    if resource.type == ROLE_TYPE:
        return COMPLIANT if _role_within_limits(resource, stack) else NON_COMPLIANT
    limit = (
        MANAGED_POLICY_MAX_CHARS
        if resource.type == MANAGED_POLICY_TYPE
        else ROLE_INLINE_POLICIES_MAX_CHARS  # an inline policy alone (its role may be elsewhere)
    )
    size = policy_size(resource.properties.get("PolicyDocument"), stack)
    return COMPLIANT if size <= limit else NON_COMPLIANT


RULE = Rule(
    "IamPolicyLimits",
    "IAM can refuse this role or policy at deploy time: a managed policy over 6,144 "
    "characters, a role's inline policies over 10,240 or its trust policy over 2,048, or more "
    "than 10 managed policies attached to one role (sizes with each reference at the longest "
    "it can resolve to, white space aside).",
    "Split what grows (one policy per concern, or per batch job or model) or give the work to "
    "another role; wildcards only where the resources cannot be named. Where the account's "
    "quota for managed policies per role or trust policy length has been raised (Service "
    "Quotas), acknowledge the finding on the role and say so.",
    iam_policy_limits,
    frozenset({ROLE_TYPE, POLICY_TYPE, MANAGED_POLICY_TYPE}),
)
