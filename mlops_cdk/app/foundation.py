"""What every model service of an environment shares: key, network, artifact bucket, overview.

Nothing here names a service, so adding, changing or removing one leaves this template
byte-identical: service roles use the key through one IAM-path statement, and every value a
service stack imports is exported explicitly (not only when some service happens to use it).
The one exception: a service that narrows its ``publishers`` gets one bucket-policy statement
here (only they may write its model-artifact prefix).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from mlops_cdk.app.settings import (
    ENVIRONMENT_TAG,
    log_retention,
    removal_policy,
    resource_tags,
)
from mlops_cdk.aws.names import (
    BUCKET_OUTPUT,
    BUDGET_TOPIC_OUTPUT,
    FLOW_LOG_OUTPUT,
    FOUNDATION_WATCH_TOPIC_OUTPUT,
    trail_name_for,
)
from mlops_cdk.config import EnvConfig
from mlops_cdk.constructs import ArtifactStorage, EncryptionKey, PrivateNetwork
from mlops_cdk.constructs.budget import EnvironmentBudget
from mlops_cdk.constructs.change_trail import ChangeTrail
from mlops_cdk.constructs.dashboard import EnvironmentOverview
from mlops_cdk.constructs.foundation_watch import FoundationWatch
from mlops_cdk.constructs.smoke_access import SMOKE_ROLE_PATH

# Output ids the pre-deploy check (mlops_tools/preflight.py) reads: top-level ids are the logical
# ids, so they are stable.


# The AWS services through which the roles under the service path use the key (kms:ViaService):
# S3 (artifacts, data capture, training data), SQS (on-failure queues), SNS (encrypted topics),
# SageMaker, Lambda and ECR (on the roles' behalf), and EC2 (EBS: the ML storage volumes of
# training jobs and endpoints; which service SageMaker's volume requests arrive through cannot
# be checked without an account, so both are admitted). No role under the path calls KMS
# directly.
SERVICE_ROLE_KEY_VIA = ("s3", "sqs", "sns", "sagemaker", "lambda", "ecr", "ec2")


def service_role_path(env: str) -> str:
    """IAM path of every service role of ``env``; the key policy admits this path."""
    return f"/mlops/{env}/"


class FoundationStack(cdk.Stack):
    """Composes the shared constructs for one environment. Exposes them as attributes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"ML hosting foundation ({config.name}): key, network, artifact storage "
            "shared by every model service",
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
        self.network = self._network(config, key, retention, policy)
        self.storage = self._storage(config, policy)
        self.role_path = service_role_path(config.name)
        self._grant_role_paths()
        if config.monitoring is not None:
            # CloudWatch alarms publish to each service's KMS-encrypted alarm topic.
            self.encryption.grant_service_use(
                "cloudwatch.amazonaws.com", sid="CloudWatchAlarmsToTopic", for_sns_topics=True
            )
        self._grant_people(config)
        self.change_trail = self._change_detection(config, policy)
        self.foundation_watch = self._foundation_watch(config, policy)
        self.bucket_output = cdk.CfnOutput(
            self,
            BUCKET_OUTPUT,
            value=self.storage.bucket.bucket_name,
            description="Publish model artifacts under "
            f"s3://<this>/{config.storage.model_artifacts_prefix}<service>/",
        )
        # A flow log whose delivery fails stays ACTIVE and records nothing: preflight reads it.
        cdk.CfnOutput(
            self,
            FLOW_LOG_OUTPUT,
            value=self.network.flow_log.flow_log_id,
            description="VPC flow log (preflight checks that its delivery has not failed)",
        )
        self._export_shared_values()
        self.overview = EnvironmentOverview(self, "Overview", endpoint_prefix=f"{config.name}-")
        self.budget = self._budget(config)

    def _storage(self, config: EnvConfig, policy: cdk.RemovalPolicy) -> ArtifactStorage:
        """The artifact and data-capture bucket of the environment, with its access logs."""
        return ArtifactStorage(
            self,
            "Artifacts",
            key=self.encryption.key,
            removal_policy=policy,
            model_artifacts_prefix=config.storage.model_artifacts_prefix,
            data_capture_prefix=config.storage.data_capture_prefix,
            noncurrent_version_expiry=cdk.Duration.days(
                config.storage.noncurrent_version_expiry_days
            ),
            access_log_expiry=cdk.Duration.days(config.storage.access_log_expiry_days),
            break_glass_role_arn=config.storage.break_glass_role_arn,
        )

    def _grant_role_paths(self) -> None:
        """The environment's roles (``/mlops/<env>/``) use the key through the services that
        act for them. The pipeline's smoke test uploads an asynchronous endpoint's request
        payload under the service's encrypted input prefix and reads the result: the smoke
        roles (one per service, under their own path) may encrypt a new object and decrypt one
        (GenerateDataKey, Decrypt: SSE-KMS uploads, multipart ones included, and reads), through
        S3 only, and create no grant. Stated whether or not a service is asynchronous today, so
        adding one does not change this stack."""
        self.encryption.grant_role_path(
            self.role_path, sid="ServiceRolesUse", via_services=SERVICE_ROLE_KEY_VIA
        )
        self.encryption.grant_role_path(
            SMOKE_ROLE_PATH,
            sid="SmokeRolesUseThroughS3",
            via_services=["s3"],
            actions=("kms:Decrypt", "kms:GenerateDataKey"),
            grants=False,
        )

    def _network(
        self,
        config: EnvConfig,
        key: Any,
        retention: Any,
        policy: cdk.RemovalPolicy,
    ) -> PrivateNetwork:
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
            return PrivateNetwork(
                self,
                "Network",
                key=key,
                log_retention=retention,
                removal_policy=policy,
                existing_vpc=vpc,
                secondary_cidrs=[str(c) for c in existing.secondary_cidrs],
                create_endpoints=existing.create_endpoints,
                runtime_endpoint_prefix=f"{config.name}-",
            )
        if network.new_vpc is None:  # pragma: no cover - NetworkConfig requires exactly one
            raise ValueError(f"{config.name}: network needs new_vpc or existing_vpc")
        return PrivateNetwork(
            self,
            "Network",
            key=key,
            log_retention=retention,
            removal_policy=policy,
            cidr=str(network.new_vpc.cidr),
            max_azs=network.new_vpc.max_azs,
            runtime_endpoint_prefix=f"{config.name}-",
        )

    def _change_detection(self, config: EnvConfig, policy: cdk.RemovalPolicy) -> ChangeTrail | None:
        """EventBridge rules of the services publish to their encrypted alarm topics (changes
        made outside the pipeline, approvals, failed retraining runs, scaling that reached its
        maximum), with dead-letter queues encrypted with the key; the trail the change rules
        depend on, when this app creates it. Every service with an alarm topic (``monitoring``)
        may have such a rule: its scalable targets are known only once its stack is built, and
        the Foundation does not change when a service does."""
        change = config.change_detection
        if change is None and config.monitoring is None:
            return None
        self.encryption.grant_service_use(
            # Bounded to this account's topics by the encryption context SNS sends to KMS.
            "events.amazonaws.com",
            sid="EventBridgeRulesToTopic",
            for_sns_topics=True,
        )
        self.encryption.grant_service_use(
            # The rules' dead-letter queues (encrypted with this key): this account's queues.
            "events.amazonaws.com",
            sid="EventBridgeDeadLetters",
            for_sqs_queues=True,
        )
        if change is None:
            return None
        if not change.creates_trail:
            cdk.CfnOutput(
                self,
                "ChangeTrailName",
                value=str(change.existing_trail_name),
                description="Existing CloudTrail trail the services' change-detection rules rely "
                "on (not managed here: it must keep logging this region's write events)",
            )
            return None
        trail = ChangeTrail(
            self,
            "ChangeTrail",
            key=self.encryption.key,
            trail_name=trail_name_for(config.name),
            access_log_bucket=self.storage.access_log_bucket,
            log_retention=cdk.Duration.days(change.log_retention_days),
            noncurrent_version_expiry=cdk.Duration.days(
                config.storage.noncurrent_version_expiry_days
            ),
            removal_policy=policy,
            readers=config.operators,
        )
        cdk.CfnOutput(
            self,
            "ChangeTrailName",
            value=trail.trail_name,
            description="CloudTrail trail that feeds the services' change-detection rules",
        )
        return trail

    def _foundation_watch(
        self, config: EnvConfig, policy: cdk.RemovalPolicy
    ) -> FoundationWatch | None:
        """Who is told when the environment key is disabled or scheduled for deletion, or the
        change trail stopped or deleted: the alarm e-mails, through a topic with a key of its
        own (the services' topics use the environment key and would go silent). Only where
        the trail the rules depend on is known (``change_detection``) and someone is to be
        told (``monitoring``)."""
        change = config.change_detection
        if change is None or not change.watch_foundation or config.monitoring is None:
            return None
        watch = FoundationWatch(
            self,
            "FoundationWatch",
            keys=[self.encryption.key],
            environment=config.name,
            emails=config.monitoring.alarm_emails,
            trail_names=change.watched_trail_names(config.name, config.account, config.region),
            removal_policy=policy,
        )
        # SNS deletes an e-mail subscription left unconfirmed for 48 hours: preflight lists the
        # topic's subscriptions, as it does the budget topic's.
        cdk.CfnOutput(
            self,
            FOUNDATION_WATCH_TOPIC_OUTPUT,
            value=watch.topic.topic.topic_arn,
            description="Foundation-watch topic (preflight checks its e-mail subscriptions)",
        )
        return watch

    def _budget(self, config: EnvConfig) -> EnvironmentBudget | None:
        """The environment's cost budget and its notification topic, only when configured
        (the service alarm topics belong to the services; this one names none)."""
        if config.budget is None:
            return None
        budget = EnvironmentBudget(
            self,
            "Budget",
            limit_usd=config.budget.monthly_usd,
            tag_key=ENVIRONMENT_TAG,
            tag_value=resource_tags(config)[ENVIRONMENT_TAG],
            key=self.encryption.key,
            emails=config.monitoring.alarm_emails if config.monitoring else (),
            actual_percent=config.budget.thresholds_percent,
            forecast_percent=config.budget.forecast_percent,
            tags=resource_tags(config),
        )
        # SNS deletes an e-mail subscription left unconfirmed for 48 hours, unnoticed by
        # CloudFormation: preflight lists the topic's subscriptions.
        cdk.CfnOutput(
            self,
            BUDGET_TOPIC_OUTPUT,
            value=budget.topic.topic_arn,
            description="Budget alert topic (preflight checks its e-mail subscriptions)",
        )
        return budget

    def _grant_people(self, config: EnvConfig) -> None:
        """Publishers write model artifacts (nobody else can); operators read the encrypted
        on-failure queues. Both through one AWS service each. (Image pushes are granted by each
        service's repository policy.)"""
        self.storage.grant_publishers(config.publishers)
        for service, spec in sorted(config.services.items()):
            # Only a service that narrows its publishers is named here (one deny statement):
            # the others' prefixes stay open to every environment publisher.
            if spec.publishers is not None and set(spec.publishers) != set(config.publishers):
                self.storage.restrict_prefix_writers(
                    config.model_prefix(service),
                    spec.publishers,
                    sid=f"OnlyPublishersOf{service.title().replace('-', '')}",
                )
        self.encryption.grant_publishers(
            config.publishers, via_service="s3", sid="PublishersWriteModelArtifacts"
        )
        self.encryption.grant_operators(
            config.operators, via_service="sqs", sid="OperatorsReadQueues"
        )

    def _export_shared_values(self) -> None:
        """Export every value a service stack may import, whether or not a service uses it
        today: CDK would otherwise add or remove exports here as services come and go."""
        values = [
            self.encryption.key.key_arn,
            self.storage.bucket.bucket_arn,
            self.storage.bucket.bucket_name,
            self.network.vpc.vpc_id,
            self.network.vpc.vpc_cidr_block,
            *(subnet.subnet_id for subnet in self.network.subnets),
        ]
        for value in values:
            if cdk.Token.is_unresolved(value):  # an imported VPC's ids are literals
                self.export_value(value)
