"""NamesUnique: two resources of the stage are given the same name where AWS keeps one.

"Resource names must be unique across all your active stacks" ("CloudFormation resource custom
naming", CloudFormation Template Reference): the second create fails ("... already exists") and
its stack rolls back. A name is the type's property in
:data:`~mlops_cdk.aws.names.NAME_PROPERTIES`, compared where it is a plain string:

- per account and Region, as most services keep names;
- per account for IAM roles and managed policies (IAM is global) and CloudWatch dashboards
  (``DashboardName``: "All dashboards in your account are global, not region-specific",
  PutDashboard); S3 bucket names are global across every account, so two in one stage clash
  wherever they are deployed;
- without regard to case for IAM ("names are not distinguished by case", IAM User Guide, IAM
  identifiers) and SageMaker (its ARNs hold the lower-cased name), exactly otherwise.

The first resource (in stack order, then template order) keeps the name; each later one is
reported. Stacks of other stages are not compared: each stage is one environment, whose names
this package prefixes with the environment's.
"""

from __future__ import annotations

from collections.abc import Hashable

from mlops_cdk.aws.names import NAME_PROPERTIES
from mlops_cdk.compliance.sagemaker.index import Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

ACCOUNT_WIDE = frozenset(
    {"AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::CloudWatch::Dashboard"}
)
EVERY_ACCOUNT = frozenset({"AWS::S3::Bucket"})
CASE_INSENSITIVE_PREFIXES = ("AWS::IAM::", "AWS::SageMaker::")


def name_key(stack: StackIndex, resource: Resource) -> Hashable | None:
    """Where the resource's name must be unique, and the name; None without a literal name."""
    name = resource.properties.get(NAME_PROPERTIES[resource.type])
    if not isinstance(name, str):
        return None
    if resource.type.startswith(CASE_INSENSITIVE_PREFIXES):
        name = name.lower()
    if resource.type in EVERY_ACCOUNT:
        return name
    if resource.type in ACCOUNT_WIDE:
        return stack.account, name
    return stack.account, stack.region, name


def names_unique(resource: Resource, stack: StackIndex) -> Compliance:
    key = name_key(stack, resource)
    if key is None:
        return NOT_APPLICABLE
    first = stack.stage().rank_by(resource.type, name_key).get(id(resource)) == 1
    return COMPLIANT if first else NON_COMPLIANT


RULE = Rule(
    "NamesUnique",
    "Another resource of this type in the stage has the same name where AWS keeps names "
    "unique (account and Region; account for IAM and dashboards; everywhere for buckets): "
    "CloudFormation fails to create the second.",
    "Give each resource its own name (prefix it with the stack's or the service's), or leave "
    "the name out and let CloudFormation generate one.",
    names_unique,
    frozenset(NAME_PROPERTIES),
)
