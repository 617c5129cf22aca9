"""ArtifactStorage: KMS, TLS-only, no public access, versioned, access logs, retention."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs.storage import ArtifactStorage
from mlops_cdk.props.errors import PropProblems
from tests.helpers import new_stack

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def storage_template(removal_policy: cdk.RemovalPolicy) -> tuple[Template, ArtifactStorage]:
    stack = new_stack("Test")
    storage = ArtifactStorage(
        stack,
        "Artifacts",
        key=kms.Key(stack, "Key"),
        removal_policy=removal_policy,
        model_artifacts_prefix="models/",
        data_capture_prefix="capture/",
        noncurrent_version_expiry=cdk.Duration.days(30),
        access_log_expiry=cdk.Duration.days(90),
    )
    return Template.from_stack(stack), storage


@pytest.fixture(scope="module")
def template() -> Template:
    return storage_template(cdk.RemovalPolicy.RETAIN)[0]


def artifact_bucket(template: Template) -> dict[str, object]:
    buckets = template.find_resources(
        "AWS::S3::Bucket", {"Properties": {"LoggingConfiguration": Match.any_value()}}
    )
    (bucket,) = buckets.values()
    return bucket


def test_artifact_bucket_kms_versioned_private_logged(template: Template) -> None:
    bucket = artifact_bucket(template)
    props = bucket["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]  # type: ignore[index]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][1] == "Arn"
    assert rule["BucketKeyEnabled"] is True
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}  # type: ignore[index]
    assert props["PublicAccessBlockConfiguration"] == BLOCK_ALL  # type: ignore[index]
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "artifacts/"  # type: ignore[index]
    assert bucket["DeletionPolicy"] == "Retain"


def test_both_buckets_deny_non_tls_requests(template: Template) -> None:
    policies = template.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        deny = [s for s in statements if s["Effect"] == "Deny"]
        assert any(
            s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and s["Action"] == "s3:*"
            and s["Principal"] == {"AWS": "*"}
            for s in deny
        ), statements


def test_access_log_bucket_is_private_versioned_and_expires_logs(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": BLOCK_ALL,
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "LifecycleConfiguration": {
                "Rules": [Match.object_like({"ExpirationInDays": 90, "Status": "Enabled"})]
            },
        },
    )


def test_retained_buckets_are_not_auto_emptied(template: Template) -> None:
    template.resource_count_is("Custom::S3AutoDeleteObjects", 0)


def test_destroy_policy_empties_and_deletes() -> None:
    template, _ = storage_template(cdk.RemovalPolicy.DESTROY)
    assert len(template.find_resources("AWS::S3::Bucket", {"DeletionPolicy": "Delete"})) == 2
    template.resource_count_is("Custom::S3AutoDeleteObjects", 2)


def test_prefix_helpers() -> None:
    _, storage = storage_template(cdk.RemovalPolicy.RETAIN)
    stack = cdk.Stack.of(storage)
    resolved = stack.resolve(storage.model_artifacts_arn())
    assert resolved["Fn::Join"][1][-1] == "/models/*"
    assert stack.resolve(storage.data_capture_arn("x"))["Fn::Join"][1][-1] == "/capture/x"


PUBLISHERS = ["arn:aws:iam::444444444444:role/ci", "arn:aws:iam::123456789012:role/scientist"]


def test_only_publishers_write_model_artifacts() -> None:
    stack = new_stack("Publishers")
    storage = ArtifactStorage(
        stack,
        "Artifacts",
        key=kms.Key(stack, "Key"),
        removal_policy=cdk.RemovalPolicy.RETAIN,
        model_artifacts_prefix="models/",
        data_capture_prefix="capture/",
        noncurrent_version_expiry=cdk.Duration.days(30),
        access_log_expiry=cdk.Duration.days(90),
    )
    storage.grant_publishers(PUBLISHERS)
    policies = Template.from_stack(stack).find_resources("AWS::S3::BucketPolicy")
    (policy,) = [p for p in policies.values() if "Publishers" in json.dumps(p)]
    by_sid = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    allow = by_sid["PublishersWriteModelArtifacts"]
    assert allow["Principal"] == {
        "AWS": ["arn:aws:iam::123456789012:root", "arn:aws:iam::444444444444:root"]
    }
    assert allow["Condition"] == {"ArnEquals": {"aws:PrincipalArn": sorted(PUBLISHERS)}}
    assert "s3:PutObject" in allow["Action"]
    assert json.dumps(allow["Resource"]).endswith('"/models/*"]]}')
    deny = by_sid["OnlyPublishersWriteModelArtifacts"]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Action"] == "s3:PutObject"
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": sorted(PUBLISHERS)}}
    listing = by_sid["PublishersListModelArtifacts"]
    assert listing["Condition"]["StringLike"] == {"s3:prefix": ["models/", "models/*"]}


def test_no_publishers_no_policy_change() -> None:
    _, storage = storage_template(cdk.RemovalPolicy.DESTROY)
    before = json.dumps(Template.from_stack(cdk.Stack.of(storage)).to_json(), sort_keys=True)
    storage.grant_publishers([])
    after = json.dumps(Template.from_stack(cdk.Stack.of(storage)).to_json(), sort_keys=True)
    assert before == after


def test_only_publishers_write_baselines() -> None:
    stack = new_stack("Baselines")
    storage = ArtifactStorage(
        stack,
        "Artifacts",
        key=kms.Key(stack, "Key"),
        removal_policy=cdk.RemovalPolicy.RETAIN,
        model_artifacts_prefix="models/",
        data_capture_prefix="capture/",
        noncurrent_version_expiry=cdk.Duration.days(30),
        access_log_expiry=cdk.Duration.days(90),
    )
    assert (
        stack.resolve(storage.baselines_arn("churn/*"))["Fn::Join"][1][-1] == "/baselines/churn/*"
    )
    storage.grant_publishers(PUBLISHERS)
    policies = Template.from_stack(stack).find_resources("AWS::S3::BucketPolicy")
    (policy,) = [p for p in policies.values() if "Publishers" in json.dumps(p)]
    by_sid = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    allow = by_sid["PublishersWriteBaselines"]
    assert allow["Condition"] == {"ArnEquals": {"aws:PrincipalArn": sorted(PUBLISHERS)}}
    assert json.dumps(allow["Resource"]).endswith('"/baselines/*"]]}')
    deny = by_sid["OnlyPublishersWriteBaselines"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == (
        "Deny",
        {"AWS": "*"},
        "s3:PutObject",
    )
    assert json.dumps(deny["Resource"]).endswith('"/baselines/*"]]}')
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": sorted(PUBLISHERS)}}
    listing = by_sid["PublishersListBaselines"]
    assert listing["Condition"]["StringLike"] == {"s3:prefix": ["baselines/", "baselines/*"]}


@pytest.mark.parametrize("prefix", ["ground-truth/", "labels/delivered/"])
def test_only_publishers_write_labels_which_cross_account_publishers_can(prefix: str) -> None:
    """The quality check's labels (``<labels_prefix><service>/``) are delivered with a
    publisher's credentials: a publisher in another account needs the bucket policy's Allow,
    and nobody else may write them (they decide accuracy alarms and retraining)."""
    stack = new_stack("Labels")
    storage = ArtifactStorage(stack, "Artifacts", key=kms.Key(stack, "Key"), labels_prefix=prefix)
    assert storage.labels_prefix == prefix
    storage.grant_publishers(PUBLISHERS)
    by_sid: dict[str, Any] = bucket_statements(stack, storage)
    allow = by_sid["PublishersWriteLabels"]
    assert allow["Effect"] == "Allow"
    principals = json.dumps(allow["Principal"])
    assert ":iam::444444444444:root" in principals  # the other account's publisher
    assert ":iam::123456789012:root" in principals
    assert "s3:PutObject" in allow["Action"]
    assert allow["Condition"] == {"ArnEquals": {"aws:PrincipalArn": sorted(PUBLISHERS)}}
    assert json.dumps(allow["Resource"]).endswith(f'"/{prefix}*"]]}}')
    deny = by_sid["OnlyPublishersWriteLabels"]
    assert (deny["Effect"], deny["Action"]) == ("Deny", "s3:PutObject")
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": sorted(PUBLISHERS)}}
    listing = by_sid["PublishersListLabels"]
    assert listing["Condition"]["StringLike"] == {"s3:prefix": [prefix, f"{prefix}*"]}


# --- issue 21: write-once artifacts, no deletes, per-service writers -------------------------

BREAK_GLASS = "arn:aws:iam::123456789012:role/break-glass"


def bucket_statements(stack: cdk.Stack, storage: ArtifactStorage) -> dict[str, dict[str, object]]:
    """The artifact bucket's policy statements by Sid."""
    bucket_id = stack.resolve(storage.bucket.bucket_name)["Ref"]
    policies = Template.from_stack(stack).find_resources("AWS::S3::BucketPolicy")
    (policy,) = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    return {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def protected_storage(
    removal_policy: cdk.RemovalPolicy, break_glass: str | None = None
) -> tuple[cdk.Stack, ArtifactStorage]:
    stack = new_stack("Protected")
    storage = ArtifactStorage(
        stack,
        "Artifacts",
        key=kms.Key(stack, "Key"),
        removal_policy=removal_policy,
        data_capture_prefix="capture/",
        break_glass_role_arn=break_glass,
    )
    return stack, storage


def test_model_artifacts_are_write_once_for_every_principal() -> None:
    stack, storage = protected_storage(cdk.RemovalPolicy.RETAIN)
    deny = bucket_statements(stack, storage)["ModelArtifactsWriteOnce"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == (
        "Deny",
        {"AWS": "*"},
        "s3:PutObject",
    )
    assert json.dumps(deny["Resource"]).endswith('"/models/*"]]}')
    # Only object-creating requests without If-None-Match: the parts of a multipart upload pass.
    assert deny["Condition"] == {
        "Null": {"s3:if-none-match": "true"},
        "Bool": {"s3:ObjectCreationOperation": "true"},
    }


def test_nobody_deletes_artifacts_or_captured_data_without_break_glass() -> None:
    stack, storage = protected_storage(cdk.RemovalPolicy.RETAIN)
    deny = bucket_statements(stack, storage)["NoDeletesOfArtifactsOrCapturedData"]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Action"] == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = json.dumps(deny["Resource"])
    assert '"/models/*"' in resources
    assert '"/capture/*"' in resources
    assert "Condition" not in deny  # no exemption at all


def test_break_glass_role_alone_may_delete() -> None:
    stack, storage = protected_storage(cdk.RemovalPolicy.RETAIN, BREAK_GLASS)
    deny = bucket_statements(stack, storage)["NoDeletesOfArtifactsOrCapturedData"]
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [BREAK_GLASS]}}


