"""The S3 bucket for model artifacts and endpoint data capture, with its access-log bucket."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.compliance import acknowledge_all
from mlops_cdk.facts import BASELINES_PREFIX


class ArtifactStorage(Construct):
    """KMS-encrypted, TLS-only, versioned, non-public bucket with server access logs.

    ``model_artifacts_prefix`` is where model tarballs live (read by SageMaker);
    ``data_capture_prefix`` is where endpoints write captured requests/responses;
    ``baselines_prefix`` is where drift baselines live (read by each service's drift check).
    Publishers alone write model artifacts and baselines (:meth:`grant_publishers`).
    Retained when its stack is deleted unless ``removal_policy`` says otherwise (DESTROY also
    empties the buckets). Exposes ``bucket`` and ``access_log_bucket``.
    """

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
    ) -> None:
        super().__init__(scope, construct_id)
        noncurrent_version_expiry = noncurrent_version_expiry or cdk.Duration.days(90)
        access_log_expiry = access_log_expiry or cdk.Duration.days(365)
        self.model_artifacts_prefix = model_artifacts_prefix
        self.data_capture_prefix = data_capture_prefix
        self.baselines_prefix = baselines_prefix
        destroy = removal_policy == cdk.RemovalPolicy.DESTROY

        self.access_log_bucket = s3.Bucket(
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
        self.bucket = s3.Bucket(
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
        """Only ``role_arns`` (existing roles, any account) may write under the model-artifact
        and baselines prefixes: an Allow for them (cross-account writers need it) and a Deny for
        every other principal, so no IAM policy in this account can grant it either. The key
        must let them encrypt through S3 too (``EncryptionKey.grant_publishers``)."""
        if not role_arns:
            return
        self._publishers_only(role_arns, self.model_artifacts_prefix, "ModelArtifacts")
        self._publishers_only(role_arns, self.baselines_prefix, "Baselines")

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
