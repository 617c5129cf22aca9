"""A SageMaker endpoint with 1-10 weighted production variants and deployment guardrails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk.compliance import acknowledge_all
from mlops_cdk.config.serving import has_local_nvme
from mlops_cdk.guardrails import describe_step, step_problem

MAX_VARIANTS = 10
_KMS_FINDINGS = (
    "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
    "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
)


@dataclass(frozen=True)
class ServerlessSpec:
    memory_size_mb: int
    max_concurrency: int
    provisioned_concurrency: int | None = None


@dataclass(frozen=True)
class VariantSpec:
    """One production variant. Exactly one of (instance_type + initial_instance_count) or
    ``serverless``."""

    name: str
    model_name: str
    initial_weight: float
    instance_type: str | None = None
    initial_instance_count: int | None = None
    serverless: ServerlessSpec | None = None

    def __post_init__(self) -> None:
        if self.initial_weight < 0:
            raise ValueError(f"variant {self.name}: initial_weight must be >= 0")
        on_instances = self.instance_type is not None or self.initial_instance_count is not None
        if on_instances == (self.serverless is not None):
            raise ValueError(f"variant {self.name}: give instances or serverless, not both")
        if on_instances:
            if not (self.instance_type or "").startswith("ml."):
                raise ValueError(f"variant {self.name}: instance types start with 'ml.'")
            if (self.initial_instance_count or 0) < 1:
                raise ValueError(f"variant {self.name}: initial_instance_count must be >= 1")

    @property
    def local_nvme(self) -> bool:
        return self.instance_type is not None and has_local_nvme(self.instance_type)


@dataclass(frozen=True)
class DataCaptureSpec:
    sampling_percentage: int
    capture_input: bool = True
    capture_output: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.sampling_percentage <= 100:
            raise ValueError("data capture sampling_percentage must be 1-100")
        if not (self.capture_input or self.capture_output):
            raise ValueError("data capture must capture input, output or both")


@dataclass(frozen=True)
class DeploymentSpec:
    """Blue/green traffic shifting for endpoint updates."""

    strategy: Literal["all_at_once", "canary", "linear"] = "all_at_once"
    step_type: Literal["instance_count", "capacity_percent"] | None = None
    step_value: int | None = None
    wait_seconds: int = 300
    termination_wait_seconds: int = 300
    maximum_execution_timeout_seconds: int = 3600

    def __post_init__(self) -> None:
        stepped = self.strategy != "all_at_once"
        if stepped != (self.step_type is not None and self.step_value is not None):
            raise ValueError(f"{self.strategy}: step_type/step_value are for canary and linear")


class WeightedEndpoint(Construct):
    """Endpoint config + endpoint.

    - Variants and weights as given; each variant's share of traffic is a stack output.
    - Storage volumes encrypted with ``key``, except when a variant's instance type has local
      NVMe storage or the endpoint is serverless: SageMaker rejects a KmsKeyId there, so the
      finding is acknowledged with that reason instead.
    - Data capture (optional) to ``capture_bucket``/``capture_prefix``, KMS-encrypted.
    - The endpoint config has no physical name: any change is a new config (CloudFormation
      generates its name) and an in-place update of the endpoint, never a name collision.
    - The endpoint keeps the instance counts autoscaling has set across stack updates
      (RetainAllVariantProperties) while weights come from the template (DesiredWeight is
      excluded from retention).
    - ``endpoint_name`` is explicit so that alarms (which need the name as a dimension) can be
      created before the endpoint and referenced by its deployment guardrails without a
      dependency cycle. Derive it from the stack name so two copies never collide.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variants: Sequence[VariantSpec],
        key: kms.IKey,
        deployment: DeploymentSpec,
        capture_bucket: s3.IBucket | None = None,
        capture_prefix: str = "data-capture/",
        data_capture: DataCaptureSpec | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        _validate(variants, data_capture, capture_bucket)
        _validate_deployment(variants, deployment, rollback_alarms)
        self.variants = tuple(variants)
        self.endpoint_name = endpoint_name
        serverless = any(v.serverless for v in variants)
        nvme = [v.name for v in variants if v.local_nvme]

        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[_variant_property(v) for v in variants],
            kms_key_id=None if (nvme or serverless) else key.key_arn,
            data_capture_config=_capture_property(
                data_capture, capture_bucket, capture_prefix, key
            ),
        )
        if nvme:
            acknowledge_all(
                self.endpoint_config,
                _KMS_FINDINGS,
                f"Variants {', '.join(nvme)} use instance types with local NVMe storage; SageMaker "
                "rejects a KmsKeyId for them and encrypts that storage in hardware (AES-256).",
            )
        elif serverless:
            acknowledge_all(
                self.endpoint_config,
                _KMS_FINDINGS,
                "Serverless variants have no instance storage volume to encrypt; SageMaker "
                "rejects a KmsKeyId on serverless endpoint configs.",
            )

        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            retain_all_variant_properties=True,
            exclude_retained_variant_properties=[
                sagemaker.CfnEndpoint.VariantPropertyProperty(variant_property_type="DesiredWeight")
            ],
            deployment_config=_deployment_property(deployment, rollback_alarms),
        )
        self.endpoint_arn = self.endpoint.ref

        total = sum(v.initial_weight for v in variants)
        self.traffic_shares = {v.name: 100 * v.initial_weight / total for v in variants}
        summary = " / ".join(f"{name} {_pct(share)}" for name, share in self.traffic_shares.items())
        cdk.CfnOutput(self, "TrafficSplit", value=summary, description="Initial traffic split")
        for name, share in self.traffic_shares.items():
            cdk.CfnOutput(
                self,
                f"Traffic{_output_id(name)}",
                value=f"{name} {_pct(share)}",
                description=f"Initial traffic share of variant {name}",
            )
        self.deployment_steps = _deployment_steps(variants, deployment)
        if self.deployment_steps:
            cdk.CfnOutput(
                self,
                "DeploymentSteps",
                value="; ".join(self.deployment_steps),
                description="First blue/green step per variant (capacity rounds up to instances)",
            )


