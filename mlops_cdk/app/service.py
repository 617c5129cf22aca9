"""One model service: its execution role, models, weighted endpoint, autoscaling, alarms,
retraining, smoke-test role and dashboard (``<env>-<service>``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.app.props import alarm_thresholds, quality_alarm
from mlops_cdk.app.settings import log_retention, removal_policy
from mlops_cdk.aws.names import endpoint_name_for
from mlops_cdk.config import EnvConfig
from mlops_cdk.config.drift_check import baseline_key
from mlops_cdk.config.endpoint import VariantConfig
from mlops_cdk.config.pipeline import step_role_name
from mlops_cdk.config.retraining import (
    BUCKET_PLACEHOLDER,
    IMAGE_PLACEHOLDER,
    SERVICE_PLACEHOLDER,
    TrainingJobRetraining,
)
from mlops_cdk.config.service import ServiceConfig
from mlops_cdk.constructs.alarms import EndpointAlarms
from mlops_cdk.constructs.autoscaling import ScalingSpec, ScheduledCapacity, VariantAutoscaling
from mlops_cdk.constructs.change_detection import EndpointChangeRule, cfn_execution_role_name
from mlops_cdk.constructs.dashboard import EndpointDashboard
from mlops_cdk.constructs.drift_check import DriftCheck
from mlops_cdk.constructs.endpoint import (
    ServerlessSpec,
    VariantSpec,
    WeightedEndpoint,
)
from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.constructs.notifications import AlarmTopic
from mlops_cdk.constructs.retraining import (
    METRICS_NAMESPACE,
    InvokeFunctionAction,
    RetrainingFunction,
    substitute_placeholders,
)
from mlops_cdk.constructs.role_readiness import wait_for_role_policies
from mlops_cdk.constructs.roles import FunctionRole, SageMakerExecutionRole, SageMakerTrainingRole
from mlops_cdk.constructs.smoke_access import SMOKE_ROLE_PATH, SmokeTestAccess


def _imported_bucket(stack: cdk.Stack, bucket: s3.IBucket) -> s3.IBucket:
    """The shared bucket through its owner's explicit exports (``Fn::ImportValue``), so that
    what this stack's policies say is what cdk-nag and CloudFormation see (the same exports CDK
    would create for an object reference)."""
    owner = cdk.Stack.of(bucket)
    if owner is stack:
        return bucket
    return s3.Bucket.from_bucket_attributes(
        stack,
        "SharedArtifactBucket",
        bucket_arn=owner.export_value(bucket.bucket_arn),
        bucket_name=owner.export_value(bucket.bucket_name),
    )


class ServiceStack(cdk.Stack):
    """Composes one service from ``config.services[service]``; shared resources (key, VPC,
    bucket) and the service's repository come in as objects. Exposes what it creates."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        service: str,
        key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        bucket: s3.IBucket,
        repository: ecr.IRepository,
        role_path: str,
        pipeline_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Model service {service} ({config.name}): models, endpoint, "
            "autoscaling, alarms, retraining",
            termination_protection=config.termination_protection,
            **kwargs,
        )
        spec = config.services[service]
        bucket = _imported_bucket(self, bucket)
        self.config, self.service, self.spec = config, service, spec
        self.key, self.vpc, self.subnets, self.role_path = key, vpc, subnets, role_path
        self.endpoint_name = endpoint_name_for(self.stack_name)
        self.execution_role = SageMakerExecutionRole(
            self,
            "SageMakerExecution",
            repository=repository,
            bucket=bucket,
            model_prefix=config.model_prefix(service),
            capture_prefix=config.capture_prefix(service),
            key=key,
            vpc=vpc,
            path=role_path,
        ).role
        self.models = self._models(spec, repository, bucket)
        self.topic, self.alarms = self._alarms(spec)
        rollback = self.alarms.for_kinds(self.thresholds.rollback_on) if self.alarms else []
        self.endpoint = self._endpoint(spec, bucket, rollback)
        self.autoscaling = self._autoscaling(spec)
        self.training_role: iam.IRole | None = None
        self.retraining = self._retraining(spec, bucket, repository)
        self.drift = self._drift(spec, bucket)
        self.change_rule = self._change_rule()
        self.smoke_test = self._smoke_test(spec, pipeline_account)
        self.dashboard = self._dashboard(spec)
        self._functions_wait_for_their_roles()

    def _functions_wait_for_their_roles(self) -> None:
        """Lambda refuses a function in a VPC whose role may not manage network interfaces
        (CreateFunction): each function waits for every policy of its role, not only for the
        default policy CDK makes it wait for."""
        for owner in (self.drift, self.retraining):
            function = getattr(owner, "function", None)
            if function is not None and function.role is not None:
                resource = function.node.default_child
                assert isinstance(resource, cdk.CfnResource)  # noqa: S101 - an L2 function
                wait_for_role_policies(resource, function.role)

    def _smoke_test(
        self, spec: ServiceConfig, pipeline_account: str | None
    ) -> SmokeTestAccess | None:
        if pipeline_account is None or spec.smoke_test is None:
            return None
        return SmokeTestAccess(
            self,
            "SmokeTest",
            endpoint_name=self.endpoint_name,
            trusted_account=pipeline_account,
            # Only the pipeline's smoke-test role of this environment and service may assume it,
            # and that role may assume only roles under this service's path.
            trusted_role_name=step_role_name("smoke", self.config.name, self.service),
            role_path=f"{SMOKE_ROLE_PATH}{self.service}/",
            depends_on=self.endpoint.endpoint,
        )

    def _dashboard(self, spec: ServiceConfig) -> EndpointDashboard | None:
        if self.alarms is None:
            return None
        return EndpointDashboard(
            self,
            "Dashboard",
            endpoint_name=self.endpoint_name,
            variant_names=[v.name for v in spec.variants],
            alarms=[
                *self.alarms.all_alarms,
                *(self.drift.alarms if self.drift else []),
                *(self.retraining.alarms if self.retraining else []),
                *(self.change_rule.alarms if self.change_rule else []),
            ],
            retraining_namespace=METRICS_NAMESPACE if self.retraining else None,
            watches=[
                owner.watch
                for owner in (self.drift, self.retraining, self.change_rule)
                if owner is not None
            ],
        )

    @property
    def thresholds(self) -> Any:
        return self.config.thresholds(self.service)

    def _models(
        self, spec: ServiceConfig, repository: ecr.IRepository, bucket: s3.IBucket
    ) -> dict[str, HostedModel]:
        serverless_models = {v.model for v in spec.variants if v.is_serverless}
        models: dict[str, HostedModel] = {}
        for model in spec.models:
            in_vpc = model.name not in serverless_models
            image = (
                repository.repository_uri_for_digest(model.image_digest)
                if model.image_digest
                else repository.repository_uri_for_tag(model.image_tag)
            )
            models[model.name] = HostedModel(
                self,
                f"Model-{model.name}",
                execution_role=self.execution_role,
                image_uri=image,
                model_data_url=bucket.s3_url_for_object(model.model_data_key),
                environment=model.environment,
                vpc=self.vpc if in_vpc else None,
                subnets=self.subnets if in_vpc else None,
                network_isolation=model.network_isolation,
            )
        return models

    def _alarms(self, spec: ServiceConfig) -> tuple[AlarmTopic | None, EndpointAlarms | None]:
        monitoring = self.config.monitoring
        if monitoring is None:
            return None, None
        topic = AlarmTopic(self, "AlarmTopic", key=self.key, emails=monitoring.alarm_emails)
        alarms = EndpointAlarms(
            self,
            "Alarms",
            endpoint_name=self.endpoint_name,
            variants={
                v.name: v.instance.instance_type if v.instance else None for v in spec.variants
            },
            thresholds=alarm_thresholds(self.thresholds),
            quality_alarms=[quality_alarm(a) for a in spec.quality_alarms],
        )
        notify = cloudwatch_actions.SnsAction(topic.topic)
        for alarm in alarms.all_alarms:
            alarm.add_alarm_action(notify)
            alarm.add_ok_action(notify)
        return topic, alarms

    def _endpoint(
        self, spec: ServiceConfig, bucket: s3.IBucket, rollback: Sequence[cloudwatch.IAlarm]
    ) -> WeightedEndpoint:
        return WeightedEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            variants=[self._variant_spec(v) for v in spec.variants],
            key=self.key,
            capture_bucket=bucket,
            capture_prefix=self.config.capture_prefix(self.service),
            data_capture=spec.data_capture,
            deployment=spec.deployment,
            rollback_alarms=rollback,
            execution_roles=[self.execution_role],
            metrics=spec.metrics,
        )

    def _autoscaling(self, spec: ServiceConfig) -> dict[str, VariantAutoscaling]:
        scaled: dict[str, VariantAutoscaling] = {}
        for variant in spec.variants:
            scaling = self._scaling(variant)
            if scaling is not None:
                scaling_spec, kind = scaling
                scaled[variant.name] = VariantAutoscaling(
                    self,
                    f"Scaling-{variant.name}",
                    endpoint_name=self.endpoint.endpoint_name,
                    variant_name=variant.name,
                    spec=scaling_spec,
                    kind=kind,
                    depends_on=self.endpoint.endpoint,
                )
        return scaled

    def _drift(self, spec: ServiceConfig, bucket: s3.IBucket) -> DriftCheck | None:
        """The service's drift check; its alarms notify the topic, and retrain when the
        config says so (like any retraining alarm: a direct alarm action)."""
        drift = spec.drift
        if drift is None:
            return None
        check = DriftCheck(
            self,
            "Drift",
            key=self.key,
            vpc=self.vpc,
            subnets=self.subnets,
            bucket=bucket,
            capture_prefix=self.config.capture_prefix(self.service),
            baseline_key=baseline_key(self.service),
            endpoint_name=self.endpoint_name,
            every=cdk.Duration.minutes(drift.period_minutes),
            log_retention=log_retention(self.config),
            removal_policy=removal_policy(self.config),
            role_path=self.role_path,
            window_hours=drift.window_hours,
            min_records=drift.min_records,
            features=drift.features,
            psi_threshold=drift.psi_threshold,
            drifted_share_threshold=drift.drifted_share_threshold,
            content_type=drift.content_type,
            heartbeat=cdk.Duration.hours(drift.heartbeat),
        )
        if self.topic is not None:  # drift, heartbeat and failure alarms alike
            notify = cloudwatch_actions.SnsAction(self.topic.topic)
            for alarm in check.alarms:
                alarm.add_alarm_action(notify)
                alarm.add_ok_action(notify)
        if drift.retrain and self.retraining is not None:
            check.alarm.add_alarm_action(InvokeFunctionAction(self.retraining.function))
        return check

    def _change_rule(self) -> EndpointChangeRule | None:
        """Notify the alarm topic of changes to this endpoint made outside the pipeline; the
        rule's failed deliveries and its dead-letter queue notify the same topic."""
        if self.config.change_detection is None or self.topic is None:
            return None
        rule = EndpointChangeRule(
            self,
            "ChangesOutsidePipeline",
            topic=self.topic.topic,
            key=self.key,
            endpoint_name=self.endpoint_name,
            endpoint_config_names=[self.endpoint.endpoint_config.attr_endpoint_config_name],
            model_names=[model.model_name for model in self.models.values()],
            excluded_role_names=[cfn_execution_role_name(self)],
            removal_policy=removal_policy(self.config),
        )
        rule.watch.notify(cloudwatch_actions.SnsAction(self.topic.topic))
        return rule

    def _training_job(
        self, job: TrainingJobRetraining, bucket: s3.IBucket, repository: ecr.IRepository
    ) -> tuple[iam.IRole, dict[str, Any]]:
        """The service's training role and its job template with the placeholders filled."""
        data, output, checkpoints = job.prefixes(self.service)
        self.training_role = SageMakerTrainingRole(
            self,
            "TrainingRole",
            bucket=bucket,
            data_prefix=data,
            output_prefix=output,
            checkpoint_prefix=checkpoints,
            key=self.key,
            repository=repository if job.uses_image_repository else None,
            vpc=self.vpc if job.uses_vpc else None,
            path=self.role_path,
        ).role
        template = substitute_placeholders(
            job.template,
            {
                BUCKET_PLACEHOLDER: bucket.bucket_name,
                IMAGE_PLACEHOLDER: repository.repository_uri,
                SERVICE_PLACEHOLDER: self.service,
            },
        )
        return self.training_role, template

    def _retraining(
        self, spec: ServiceConfig, bucket: s3.IBucket, repository: ecr.IRepository
    ) -> RetrainingFunction | None:
        retraining = spec.retraining
        if retraining is None or self.alarms is None:
            return None
        role = FunctionRole(
            self,
            "RetrainingRole",
            description=f"Retraining function of service {self.service}",
            key=self.key,
            path=self.role_path,
        )
        job = retraining.training_job
        training_role, template = (
            self._training_job(job, bucket, repository) if job else (None, None)
        )
        function = RetrainingFunction(
            self,
            "Retraining",
            role=role.role,
            key=self.key,
            vpc=self.vpc,
            subnets=self.subnets,
            endpoint_name=self.endpoint_name,
            cooldown=cdk.Duration.minutes(retraining.cooldown_minutes),
            log_retention=log_retention(self.config),
            removal_policy=removal_policy(self.config),
            pipeline_name=retraining.pipeline.name if retraining.pipeline else None,
            training_job_template=template,
            training_job_prefix=job.job_prefix if job else None,
            training_role=training_role,
            reserved_concurrency=retraining.reserved_concurrency,
        )
        if self.topic is not None:  # its on-failure queue and its errors
            function.watch.notify(cloudwatch_actions.SnsAction(self.topic.topic))
        # A direct alarm action: the alarm invokes the function asynchronously with its state
        # change, only on transitions to ALARM (see README, "Retraining").
        invoke = InvokeFunctionAction(function.function)
        triggers = [
            *(self.alarms.quality[a.name] for a in spec.quality_alarms if a.retrain),
            *self.alarms.for_kinds(self.thresholds.retrain_on),
        ]
        for alarm in triggers:
            alarm.add_alarm_action(invoke)
        return function

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
