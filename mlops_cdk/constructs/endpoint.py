"""A SageMaker endpoint with 1-10 weighted production variants and deployment guardrails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_all
from mlops_cdk.aws.guardrails import describe_step
from mlops_cdk.aws.instance_types import is_gpu_instance_type
from mlops_cdk.aws.sagemaker_metrics import (
    INVOCATIONS_PROCESSED,
    NOT_PUBLISHED_FOR_ASYNC_ENDPOINTS,
)
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.constructs.async_access import AsyncOutput
from mlops_cdk.constructs.encryption import iam_delegated_key_policy
from mlops_cdk.constructs.metrics import (
    ONE_MINUTE,
    error_rate,
    instance_metric,
    invocation_count,
    variant_metric,
)
from mlops_cdk.constructs.model import HostedModel, model_specs
from mlops_cdk.props.endpoint import CapacitySize, DataCaptureSpec, DeploymentSpec, MetricsSpec
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import checked_arguments
from mlops_cdk.props.variants import (
    InstanceCapacity,
    ServerlessCapacity,
    VariantSpec,
    async_endpoint_problems,
    container_problems,
    endpoint_problems,
)

__all__ = [
    "CapacitySize",
    "DataCaptureSpec",
    "DeploymentSpec",
    "InstanceCapacity",
    "MetricsSpec",
    "ServerlessCapacity",
    "VariantSpec",
    "WeightedEndpoint",
]

# "Amazon SageMaker AI metrics in Amazon CloudWatch": InvokeEndpoint (request) metrics are
# published for every variant; instance metrics only for variants on instances (a serverless
# variant publishes MemoryUtilization only: "Monitor a serverless endpoint").
_SERVERLESS_INSTANCE_METRICS = frozenset({"MemoryUtilization"})
_GPU_METRICS = frozenset({"GPUUtilization", "GPUMemoryUtilization"})
INVOKE_ACTIONS = ["sagemaker:InvokeEndpoint"]
# "Auto-Rollback Configuration and Monitoring" (SageMaker developer guide): "Ensure that your IAM
# execution role has permission to perform the cloudwatch:DescribeAlarms action on the
# auto-rollback alarms you specify." https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html
DESCRIBE_ALARMS_ACTION = "cloudwatch:DescribeAlarms"
_KMS_FINDINGS = (
    "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
    "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
)


class WeightedEndpoint(Construct):
    """Endpoint config + endpoint, with an L2's conveniences (:meth:`grant_invoke`, per-variant
    ``metric_*`` methods).

    - Variants and weights as given; each variant's share of traffic is a stack output. A
      variant names its model by its key in ``models`` (a :class:`HostedModel`, or a SageMaker
      model name). The variants are checked together with ``deployment``, ``data_capture`` and
      ``metrics`` as the configuration checks them (:func:`endpoint_problems`).
    - Storage volumes encrypted with ``key``, except when a variant's instance type has local
      NVMe storage or the endpoint is serverless: SageMaker rejects a KmsKeyId there, so the
      finding is acknowledged with that reason instead. Without ``key``, a rotating
      customer-managed key is created when one is needed (``self.key``; None otherwise) whose
      use this account's IAM policies grant, and which allows grants only for AWS resources.
    - Data capture (optional; a spec with ``enabled=False`` is none) to
      ``capture_bucket``/``capture_prefix``, KMS-encrypted.
    - The endpoint config has no physical name: any change is a new config (CloudFormation
      generates its name) and an in-place update of the endpoint, never a name collision.
    - The endpoint keeps the instance counts autoscaling has set across stack updates
      (RetainAllVariantProperties) while weights come from the template (DesiredWeight is
      excluded from retention).
    - ``deployment`` defaults to all-at-once blue/green with a 5-minute baking period;
      ``rolling`` becomes a RollingUpdatePolicy (one variant on instances only).
    - ``shadow_variants`` (at most one, with exactly one production variant, on instances):
      ShadowProductionVariants, which get a copy of live requests and answer nobody; same key,
      data capture and models (VPC) as production ("Testing models with shadow variants",
      https://docs.aws.amazon.com/sagemaker/latest/dg/model-shadow-deployment.html).
    - A variant's ``fallback_instance_types`` become InstancePools (instance_type first,
      priority 1), which replace its InstanceType ("Deploy to multiple instance types with
      instance pools").
    - ``endpoint_name``: without it CloudFormation generates one (``self.endpoint_name`` is then
      a token). Give it when alarms on the endpoint's metrics roll a deployment back
      (``rollback_alarms``): the alarms need the name as a dimension before the endpoint
      exists, and the endpoint names the alarms. Derive it from the stack name so two copies
      never collide.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        variants: Sequence[VariantSpec],
        models: Mapping[str, HostedModel | str],
        endpoint_name: EndpointName | None = None,
        key: kms.IKey | None = None,
        deployment: DeploymentSpec | None = None,
        capture_bucket: s3.IBucket | None = None,
        capture_prefix: str = "data-capture/",
        data_capture: DataCaptureSpec | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
        execution_roles: Sequence[iam.IRole] = (),
        metrics: MetricsSpec | None = None,
        async_output: AsyncOutput | None = None,
        shadow_variants: Sequence[VariantSpec] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        deployment = deployment or DeploymentSpec()
        metrics = metrics or MetricsSpec()
        if data_capture is not None and not data_capture.enabled:
            data_capture = None
        _validate(variants, models, deployment, metrics, data_capture, shadows=shadow_variants)
        _validate_inputs(deployment, rollback_alarms, data_capture, capture_bucket)
        _validate_async(variants, models, async_output, shadow_variants)
        self.async_output = async_output
        self._check_endpoint_props(endpoint_name, rollback_alarms, execution_roles)
        self.variants, self.shadow_variants = tuple(variants), tuple(shadow_variants)
        self.model_names = {
            key: model if isinstance(model, str) else model.model_name
            for key, model in models.items()
        }
        self.deployment = deployment
        self.metrics = metrics
        self.key: kms.IKey | None = key
        if key is None and (self._volume_key_allowed or data_capture or async_output):
            self.key = kms.Key(
                self,
                "Key",
                description=f"{self.node.path}: endpoint storage volumes and data capture",
                enable_key_rotation=True,
                policy=iam_delegated_key_policy(),
            )
        self.endpoint_config = self._endpoint_config(data_capture, capture_bucket, capture_prefix)
        self.endpoint = self._endpoint(endpoint_name, rollback_alarms)
        for policy in async_output.policies if async_output else ():
            self.endpoint.node.add_dependency(policy)
        self.endpoint_name: str = (
            endpoint_name if endpoint_name is not None else self.endpoint.attr_endpoint_name
        )
        self.rollback_alarms_access = self._rollback_alarms_access(rollback_alarms, execution_roles)
        # Ref of AWS::SageMaker::Endpoint is the endpoint's ARN.
        self.endpoint_arn: str = self.endpoint.ref
        self.endpoint_config_output = _endpoint_config_output(self, self.endpoint_config)
        self._outputs()

    @staticmethod
    def _check_endpoint_props(
        endpoint_name: str | None,
        rollback_alarms: Sequence[cloudwatch.IAlarm],
        execution_roles: Sequence[iam.IRole],
    ) -> None:
        """Rollback alarms need a known endpoint name and roles to read them (the name itself is
        checked by its annotation, :data:`~mlops_cdk.constructs.arguments.EndpointName`)."""
        if rollback_alarms and endpoint_name is None:
            raise ValueError(
                "WeightedEndpoint: rollback alarms watch the endpoint's metrics by name; give "
                "endpoint_name"
            )
        if rollback_alarms and not execution_roles:
            raise ValueError(
                "WeightedEndpoint: SageMaker reads the rollback alarms with the models' execution "
                "role (cloudwatch:DescribeAlarms); give execution_roles"
            )

    @property
    def _serverless(self) -> bool:
        return any(v.serverless for v in self.variants)

    @property
    def _nvme_variants(self) -> list[str]:
        return [v.name for v in (*self.variants, *self.shadow_variants) if v.local_nvme]

    @property
    def _volume_key_allowed(self) -> bool:
        """SageMaker rejects a KmsKeyId for local NVMe storage and on serverless endpoints."""
        return not (self._nvme_variants or self._serverless)

    def _endpoint_config(
        self,
        data_capture: DataCaptureSpec | None,
        capture_bucket: s3.IBucket | None,
        capture_prefix: str,
    ) -> sagemaker.CfnEndpointConfig:
        """The endpoint config; the KMS findings acknowledged where SageMaker rejects a key."""
        serverless, nvme = self._serverless, self._nvme_variants
        config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[
                _variant_property(v, self.model_names[v.model]) for v in self.variants
            ],
            shadow_production_variants=[
                _variant_property(v, self.model_names[v.model]) for v in self.shadow_variants
            ]
            or None,
            kms_key_id=self.key.key_arn if (self._volume_key_allowed and self.key) else None,
            data_capture_config=_capture_property(
                data_capture, capture_bucket, capture_prefix, self.key
            ),
            # Stated for instance-backed configs (see MetricsSpec); serverless endpoints have no
            # instances, so none of it applies to them.
            metrics_config=None if serverless else _metrics_property(self.metrics),
            # Results and failures encrypted with the endpoint's key (AsyncInferenceOutputConfig).
            async_inference_config=self.async_output.property(self.key)
            if self.async_output and self.key
            else None,
        )
        if nvme:
            acknowledge_all(
                config,
                _KMS_FINDINGS,
                f"Variants {', '.join(nvme)} use instance types with local NVMe storage; SageMaker "
                "rejects a KmsKeyId for them and encrypts that storage in hardware (AES-256).",
            )
        elif serverless:
            acknowledge_all(
                config,
                _KMS_FINDINGS,
                "Serverless variants have no instance storage volume to encrypt; SageMaker "
                "rejects a KmsKeyId on serverless endpoint configs.",
            )
        return config

    def _endpoint(
        self, endpoint_name: str | None, rollback_alarms: Sequence[cloudwatch.IAlarm]
    ) -> sagemaker.CfnEndpoint:
        """The endpoint: keeps autoscaled instance counts, takes weights from the template."""
        return sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            retain_all_variant_properties=True,
            exclude_retained_variant_properties=[
                sagemaker.CfnEndpoint.VariantPropertyProperty(variant_property_type="DesiredWeight")
            ],
            deployment_config=_deployment_property(self.deployment, rollback_alarms),
        )

    def _outputs(self) -> None:
        """Stack outputs: the initial traffic split and shares, the first deployment steps."""
        total = sum(v.initial_weight for v in self.variants)
        self.traffic_shares = {v.name: 100 * v.initial_weight / total for v in self.variants}
        summary = " / ".join(f"{name} {_pct(share)}" for name, share in self.traffic_shares.items())
        cdk.CfnOutput(self, "TrafficSplit", value=summary, description="Initial traffic split")
        for name, share in self.traffic_shares.items():
            cdk.CfnOutput(
                self,
                f"Traffic{_output_id(name)}",
                value=f"{name} {_pct(share)}",
                description=f"Initial traffic share of variant {name}",
            )
        for shadow in self.shadow_variants:
            cdk.CfnOutput(
                self,
                f"Shadow{_output_id(shadow.name)}",
                value=f"{shadow.name} shadows {self.variants[0].name}",
                description="Shadow variant: gets a copy of live requests, answers nobody",
            )
        self.deployment_steps = _deployment_steps(
            [*self.variants, *self.shadow_variants], self.deployment
        )
        if self.deployment_steps:
            cdk.CfnOutput(
                self,
                "DeploymentSteps",
                value="; ".join(self.deployment_steps),
                description="First blue/green step or rolling batch per variant (capacity "
                "rounds up to instances)",
            )

    def _rollback_alarms_access(
        self, alarms: Sequence[cloudwatch.IAlarm], roles: Sequence[iam.IRole]
    ) -> iam.ManagedPolicy | None:
        """Let the execution roles describe the rollback alarms (and no other alarm): without it
        SageMaker cannot evaluate them and a bad deployment is not rolled back. The endpoint
        waits for the policy."""
        if not alarms:
            return None
        policy = iam.ManagedPolicy(
            self,
            "RollbackAlarmsAccess",
            description="SageMaker execution roles may read this endpoint's rollback alarms",
            roles=list(roles),
            statements=[
                iam.PolicyStatement(
                    sid="DescribeRollbackAlarms",
                    actions=[DESCRIBE_ALARMS_ACTION],
                    resources=[a.alarm_arn for a in alarms],
                )
            ],
        )
        self.endpoint.node.add_dependency(policy)
        return policy

    @property
    def variant_names(self) -> list[str]:
        """Production variants, then the shadow variant (every name metrics can have)."""
        return [v.name for v in (*self.variants, *self.shadow_variants)]

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call InvokeEndpoint on this endpoint (and nothing else): the action
        ``sagemaker:InvokeEndpoint`` on the endpoint's ARN.

        A role (created here or imported, also a function's role) gets it in a customer-managed
        policy next to the endpoint, attached to the role: the HIPAA and NIST packs refuse
        inline policies. Other principals (users, groups) get CDK's usual grant."""
        principal = grantee.grant_principal
        if getattr(principal, "role_name", None) is None:
            return iam.Grant.add_to_principal(
                grantee=grantee, actions=INVOKE_ACTIONS, resource_arns=[self.endpoint_arn]
            )
        role = cast(iam.IRole, principal)  # it has a role name
        policy = iam.ManagedPolicy(
            self,
            f"Invoke{cdk.Names.unique_id(role)}",
            description=f"Invoke the endpoint {self.node.path}",
            roles=[role],
        )
        return iam.Grant.add_to_principal(
            grantee=policy, actions=INVOKE_ACTIONS, resource_arns=[self.endpoint_arn]
        )

    # --- metrics (see mlops_cdk.constructs.metrics for namespaces, dimensions and units) -------

    def metric(
        self,
        metric_name: str,
        variant: str | None = None,
        *,
        statistic: str = "Average",
        period: cdk.Duration = ONE_MINUTE,
        label: str | None = None,
        unit: cloudwatch.Unit | None = None,
    ) -> cloudwatch.Metric:
        """An ``AWS/SageMaker`` metric of one variant (``variant`` may be omitted when the
        endpoint has one). An asynchronous endpoint refuses the metrics SageMaker does not
        publish for it (``Invocations``, ``InvocationsPerInstance``, ``OverheadLatency``: a graph
        or alarm on them would show nothing)."""
        if self.async_output is not None and metric_name in NOT_PUBLISHED_FOR_ASYNC_ENDPOINTS:
            raise ValueError(
                f"WeightedEndpoint {self.endpoint_name}: SageMaker publishes no {metric_name} "
                f"for an asynchronous endpoint; it publishes {INVOCATIONS_PROCESSED} and the "
                "backlog metrics instead"
            )
        return variant_metric(
            self.endpoint_name,
            self._variant(variant).name,
            metric_name,
            statistic,
            period=period,
            label=label,
            unit=unit,
        )

    def metric_invocations(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Sum",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``Invocations``: InvokeEndpoint requests sent to the variant (a count; Sum)."""
        return self.metric("Invocations", variant, statistic=statistic, period=period)

    def metric_invocations_per_instance(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Sum",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``InvocationsPerInstance``: invocations normalized by the variant's instance count."""
        return self.metric("InvocationsPerInstance", variant, statistic=statistic, period=period)

    def metric_latency(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Average",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``ModelLatency``: time the model container takes to respond, in **microseconds**
        (an alarm at 250 ms has the threshold 250000)."""
        return self.metric("ModelLatency", variant, statistic=statistic, period=period)

    def metric_overhead_latency(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Average",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``OverheadLatency``: time SageMaker adds around the model, in microseconds."""
        return self.metric("OverheadLatency", variant, statistic=statistic, period=period)

    def metric_errors_5xx(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Sum",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``Invocation5XXErrors``: requests the model answered with a 5xx code (a count)."""
        return self.metric("Invocation5XXErrors", variant, statistic=statistic, period=period)

    def metric_errors_4xx(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Sum",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``Invocation4XXErrors``: requests the model answered with a 4xx code (a count)."""
        return self.metric("Invocation4XXErrors", variant, statistic=statistic, period=period)

    def metric_error_rate_5xx(
        self, variant: str | None = None, *, period: cdk.Duration = ONE_MINUTE
    ) -> cloudwatch.MathExpression:
        """5xx errors as a percentage of invocations (0 without traffic): of processed
        invocations on an asynchronous endpoint."""
        return error_rate(
            self.endpoint_name,
            self._variant(variant).name,
            "Invocation5XXErrors",
            period=period,
            invocations=invocation_count(asynchronous=self.async_output is not None),
        )

    def metric_cpu_utilization(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Average",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``CPUUtilization`` (``/aws/sagemaker/Endpoints``): percent **summed over vCPUs**
        (0-400 % on four vCPUs; see ``mlops_cdk.aws.instance_types.vcpus``)."""
        return self._instance_metric("CPUUtilization", variant, statistic, period)

    def metric_memory_utilization(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Average",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``MemoryUtilization``: percent of the instance's (or serverless variant's) memory."""
        return self._instance_metric("MemoryUtilization", variant, statistic, period)

    def metric_disk_utilization(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Average",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``DiskUtilization``: percent of the instance's disk space."""
        return self._instance_metric("DiskUtilization", variant, statistic, period)

    def metric_gpu_utilization(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Average",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``GPUUtilization``: percent summed over the instance's GPUs."""
        return self._instance_metric("GPUUtilization", variant, statistic, period)

    def metric_gpu_memory_utilization(
        self,
        variant: str | None = None,
        *,
        statistic: str = "Average",
        period: cdk.Duration = ONE_MINUTE,
    ) -> cloudwatch.Metric:
        """``GPUMemoryUtilization``: percent summed over the instance's GPUs."""
        return self._instance_metric("GPUMemoryUtilization", variant, statistic, period)

    def _instance_metric(
        self, metric_name: str, variant: str | None, statistic: str, period: cdk.Duration
    ) -> cloudwatch.Metric:
        spec = self._variant(variant)
        instance_type = spec.instance.instance_type if spec.instance else None
        if instance_type is None and metric_name not in _SERVERLESS_INSTANCE_METRICS:
            raise ValueError(
                f"WeightedEndpoint: variant {spec.name} is serverless; SageMaker publishes no "
                f"{metric_name} for it"
            )
        if (
            instance_type is not None
            and metric_name in _GPU_METRICS
            and not is_gpu_instance_type(instance_type)
        ):
            raise ValueError(f"WeightedEndpoint: variant {spec.name} ({instance_type}) has no GPU")
        return instance_metric(self.endpoint_name, spec.name, metric_name, statistic, period=period)

    def _variant(self, name: str | None) -> VariantSpec:
        if name is None:
            if len(self.variants) != 1:
                raise ValueError(
                    f"WeightedEndpoint: name a variant ({', '.join(self.variant_names)})"
                )
            return self.variants[0]
        for spec in (*self.variants, *self.shadow_variants):
            if spec.name == name:
                return spec
        raise ValueError(
            f"WeightedEndpoint: no variant {name!r} (variants: {', '.join(self.variant_names)})"
        )


def _validate(
    variants: Sequence[VariantSpec],
    models: Mapping[str, HostedModel | str],
    deployment: DeploymentSpec,
    metrics: MetricsSpec,
    data_capture: DataCaptureSpec | None,
    *,
    shadows: Sequence[VariantSpec],
) -> None:
    """The variants' own rules and the configuration's (:func:`endpoint_problems`)."""
    if not variants:
        raise ValueError("WeightedEndpoint: at least one variant")
    problems = endpoint_problems(
        variants,
        models=list(models),
        deployment=deployment,
        data_capture=data_capture,
        metrics=metrics,
        shadow_variants=shadows,
    )
    problems += container_problems(variants, shadows, model_specs(models))
    problems += _serverless_model_problems(variants, models)
    if problems:
        raise PropProblems(problems, subject="WeightedEndpoint")


def _serverless_model_problems(
    variants: Sequence[VariantSpec], models: Mapping[str, HostedModel | str]
) -> list[tuple[str, str]]:
    """A serverless variant's :class:`HostedModel` has neither a VPC config nor network
    isolation: serverless endpoints support neither ("Deploy models with Amazon SageMaker
    Serverless Inference", feature exclusions), and CreateEndpointConfig would refuse it (the
    configuration checks a model's ``network_isolation`` itself)."""
    problems = []
    for index, variant in enumerate(variants):
        model = models.get(variant.model)
        if variant.serverless is None or not isinstance(model, HostedModel):
            continue
        if model.model.vpc_config is not None or model.model.enable_network_isolation is True:
            problems.append(
                (
                    f"variants[{index}].serverless",
                    f"model {variant.model!r} has a VPC config or network isolation, which "
                    "serverless endpoints do not support: build it without vpc and with "
                    "network_isolation=False",
                )
            )
    return problems


def _validate_async(
    variants: Sequence[VariantSpec],
    models: Mapping[str, HostedModel | str],
    async_output: AsyncOutput | None,
    shadow_variants: Sequence[VariantSpec],
) -> None:
    """An asynchronous endpoint here (:func:`async_endpoint_problems`)."""
    problems = (
        []
        if async_output is None
        else async_endpoint_problems(variants, shadow_variants, model_specs(models))
    )
    if problems:
        raise PropProblems(problems, subject="WeightedEndpoint")


def _metrics_property(spec: MetricsSpec) -> sagemaker.CfnEndpointConfig.MetricsConfigProperty:
    return sagemaker.CfnEndpointConfig.MetricsConfigProperty(
        enable_detailed_observability=spec.detailed_observability,
        enable_enhanced_metrics=spec.enhanced_metrics,
        metric_publish_frequency_in_seconds=spec.publish_frequency_seconds,
    )


def _validate_inputs(
    deployment: DeploymentSpec,
    rollback_alarms: Sequence[cloudwatch.IAlarm],
    data_capture: DataCaptureSpec | None,
    capture_bucket: s3.IBucket | None,
) -> None:
    """What the settings need from the construct's other inputs."""
    if data_capture is not None and capture_bucket is None:
        raise ValueError("WeightedEndpoint: data capture needs capture_bucket")
    if rollback_alarms and deployment.wait_seconds <= 0:
        raise ValueError(
            "WeightedEndpoint: rollback alarms are only evaluated during the baking period; "
            "set wait_seconds > 0"
        )


def _deployment_steps(variants: Sequence[VariantSpec], deployment: DeploymentSpec) -> list[str]:
    """``champion canary: 1 of 2 instances = 50 %`` per instance variant."""
    if deployment.step_type is None or deployment.step_value is None:
        return []
    return [
        f"{v.name} "
        + describe_step(
            deployment.strategy,
            deployment.step_type,
            deployment.step_value,
            v.instance.initial_instance_count,
        )
        for v in variants
        if v.instance is not None
    ]


def _pct(share: float) -> str:
    return f"{share:.1f}".removesuffix(".0") + "%"


def _output_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def _variant_property(
    v: VariantSpec, model_name: str
) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
    serverless = None
    if v.serverless is not None:
        serverless = sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
            memory_size_in_mb=v.serverless.memory_size_mb,
            max_concurrency=v.serverless.max_concurrency,
            provisioned_concurrency=v.serverless.provisioned_concurrency,
        )
    instance = v.instance
    pools = None
    if instance is not None and instance.fallback_instance_types:
        # InstancePools replace InstanceType; priority 1 is tried first.
        pools = [
            sagemaker.CfnEndpointConfig.InstancePoolProperty(instance_type=t, priority=p)
            for p, t in enumerate(instance.instance_types, start=1)
        ]
    return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
        variant_name=v.name,
        model_name=model_name,
        initial_variant_weight=v.initial_weight,
        instance_type=instance.instance_type if instance and pools is None else None,
        instance_pools=pools,
        variant_instance_provision_timeout_in_seconds=instance.provision_timeout_seconds
        if instance
        else None,
        initial_instance_count=instance.initial_instance_count if instance else None,
        serverless_config=serverless,
    )


def _capture_property(
    spec: DataCaptureSpec | None, bucket: s3.IBucket | None, prefix: str, key: kms.IKey | None
) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty | None:
    if spec is None or bucket is None or key is None:
        return None
    modes = [m for m, on in (("Input", spec.capture_input), ("Output", spec.capture_output)) if on]
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=True,
        initial_sampling_percentage=spec.sampling_percentage,
        destination_s3_uri=bucket.s3_url_for_object(prefix.rstrip("/")),
        kms_key_id=key.key_arn,
        capture_options=[
            sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=m) for m in modes
        ],
        capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
            json_content_types=["application/json"], csv_content_types=["text/csv"]
        ),
    )


def _capacity(size: CapacitySize | None) -> sagemaker.CfnEndpoint.CapacitySizeProperty | None:
    if size is None:
        return None
    return sagemaker.CfnEndpoint.CapacitySizeProperty(type=size.type.upper(), value=size.value)


def _rolling_property(spec: DeploymentSpec) -> sagemaker.CfnEndpoint.RollingUpdatePolicyProperty:
    """RollingUpdatePolicy (API reference): batches of ``rolling_batch_size``, each baked for
    ``wait_seconds``; without ``rollback_batch_size`` a rollback restores the whole old fleet
    at once."""
    batch = _capacity(spec.rolling_batch_size)
    if batch is None:  # DeploymentSpec requires it for the rolling strategy
        raise ValueError("WeightedEndpoint: a rolling update needs rolling_batch_size")
    return sagemaker.CfnEndpoint.RollingUpdatePolicyProperty(
        maximum_batch_size=batch,
        wait_interval_in_seconds=spec.wait_seconds,
        maximum_execution_timeout_in_seconds=spec.maximum_execution_timeout_seconds,
        rollback_maximum_batch_size=_capacity(spec.rollback_batch_size),
    )


def _deployment_property(
    spec: DeploymentSpec, alarms: Sequence[cloudwatch.IAlarm]
) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
    rollback = None
    if alarms:
        rollback = sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a.alarm_name) for a in alarms]
        )
    if spec.strategy == "rolling":
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            rolling_update_policy=_rolling_property(spec), auto_rollback_configuration=rollback
        )
    capacity = None
    if spec.step_type is not None and spec.step_value is not None:
        capacity = sagemaker.CfnEndpoint.CapacitySizeProperty(
            type=spec.step_type.upper(), value=spec.step_value
        )
    routing = sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
        type=spec.strategy.upper(),
        # Required by the API for every type: for ALL_AT_ONCE it is the baking period after the
        # switch, the only time auto-rollback alarms are evaluated (TrafficRoutingConfig).
        wait_interval_in_seconds=spec.wait_seconds,
        canary_size=capacity if spec.strategy == "canary" else None,
        linear_step_size=capacity if spec.strategy == "linear" else None,
    )
    return sagemaker.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=routing,
            termination_wait_in_seconds=spec.termination_wait_seconds,
            maximum_execution_timeout_in_seconds=spec.maximum_execution_timeout_seconds,
        ),
        auto_rollback_configuration=rollback,
    )