def _validate(
    variants: Sequence[VariantSpec],
    data_capture: DataCaptureSpec | None,
    capture_bucket: s3.IBucket | None,
) -> None:
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise ValueError(f"WeightedEndpoint: 1 to {MAX_VARIANTS} variants, got {len(variants)}")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError(f"WeightedEndpoint: duplicate variant names in {names}")
    if sum(v.initial_weight for v in variants) <= 0:
        raise ValueError("WeightedEndpoint: all variant weights are 0")
    if any(v.serverless for v in variants) and len(variants) > 1:
        raise ValueError("WeightedEndpoint: a serverless variant must be the only variant")
    if data_capture is not None and capture_bucket is None:
        raise ValueError("WeightedEndpoint: data capture needs capture_bucket")


def _validate_deployment(
    variants: Sequence[VariantSpec],
    deployment: DeploymentSpec,
    rollback_alarms: Sequence[cloudwatch.IAlarm],
) -> None:
    if rollback_alarms and deployment.wait_seconds <= 0:
        raise ValueError(
            "WeightedEndpoint: rollback alarms are only evaluated during the baking period; "
            "set wait_seconds > 0"
        )
    if deployment.step_type is None or deployment.step_value is None:
        return
    for v in variants:
        if v.initial_instance_count is None:
            if deployment.step_type == "instance_count":
                raise ValueError(f"variant {v.name}: serverless variants take capacity_percent")
            continue
        problem = step_problem(
            deployment.strategy,
            deployment.step_type,
            deployment.step_value,
            v.initial_instance_count,
        )
        if problem is not None:
            raise ValueError(f"WeightedEndpoint: variant {v.name}: {problem}")


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
            v.initial_instance_count,
        )
        for v in variants
        if v.initial_instance_count is not None
    ]


def _pct(share: float) -> str:
    return f"{share:.1f}".removesuffix(".0") + "%"


def _output_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def _variant_property(v: VariantSpec) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
    serverless = None
    if v.serverless is not None:
        serverless = sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
            memory_size_in_mb=v.serverless.memory_size_mb,
            max_concurrency=v.serverless.max_concurrency,
            provisioned_concurrency=v.serverless.provisioned_concurrency,
        )
    return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
        variant_name=v.name,
        model_name=v.model_name,
        initial_variant_weight=v.initial_weight,
        instance_type=v.instance_type,
        initial_instance_count=v.initial_instance_count,
        serverless_config=serverless,
    )


def _capture_property(
    spec: DataCaptureSpec | None, bucket: s3.IBucket | None, prefix: str, key: kms.IKey
) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty | None:
    if spec is None or bucket is None:
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


def _deployment_property(
    spec: DeploymentSpec, alarms: Sequence[cloudwatch.IAlarm]
) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
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
    rollback = None
    if alarms:
        rollback = sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a.alarm_name) for a in alarms]
        )
    return sagemaker.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=routing,
            termination_wait_in_seconds=spec.termination_wait_seconds,
            maximum_execution_timeout_in_seconds=spec.maximum_execution_timeout_seconds,
        ),
        auto_rollback_configuration=rollback,
    )
