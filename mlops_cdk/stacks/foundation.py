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
from mlops_cdk.stacks.settings import log_retention, removal_policy


class FoundationStack(cdk.Stack):
    """Composes the foundation constructs for one environment. Exposes them as attributes."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvConfig, **kwargs: Any
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