# Logical id of the output naming the endpoint configuration a stack deployed. The smoke test
# (mlops_tools/smoke.py) reads it with CloudFormation DescribeStacks and compares it with the
# endpoint's EndpointConfigName: after a rolled-back update the endpoint is InService with the
# previous configuration. A fixed logical id instead of an export: an exported value cannot change
# while another stack imports it, and this one changes on every configuration change.
ENDPOINT_CONFIG_OUTPUT = "EndpointConfigName"


def _endpoint_config_output(
    endpoint: WeightedEndpoint, config: sagemaker.CfnEndpointConfig
) -> cdk.CfnOutput:
    """The output ``EndpointConfigName`` (the configuration this stack deployed). Only the first
    WeightedEndpoint of a stack gets the fixed logical id; a second one keeps CDK's generated
    id (two outputs cannot share one)."""
    output = cdk.CfnOutput(
        endpoint,
        ENDPOINT_CONFIG_OUTPUT,
        value=config.attr_endpoint_config_name,
        description="Endpoint configuration this stack deployed (the smoke test compares it "
        "with the endpoint's)",
    )
    stack = cdk.Stack.of(endpoint)
    earlier = [
        other
        for other in stack.node.find_all()
        if isinstance(other, WeightedEndpoint)
        and other is not endpoint
        and cdk.Stack.of(other) is stack
    ]
    if not earlier:
        output.override_logical_id(ENDPOINT_CONFIG_OUTPUT)
    return output
