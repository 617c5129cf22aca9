"""A SageMaker pipeline for the pipeline rules' tests: the definition RetrainingPipeline
generates, changed by the test; the pipeline's role with a PassRole policy."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sm

KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
VPC = {"Subnets": ["subnet-01234567"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}


def job_role(stack: cdk.Stack, construct_id: str = "JobRole") -> iam.Role:
    return iam.Role(stack, construct_id, assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))


def definition(job_role_arn: str) -> dict[str, Any]:
    """Train (spot, checkpoints) -> Evaluate -> Condition -> Register / Fail."""
    train = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "RoleArn": job_role_arn,
            "OutputDataConfig": {"S3OutputPath": "s3://b/models/", "KmsKeyId": KEY},
            "ResourceConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
                "VolumeKmsKeyId": KEY,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
            "EnableManagedSpotTraining": True,
            "CheckpointConfig": {"S3Uri": "s3://b/checkpoints/"},
            "VpcConfig": dict(VPC),
        },
    }
    evaluate = {
        "Name": "Evaluate",
        "Type": "Processing",
        "Arguments": {
            "RoleArn": job_role_arn,
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 30,
                    "VolumeKmsKeyId": KEY,
                }
            },
            "ProcessingOutputConfig": {"Outputs": [], "KmsKeyId": KEY},
            "NetworkConfig": {"VpcConfig": dict(VPC)},
        },
    }
    retrain = copy.deepcopy(train)
    retrain["Name"] = "Retrain"
    return {
        "Version": "2020-12-01",
        "Steps": [
            train,
            evaluate,
            {
                "Name": "Check",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [],
                    "IfSteps": [retrain],
                    "ElseSteps": [{"Name": "Fail", "Type": "Fail", "Arguments": {}}],
                },
            },
        ],
    }


def pipeline(
    stack: cdk.Stack,
    *,
    change: Callable[[dict[str, Any]], None] | None = None,
    pass_resources: list[str] | None = None,
    body: Any = None,
) -> sm.CfnPipeline:
    """Pipeline ``S/Pipeline`` running as ``S/PipelineRole``, whose policy may pass
    ``pass_resources`` (default: the job role)."""
    role = job_role(stack)
    pipeline_role = iam.Role(
        stack, "PipelineRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
    )
    iam.ManagedPolicy(
        stack,
        "PipelinePolicy",
        roles=[pipeline_role],
        statements=[
            iam.PolicyStatement(
                actions=["iam:PassRole"], resources=pass_resources or [role.role_arn]
            )
        ],
    )
    spec = definition(role.role_arn)
    if change is not None:
        change(spec)
    return sm.CfnPipeline(
        stack,
        "Pipeline",
        pipeline_name="p",
        role_arn=pipeline_role.role_arn,
        pipeline_definition=body
        if body is not None
        else {"PipelineDefinitionBody": stack.to_json_string(spec)},
    )


def args(spec: dict[str, Any], step: int) -> dict[str, Any]:
    return dict(spec["Steps"][step]["Arguments"])


def dumps(value: Any) -> str:
    return json.dumps(value)
