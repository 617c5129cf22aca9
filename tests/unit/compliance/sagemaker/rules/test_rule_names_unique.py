"""NamesUnique: names AWS keeps unique (per account and Region; per account for IAM and
dashboards; everywhere for buckets) given twice in a stage fail the second create."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sm
from aws_cdk import aws_stepfunctions as sfn

from tests.helpers import TEST_ENV
from tests.unit.compliance.sagemaker.pack_helpers import app, findings, sibling, stage_stack

RULE = "NamesUnique"


def fired(scope: cdk.Stack) -> set[str]:
    return {path for rule, path in findings(cdk.Stage.of(scope) or scope) if rule == RULE}


def test_the_second_of_two_equal_names_in_a_stage_is_reported_once() -> None:
    """Across the stage's stacks: the first keeps the name (stack order, then template order),
    SageMaker names compared without case."""
    s = stage_stack()
    other = sibling(s, "T")
    sm.CfnModelPackageGroup(s, "Group", model_package_group_name="prod-churn")
    s3.CfnBucket(s, "Unnamed")  # generated names are never compared
    s3.CfnBucket(other, "Unnamed")
    sm.CfnModelPackageGroup(other, "Again", model_package_group_name="Prod-Churn")
    sm.CfnModelPackageGroup(other, "Own", model_package_group_name="prod-fraud")
    assert fired(s) == {"prod/T/Again"}


def state_machine(scope: cdk.Stack, construct_id: str, name: str) -> None:
    sfn.CfnStateMachine(
        scope,
        construct_id,
        role_arn="arn:aws:iam::123456789012:role/x",
        state_machine_name=name,
        definition_string='{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}',
    )


@pytest.mark.parametrize(
    ("second_region", "expected"),
    [(TEST_ENV.region, {"prod/B/Jobs"}), ("us-east-1", set())],
)
def test_regional_names_clash_in_one_account_and_region_only(
    second_region: str, expected: set[str]
) -> None:
    stage = cdk.Stage(app(), "prod", env=TEST_ENV)
    first = cdk.Stack(stage, "A")
    second = cdk.Stack(
        stage, "B", env=cdk.Environment(account=TEST_ENV.account, region=second_region)
    )
    state_machine(first, "Jobs", "prod-churn-nightly")
    state_machine(second, "Jobs", "prod-churn-nightly")
    assert fired(first) == expected


def test_iam_names_clash_in_every_region_of_the_account() -> None:
    stage = cdk.Stage(app(), "prod", env=TEST_ENV)
    first = cdk.Stack(stage, "A")
    second = cdk.Stack(
        stage, "B", env=cdk.Environment(account=TEST_ENV.account, region="us-east-1")
    )
    principal = iam.AccountRootPrincipal()
    iam.Role(first, "Step", role_name="mlops-pipeline-step", assumed_by=principal)
    iam.Role(second, "Step", role_name="MLOPS-pipeline-step", assumed_by=principal)
    assert "prod/B/Step/Resource" in fired(first)


def test_bucket_names_clash_whatever_the_account() -> None:
    stage = cdk.Stage(app(), "prod", env=TEST_ENV)
    first = cdk.Stack(stage, "A")
    second = cdk.Stack(stage, "B", env=cdk.Environment(account="210987654321", region="us-east-1"))
    s3.CfnBucket(first, "Data", bucket_name="prod-churn-data")
    s3.CfnBucket(second, "Data", bucket_name="prod-churn-data")
    assert fired(first) == {"prod/B/Data"}
