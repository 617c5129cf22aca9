"""Models hosted as inference components on one shared fleet, with copy autoscaling to zero.

- The endpoint configuration carries the fleet: one production variant without a model
  (InstanceType, InitialInstanceCount, ManagedInstanceScaling, RoutingConfig), the execution role
  (``ExecutionRoleArn``: the config waits for every policy of that role,
  :mod:`mlops_cdk.constructs.role_readiness`) and the KMS key of the storage volumes; each model
  brings its own VPC and network isolation ("CreateInferenceComponent",
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateInferenceComponent.html).
- One ``AWS::SageMaker::InferenceComponent`` per component: ``Specification`` (ModelName,
  ComputeResourceRequirements), ``RuntimeConfig.CopyCount`` and ``DeploymentConfig``
  (RollingUpdatePolicy, AutoRollbackConfiguration on the component's alarms).
- Copy autoscaling ("Scale an endpoint to zero instances",
  https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html):
  scalable target ``inference-component/<name>``, dimension
  ``sagemaker:inference-component:DesiredCopyCount``, minimum 0 allowed; target tracking on
  concurrent requests per copy ("Define a scaling policy",
  https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-add-code-define.html:
  ``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution``, every 10 s); with a
  minimum of 0, AWS's step scaling policy (ChangeInCapacity +1 from a lower bound of 0,
  aggregation Maximum, cooldown 60 s) on an alarm on ``NoCapacityInvocationFailures``
  (``AWS/SageMaker``, dimension ``InferenceComponentName``, Sum over 60 s), which SageMaker emits
  "when an endpoint receives an inference request, but the endpoint has no active instances".
  AWS's example alarm compares ``GreaterThanThreshold`` 1; this one is ``>= 1`` so the first
  failed request wakes the component.
- Alarms per component (``AWS/SageMaker`` invocation metrics with the ``InferenceComponentName``
  dimension, "Amazon SageMaker AI metrics in Amazon CloudWatch"): 5XX error rate, model latency,
  and sustained ``NoCapacityInvocationFailures``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_all
from mlops_cdk.aws.facts import SAGEMAKER_NAMESPACE, has_local_nvme
from mlops_cdk.aws.sagemaker_metrics import (
    INFERENCE_COMPONENT_DIMENSION as COMPONENT_DIMENSION,
)
from mlops_cdk.aws.sagemaker_metrics import NO_CAPACITY_INVOCATION_FAILURES
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.constructs.metrics import FIVE_MINUTES, ONE_MINUTE, rate_expression
from mlops_cdk.constructs.model import HostedModel, model_specs
from mlops_cdk.constructs.role_readiness import wait_for_role_policies
from mlops_cdk.props.alarms import AlarmThresholds
from mlops_cdk.props.endpoint import MetricsSpec
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import checked_arguments
from mlops_cdk.props.inference_components import (
    MAX_COMPONENT_NAME_LENGTH,
    BatchSize,
    InferenceComponentSpec,
    InferenceComponentsSpec,
    component_model_problems,
    component_name,
)

FLEET_VARIANT = "AllTraffic"
COPY_COUNT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
DESCRIBE_ALARMS_ACTION = "cloudwatch:DescribeAlarms"
ENDPOINT_CONFIG_OUTPUT = "EndpointConfigName"  # the smoke test reads it (see constructs.endpoint)
_SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)
_KMS_FINDINGS = (
    "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
    "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
)


def component_metric(
    component: str,
    metric_name: str,
    statistic: str,
    period: cdk.Duration = ONE_MINUTE,
) -> cloudwatch.Metric:
    """An ``AWS/SageMaker`` metric of one inference component (its physical name)."""
    return cloudwatch.Metric(
        namespace=SAGEMAKER_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={COMPONENT_DIMENSION: component},
        statistic=statistic,
        period=period,
    )


class InferenceComponentEndpoint(Construct):
    """A fleet endpoint and its components (``self.components``: physical name per component),
    scaling (``self.scaling``), alarms (``self.alarms``, ``self.all_alarms``), rollback access
    and outputs. ``models`` maps each component's ``model`` to a :class:`HostedModel` or a model
    name. ``key``: the storage volumes' key (refused by SageMaker with local NVMe storage, then
    acknowledged instead)."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: EndpointName,
        spec: InferenceComponentsSpec,
        models: Mapping[str, HostedModel | str],
        execution_role: iam.IRole,
        key: kms.IKey | None = None,
        metrics: MetricsSpec | None = None,
        thresholds: AlarmThresholds | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        _validate(endpoint_name, spec, models)
        self.spec, self.endpoint_name = spec, endpoint_name
        self.thresholds = thresholds or AlarmThresholds()
        self.endpoint_config = self._endpoint_config(execution_role, key, metrics or MetricsSpec())
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )
        self.endpoint_arn: str = self.endpoint.ref
        self.alarms = {c.name: self._alarms(c) for c in spec.components}
        self.all_alarms = [alarm for alarms in self.alarms.values() for alarm in alarms.values()]
        rollback = {c.name: self._rollback_alarms(c) for c in spec.components}
        access = self._rollback_access(
            [a for alarms in rollback.values() for a in alarms], execution_role
        )
        self.components: dict[str, sagemaker.CfnInferenceComponent] = {}
        for component in spec.components:
            resource = self._component(component, models[component.model], rollback[component.name])
            if access is not None:
                resource.node.add_dependency(access)
            self.components[component.name] = resource
        self.scaling = {
            c.name: self._scaling(c) for c in spec.components if c.autoscaling is not None
        }
        self._outputs()

    def physical_name(self, component: str) -> str:
        return component_name(self.endpoint_name, component)

    def _endpoint_config(
        self, role: iam.IRole, key: kms.IKey | None, metrics: MetricsSpec
    ) -> sagemaker.CfnEndpointConfig:
        fleet = self.spec.fleet
        nvme = has_local_nvme(fleet.instance_type)
        config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            execution_role_arn=role.role_arn,
            kms_key_id=key.key_arn if key is not None and not nvme else None,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=FLEET_VARIANT,
                    instance_type=fleet.instance_type,
                    initial_instance_count=fleet.initial_instance_count,
                    managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                        status="ENABLED",
                        min_instance_count=fleet.managed_scaling.min_instance_count,
                        max_instance_count=fleet.managed_scaling.max_instance_count,
                    ),
                    routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                        routing_strategy=fleet.routing.upper()
                    ),
                )
            ],
            metrics_config=sagemaker.CfnEndpointConfig.MetricsConfigProperty(
                enable_detailed_observability=metrics.detailed_observability,
                enable_enhanced_metrics=metrics.enhanced_metrics,
                metric_publish_frequency_in_seconds=metrics.publish_frequency_seconds,
            ),
        )
        if nvme:
            acknowledge_all(
                config,
                _KMS_FINDINGS,
                f"{fleet.instance_type} has local NVMe storage; SageMaker rejects a KmsKeyId for "
                "it and encrypts that storage in hardware (AES-256).",
            )
        wait_for_role_policies(config, role)
        return config

    def _component(
        self,
        component: InferenceComponentSpec,
        model: HostedModel | str,
        rollback: Sequence[cloudwatch.IAlarm],
    ) -> sagemaker.CfnInferenceComponent:
        ic = sagemaker.CfnInferenceComponent
        rolling = component.deployment
        return ic(
            self,
            f"Component-{component.name}",
            endpoint_name=self.endpoint.attr_endpoint_name,
            inference_component_name=self.physical_name(component.name),
            variant_name=FLEET_VARIANT,
            specification=ic.InferenceComponentSpecificationProperty(
                model_name=model if isinstance(model, str) else model.model_name,
                compute_resource_requirements=ic.InferenceComponentComputeResourceRequirementsProperty(
                    number_of_cpu_cores_required=component.cpu_cores,
                    min_memory_required_in_mb=component.memory_mb,
                    number_of_accelerator_devices_required=component.accelerators,
                ),
            ),
            runtime_config=ic.InferenceComponentRuntimeConfigProperty(copy_count=component.copies),
            deployment_config=ic.InferenceComponentDeploymentConfigProperty(
                rolling_update_policy=ic.InferenceComponentRollingUpdatePolicyProperty(
                    maximum_batch_size=_batch(rolling.batch_size),
                    rollback_maximum_batch_size=_batch(rolling.rollback_batch_size),
                    wait_interval_in_seconds=rolling.wait_seconds,
                    maximum_execution_timeout_in_seconds=rolling.maximum_execution_timeout_seconds,
                ),
                auto_rollback_configuration=ic.AutoRollbackConfigurationProperty(
                    alarms=[ic.AlarmProperty(alarm_name=a.alarm_name) for a in rollback]
                )
                if rollback
                else None,
            ),
        )

    def _alarms(self, component: InferenceComponentSpec) -> dict[str, cloudwatch.Alarm]:
        """5XX error rate and latency (as the service's thresholds say), and requests failing for
        lack of capacity for 15 minutes (the wake-up policy should have added a copy)."""
        name, t = self.physical_name(component.name), self.thresholds
        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        not_breaching = cloudwatch.TreatMissingData.NOT_BREACHING
        errors, invocations = "errors", "invocations"
        rate = cloudwatch.MathExpression(
            expression=rate_expression(errors, invocations, t.min_invocations),
            using_metrics={
                errors: component_metric(name, "Invocation5XXErrors", "Sum"),
                invocations: component_metric(name, "Invocations", "Sum"),
            },
            period=ONE_MINUTE,
            label=f"{component.name} 5XX %",
        )
        return {
            "errors_5xx": rate.create_alarm(
                self,
                f"Errors5xx-{component.name}",
                alarm_description=f"{name}: 5XX errors above {t.errors_5xx_percent}% of "
                f"invocations{t.rate_floor}",
                threshold=t.errors_5xx_percent,
                treat_missing_data=not_breaching,
                evaluation_periods=t.evaluation_periods,
                datapoints_to_alarm=t.datapoints_to_alarm,
            ),
            "latency": component_metric(name, "ModelLatency", t.latency_statistic).create_alarm(
                self,
                f"Latency-{component.name}",
                alarm_description=f"{name}: ModelLatency {t.latency_statistic} above "
                f"{t.latency_ms} ms",
                threshold=t.latency_ms * 1000,  # ModelLatency is in microseconds
                treat_missing_data=not_breaching,
                evaluation_periods=t.evaluation_periods,
                datapoints_to_alarm=t.datapoints_to_alarm,
            ),
            "no_capacity": component_metric(
                name, NO_CAPACITY_INVOCATION_FAILURES, "Sum", FIVE_MINUTES
            ).create_alarm(
                self,
                f"NoCapacity-{component.name}",
                alarm_description=f"{name}: requests failed for lack of capacity for 15 minutes",
                threshold=1,
                comparison_operator=at_least,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                treat_missing_data=not_breaching,
            ),
        }

    def _rollback_alarms(self, component: InferenceComponentSpec) -> list[cloudwatch.Alarm]:
        if not component.deployment.rollback_on_alarms:
            return []
        kinds = [k for k in self.thresholds.rollback_on if k in ("latency", "errors_5xx")]
        return [self.alarms[component.name][kind] for kind in kinds]

    def _rollback_access(
        self, alarms: Sequence[cloudwatch.Alarm], role: iam.IRole
    ) -> iam.ManagedPolicy | None:
        """The execution role may describe the components' rollback alarms ("Ensure that your
        IAM execution role has permission to perform the cloudwatch:DescribeAlarms action on the
        auto-rollback alarms you specify", "Auto-Rollback Configuration and Monitoring",
        https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html)."""
        if not alarms:
            return None
        return iam.ManagedPolicy(
            self,
            "RollbackAlarmsAccess",
            description="SageMaker execution role may read the inference components' rollback "
            "alarms",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="DescribeRollbackAlarms",
                    actions=[DESCRIBE_ALARMS_ACTION],
                    resources=[a.alarm_arn for a in alarms],
                )
            ],
        )

    def _scaling(self, component: InferenceComponentSpec) -> appscaling.ScalableTarget:
        scaling = component.autoscaling
        assert scaling is not None  # noqa: S101 - only called for components with autoscaling
        name = self.physical_name(component.name)
        target = appscaling.ScalableTarget(
            self,
            f"Scaling-{component.name}",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"inference-component/{name}",
            scalable_dimension=COPY_COUNT_DIMENSION,
            min_capacity=scaling.min_copies,
            max_capacity=scaling.max_copies,
            role=self._scaling_role(),
        )
        target.node.add_dependency(self.components[component.name])
        scale_in = cdk.Duration.seconds(scaling.scale_in_cooldown_seconds)
        scale_out = cdk.Duration.seconds(scaling.scale_out_cooldown_seconds)
        if scaling.high_resolution:
            target.scale_to_track_metric(
                "ConcurrentRequests",
                target_value=scaling.target_concurrent_requests_per_copy,
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION,
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
        else:
            target.scale_to_track_metric(
                "ConcurrentRequests",
                target_value=scaling.target_concurrent_requests_per_copy,
                custom_metric=component_metric(name, "ConcurrentRequestsPerCopy", "Maximum"),
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
        if scaling.min_copies == 0:
            target.scale_on_metric(
                "WakeFromZero",
                metric=component_metric(name, NO_CAPACITY_INVOCATION_FAILURES, "Sum"),
                scaling_steps=[
                    appscaling.ScalingInterval(lower=0, upper=1, change=0),
                    appscaling.ScalingInterval(lower=1, change=1),
                ],
                adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
                metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
                cooldown=cdk.Duration.seconds(60),
                evaluation_periods=1,
            )
        return target

    def _scaling_role(self) -> iam.IRole:
        existing = self.node.try_find_child("ServiceLinkedRole")
        if existing is not None:
            return existing  # type: ignore[return-value]
        return iam.Role.from_role_arn(
            self,
            "ServiceLinkedRole",
            cdk.Stack.of(self).format_arn(
                service="iam", region="", resource="role", resource_name=_SERVICE_LINKED_ROLE
            ),
            mutable=False,
        )

    def _outputs(self) -> None:
        output = cdk.CfnOutput(
            self,
            ENDPOINT_CONFIG_OUTPUT,
            value=self.endpoint_config.attr_endpoint_config_name,
            description="Endpoint configuration this stack deployed (the smoke test compares it "
            "with the endpoint's)",
        )
        if cdk.Stack.of(self).node.try_find_child(ENDPOINT_CONFIG_OUTPUT) is None:
            output.override_logical_id(ENDPOINT_CONFIG_OUTPUT)
        cdk.CfnOutput(
            self,
            "Components",
            value="; ".join(describe_component(c) for c in self.spec.components),
            description="Inference components: copies and what each copy reserves",
        )

    def widgets(self) -> list[cloudwatch.IWidget]:
        """Dashboard widgets: invocations, 5XX errors and latency per component, the alarms."""
        names = [self.physical_name(c.name) for c in self.spec.components]
        graphs: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title=title,
                width=8,
                left=[component_metric(n, metric, statistic) for n in names],
            )
            for title, metric, statistic in (
                ("Invocations", "Invocations", "Sum"),
                ("5XX errors", "Invocation5XXErrors", "Sum"),
                ("Model latency (us, p99)", "ModelLatency", "p99"),
                ("Failures without capacity", NO_CAPACITY_INVOCATION_FAILURES, "Sum"),
                ("Concurrent requests per copy", "ConcurrentRequestsPerCopy", "Maximum"),
            )
        ]
        return [*graphs, cloudwatch.AlarmStatusWidget(alarms=self.all_alarms, width=24)]

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """``sagemaker:InvokeEndpoint`` on the endpoint (every component is invoked through it)."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpoint"], resource_arns=[self.endpoint_arn]
        )


def describe_component(component: InferenceComponentSpec) -> str:
    """``fraud: 1-4 copies x (1 vCPU, 2048 MB)`` (what the review and the outputs show)."""
    scaling = component.autoscaling
    copies = f"{scaling.min_copies}-{scaling.max_copies}" if scaling else str(component.copies)
    parts = [f"{component.cpu_cores:g} vCPU"] if component.cpu_cores else []
    parts.append(f"{component.memory_mb} MB")
    if component.accelerators:
        parts.append(f"{component.accelerators} accelerator(s)")
    return f"{component.name}: {copies} copies x ({', '.join(parts)})"


def _batch(
    size: BatchSize | None,
) -> sagemaker.CfnInferenceComponent.InferenceComponentCapacitySizeProperty | None:
    if size is None:
        return None
    return sagemaker.CfnInferenceComponent.InferenceComponentCapacitySizeProperty(
        type=size.type.upper(), value=size.value
    )


def _validate(
    endpoint_name: str, spec: InferenceComponentsSpec, models: Mapping[str, HostedModel | str]
) -> None:
    problems: list[tuple[str, str]] = []
    literal = not cdk.Token.is_unresolved(endpoint_name)  # its form: EndpointName
    if not literal:
        problems.append(
            ("endpoint_name", "a literal name (scaling and alarms name the components)")
        )
    problems += component_model_problems(spec, model_specs(models))
    for index, component in enumerate(spec.components):
        name = component_name(endpoint_name, component.name)
        if literal and len(name) > MAX_COMPONENT_NAME_LENGTH:
            problems.append(
                (
                    f"components[{index}].name",
                    f"{name!r} has {len(name)} characters; SageMaker allows "
                    f"{MAX_COMPONENT_NAME_LENGTH}",
                )
            )
    if problems:
        raise PropProblems(problems, subject="InferenceComponentEndpoint")
