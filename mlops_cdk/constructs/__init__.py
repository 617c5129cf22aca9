"""Reusable constructs for SageMaker hosting, one concern per module.

Every construct takes ``(scope, construct_id, *, ...)`` with keyword-only props: CDK
interfaces (``kms.IKey``, ``ec2.IVpc``, ``iam.IRole``, ``ecr.IRepository``, ``s3.IBucket``) for
what you bring, frozen dataclasses (``...Spec``, :class:`AlarmThresholds`) for settings, with
defaults where one is sensible, and exposes what it creates as attributes. None of them needs
the project's YAML configuration: importing this package imports neither pydantic, PyYAML
nor boto3.

They live in ``mlops_cdk/constructs/`` because a top-level package named ``constructs`` would
shadow the ``constructs`` library that aws-cdk-lib imports.

A typical service::

    model = HostedModel(stack, "Model",
                        spec=ModelSpec(image_tag="1.0.0",
                                       model_data_key="models/churn/model.tar.gz"),
                        repository=repo, bucket=bucket, key=key, vpc=vpc)
    endpoint = WeightedEndpoint(stack, "Endpoint", endpoint_name="churn",
                                models={"churn": model},
                                variants=[VariantSpec(name="main", model="churn",
                                                      initial_weight=1,
                                                      instance=InstanceCapacity(
                                                          instance_type="ml.m5.large",
                                                          initial_instance_count=2))])
    endpoint.grant_invoke(app_role)
    endpoint.metric_latency("main").create_alarm(stack, "Latency", threshold=250_000,
                                                 evaluation_periods=3)
"""

from mlops_cdk.constructs.alarms import AlarmThresholds, EndpointAlarms, QualityAlarmSpec
from mlops_cdk.constructs.async_access import (
    AsyncExecutionAccess,
    AsyncNotificationTopics,
    AsyncOutput,
    AsyncSubmitters,
)
from mlops_cdk.constructs.async_scaling import (
    AsyncEndpointAlarms,
    AsyncEndpointScaling,
)
from mlops_cdk.constructs.autoscaling import (
    InstanceAutoscaling,
    ProvisionedConcurrencyScaling,
    ScheduledScaling,
    VariantAutoscaling,
)
from mlops_cdk.constructs.batch_transform import (
    BatchTransformJob,
)
from mlops_cdk.constructs.budget import EnvironmentBudget
from mlops_cdk.constructs.change_detection import EndpointChangeRule
from mlops_cdk.constructs.change_trail import ChangeTrail
from mlops_cdk.constructs.dashboard import EndpointDashboard, EnvironmentOverview
from mlops_cdk.constructs.drift_check import DriftCheck
from mlops_cdk.constructs.encryption import EncryptionKey
from mlops_cdk.constructs.endpoint import (
    CapacitySize,
    DataCaptureSpec,
    DeploymentSpec,
    InstanceCapacity,
    MetricsSpec,
    ServerlessCapacity,
    VariantSpec,
    WeightedEndpoint,
)
from mlops_cdk.constructs.event_notification import EventToTopic
from mlops_cdk.constructs.foundation_watch import FoundationWatch
from mlops_cdk.constructs.function import (
    AsyncInvocation,
    FunctionPolicy,
    VpcPlacement,
    WatchedFunction,
)
from mlops_cdk.constructs.inference_components import (
    InferenceComponentEndpoint,
)
from mlops_cdk.constructs.metrics import error_rate, instance_metric, variant_metric
from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.constructs.model_registry import (
    ModelPackageGroup,
)
from mlops_cdk.constructs.network import PrivateNetwork
from mlops_cdk.constructs.notifications import AlarmTopic
from mlops_cdk.constructs.preflight_access import PreflightAccess
from mlops_cdk.constructs.promotion import (
    ApprovalNotification,
)
from mlops_cdk.constructs.quality_check import (
    QualityCheck,
)
from mlops_cdk.constructs.registry import ModelImageRepository
from mlops_cdk.constructs.retraining import (
    InvokeFunctionAction,
    QueueDestination,
    RetrainingFunction,
)
from mlops_cdk.constructs.retraining_pipeline import (
    PipelineImages,
    RetrainingPipeline,
)
from mlops_cdk.constructs.role_readiness import wait_for_role_policies
from mlops_cdk.constructs.roles import FunctionRole, SageMakerExecutionRole, SageMakerTrainingRole
from mlops_cdk.constructs.scaling_notification import ScaledToMaxNotification
from mlops_cdk.constructs.scan_notification import ImageScanNotification
from mlops_cdk.constructs.scheduled import (
    ScheduledInvocation,
)
from mlops_cdk.constructs.shadow import (
    ShadowVariantAlarms,
)
from mlops_cdk.constructs.smoke_access import SmokeTestAccess
from mlops_cdk.constructs.storage import ArtifactStorage
from mlops_cdk.constructs.watch import FailureWatch
from mlops_cdk.props.async_inference import (
    AsyncAlarms,
    AsyncInferenceSpec,
    AsyncNotifications,
    AsyncScaling,
    AsyncScheduledCapacity,
)
from mlops_cdk.props.batch import (
    BatchJobSpec,
    DataProcessingSpec,
)
from mlops_cdk.props.drift import DriftSpec
from mlops_cdk.props.inference_components import (
    BatchSize,
    CopyAutoscaling,
    FleetSpec,
    InferenceComponentSpec,
    InferenceComponentsSpec,
    ManagedInstanceScalingSpec,
    RollingDeployment,
)
from mlops_cdk.props.model import (
    AwsImageSpec,
    ContainerSpec,
    ModelPackageSpec,
    ModelSpec,
)
from mlops_cdk.props.quality import (
    QualityCheckSpec,
)
from mlops_cdk.props.retraining import RetrainingSpec
from mlops_cdk.props.retraining_pipeline import (
    EvaluationSpec,
    ManagedPipelineSpec,
    MetricGateSpec,
    ModelRegistrySpec,
    SpotSpec,
    TrainingSpec,
)

