"""One model service: its execution role, models, weighted endpoint, autoscaling, alarms,
retraining, smoke-test role and dashboard (``<env>-<service>``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.app.settings import log_retention, removal_policy
from mlops_cdk.aws.names import (
    ALARM_TOPIC_OUTPUT,
    endpoint_name_for,
    model_package_group_name,
)
from mlops_cdk.config import EnvConfig
from mlops_cdk.config.drift_check import baseline_key
from mlops_cdk.config.endpoint import ModelConfig
from mlops_cdk.config.pipeline import step_role_name
from mlops_cdk.config.retraining import (
    BUCKET_PLACEHOLDER,
    IMAGE_PLACEHOLDER,
    SERVICE_PLACEHOLDER,
    TrainingJobRetraining,
)
from mlops_cdk.config.service import ServiceConfig, announces_approvals
from mlops_cdk.constructs.alarms import AlarmThresholds, EndpointAlarms
from mlops_cdk.constructs.async_access import (
    AsyncExecutionAccess,
    AsyncNotificationTopics,
    AsyncOutput,
    AsyncSubmitters,
)
from mlops_cdk.constructs.async_scaling import AsyncEndpointAlarms, AsyncEndpointScaling
from mlops_cdk.constructs.autoscaling import VariantAutoscaling
from mlops_cdk.constructs.batch_transform import BatchTransformJob, execution_widgets
from mlops_cdk.constructs.change_detection import EndpointChangeRule, cfn_execution_role_name
from mlops_cdk.constructs.dashboard import EndpointDashboard
from mlops_cdk.constructs.drift_check import DriftCheck
from mlops_cdk.constructs.endpoint import WeightedEndpoint
from mlops_cdk.constructs.event_notification import EventToTopic
from mlops_cdk.constructs.inference_components import InferenceComponentEndpoint
from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.constructs.model_registry import ModelPackageGroup
from mlops_cdk.constructs.notifications import AlarmTopic
from mlops_cdk.constructs.promotion import ApprovalNotification
from mlops_cdk.constructs.quality_check import QualityCheck
from mlops_cdk.constructs.retraining import (
    METRICS_NAMESPACE,
    InvokeFunctionAction,
    RetrainingFunction,
    substitute_placeholders,
)
from mlops_cdk.constructs.retraining_pipeline import PipelineImages, RetrainingPipeline
from mlops_cdk.constructs.roles import FunctionRole, SageMakerExecutionRole, SageMakerTrainingRole
from mlops_cdk.constructs.scaling_notification import ScaledToMaxNotification
from mlops_cdk.constructs.scan_notification import ImageScanNotification
from mlops_cdk.constructs.shadow import ShadowVariantAlarms
from mlops_cdk.constructs.smoke_access import SMOKE_ROLE_PATH, SmokeTestAccess
from mlops_cdk.props.async_inference import async_prefixes
from mlops_cdk.props.batch import job_name_prefix, output_prefix, service_batch_prefix
from mlops_cdk.props.retraining_pipeline import retraining_prefixes


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
        self.execution_role = self._execution_role(spec, repository, bucket)
        self.models = self._models(spec, repository, bucket)
        self.topic, self.alarms = self._alarms(spec)
        self._serving(spec, bucket)
        self.training_role: iam.IRole | None = None
        self.pipeline_failures: EventToTopic | None = None
        self.run_failures: EventToTopic | None = None
        self.retraining_pipeline = self._managed_retraining(spec, bucket, repository)
        self.retraining = self._retraining(spec, bucket, repository)
        self.drift, self.quality = self._drift(spec, bucket), self._quality_check(spec, bucket)
        self.change_rule, self.approvals = self._change_rule(), self._approval_notification(spec)
        self.smoke_test = self._smoke_test(spec, pipeline_account)
        self.async_parts = self._async_endpoint(spec, bucket)
        self.scaled_to_max, self.image_scans = self._scaled_to_max(), self._image_scans(repository)
        self.dashboard = self._dashboard(spec)
        self.shadow = self._shadow(spec)
        self.batch_jobs = self._batch_jobs(spec, bucket)

    def _execution_role(
        self, spec: ServiceConfig, repository: ecr.IRepository, bucket: s3.IBucket
    ) -> iam.IRole:
        """The role the service's models (and batch jobs) run as: its repository, model and
        capture prefixes, batch input/output and, with a package group, the artifacts the
        retraining pipeline registers."""
        service = self.service
        return SageMakerExecutionRole(
            self,
            "SageMakerExecution",
            repository=repository,
            bucket=bucket,
            model_prefix=self.config.model_prefix(service),
            capture_prefix=self.config.capture_prefix(service),
            key=self.key,
            vpc=self.vpc,
            path=self.role_path,
            batch_read_prefix=service_batch_prefix(service) if spec.batch_jobs else None,
            batch_write_prefixes=[output_prefix(service, job.name) for job in spec.batch_jobs],
            registered_model_prefix=retraining_prefixes(service)[0]
            if announces_approvals(spec)
            else None,
        ).role

    def _serving(self, spec: ServiceConfig, bucket: s3.IBucket) -> None:
        """How the service serves: a weighted (real-time or asynchronous) endpoint with its
        autoscaling, or inference components on a shared fleet."""
        rollback = self.alarms.rollback_alarms if self.alarms else []
        self.async_output = self._async_output(spec, bucket)
        self._weighted_endpoint = (
            self._endpoint(spec, bucket, rollback) if spec.has_endpoint else None
        )
        self.autoscaling = self._autoscaling(spec)
        self.inference_components = self._inference_components(spec)

    @property
    def endpoint(self) -> WeightedEndpoint:
        """The service's endpoint; a service of batch jobs only has none."""
        if self._weighted_endpoint is None:
            raise AttributeError(f"service {self.service!r} has no endpoint (batch jobs only)")
        return self._weighted_endpoint

    def _batch_jobs(self, spec: ServiceConfig, bucket: s3.IBucket) -> dict[str, BatchTransformJob]:
        """One state machine per batch job (and its schedule); alarms notify the topic, and the
        dashboard shows the executions (a dashboard of its own for a batch-only service)."""
        jobs: dict[str, BatchTransformJob] = {}
        for job in spec.batch_jobs:
            model = self.models[job.model]
            if job.instance_count > 1:
                model.allow_distributed_jobs()
            jobs[job.name] = BatchTransformJob(
                self,
                f"Batch-{job.name}",
                spec=job,
                service=self.service,
                job_name_prefix=job_name_prefix(self.config.name, self.service, job.name),
                model_name=model.model_name,
                execution_role=self.execution_role,
                key=self.key,
                bucket=bucket,
                role_path=self.role_path,
                log_retention=log_retention(self.config),
                removal_policy=removal_policy(self.config),
                depends_on=model,
            )
            if self.topic is not None:
                jobs[job.name].notify(cloudwatch_actions.SnsAction(self.topic.topic))
        if jobs:
            widgets = execution_widgets(list(jobs.values()))
            if self.dashboard is not None:
                self.dashboard.dashboard.add_widgets(*widgets)
            else:
                cloudwatch.Dashboard(self, "BatchDashboard", widgets=[widgets])
        return jobs

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
            depends_on=self.inference_components.endpoint
            if self.inference_components is not None
            else self.endpoint.endpoint,
            alarm_topic=self.topic.topic if self.topic is not None else None,
        )

    def _async_output(self, spec: ServiceConfig, bucket: s3.IBucket) -> AsyncOutput | None:
        """An asynchronous endpoint's topics, what its execution role may do, and where it
        writes (``async/<service>/output/`` and ``.../failures/``)."""
        if spec.async_inference is None:
            return None
        input_prefix, output_prefix, failure_prefix = async_prefixes(self.service)
        topics = AsyncNotificationTopics(
            self, "AsyncTopics", key=self.key, spec=spec.async_inference.notifications
        )
        access = AsyncExecutionAccess(
            self,
            "AsyncExecutionAccess",
            role=self.execution_role,
            bucket=bucket,
            input_prefix=input_prefix,
            output_prefix=output_prefix,
            failure_prefix=failure_prefix,
            topics=topics.topics,
        )
        cdk.CfnOutput(
            self,
            "AsyncInputLocation",
            value=bucket.s3_url_for_object(input_prefix),
            description="Where submitters put asynchronous requests (the smoke test reads it)",
        )
        return AsyncOutput(
            bucket=bucket,
            output_prefix=output_prefix,
            failure_prefix=failure_prefix,
            topics=topics,
            max_concurrent_invocations_per_instance=(
                spec.async_inference.max_concurrent_invocations_per_instance
            ),
            policies=[access.policy],
        )

    def _async_endpoint(self, spec: ServiceConfig, bucket: s3.IBucket) -> dict[str, Any]:
        """Backlog scaling (to zero, woken by HasBacklogWithoutCapacity), the async alarms (to
        the service topic; retraining on ``alarms.retrain_on``) and the submitters (the smoke
        role included)."""
        settings = spec.async_inference
        if settings is None:
            return {}
        variant = spec.variants[0].name
        parts: dict[str, Any] = {}
        if settings.scaling is not None:
            parts["scaling"] = AsyncEndpointScaling(
                self,
                "AsyncScaling",
                endpoint_name=self.endpoint.endpoint_name,
                variant_name=variant,
                spec=settings.scaling,
                depends_on=self.endpoint.endpoint,
            )
        if self.topic is not None:
            alarms = AsyncEndpointAlarms(
                self,
                "AsyncAlarms",
                endpoint_name=self.endpoint_name,
                variant_name=variant,
                spec=settings.alarms,
                notifications=settings.notifications.success or settings.notifications.error,
            )
            notify = cloudwatch_actions.SnsAction(self.topic.topic)
            for alarm in alarms.all_alarms:
                alarm.add_alarm_action(notify)
                alarm.add_ok_action(notify)
            if self.retraining is not None:
                for alarm in alarms.for_kinds(settings.alarms.retrain_on):
                    alarm.add_alarm_action(InvokeFunctionAction(self.retraining.function))
            parts["alarms"] = alarms
        smoke_roles = [self.smoke_test.role] if self.smoke_test is not None else []
        if not (settings.submitters or smoke_roles):
            return parts
        input_prefix, output_prefix, failure_prefix = async_prefixes(self.service)
        parts["submitters"] = AsyncSubmitters(
            self,
            "AsyncSubmitters",
            endpoint_arn=self.endpoint.endpoint_arn,
            bucket=bucket,
            key=self.key,
            input_prefix=input_prefix,
            output_prefix=output_prefix,
            failure_prefix=failure_prefix,
            role_arns=settings.submitters,
            roles=smoke_roles,
        )
        return parts

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
                *(self.quality.alarms if self.quality else []),
                *(self.retraining.alarms if self.retraining else []),
                *(self.change_rule.alarms if self.change_rule else []),
                *(self.async_parts["alarms"].all_alarms if "alarms" in self.async_parts else []),
                *([self.retraining_pipeline.alarm] if self.retraining_pipeline else []),
                *(self.scaled_to_max.alarms if self.scaled_to_max else []),
                *(self.image_scans.alarms if self.image_scans else []),
                *(self.run_failures.alarms if self.run_failures else []),
            ],
            retraining_namespace=METRICS_NAMESPACE if self.retraining else None,
            asynchronous=spec.async_inference is not None,
            watches=[
                owner.watch
                for owner in (
                    self.drift,
                    self.quality,
                    self.retraining,
                    self.change_rule,
                    self.approvals,
                    self.pipeline_failures,
                    self.run_failures,
                    self.scaled_to_max,
                    self.image_scans,
                )
                if owner is not None
            ],
        )

    @property
    def thresholds(self) -> AlarmThresholds:
        thresholds = self.config.thresholds(self.service)
        if self.spec.async_inference is not None:
            # An asynchronous endpoint publishes no Invocations metric ("Alarms and logs for
            # tracking metrics from asynchronous endpoints",
            # https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html) and
            # EndpointAlarms refuses a no-invocations alarm for it: the environment's default
            # does not apply (the async alarms watch the backlog).
            return dataclasses.replace(thresholds, no_invocations_minutes=None)
        return thresholds

    def _models(
        self, spec: ServiceConfig, repository: ecr.IRepository, bucket: s3.IBucket
    ) -> dict[str, HostedModel]:
        """One model per ``models[]`` entry, its props as validated. The execution role
        already pulls from the repository and reads the service's model prefix (no grants
        here): preflight checks that the images and artifacts are there. Serverless models
        run outside the VPC."""
        serverless_models = {v.model for v in spec.variants if v.is_serverless}
        default_group = model_package_group_name(self.config.name, self.service)
        models: dict[str, HostedModel] = {}
        for model in spec.models:
            in_vpc = model.name not in serverless_models
            models[model.name] = HostedModel(
                self,
                f"Model-{model.name}",
                spec=model,
                repository=repository,
                bucket=bucket,
                model_package_group=default_group,
                execution_role=self.execution_role,
                vpc=self.vpc if in_vpc else None,
                subnets=self.subnets if in_vpc else None,
                grants=False,
            )
            if model.model_package is not None:
                self._package_metadata(models[model.name], model, default_group)
        return models

    def _package_metadata(self, hosted: HostedModel, model: ModelConfig, group: str) -> None:
        """A model made from a pinned version of a model package group (the service's unless
        the configuration names another group or an ARN) carries the group and version as
        metadata (``MlopsModelPackage``), which the review report reads offline."""
        package = model.model_package
        assert package is not None  # noqa: S101 - only package models come here
        hosted.model.add_metadata(
            "MlopsModelPackage",
            {
                "Group": package.group_name(group),
                "Version": package.package_version,
                "Account": package.account(self.config.account),
                "Model": model.name,
            },
        )

    def _approval_notification(self, spec: ServiceConfig) -> ApprovalNotification | None:
        """The service's topic hears of every approved version of its model package group,
        with the ``make promote`` command; failed deliveries notify the same topic."""
        if self.topic is None or not announces_approvals(spec):
            return None
        notification = ApprovalNotification(
            self,
            "Approvals",
            topic=self.topic.topic,
            key=self.key,
            group_name=model_package_group_name(self.config.name, self.service),
            env=self.config.name,
            service=self.service,
            removal_policy=removal_policy(self.config),
        )
        notification.watch.notify(cloudwatch_actions.SnsAction(self.topic.topic))
        return notification

    def _alarms(self, spec: ServiceConfig) -> tuple[AlarmTopic | None, EndpointAlarms | None]:
        monitoring = self.config.monitoring
        if monitoring is None:
            return None, None
        topic = AlarmTopic(self, "AlarmTopic", key=self.key, emails=monitoring.alarm_emails)
        # SNS deletes an e-mail subscription left unconfirmed for 48 hours, and CloudFormation
        # does not notice: the smoke test lists the topic's subscriptions after each deploy.
        cdk.CfnOutput(
            self,
            ALARM_TOPIC_OUTPUT,
            value=topic.topic.topic_arn,
            description="Alarm topic (the smoke test checks its e-mail subscriptions)",
        )
        if not spec.has_endpoint:  # batch jobs only: their alarms notify the topic
            return topic, None
        alarms = EndpointAlarms(
            self,
            "Alarms",
            endpoint_name=self.endpoint_name,
            variants={
                v.name: v.instance.instance_type if v.instance else None for v in spec.variants
            },
            thresholds=self.thresholds,
            quality_alarms=spec.quality_alarms,
            asynchronous=spec.async_inference is not None,
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
            variants=spec.variants,
            models=self.models,
            key=self.key,
            capture_bucket=bucket,
            capture_prefix=self.config.capture_prefix(self.service),
            data_capture=spec.data_capture,
            deployment=spec.deployment,
            rollback_alarms=rollback,
            execution_roles=[self.execution_role],
            metrics=spec.metrics,
            async_output=self.async_output,
            shadow_variants=spec.shadow_variants,
        )

    def _shadow(self, spec: ServiceConfig) -> ShadowVariantAlarms | None:
        """The shadow variant's alarms (to the service topic; never rollback or retraining
        triggers) and its comparison with production on the service dashboard."""
        if not spec.shadow_variants or self.topic is None:
            return None
        shadow = spec.shadow_variants[0]
        if shadow.instance is None:  # refused by endpoint_problems: shadows run on instances
            return None
        parts = ShadowVariantAlarms(
            self,
            "Shadow",
            endpoint_name=self.endpoint_name,
            production=spec.variants[0].name,
            shadow=shadow.name,
            instance_type=shadow.instance.instance_type,
            thresholds=self.thresholds,
        )
        notify = cloudwatch_actions.SnsAction(self.topic.topic)
        for alarm in parts.all_alarms:
            alarm.add_alarm_action(notify)
            alarm.add_ok_action(notify)
        if self.dashboard is not None:
            self.dashboard.dashboard.add_widgets(*parts.widgets)
        return parts

    def _autoscaling(self, spec: ServiceConfig) -> dict[str, VariantAutoscaling]:
        scaled: dict[str, VariantAutoscaling] = {}
        for variant in (*spec.variants, *spec.shadow_variants):
            if variant.scaling is not None:
                scaled[variant.name] = VariantAutoscaling(
                    self,
                    f"Scaling-{variant.name}",
                    endpoint_name=self.endpoint.endpoint_name,
                    variant_name=variant.name,
                    scaling=variant.scaling,
                    depends_on=self.endpoint.endpoint,
                )
        return scaled

    def _inference_components(self, spec: ServiceConfig) -> InferenceComponentEndpoint | None:
        """Models as inference components on a shared fleet (endpoint ``<env>-<service>``):
        copy scaling (to zero, woken on NoCapacityInvocationFailures), alarms to the service
        topic, and a dashboard of the components."""
        if spec.inference_components is None:
            return None
        fleet = InferenceComponentEndpoint(
            self,
            "InferenceComponents",
            endpoint_name=self.endpoint_name,
            spec=spec.inference_components,
            models=self.models,
            execution_role=self.execution_role,
            key=self.key,
            metrics=spec.metrics,
            thresholds=self.thresholds,
        )
        if self.topic is not None:
            notify = cloudwatch_actions.SnsAction(self.topic.topic)
            for alarm in fleet.all_alarms:
                alarm.add_alarm_action(notify)
                alarm.add_ok_action(notify)
        cloudwatch.Dashboard(self, "ComponentsDashboard", widgets=[fleet.widgets()])
        return fleet

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
            spec=drift,
            log_retention=log_retention(self.config),
            removal_policy=removal_policy(self.config),
            role_path=self.role_path,
        )
        if self.topic is not None:  # drift, heartbeat and failure alarms alike
            notify = cloudwatch_actions.SnsAction(self.topic.topic)
            for alarm in check.alarms:
                alarm.add_alarm_action(notify)
                alarm.add_ok_action(notify)
        if drift.retrain and self.retraining is not None:
            check.alarm.add_alarm_action(InvokeFunctionAction(self.retraining.function))
        return check

    def _quality_check(self, spec: ServiceConfig, bucket: s3.IBucket) -> QualityCheck | None:
        """The service's quality check of its production variants' captured predictions
        against the labels under ground-truth/<service>/; its label heartbeat and failure alarms
        notify the topic. The quality alarms that watch its metrics are the service's
        quality_alarms (they retrain like any other)."""
        if spec.quality_check is None:
            return None
        check = QualityCheck(
            self,
            "Quality",
            spec=spec.quality_check,
            service=self.service,
            endpoint_name=self.endpoint_name,
            key=self.key,
            vpc=self.vpc,
            subnets=self.subnets,
            bucket=bucket,
            capture_prefix=self.config.capture_prefix(self.service),
            variants=[v.name for v in spec.variants],
            log_retention=log_retention(self.config),
            removal_policy=removal_policy(self.config),
            role_path=self.role_path,
        )
        if self.topic is not None:
            notify = cloudwatch_actions.SnsAction(self.topic.topic)
            for alarm in check.alarms:
                alarm.add_alarm_action(notify)
                alarm.add_ok_action(notify)
        return check

    def _scaled_to_max(self) -> ScaledToMaxNotification | None:
        """The topic hears when autoscaling takes any of the service's scalable targets
        (variants, asynchronous variants, inference components: all built by now) to its
        maximum; failed deliveries notify the same topic."""
        targets = [
            child.resource_id
            for child in self.node.find_all()
            if isinstance(child, appscaling.CfnScalableTarget)
        ]
        if self.topic is None or not targets or not self.thresholds.scaled_to_max:
            return None
        notification = ScaledToMaxNotification(
            self,
            "ScaledToMax",
            topic=self.topic.topic,
            key=self.key,
            resource_ids=targets,
            service=self.service,
            removal_policy=removal_policy(self.config),
        )
        notification.watch.notify(cloudwatch_actions.SnsAction(self.topic.topic))
        return notification

    def _image_scans(self, repository: ecr.IRepository) -> ImageScanNotification | None:
        """The topic hears when ECR's scan on push finds critical or high vulnerabilities in
        an image of the service's repository, or does not complete; failed deliveries notify
        the same topic."""
        if self.topic is None or not self.thresholds.image_scans:
            return None
        notification = ImageScanNotification(
            self,
            "ImageScans",
            topic=self.topic.topic,
            key=self.key,
            repository_names=[repository.repository_name],
            service=self.service,
            removal_policy=removal_policy(self.config),
        )
        notification.watch.notify(cloudwatch_actions.SnsAction(self.topic.topic))
        return notification

    def _change_rule(self) -> EndpointChangeRule | None:
        """Notify the alarm topic of changes to this endpoint made outside the pipeline; the
        rule's failed deliveries and its dead-letter queue notify the same topic."""
        if self.config.change_detection is None or self.topic is None or not self.spec.has_endpoint:
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

    def _managed_retraining(
        self, spec: ServiceConfig, bucket: s3.IBucket, repository: ecr.IRepository
    ) -> RetrainingPipeline | None:
        """The service's model package group (``self.package_group``, with ``model_registry`` or
        the managed pipeline) and the retraining pipeline this app deploys; its failures notify
        the topic."""
        self.package_group: ModelPackageGroup | None = None
        if not announces_approvals(spec):
            return None
        group_name = model_package_group_name(self.config.name, self.service)
        self.package_group = registry = ModelPackageGroup(
            self,
            "ModelRegistry",
            group_name=group_name,
            reader_accounts=spec.model_registry.reader_accounts if spec.model_registry else (),
            removal_policy=removal_policy(self.config),
        )
        managed = spec.retraining.managed_pipeline if spec.retraining else None
        if managed is None or managed.name is None:
            return None
        serving = managed.serving_model or spec.variants[0].model
        model = next(m for m in spec.models if m.name == serving)
        in_repository = [
            image.aws_image is None for image in (managed.training, managed.evaluation, model)
        ]
        pipeline = RetrainingPipeline(
            self,
            "RetrainingPipeline",
            spec=managed,
            pipeline_name=managed.name,
            service=self.service,
            group_name=group_name,
            images=PipelineImages(
                training=self._image_uri(managed.training, repository),
                evaluation=self._image_uri(managed.evaluation, repository),
                serving=self._image_uri(model, repository),
                repository=repository if any(in_repository) else None,
            ),
            bucket=bucket,
            key=self.key,
            vpc=self.vpc,
            subnets=self.subnets,
            role_path=self.role_path,
        )
        pipeline.node.add_dependency(registry)
        if self.topic is not None:
            notify = cloudwatch_actions.SnsAction(self.topic.topic)
            pipeline.alarm.add_alarm_action(notify)
            pipeline.alarm.add_ok_action(notify)
            # Each failed or stopped execution, by ARN (EventBridge; the key admits it: a
            # managed pipeline announces approvals, see Foundation._change_detection).
            failures = pipeline.notify_failures(
                self.topic.topic, removal_policy=removal_policy(self.config)
            )
            failures.watch.notify(notify)
            self.pipeline_failures = failures
        return pipeline

    def _image_uri(self, image: Any, repository: ecr.IRepository) -> str:
        """An image AWS provides (``aws_image``), or a digest or tag of the repository."""
        if image.aws_image is not None:
            return str(image.aws_image.resolve(self.config.region).uri)
        if image.image_digest:
            return repository.repository_uri_for_digest(image.image_digest)
        return repository.repository_uri_for_tag(image.image_tag)

    def _run_failures(self, function: RetrainingFunction) -> EventToTopic | None:
        """The topic hears of each training job or pipeline execution the function started
        that failed or was stopped; the pipeline this app deploys tells of its own
        (``pipeline_failures``). Failed deliveries notify the same topic."""
        if self.topic is None or self.pipeline_failures is not None:
            return None
        runs = function.notify_failures(
            self.topic.topic, removal_policy=removal_policy(self.config)
        )
        runs.watch.notify(cloudwatch_actions.SnsAction(self.topic.topic))
        return runs

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
            spec=retraining,
            log_retention=log_retention(self.config),
            removal_policy=removal_policy(self.config),
            pipeline_name=retraining.pipeline_name,
            training_job_template=template,
            training_job_prefix=job.job_prefix if job else None,
            training_role=training_role,
        )
        if self.topic is not None:  # its on-failure queue and its errors
            function.watch.notify(cloudwatch_actions.SnsAction(self.topic.topic))
            self.run_failures = self._run_failures(function)
        # A direct alarm action: the alarm invokes the function asynchronously with its state
        # change, only on transitions to ALARM (docs/concepts/monitoring.md).
        invoke = InvokeFunctionAction(function.function)
        for alarm in self.alarms.retraining_triggers:
            alarm.add_alarm_action(invoke)
        return function
