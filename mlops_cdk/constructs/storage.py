"""The S3 bucket for model artifacts and endpoint data capture, with its access-log bucket.

Who can change what is in it (S3 User Guide, "Enforce conditional writes on Amazon S3 buckets",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html, and
"Bucket policies for Amazon S3"):

- model artifacts are **write-once**: the bucket policy denies ``s3:PutObject`` under the
  model-artifact prefix to every principal when the request has no ``If-None-Match`` header
  (condition ``Null s3:if-none-match``). ``Bool s3:ObjectCreationOperation`` limits the deny to
  requests that create an object (PutObject, CompleteMultipartUpload, CopyObject), so the parts
  of a multipart upload (CreateMultipartUpload, UploadPart, which take no conditional header)
  still pass and the completion must carry ``If-None-Match: *``. With the header, S3 answers
  412 Precondition Failed when the key exists. CopyObject into the prefix is impossible
  (403 without the header, 501 with it): publish by upload, never by server-side copy;
- objects under the model-artifact and data-capture prefixes cannot be deleted
  (``s3:DeleteObject`` adds a delete marker on a versioned bucket, ``s3:DeleteObjectVersion``
  removes a version) by anyone but the optional break-glass role (and, for a bucket that is
  emptied when its stack is deleted, CDK's auto-delete function). A bucket policy cannot stop
  lifecycle expirations: the noncurrent-version rule still removes old versions;
- publishers alone write model artifacts, drift baselines and ground-truth labels
  (:meth:`ArtifactStorage.grant_publishers`): an Allow for them, which a writer in another
  account needs ("Bucket policy examples": cross-account uploads), and a Deny for everyone else;
- a service that narrows its publishers (:meth:`ArtifactStorage.restrict_prefix_writers`) gets
  a deny of writes under its own prefix to every other principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_all
from mlops_cdk.aws.facts import (
    BASELINES_PREFIX,
    prefixes_overlap_problem,
    role_arn_problem,
    s3_prefix_problem,
)
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import checked_arguments
from mlops_cdk.props.quality import GROUND_TRUTH_PREFIX

# Deny object-creating writes (PutObject, CompleteMultipartUpload, CopyObject) that carry no
# If-None-Match header; the parts of a multipart upload are not object-creating and pass.
WRITE_ONCE_CONDITIONS: dict[str, Any] = {
    "Null": {"s3:if-none-match": "true"},
    "Bool": {"s3:ObjectCreationOperation": "true"},
}
# On a versioned bucket DeleteObject adds a delete marker; DeleteObjectVersion removes a version.
DELETE_ACTIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion")
AUTO_DELETE_PROVIDER_ID = "Custom::S3AutoDeleteObjectsCustomResourceProvider"
SERVER_ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


def _check_layout(model_artifacts: str, data_capture: str, baselines: str, labels: str) -> None:
    """The prefixes' own rules, the configuration's for storage (a token is left alone)."""
    prefixes = {
        "model_artifacts_prefix": model_artifacts,
        "data_capture_prefix": data_capture,
        "baselines_prefix": baselines,
        "labels_prefix": labels,
    }
    problems = [
        (name, problem)
        for name, prefix in prefixes.items()
        if not cdk.Token.is_unresolved(prefix)
        and (problem := s3_prefix_problem(prefix)) is not None
    ]
    overlap = None if problems else prefixes_overlap_problem(model_artifacts, data_capture)
    if overlap is not None:
        problems.append(("data_capture_prefix", overlap))
    if problems:
        raise PropProblems(problems, subject="ArtifactStorage")


class ArtifactStorage(Construct):
    """KMS-encrypted, TLS-only, versioned, non-public bucket with server access logs.

    ``model_artifacts_prefix`` is where model tarballs live (read by SageMaker);
    ``data_capture_prefix`` is where endpoints write captured requests/responses;
    ``baselines_prefix`` is where drift baselines live (read by each service's drift check);
    ``labels_prefix`` is where ground-truth labels are delivered (``<prefix><service>/``, read
    by each service's quality check). Publishers alone write model artifacts, baselines and
    labels (:meth:`grant_publishers`); model
    artifacts are write-once, and they and the captured data can be deleted only by
    ``break_glass_role_arn`` (an existing role; none: by nobody, until the bucket policy is
    changed). Retained when its stack is deleted unless ``removal_policy`` says otherwise
    (DESTROY also empties the buckets). Exposes ``bucket`` and ``access_log_bucket``.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        model_artifacts_prefix: str = "models/",
        data_capture_prefix: str = "data-capture/",
        noncurrent_version_expiry: cdk.Duration | None = None,
        access_log_expiry: cdk.Duration | None = None,
        baselines_prefix: str = BASELINES_PREFIX,
        labels_prefix: str = GROUND_TRUTH_PREFIX,
        break_glass_role_arn: str | None = None,
    ) -> None:
        _check_layout(model_artifacts_prefix, data_capture_prefix, baselines_prefix, labels_prefix)
        if break_glass_role_arn is not None and not cdk.Token.is_unresolved(break_glass_role_arn):
            problem = role_arn_problem(break_glass_role_arn)
            if problem is not None:
                raise PropProblems([("break_glass_role_arn", problem)], subject="ArtifactStorage")
        super().__init__(scope, construct_id)
        # Both buckets refuse ACLs (BUCKET_OWNER_ENFORCED), so access logs are delivered under
        # the log bucket's policy ("If the target bucket ... uses the bucket owner enforced
        # setting ..., permissions can only be granted using policies": S3 API reference,
        # PutBucketLogging). aws-cdk-lib does so behind this feature flag, which `cdk init` sets;
        # set here, an app without it (an older cdk.json, a bare cdk.App()) gets the same
        # buckets instead of "objectOwnership must be set to ObjectWriter".
        self.node.set_context(SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, True)
        self.model_artifacts_prefix = model_artifacts_prefix
        self.data_capture_prefix = data_capture_prefix
        self.baselines_prefix = baselines_prefix
        self.labels_prefix = labels_prefix
        destroy = removal_policy == cdk.RemovalPolicy.DESTROY
        self.access_log_bucket = self._access_log_bucket(
            removal_policy, access_log_expiry or cdk.Duration.days(365)
        )
        self.bucket = self._artifact_bucket(
            key, removal_policy, noncurrent_version_expiry or cdk.Duration.days(90)
        )
        self._protect_objects(break_glass_role_arn, destroy=destroy)
        self._acknowledge()

    def _access_log_bucket(
        self, removal_policy: cdk.RemovalPolicy, access_log_expiry: cdk.Duration
    ) -> s3.Bucket:
        """The server access logs' bucket (SSE-S3: access logging delivers to no other)."""
        destroy = removal_policy == cdk.RemovalPolicy.DESTROY
        return s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging delivers only to SSE-S3 buckets, not SSE-KMS.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=access_log_expiry,
                    noncurrent_version_expiration=cdk.Duration.days(1),
                )
            ],
        )

    def _artifact_bucket(
        self,
        key: kms.IKey,
        removal_policy: cdk.RemovalPolicy,
        noncurrent_version_expiry: cdk.Duration,
    ) -> s3.Bucket:
        """The artifact and data-capture bucket: SSE-KMS with ``key``, versioned, logged."""
        destroy = removal_policy == cdk.RemovalPolicy.DESTROY
        return s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="artifacts/",
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireNoncurrentVersions",
                    noncurrent_version_expiration=noncurrent_version_expiry,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
        )

    def _acknowledge(self) -> None:
        """SSE-S3 for the access logs, and no cross-region replication."""
        acknowledge_all(
            self.access_log_bucket,
            ("HIPAA.Security-S3DefaultEncryptionKMS", "NIST.800.53.R5-S3DefaultEncryptionKMS"),
            "S3 server access logging delivers only to buckets encrypted with SSE-S3; the log "
            "bucket uses SSE-S3, TLS-only access and blocks all public access.",
        )
        replication_reason = (
            "Single-region hosting: artifacts are versioned, retained outside dev and "
            "reproducible from the training pipeline; cross-region replication is a DR "
            "decision that needs a second-region bucket this package does not manage."
        )
        for bucket in (self.bucket, self.access_log_bucket):
            acknowledge_all(
                bucket,
                (
                    "HIPAA.Security-S3BucketReplicationEnabled",
                    "NIST.800.53.R5-S3BucketReplicationEnabled",
                ),
                replication_reason,
            )

    def grant_publishers(self, role_arns: Sequence[str]) -> None:
        """Only ``role_arns`` (existing roles, any account) may write under the model-artifact,
        baselines and labels prefixes: an Allow for them (cross-account writers need it) and a
        Deny for every other principal, so no IAM policy in this account can grant it either.
        The key must let them encrypt through S3 too (``EncryptionKey.grant_publishers``)."""
        if not role_arns:
            return
        self._publishers_only(role_arns, self.model_artifacts_prefix, "ModelArtifacts")
        self._publishers_only(role_arns, self.baselines_prefix, "Baselines")
        self._publishers_only(role_arns, self.labels_prefix, "Labels")

    def _publishers_only(self, role_arns: Sequence[str], prefix: str, label: str) -> None:
        arns = sorted(role_arns)
        accounts = sorted({arn.split(":")[4] for arn in arns})
        only_publishers = {"ArnEquals": {"aws:PrincipalArn": arns}}
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"PublishersWrite{label}",
                principals=[iam.AccountPrincipal(a) for a in accounts],
                actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{prefix}*")],
                conditions=only_publishers,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"PublishersList{label}",
                principals=[iam.AccountPrincipal(a) for a in accounts],
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
                conditions={
                    **only_publishers,
                    "StringLike": {"s3:prefix": [prefix, f"{prefix}*"]},
                },
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"OnlyPublishersWrite{label}",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{prefix}*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": arns}},
            )
        )

    def _protect_objects(self, break_glass_role_arn: str | None, *, destroy: bool) -> None:
        """Write-once model artifacts; no deletes of them or of captured data except by the
        break-glass role (and CDK's auto-delete function when the stack empties the bucket)."""
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ModelArtifactsWriteOnce",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.model_artifacts_arn()],
                conditions=WRITE_ONCE_CONDITIONS,
            )
        )
        exempt = [break_glass_role_arn] if break_glass_role_arn else []
        if destroy:
            # Created by auto_delete_objects: it empties the bucket when the stack is deleted.
            provider = cdk.Stack.of(self).node.try_find_child(AUTO_DELETE_PROVIDER_ID)
            if isinstance(provider, cdk.CustomResourceProviderBase):
                exempt.append(provider.role_arn)
        conditions: dict[str, Any] | None = (
            {"ArnNotEquals": {"aws:PrincipalArn": exempt}} if exempt else None
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="NoDeletesOfArtifactsOrCapturedData",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(DELETE_ACTIONS),
                resources=[self.model_artifacts_arn(), self.data_capture_arn()],
                conditions=conditions,
            )
        )

    def restrict_prefix_writers(self, prefix: str, role_arns: Sequence[str], *, sid: str) -> None:
        """Deny ``s3:PutObject`` under ``prefix`` (e.g. ``models/churn/``) to every principal
        but ``role_arns``: a service whose publishers are a subset of the environment's."""
        if not prefix.startswith(self.model_artifacts_prefix):
            raise ValueError(
                f"ArtifactStorage: {prefix!r} is not under {self.model_artifacts_prefix!r}"
            )
        if not role_arns:
            raise ValueError(f"ArtifactStorage: name at least one writer of {prefix!r}")
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{prefix}*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": sorted(role_arns)}},
            )
        )

    def model_artifacts_arn(self, key_pattern: str = "*") -> str:
        """ARN of objects under the model-artifacts prefix."""
        return self.bucket.arn_for_objects(f"{self.model_artifacts_prefix}{key_pattern}")

    def baselines_arn(self, key_pattern: str = "*") -> str:
        """ARN of objects under the baselines prefix."""
        return self.bucket.arn_for_objects(f"{self.baselines_prefix}{key_pattern}")

    def data_capture_arn(self, key_pattern: str = "*") -> str:
        """ARN of objects under the data-capture prefix."""
        return self.bucket.arn_for_objects(f"{self.data_capture_prefix}{key_pattern}")

    def s3_uri(self, prefix: str) -> str:
        """``s3://<bucket>/<prefix>``."""
        return f"s3://{self.bucket.bucket_name}/{prefix}"