def test_destroyable_bucket_still_lets_cdk_empty_it() -> None:
    stack, storage = protected_storage(cdk.RemovalPolicy.DESTROY, BREAK_GLASS)
    deny = bucket_statements(stack, storage)["NoDeletesOfArtifactsOrCapturedData"]
    exempt = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]  # type: ignore[index]
    assert exempt[0] == BREAK_GLASS
    assert exempt[1]["Fn::GetAtt"][0].startswith("CustomS3AutoDeleteObjectsCustomResourceProvider")
    assert len(exempt) == 2


def test_a_service_prefix_is_written_by_its_publishers_only() -> None:
    stack, storage = protected_storage(cdk.RemovalPolicy.RETAIN)
    storage.grant_publishers(PUBLISHERS)
    storage.restrict_prefix_writers("models/churn/", [PUBLISHERS[0]], sid="OnlyPublishersOfChurn")
    deny = bucket_statements(stack, storage)["OnlyPublishersOfChurn"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == (
        "Deny",
        {"AWS": "*"},
        "s3:PutObject",
    )
    assert json.dumps(deny["Resource"]).endswith('"/models/churn/*"]]}')
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [PUBLISHERS[0]]}}


@pytest.mark.parametrize(
    ("prefix", "writers", "message"),
    [
        ("capture/churn/", ["arn:aws:iam::1:role/x"], "is not under 'models/'"),
        ("models/churn/", [], "name at least one writer"),
    ],
)
def test_restricting_writers_refuses_bad_input(
    prefix: str, writers: list[str], message: str
) -> None:
    _, storage = protected_storage(cdk.RemovalPolicy.RETAIN)
    with pytest.raises(ValueError, match=message):
        storage.restrict_prefix_writers(prefix, writers, sid="X")


