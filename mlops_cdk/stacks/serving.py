"""Stateless serving for one environment: models, weighted endpoint, variant autoscaling."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from mlops_cdk.config import EnvConfig
from mlops_cdk.config.monitoring import MonitoringConfig
from mlops_cdk.config.serving import ServingConfig, VariantConfig
from mlops_cdk.constructs.alarms import EndpointAlarms
from mlops_cdk.constructs.autoscaling import ScalingSpec, ScheduledCapacity, VariantAutoscaling
from mlops_cdk.constructs.dashboard import EndpointDashboard
from mlops_cdk.constructs.endpoint import (
    DataCaptureSpec,
    DeploymentSpec,
    ServerlessSpec,
    VariantSpec,
    WeightedEndpoint,
)
from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.constructs.notifications import AlarmTopic
from mlops_cdk.constructs.retraining import METRICS_NAMESPACE, RetrainingFunction
from mlops_cdk.constructs.smoke_access import SmokeTestAccess
from mlops_cdk.constructs.storage import ArtifactStorage
from mlops_cdk.stacks.settings import log_retention, removal_policy


def endpoint_name_for(stack_name: str) -> str:
    """A SageMaker endpoint name derived from the (account/region-unique) stack name."""
    name = re.sub(r"[^a-zA-Z0-9-]+", "-", stack_name).strip("-")[:63].rstrip("-")
    return name or "endpoint"


class ServingStack(cdk.Stack):
    """Composes HostedModel, WeightedEndpoint and VariantAutoscaling from ``config.serving``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        serving: ServingConfig,
        key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        repository: ecr.IRepository,
        storage: ArtifactStorage,
        execution_role: iam.IRole,
        monitoring: MonitoringConfig | None = None,
        retraining_role: iam.IRole | None = None,
        smoke_test_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"ML model serving ({config.name}): models, endpoint, autoscaling, "
            "alarms, retraining",
            termination_protection=config.termination_protection,
            **kwargs,
        )
        serverless_models = {v.model for v in serving.variants if v.is_serverless}
        self.models: dict[str, HostedModel] = {}
        for model in serving.models:
            in_vpc = model.name not in serverless_models
            image = (
                repository.repository_uri_for_digest(model.image_digest)
                if model.image_digest
                else repository.repository_uri_for_tag(model.image_tag)
            )
            self.models[model.name] = HostedModel(
                self,
                f"Model-{model.name}",
                execution_role=execution_role,
                image_uri=image,
                model_data_url=storage.bucket.s3_url_for_object(model.model_data_key),
                environment=model.environment,
                vpc=vpc if in_vpc else None,
                subnets=subnets if in_vpc else None,
                network_isolation=model.network_isolation,
            )

        endpoint_name = endpoint_name_for(self.stack_name)
        variant_names = [v.name for v in serving.variants]
        self.topic: AlarmTopic | None = None
        self.alarms: EndpointAlarms | None = None
        rollback_alarms: list[cloudwatch.Alarm] = []
        if monitoring is not None:
            self.topic = AlarmTopic(self, "AlarmTopic", key=key, emails=monitoring.alarm_emails)
            self.alarms = EndpointAlarms(
                self,
                "Alarms",
                endpoint_name=endpoint_name,
                variants={
                    v.name: v.instance.instance_type if v.instance else None
                    for v in serving.variants
                },
                thresholds=monitoring.operational,
                quality_alarms=monitoring.quality_alarms,
            )
            notify = cloudwatch_actions.SnsAction(self.topic.topic)
            for alarm in self.alarms.all_alarms:
                alarm.add_alarm_action(notify)
                alarm.add_ok_action(notify)
            rollback_alarms = self.alarms.for_kinds(monitoring.operational.rollback_on)

        capture = serving.data_capture
        deployment = serving.deployment
        step = deployment.step_size
        self.endpoint = WeightedEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            variants=[self._variant_spec(v) for v in serving.variants],
            key=key,
            capture_bucket=storage.bucket,
            capture_prefix=storage.data_capture_prefix,
            data_capture=DataCaptureSpec(
                sampling_percentage=capture.sampling_percentage,
                capture_input=capture.capture_input,
                capture_output=capture.capture_output,
            )
            if capture.enabled
            else None,
            deployment=DeploymentSpec(
                strategy=deployment.strategy,
                step_type=step.type if step else None,
                step_value=step.value if step else None,
                wait_seconds=deployment.wait_seconds,
                termination_wait_seconds=deployment.termination_wait_seconds,
                maximum_execution_timeout_seconds=deployment.maximum_execution_timeout_seconds,
            ),
            rollback_alarms=rollback_alarms,
        )

        self.autoscaling: dict[str, VariantAutoscaling] = {}
        for variant in serving.variants:
            scaling = self._scaling(variant)
            if scaling is not None:
                spec, kind = scaling
                self.autoscaling[variant.name] = VariantAutoscaling(
                    self,
                    f"Scaling-{variant.name}",
                    endpoint_name=self.endpoint.endpoint_name,
                    variant_name=variant.name,
                    spec=spec,
                    kind=kind,
                    depends_on=self.endpoint.endpoint,
                )

        self.retraining: RetrainingFunction | None = None
        retraining = monitoring.retraining if monitoring is not None else None
        if monitoring is not None and retraining is not None and self.alarms is not None:
            if retraining_role is None:
                raise ValueError("ServingStack: retraining is configured but no retraining_role")
            job = retraining.training_job
            self.retraining = RetrainingFunction(
                self,
                "Retraining",
                role=retraining_role,
                key=key,
                vpc=vpc,
                subnets=subnets,
                endpoint_name=endpoint_name,
                cooldown=cdk.Duration.minutes(retraining.cooldown_minutes),
                log_retention=log_retention(config),
                removal_policy=removal_policy(config),
                pipeline_name=retraining.pipeline.name if retraining.pipeline else None,
                training_job_template=job.template if job else None,
                training_job_prefix=job.job_prefix if job else None,
                training_role=execution_role if job else None,
                reserved_concurrency=retraining.reserved_concurrency,
            )
            # A direct alarm action: the alarm invokes the function asynchronously with its
            # state change, only on transitions to ALARM (see README, "Retraining").
            invoke = cloudwatch_actions.LambdaAction(self.retraining.function)
            triggers = [
                *(self.alarms.quality[a.name] for a in monitoring.quality_alarms if a.retrain),
                *self.alarms.for_kinds(monitoring.operational.retrain_on),
            ]
            for alarm in triggers:
                alarm.add_alarm_action(invoke)

        self.smoke_test: SmokeTestAccess | None = None
        if smoke_test_account is not None and serving.smoke_test is not None:
            self.smoke_test = SmokeTestAccess(
                self,
                "SmokeTest",
                endpoint_name=endpoint_name,
                trusted_account=smoke_test_account,
                depends_on=self.endpoint.endpoint,
            )

        if self.alarms is not None:
            self.dashboard = EndpointDashboard(
                self,
                "Dashboard",
                endpoint_name=endpoint_name,
                variant_names=variant_names,
                alarms=self.alarms.all_alarms,
                retraining_namespace=METRICS_NAMESPACE if self.retraining else None,
            )

    def _variant_spec(self, variant: VariantConfig) -> VariantSpec:
        model_name = self.models[variant.model].model_name
        if variant.serverless is not None:
            return VariantSpec(
                name=variant.name,
                model_name=model_name,
                initial_weight=variant.initial_weight,
                serverless=ServerlessSpec(
                    memory_size_mb=variant.serverless.memory_size_mb,
                    max_concurrency=variant.serverless.max_concurrency,
                    provisioned_concurrency=variant.serverless.provisioned_concurrency,
                ),
            )
        assert variant.instance is not None  # noqa: S101 - schema: exactly one kind
        return VariantSpec(
            name=variant.name,
            model_name=model_name,
            initial_weight=variant.initial_weight,
            instance_type=variant.instance.instance_type,
            initial_instance_count=variant.instance.initial_instance_count,
        )

    @staticmethod
    def _scaling(
        variant: VariantConfig,
    ) -> tuple[ScalingSpec, Literal["instances", "provisioned_concurrency"]] | None:
        if variant.instance is not None and variant.instance.autoscaling is not None:
            s = variant.instance.autoscaling
            return (
                ScalingSpec(
                    min_capacity=s.min_capacity,
                    max_capacity=s.max_capacity,
                    target_value=s.target_value,
                    metric=s.metric,
                    scale_in_cooldown_seconds=s.scale_in_cooldown_seconds,
                    scale_out_cooldown_seconds=s.scale_out_cooldown_seconds,
                    scheduled=[
                        ScheduledCapacity(
                            name=a.name,
                            cron=a.schedule,
                            min_capacity=a.min_capacity,
                            max_capacity=a.max_capacity,
                            time_zone=a.time_zone,
                        )
                        for a in s.scheduled
                    ],
                ),
                "instances",
            )
        if variant.serverless is not None and variant.serverless.autoscaling is not None:
            p = variant.serverless.autoscaling
            return (
                ScalingSpec(
                    min_capacity=p.min_capacity,
                    max_capacity=p.max_capacity,
                    target_value=p.target_utilization,
                    metric="provisioned_concurrency_utilization",
                    scale_in_cooldown_seconds=p.scale_in_cooldown_seconds,
                    scale_out_cooldown_seconds=p.scale_out_cooldown_seconds,
                ),
                "provisioned_concurrency",
            )
        return None
