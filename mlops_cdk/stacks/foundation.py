"""Stateful per-environment foundation: key, network, image registry, artifact storage, roles."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from mlops_cdk.config import EnvConfig
from mlops_cdk.constructs import (
    ArtifactStorage,
    EncryptionKey,
    FunctionRole,
    ModelImageRepository,
    PrivateNetwork,
    SageMakerExecutionRole,
)
from mlops_cdk.constructs.preflight_access import PreflightAccess
from mlops_cdk.stacks.settings import log_retention, removal_policy

# Output ids the pre-deploy check (mlops_cdk/preflight.py) reads: top-level ids are the logical
# ids, so they are stable.
BUCKET_OUTPUT = "ModelArtifactBucketName"
REPOSITORY_OUTPUT = "ModelImageRepositoryName"


class FoundationStack(cdk.Stack):
    """Composes the foundation constructs for one environment. Exposes them as attributes.

    ``pipeline_account`` (the deployment pipeline's tooling account) may assume a read-only
    role for the pre-deploy check of images and model artifacts."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        pipeline_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"ML hosting foundation ({config.name}): key, network, registry, "
            "artifact storage, SageMaker execution role",
            termination_protection=config.termination_protection,
            **kwargs,
        )
        policy = removal_policy(config)
        retention = log_retention(config)

        self.encryption = EncryptionKey(
            self,
            "Encryption",
            alias=f"alias/mlops/{config.name}",
            description=f"ML hosting data key ({config.name})",
            removal_policy=policy,
        )
        key = self.encryption.key

        network = config.network
        if network.existing_vpc is not None:
            existing = network.existing_vpc
            vpc = ec2.Vpc.from_vpc_attributes(
                self,
                "ImportedVpc",
                vpc_id=existing.vpc_id,
                vpc_cidr_block=str(existing.cidr),
                availability_zones=existing.availability_zones,
                isolated_subnet_ids=existing.private_subnet_ids,
                isolated_subnet_route_table_ids=existing.route_table_ids,
            )
            self.network = PrivateNetwork(
                self,
                "Network",
                key=key,
                log_retention=retention,
                removal_policy=policy,
                existing_vpc=vpc,
                create_endpoints=existing.create_endpoints,
            )
        elif network.new_vpc is not None:
            self.network = PrivateNetwork(
                self,
                "Network",
                key=key,
                log_retention=retention,
                removal_policy=policy,
                cidr=str(network.new_vpc.cidr),
                max_azs=network.new_vpc.max_azs,
            )
        else:  # pragma: no cover - NetworkConfig requires exactly one
            raise ValueError(f"{config.name}: network needs new_vpc or existing_vpc")

        self.registry = ModelImageRepository(
            self,
            "ModelImages",
            key=key,
            removal_policy=policy,
            max_tagged_images=config.registry.max_tagged_images,
            untagged_expiry_days=config.registry.untagged_expiry_days,
        )
        self.storage = ArtifactStorage(
            self,
            "Artifacts",
            key=key,
            removal_policy=policy,
            model_artifacts_prefix=config.storage.model_artifacts_prefix,
            data_capture_prefix=config.storage.data_capture_prefix,
            noncurrent_version_expiry=cdk.Duration.days(
                config.storage.noncurrent_version_expiry_days
            ),
            access_log_expiry=cdk.Duration.days(config.storage.access_log_expiry_days),
        )
        self.retraining_role: FunctionRole | None = None
        if config.monitoring is not None:
            # CloudWatch alarms publish to the KMS-encrypted alarm topic.
            self.encryption.grant_service_use(
                "cloudwatch.amazonaws.com", sid="CloudWatchAlarmsToTopic", same_account_only=False
            )
            if config.monitoring.retraining is not None:
                self.retraining_role = FunctionRole(
                    self,
                    "RetrainingFunction",
                    description="Retraining function (permissions attached by the serving stack)",
                    key=self.encryption,
                )
        self.execution_role = SageMakerExecutionRole(
            self,
            "SageMakerExecution",
            repository=self.registry.repository,
            storage=self.storage,
            key=self.encryption,
            vpc=self.network.vpc,
        )
        self._grant_people(config)
        self.bucket_output = cdk.CfnOutput(
            self,
            BUCKET_OUTPUT,
            value=self.storage.bucket.bucket_name,
            description=f"Publish model artifacts under s3://<this>/{config.storage.model_artifacts_prefix}",
        )
        self.repository_output = cdk.CfnOutput(
            self,
            REPOSITORY_OUTPUT,
            value=self.registry.repository.repository_name,
            description="Push model images here (publishers only)",
        )
        self.preflight: PreflightAccess | None = None
        if pipeline_account is not None and config.serving is not None:
            self.preflight = PreflightAccess(
                self,
                "Preflight",
                repository=self.registry.repository,
                bucket=self.storage.bucket,
                model_artifacts_prefix=config.storage.model_artifacts_prefix,
                trusted_account=pipeline_account,
            )

    def _grant_people(self, config: EnvConfig) -> None:
        """Publishers write images and model artifacts (nobody else can); operators read the
        encrypted on-failure queue. Both through one AWS service each."""
        self.storage.grant_publishers(config.publishers)
        self.registry.grant_publishers(config.publishers)
        self.encryption.grant_publishers(
            config.publishers, via_service="s3", sid="PublishersWriteModelArtifacts"
        )
        self.encryption.grant_operators(
            config.operators, via_service="sqs", sid="OperatorsReadQueues"
        )
