"""EncryptionKey: rotation, alias, and a key policy that names every user."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from mlops_cdk.constructs.encryption import KEY_ADMIN_ACTIONS, EncryptionKey
from tests.helpers import new_stack


@pytest.fixture(scope="module")
def template() -> Template:
    stack = new_stack("Test")
    key = EncryptionKey(
        stack,
        "Encryption",
        alias="alias/test",
        description="test key",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    role = iam.Role(stack, "User", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    key.grant_use(role, sid="UserUse")
    key.grant_service_use("cloudwatch.amazonaws.com", sid="Alarms")
    return Template.from_stack(stack)


def statements(template: Template) -> list[dict[str, object]]:
    (key,) = template.find_resources("AWS::KMS::Key").values()
    result: list[dict[str, object]] = key["Properties"]["KeyPolicy"]["Statement"]
    return result


def test_rotation_alias_and_retention(template: Template) -> None:
    template.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": {"EnableKeyRotation": True, "PendingWindowInDays": 30},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/test"})


def test_account_root_can_administer_but_not_use_the_key(template: Template) -> None:
    root = [s for s in statements(template) if s.get("Sid") == "KeyAdministrationByAccount"]
    assert len(root) == 1
    actions = root[0]["Action"]
    assert sorted(actions) == sorted(KEY_ADMIN_ACTIONS)  # type: ignore[arg-type]
    for forbidden in ("kms:*", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"):
        assert forbidden not in actions  # type: ignore[operator]


def test_every_statement_names_its_principal(template: Template) -> None:
    sids = {s["Sid"] for s in statements(template)}
    assert sids == {
        "KeyAdministrationByAccount",
        "CloudWatchLogsForThisAccount",
        "UserUse",
        "UserUseGrants",
        "Alarms",
    }
    for statement in statements(template):
        assert statement["Principal"] != "*"
        assert statement["Principal"] != {"AWS": "*"}


def test_logs_service_only_for_this_accounts_log_groups(template: Template) -> None:
    (logs,) = [s for s in statements(template) if s["Sid"] == "CloudWatchLogsForThisAccount"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    condition = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]  # type: ignore[index]
    assert condition == "arn:aws:logs:eu-west-1:123456789012:log-group:*"


def test_granted_role_is_named_in_key_policy_and_grants_only_for_aws_resources(
    template: Template,
) -> None:
    (use,) = [s for s in statements(template) if s["Sid"] == "UserUse"]
    logical_id, attribute = use["Principal"]["AWS"]["Fn::GetAtt"]  # type: ignore[index]
    assert logical_id.startswith("User")
    assert attribute == "Arn"
    assert "kms:Decrypt" in use["Action"]  # type: ignore[operator]
    (grants,) = [s for s in statements(template) if s["Sid"] == "UserUseGrants"]
    assert grants["Action"] == "kms:CreateGrant"
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_service_use_is_limited_to_this_account(template: Template) -> None:
    (alarms,) = [s for s in statements(template) if s["Sid"] == "Alarms"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
