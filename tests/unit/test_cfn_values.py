"""The shared walker for CloudFormation values: intrinsics in both GetAtt forms, references
inside joins and substitutions, imports, cdk-nag's resource strings, policy documents with one
statement or a list, actions as a string or a list, IAM action matching."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_cdk.aws.cfn_values import (
    actions,
    allow_statements,
    as_list,
    condition_values,
    covers_action,
    export_key,
    imports,
    intrinsic,
    is_intrinsic,
    reference,
    referenced_logical_id,
    references,
    render_resource_value,
    statements,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, []), ("a", ["a"]), (["a", "b"], ["a", "b"]), ({"Ref": "X"}, [{"Ref": "X"}])],
)
def test_as_list(value: Any, expected: list[Any]) -> None:
    assert as_list(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "X"}, ("X", None)),
        ({"Fn::GetAtt": ["X", "Arn"]}, ("X", "Arn")),
        ({"Fn::GetAtt": "X.Arn"}, ("X", "Arn")),
        ({"Fn::ImportValue": "name"}, None),
        ({"Ref": "X", "Other": 1}, None),
        ("X", None),
    ],
)
def test_reference(value: Any, expected: tuple[str, str | None] | None) -> None:
    assert reference(value) == expected
    assert referenced_logical_id(value) == (expected[0] if expected else None)


def test_intrinsics_are_one_key_objects_named_ref_or_fn() -> None:
    assert intrinsic({"Fn::Join": ["", []]}) == ("Fn::Join", ["", []])
    assert is_intrinsic({"Ref": "X"})
    assert not is_intrinsic({"Type": "AWS::S3::Bucket"})
    assert not is_intrinsic({"Ref": "X", "Fn::GetAtt": ["Y", "Arn"]})


def test_references_and_imports_anywhere_inside() -> None:
    value = {
        "Fn::Join": [
            "",
            [
                {"Ref": "One"},
                {"Fn::GetAtt": ["Two", "Arn"]},
                {"Fn::Sub": ["${Three}-${Four.Name}-${!Literal}-${Var}", {"Var": {"Ref": "Five"}}]},
                {"Fn::ImportValue": "shared-name"},
                {"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-x"}},
            ],
        ]
    }
    assert references(value) == {"One", "Two", "Three", "Four", "Five", "AWS::StackName"}
    assert imports(value) == {"shared-name", export_key({"Fn::Sub": "${AWS::StackName}-x"})}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("*", "*"),
        ({"Ref": "Bucket"}, "<Bucket>"),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, "<Bucket.Arn>"),
        ({"Fn::GetAtt": "Bucket.Arn"}, "<Bucket.Arn>"),
        ({"Fn::ImportValue": "shared-bucket-arn"}, "shared-bucket-arn"),
        (
            {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/models/*"]]},
            "<Bucket.Arn>/models/*",
        ),
    ],
)
def test_render_resource_value_like_cdk_nag(value: Any, expected: str) -> None:
    assert render_resource_value(value) == expected
    assert render_resource_value(value, strict=True) == expected


def test_render_resource_value_of_other_intrinsics() -> None:
    value = {"Fn::Select": [0, ["a"]]}
    assert render_resource_value(value) == '{"Fn::Select": [0, ["a"]]}'
    with pytest.raises(ValueError, match="cannot render"):
        render_resource_value(value, strict=True)


STATEMENT = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"Statement": STATEMENT}, [STATEMENT]),
        ({"Statement": [STATEMENT, {**STATEMENT, "Effect": "Deny"}]}, [STATEMENT]),
        ({"Statement": ["not a statement"]}, []),
        ({}, []),
        (None, []),
    ],
)
def test_statements_one_or_a_list(document: Any, expected: list[dict[str, Any]]) -> None:
    assert allow_statements(document) == expected
    assert len(statements(document)) >= len(expected)


@pytest.mark.parametrize(
    ("statement", "action", "covered"),
    [
        ({"Action": "kms:*"}, "kms:CreateGrant", True),
        ({"Action": ["KMS:creategrant"]}, "kms:CreateGrant", True),
        ({"Action": "kms:Generate*"}, "kms:GenerateDataKey*", True),
        ({"Action": "kms:GenerateDataKey"}, "kms:GenerateDataKey*", False),
        ({"Action": "*"}, "sns:Publish", True),
        ({"NotAction": "kms:Decrypt"}, "kms:CreateGrant", True),
        ({"NotAction": ["kms:*"]}, "kms:CreateGrant", False),
        ({"Action": [{"Ref": "X"}]}, "kms:CreateGrant", False),
    ],
)
def test_covers_action(statement: dict[str, Any], action: str, covered: bool) -> None:
    assert covers_action(statement, action) is covered


def test_actions_are_the_literal_strings() -> None:
    assert actions({"Action": "s3:GetObject"}) == ["s3:GetObject"]
    assert actions({"Action": ["s3:GetObject", {"Ref": "X"}]}) == ["s3:GetObject"]
    assert actions({"NotAction": "s3:*"}) == []


def test_condition_values_match_keys_case_insensitively() -> None:
    statement = {
        "Condition": {
            "Bool": {"kms:grantisforawsresource": "true"},
            "StringEquals": {"kms:GrantIsForAWSResource": ["a", "b"], "other": "x"},
        }
    }
    assert condition_values(statement, "kms:GrantIsForAWSResource") == [
        ("Bool", ["true"]),
        ("StringEquals", ["a", "b"]),
    ]
