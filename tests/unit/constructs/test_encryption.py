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
    key.grant_publishers(
        [PUBLISHER, "arn:aws:iam::123456789012:role/local-publisher"],
        via_service="s3",
        sid="Publishers",
    )
    key.grant_operators([OPERATOR], via_service="sqs", sid="Operators")
    return Template.from_stack(stack)


PUBLISHER = "arn:aws:iam::444444444444:role/ci/publisher"
OPERATOR = "arn:aws:iam::123456789012:role/operator"
ROOT = {"AWS": "arn:aws:iam::123456789012:root"}


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
    for forbidden in (
        "kms:*",
        "kms:Create*",
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
    ):
        assert forbidden not in actions  # type: ignore[operator]


def test_no_statement_allows_create_grant_unless_for_aws_resources(template: Template) -> None:
    """kms:CreateGrant would let a principal grant itself use of the key."""
    for statement in statements(template):
        actions = statement["Action"]
        actions = actions if isinstance(actions, list) else [actions]
        if statement["Effect"] == "Deny":
            continue
        if any(a in ("kms:*", "kms:Create*", "kms:CreateGrant") for a in actions):
            assert statement["Condition"]["Bool"] == {  # type: ignore[index]
                "kms:GrantIsForAWSResource": "true"
            }, statement["Sid"]


def test_every_statement_names_its_principal(template: Template) -> None:
    sids = {s["Sid"] for s in statements(template)}
    assert sids == {
        "KeyAdministrationByAccount",
        "GrantsOnlyForAwsResources",
        "CloudWatchLogsForThisAccount",
        "UserUse",
        "UserUseGrants",
        "Alarms",
        "Publishers",
        "Operators",
        "DenyGrantsNotForAwsResources",
    }
    for statement in statements(template):
        if statement["Effect"] == "Deny":
            continue  # a Deny to everyone names no one it lets in
        assert statement["Principal"] != "*"
        assert statement["Principal"] != {"AWS": "*"}


def test_grants_are_denied_to_everyone_unless_for_aws_resources(template: Template) -> None:
    """AWS Control Tower's proactive control CT.KMS.PR.3 (ct-kms-pr-3.guard) wants exactly this
    Deny: Principal *, kms:CreateGrant, Resource *, only BoolIfExists with both keys "false"."""
    (deny,) = [s for s in statements(template) if s["Effect"] == "Deny"]
    assert deny == {
        "Sid": "DenyGrantsNotForAwsResources",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "kms:CreateGrant",
        "Resource": "*",
        "Condition": {
            "BoolIfExists": {
                "kms:GrantIsForAWSResource": "false",
                "aws:PrincipalIsAWSService": "false",
            }
        },
    }


def test_logs_service_only_for_this_accounts_log_groups(template: Template) -> None:
    (logs,) = [s for s in statements(template) if s["Sid"] == "CloudWatchLogsForThisAccount"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    condition = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]  # type: ignore[index]
    assert condition == "arn:aws:logs:eu-west-1:123456789012:log-group:*"


def test_granted_role_is_matched_by_arn_not_named_as_principal(template: Template) -> None:
    """A role created in the same deployment may not be visible to KMS yet: naming it as a
    principal can fail with MalformedPolicyDocumentException. The root plus an
    aws:PrincipalArn condition cannot."""
    (use,) = [s for s in statements(template) if s["Sid"] == "UserUse"]
    assert use["Principal"] == ROOT
    logical_id, attribute = use["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::GetAtt"]  # type: ignore[index]
    assert logical_id.startswith("User")
    assert attribute == "Arn"
    assert "kms:Decrypt" in use["Action"]  # type: ignore[operator]
    (grants,) = [s for s in statements(template) if s["Sid"] == "UserUseGrants"]
    assert grants["Action"] == "kms:CreateGrant"
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}  # type: ignore[index]
    for statement in statements(template):
        principal = statement["Principal"]
        assert "Fn::GetAtt" not in str(principal), statement["Sid"]


def test_granted_role_also_gets_the_iam_permission(template: Template) -> None:
    """With the root as key-policy principal, the role's own policy must allow the use too."""
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["Roles"][0]["Ref"].startswith("User")
    by_sid = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert "kms:Decrypt" in by_sid["UseKey"]["Action"]
    assert by_sid["UseKey"]["Resource"]["Fn::GetAtt"][1] == "Arn"
    assert by_sid["KeyGrantsForAwsResources"]["Condition"] == {
        "Bool": {"kms:GrantIsForAWSResource": "true"}
    }


def test_publishers_and_operators_use_the_key_through_one_service_only(
    template: Template,
) -> None:
    (publishers,) = [s for s in statements(template) if s["Sid"] == "Publishers"]
    assert publishers["Principal"] == {
        "AWS": ["arn:aws:iam::123456789012:root", "arn:aws:iam::444444444444:root"]
    }
    assert sorted(publishers["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]  # type: ignore[arg-type]
    assert publishers["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": ["arn:aws:iam::123456789012:role/local-publisher", PUBLISHER]
        },
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
    }
    (operators,) = [s for s in statements(template) if s["Sid"] == "Operators"]
    assert operators["Principal"] == ROOT
    assert operators["Action"] == "kms:Decrypt"
    assert operators["Condition"]["StringEquals"] == {  # type: ignore[index]
        "kms:ViaService": "sqs.eu-west-1.amazonaws.com"
    }


def test_service_use_is_limited_to_this_account(template: Template) -> None:
    (alarms,) = [s for s in statements(template) if s["Sid"] == "Alarms"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def key_statements(configure: object) -> dict[str, dict[str, object]]:
    """The key policy statements by Sid after ``configure(key)``."""
    stack = new_stack("Bounded")
    key = EncryptionKey(
        stack,
        "Encryption",
        alias="alias/bounded",
        description="test key",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    configure(key)  # type: ignore[operator]
    return {str(s.get("Sid")): s for s in statements(Template.from_stack(stack))}


def test_topic_publishers_are_bounded_to_this_accounts_topics() -> None:
    """Issue 21: cloudwatch/events on the key had no condition at all."""
    by_sid = key_statements(
        lambda key: key.grant_service_use("events.amazonaws.com", sid="Events", for_sns_topics=True)
    )
    events = by_sid["Events"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:eu-west-1:123456789012:*"
        }
    }


def test_role_path_use_only_through_the_named_services() -> None:
    by_sid = key_statements(
        lambda key: key.grant_role_path("/mlops/dev/", sid="Path", via_services=["s3", "sqs"])
    )
    use, grants = by_sid["Path"], by_sid["PathGrants"]
    assert use["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/mlops/dev/*"},
        "StringEquals": {
            "kms:ViaService": ["s3.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com"]
        },
    }
    # Grants were already limited to AWS resources (an AWS service creates them).
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}  # type: ignore[index]


def test_role_path_without_services_keeps_its_single_condition() -> None:
    by_sid = key_statements(lambda key: key.grant_role_path("/mlops/dev/", sid="Path"))
    assert set(by_sid["Path"]["Condition"]) == {"ArnLike"}  # type: ignore[arg-type]


def test_role_path_use_narrowed_to_some_actions_and_no_grants() -> None:
    by_sid = key_statements(
        lambda key: key.grant_role_path(
            "/mlops-smoke/",
            sid="Smoke",
            via_services=["s3"],
            actions=("kms:Decrypt", "kms:GenerateDataKey"),
            grants=False,
        )
    )
    assert by_sid["Smoke"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "SmokeGrants" not in by_sid