def test_an_app_without_the_log_policy_flag_gets_the_same_buckets(template: Template) -> None:
    """A consuming app whose cdk.json predates @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy
    (or a bare cdk.App()): the log bucket still takes deliveries under its policy, never the
    LogDeliveryWrite ACL that its BUCKET_OWNER_ENFORCED ownership refuses."""
    stack = cdk.Stack(
        cdk.App(), "Test", env=cdk.Environment(account="123456789012", region="eu-west-1")
    )
    ArtifactStorage(
        stack,
        "Artifacts",
        key=kms.Key(stack, "Key"),
        model_artifacts_prefix="models/",
        data_capture_prefix="capture/",
        noncurrent_version_expiry=cdk.Duration.days(30),
        access_log_expiry=cdk.Duration.days(90),
    )
    bare = Template.from_stack(stack)
    for buckets in (bare, template):
        assert all(
            "AccessControl" not in bucket["Properties"]
            for bucket in buckets.find_resources("AWS::S3::Bucket").values()
        )
    delivery = Match.object_like({"Principal": {"Service": "logging.s3.amazonaws.com"}})
    bare.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {"PolicyDocument": {"Statement": Match.array_with([delivery])}},
    )


@pytest.mark.parametrize(
    ("props", "line"),
    [
        (
            {"model_artifacts_prefix": "/models"},
            "ArtifactStorage: model_artifacts_prefix: '/models' must be a relative S3 key prefix "
            "ending in '/'",
        ),
        (
            {"baselines_prefix": "baselines"},
            "ArtifactStorage: baselines_prefix: 'baselines' must be a relative S3 key prefix",
        ),
        (
            {"model_artifacts_prefix": "data/", "data_capture_prefix": "data/capture/"},
            "ArtifactStorage: data_capture_prefix: model_artifacts_prefix and data_capture_prefix "
            "must not overlap",
        ),
        (
            {"labels_prefix": "/ground-truth/"},
            "ArtifactStorage: labels_prefix: '/ground-truth/' must be a relative S3 key prefix",
        ),
        (
            {"break_glass_role_arn": "admin"},
            "ArtifactStorage: break_glass_role_arn: 'admin' is not an IAM role ARN",
        ),
    ],
)
def test_a_library_user_gets_the_configurations_storage_checks(
    props: dict[str, Any], line: str
) -> None:
    stack = new_stack()
    with pytest.raises(PropProblems) as raised:
        ArtifactStorage(stack, "Artifacts", key=kms.Key(stack, "Key"), **props)
    assert str(raised.value).startswith(line)
