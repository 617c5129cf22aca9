"""ModelArtifactsWriteOnce: a bucket policy that grants writes of model artifacts must deny
writes without If-None-Match and deletes (except by named principals)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sm

from mlops_cdk.constructs.storage import ArtifactStorage
from tests.unit.compliance.sagemaker.pack_helpers import ROLE, fires, rules_for, stage_stack

RULE = "ModelArtifactsWriteOnce"
MODELS = "arn:aws:s3:::b/models/*"
PUBLISHER = {"AWS": "arn:aws:iam::444444444444:root"}
ALLOW_WRITE = {
    "Effect": "Allow",
    "Principal": PUBLISHER,
    "Action": "s3:PutObject",
    "Resource": MODELS,
}
WRITE_ONCE = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "s3:PutObject",
    "Resource": MODELS,
    "Condition": {
        "Null": {"s3:if-none-match": "true"},
        "Bool": {"s3:ObjectCreationOperation": "true"},
    },
}
NO_DELETES = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
    "Resource": ["arn:aws:s3:::b/models/*", "arn:aws:s3:::b/capture/*"],
    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/bg"}},
}


def with_changes(statement: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = {**statement, **changes}
    return {k: v for k, v in result.items() if v is not None}


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([ALLOW_WRITE, WRITE_ONCE, NO_DELETES], False),
        ([ALLOW_WRITE], True),  # issue 21: artifacts could be overwritten and deleted
        ([ALLOW_WRITE, WRITE_ONCE], True),  # deletable
        ([ALLOW_WRITE, NO_DELETES], True),  # overwritable
        # the write-once deny without the multipart exemption still makes keys write-once
        (
            [
                ALLOW_WRITE,
                with_changes(WRITE_ONCE, Condition={"Null": {"s3:if-none-match": "true"}}),
                NO_DELETES,
            ],
            False,
        ),
        # a deny that exempts someone (or only some requests) is no write-once
        (
            [
                ALLOW_WRITE,
                with_changes(
                    WRITE_ONCE,
                    Condition={
                        "Null": {"s3:if-none-match": "true"},
                        "ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/x"},
                    },
                ),
                NO_DELETES,
            ],
            True,
        ),
        ([ALLOW_WRITE, with_changes(WRITE_ONCE, Principal=PUBLISHER), NO_DELETES], True),
        (
            [ALLOW_WRITE, with_changes(WRITE_ONCE, Resource="arn:aws:s3:::b/other/*"), NO_DELETES],
            True,
        ),
        ([ALLOW_WRITE, WRITE_ONCE, with_changes(NO_DELETES, Action="s3:DeleteObject")], True),
        (
            [
                ALLOW_WRITE,
                WRITE_ONCE,
                with_changes(NO_DELETES, Condition={"Bool": {"aws:SecureTransport": "false"}}),
            ],
            True,
        ),
        (
            [ALLOW_WRITE, WRITE_ONCE, with_changes(NO_DELETES, Condition=None)],
            False,
        ),  # nobody deletes
        # wider denies cover the prefix
        (
            [
                ALLOW_WRITE,
                with_changes(WRITE_ONCE, Resource="arn:aws:s3:::b/*"),
                with_changes(NO_DELETES, Action="s3:Delete*"),
            ],
            False,
        ),
        # writes elsewhere are not model artifacts
        ([with_changes(ALLOW_WRITE, Resource="arn:aws:s3:::b/baselines/*")], False),
    ],
)
def test_model_artifacts_write_once(statements: list[dict[str, Any]], expected: bool) -> None:
    s = stage_stack()
    s3.CfnBucketPolicy(
        s, "Policy", bucket="b", policy_document={"Version": "2012-10-17", "Statement": statements}
    )
    assert fires(s, "prod/S/Policy", RULE) is expected


def test_a_custom_prefix_counts_when_a_model_of_the_stage_reads_from_it() -> None:
    s = stage_stack()
    sm.CfnModel(
        s,
        "Model",
        execution_role_arn=ROLE,
        primary_container=sm.CfnModel.ContainerDefinitionProperty(
            image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/r:1",
            model_data_url="s3://b/artifacts/churn/1.0.0/model.tar.gz",
        ),
    )
    allow = with_changes(ALLOW_WRITE, Resource="arn:aws:s3:::b/artifacts/*")
    s3.CfnBucketPolicy(
        s, "Policy", bucket="b", policy_document={"Version": "2012-10-17", "Statement": [allow]}
    )
    assert fires(s, "prod/S/Policy", RULE)


def test_artifact_storage_with_publishers_is_compliant_and_names_no_exemption_by_default() -> None:
    s = stage_stack()
    storage = ArtifactStorage(
        s, "Artifacts", key=kms.Key(s, "Key"), removal_policy=cdk.RemovalPolicy.DESTROY
    )
    storage.grant_publishers(["arn:aws:iam::444444444444:role/ci"])
    path = "prod/S/Artifacts/Bucket/Policy/Resource"
    assert path in {c.node.path for c in s.node.find_all()}  # the policy checked is there
    assert RULE not in rules_for(s, path)