__all__ = [
    "AlarmThresholds",
    "AlarmTopic",
    "ApprovalNotification",
    "ArtifactStorage",
    "AsyncAlarms",
    "AsyncEndpointAlarms",
    "AsyncEndpointScaling",
    "AsyncExecutionAccess",
    "AsyncInferenceSpec",
    "AsyncInvocation",
    "AsyncNotificationTopics",
    "AsyncNotifications",
    "AsyncOutput",
    "AsyncScaling",
    "AsyncScheduledCapacity",
    "AsyncSubmitters",
    "AwsImageSpec",
    "BatchJobSpec",
    "BatchSize",
    "BatchTransformJob",
    "CapacitySize",
    "ChangeTrail",
    "ContainerSpec",
    "CopyAutoscaling",
    "DataCaptureSpec",
    "DataProcessingSpec",
    "DeploymentSpec",
    "DriftCheck",
    "DriftSpec",
    "EncryptionKey",
    "EndpointAlarms",
    "EndpointChangeRule",
    "EndpointDashboard",
    "EnvironmentBudget",
    "EnvironmentOverview",
    "EvaluationSpec",
    "EventToTopic",
    "FailureWatch",
    "FleetSpec",
    "FoundationWatch",
    "FunctionPolicy",
    "FunctionRole",
    "HostedModel",
    "ImageScanNotification",
    "InferenceComponentEndpoint",
    "InferenceComponentSpec",
    "InferenceComponentsSpec",
    "InstanceAutoscaling",
    "InstanceCapacity",
    "InvokeFunctionAction",
    "ManagedInstanceScalingSpec",
    "ManagedPipelineSpec",
    "MetricGateSpec",
    "MetricsSpec",
    "ModelImageRepository",
    "ModelPackageGroup",
    "ModelPackageSpec",
    "ModelRegistrySpec",
    "ModelSpec",
    "PipelineImages",
    "PreflightAccess",
    "PrivateNetwork",
    "ProvisionedConcurrencyScaling",
    "QualityAlarmSpec",
    "QualityCheck",
    "QualityCheckSpec",
    "QueueDestination",
    "RetrainingFunction",
    "RetrainingPipeline",
    "RetrainingSpec",
    "RollingDeployment",
    "SageMakerExecutionRole",
    "SageMakerTrainingRole",
    "ScaledToMaxNotification",
    "ScheduledInvocation",
    "ScheduledScaling",
    "ServerlessCapacity",
    "ShadowVariantAlarms",
    "SmokeTestAccess",
    "SpotSpec",
    "TrainingSpec",
    "VariantAutoscaling",
    "VariantSpec",
    "VpcPlacement",
    "WatchedFunction",
    "WeightedEndpoint",
    "error_rate",
    "instance_metric",
    "variant_metric",
    "wait_for_role_policies",
]
