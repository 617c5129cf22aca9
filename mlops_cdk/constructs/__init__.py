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

    model = HostedModel(stack, "Model", repository=repo, image_tag="1.0.0",
                        bucket=bucket, model_data_key="models/churn/model.tar.gz", key=key,
                        vpc=vpc)
    endpoint = WeightedEndpoint(stack, "Endpoint", endpoint_name="churn",
                                variants=[VariantSpec("main", model.model_name, 1,
                                                      "ml.m5.large", 2)])
    endpoint.grant_invoke(app_role)
    endpoint.metric_latency("main").create_alarm(stack, "Latency", threshold=250_000,
                                                 evaluation_periods=3)
"""

from mlops_cdk.constructs.alarms import AlarmThresholds, EndpointAlarms, QualityAlarmSpec
from mlops_cdk.constructs.autoscaling import ScalingSpec, ScheduledCapacity, VariantAutoscaling
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
    MetricsSpec,
    ServerlessSpec,
    VariantSpec,
    WeightedEndpoint,
)
from mlops_cdk.constructs.metrics import error_rate, instance_metric, variant_metric
from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.constructs.network import PrivateNetwork
from mlops_cdk.constructs.notifications import AlarmTopic
from mlops_cdk.constructs.preflight_access import PreflightAccess
from mlops_cdk.constructs.registry import ModelImageRepository
from mlops_cdk.constructs.retraining import (
    InvokeFunctionAction,
    QueueDestination,
    RetrainingFunction,
)
from mlops_cdk.constructs.role_readiness import wait_for_role_policies
from mlops_cdk.constructs.roles import FunctionRole, SageMakerExecutionRole, SageMakerTrainingRole
from mlops_cdk.constructs.smoke_access import SmokeTestAccess
from mlops_cdk.constructs.storage import ArtifactStorage
from mlops_cdk.constructs.watch import FailureWatch

__all__ = [
    "AlarmThresholds",
    "AlarmTopic",
    "ArtifactStorage",
    "CapacitySize",
    "ChangeTrail",
    "DataCaptureSpec",
    "DeploymentSpec",
    "DriftCheck",
    "EncryptionKey",
    "EndpointAlarms",
    "EndpointChangeRule",
    "EndpointDashboard",
    "EnvironmentBudget",
    "EnvironmentOverview",
    "FailureWatch",
    "FunctionRole",
    "HostedModel",
    "InvokeFunctionAction",
    "MetricsSpec",
    "ModelImageRepository",
    "PreflightAccess",
    "PrivateNetwork",
    "QualityAlarmSpec",
    "QueueDestination",
    "RetrainingFunction",
    "SageMakerExecutionRole",
    "SageMakerTrainingRole",
    "ScalingSpec",
    "ScheduledCapacity",
    "ServerlessSpec",
    "SmokeTestAccess",
    "VariantAutoscaling",
    "VariantSpec",
    "WeightedEndpoint",
    "error_rate",
    "instance_metric",
    "variant_metric",
    "wait_for_role_policies",
]
