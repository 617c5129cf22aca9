"""A CloudTrail trail for one environment, so EventBridge receives ``AWS API Call via
CloudTrail`` events ("AWS service events delivered via AWS CloudTrail", Amazon EventBridge User
Guide: they need a trail with logging enabled) and the calls are kept as validated log files.

Choices:
- Single-region, write management events only: the rules watch this environment's endpoints in
  its own region, and SageMaker's changing calls are write events. An account-wide,
  multi-region audit trail is an organisation decision (point ``change_detection.trail:
  existing`` at it); a second copy of the management events in an account that already has a
  trail is charged ("AWS CloudTrail pricing").
- The trail has a fixed name (``mlops-<env>-changes``): the key and bucket policies name it in
  their ``aws:SourceArn`` conditions, as the CloudTrail User Guide advises ("Configure AWS KMS key
  policies for CloudTrail", "Amazon S3 bucket policy for CloudTrail"), and the generated ARN of a
  trail that needs both policies first would be a dependency cycle.
- Log and digest files are encrypted with the environment key (``KMSKeyId``: CloudTrail puts
  them with SSE-KMS itself, "Configure AWS KMS key policies for CloudTrail", CloudTrail User
  Guide, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
  The bucket's default encryption is SSE-KMS with the same key too, as AWS Control Tower's
  proactive control CT.S3.PR.10 requires of every bucket
  (https://docs.aws.amazon.com/controltower/latest/controlreference/s3-rules.html; rule
  ``s3/ct-s3-pr-10.guard``), without an S3 Bucket Key: with one, CloudTrail would also need
  ``kms:Decrypt`` on the key (the same CloudTrail guide), a broader grant than encrypting.
- The bucket sends its object events to EventBridge (``EventBridgeConfiguration``, "Using
  EventBridge", Amazon S3 User Guide): a deleted or overwritten log file can be acted on, and
  CT.S3.PR.4 (event notifications configured) passes without a notification Lambda.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_all
from mlops_cdk.props.fields import checked_arguments

CLOUDTRAIL = "cloudtrail.amazonaws.com"


class ChangeTrail(Construct):
    """A single-region trail of write management events, with log file validation, encrypted
    with ``key``, delivered to its own TLS-only, non-public, versioned bucket (access logs to
    ``access_log_bucket``) whose log files expire after ``log_retention``.

    Adds to ``key``'s policy what CloudTrail needs (encrypt log files and describe the key, for
    this trail only) and lets ``readers`` (role ARNs of this account) decrypt log files through
    S3."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        trail_name: str,
        access_log_bucket: s3.IBucket,
        log_retention: cdk.Duration,
        noncurrent_version_expiry: cdk.Duration,
        removal_policy: cdk.RemovalPolicy,
        readers: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.trail_name = trail_name
        self.trail_arn = cdk.Stack.of(self).format_arn(
            service="cloudtrail", resource="trail", resource_name=trail_name
        )
        self.bucket = self._bucket(
            key, access_log_bucket, log_retention, noncurrent_version_expiry, removal_policy
        )
        self._allow_cloudtrail_delivery()
        self._allow_key_use(key, readers)
        self.trail = self._trail(key)
        # CloudTrail checks the bucket policy when the trail is created.
        if self.bucket.policy is not None:
            self.trail.node.add_dependency(self.bucket.policy)
        self._acknowledge()

    @property
    def _for_this_trail(self) -> dict[str, dict[str, str]]:
        """The ``aws:SourceArn`` condition naming this trail."""
        return {"StringEquals": {"aws:SourceArn": self.trail_arn}}

    def _bucket(
        self,
        key: kms.IKey,
        access_log_bucket: s3.IBucket,
        log_retention: cdk.Duration,
        noncurrent_version_expiry: cdk.Duration,
        removal_policy: cdk.RemovalPolicy,
    ) -> s3.Bucket:
        """The log bucket: SSE-KMS with ``key``, versioned, expiring, events to EventBridge."""
        destroy = removal_policy == cdk.RemovalPolicy.DESTROY
        bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=False,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=access_log_bucket,
            server_access_logs_prefix="cloudtrail/",
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireTrailLogs",
                    expiration=log_retention,
                    noncurrent_version_expiration=noncurrent_version_expiry,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
        )
        # CloudFormation's own property: no notification custom resource (s3.Bucket's
        # event_bridge_enabled adds one, a Lambda outside the VPC).
        cfn_bucket = cast(s3.CfnBucket, bucket.node.default_child)
        cfn_bucket.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        return bucket

    def _allow_cloudtrail_delivery(self) -> None:
        """The bucket policy statements CloudTrail needs to deliver this trail's log files."""
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailAclCheck",
                principals=[iam.ServicePrincipal(CLOUDTRAIL)],
                actions=["s3:GetBucketAcl"],
                resources=[self.bucket.bucket_arn],
                conditions=self._for_this_trail,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailWrite",
                principals=[iam.ServicePrincipal(CLOUDTRAIL)],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"AWSLogs/{cdk.Stack.of(self).account}/*")],
                conditions={
                    "StringEquals": {
                        "aws:SourceArn": self.trail_arn,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    }
                },
            )
        )

    def _allow_key_use(self, key: kms.IKey, readers: Sequence[str]) -> None:
        """Key policy: CloudTrail encrypts this trail's log files; ``readers`` decrypt via S3."""
        stack = cdk.Stack.of(self)
        for_this_trail = self._for_this_trail
        log_files_of_this_account = {
            "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{stack.partition}:cloudtrail:*:"
            f"{stack.account}:trail/*"
        }
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailEncryptLogs",
                principals=[iam.ServicePrincipal(CLOUDTRAIL)],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={**for_this_trail, "StringLike": log_files_of_this_account},
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailDescribeKey",
                principals=[iam.ServicePrincipal(CLOUDTRAIL)],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions=for_this_trail,
            )
        )
        if readers:
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="TrailReadersDecryptLogs",
                    principals=[iam.AccountRootPrincipal()],
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions={
                        "ArnEquals": {"aws:PrincipalArn": sorted(readers)},
                        "StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"},
                        "StringLike": log_files_of_this_account,
                    },
                )
            )

    def _trail(self, key: kms.IKey) -> cloudtrail.CfnTrail:
        """The trail: write management events of this region, validated, encrypted."""
        return cloudtrail.CfnTrail(
            self,
            "Trail",
            trail_name=self.trail_name,
            is_logging=True,
            s3_bucket_name=self.bucket.bucket_name,
            kms_key_id=key.key_arn,
            enable_log_file_validation=True,
            is_multi_region_trail=False,
            include_global_service_events=False,
            event_selectors=[
                cloudtrail.CfnTrail.EventSelectorProperty(
                    include_management_events=True, read_write_type="WriteOnly"
                )
            ],
        )

    def _acknowledge(self) -> None:
        acknowledge_all(
            self.bucket,
            (
                "HIPAA.Security-S3BucketReplicationEnabled",
                "NIST.800.53.R5-S3BucketReplicationEnabled",
            ),
            "Single-region change trail: log files are versioned, validated by digest files and "
            "expire by policy; replication to a second region is a DR decision this package "
            "does not manage.",
        )
        acknowledge_all(
            self.trail,
            (
                "HIPAA.Security-CloudTrailCloudWatchLogsEnabled",
                "NIST.800.53.R5-CloudTrailCloudWatchLogsEnabled",
            ),
            "EventBridge rules act on the watched calls within seconds; the S3 log files with "
            "digest validation are the audit record. A CloudWatch Logs copy of every write "
            "management event would double storage without adding a control.",
        )
