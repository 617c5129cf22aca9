"""A state machine with one createTransformJob task, for the batch rules' tests."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tests.unit.compliance.sagemaker.pack_helpers import KEY, ROLE


def transform_machine(
    scope: Construct,
    *,
    model_name: Any,
    output_key: bool = True,
    volume_key: bool = True,
    instance_type: str = "ml.m5.xlarge",
    integration: str = "createTransformJob.sync",
) -> sfn.CfnStateMachine:
    """State machine ``Machine`` whose only task runs a transform job of ``model_name``."""
    resources: dict[str, Any] = {"InstanceType": instance_type, "InstanceCount": 1}
    if volume_key:
        resources["VolumeKmsKeyId"] = KEY
    output: dict[str, Any] = {"S3OutputPath": "s3://b/batch/out/"}
    if output_key:
        output["KmsKeyId"] = KEY
    definition = {
        "StartAt": "Transform",
        "States": {
            "Transform": {
                "Type": "Task",
                "Resource": f"arn:{cdk.Aws.PARTITION}:states:::sagemaker:{integration}",
                "Parameters": {
                    "TransformJobName.$": "$$.Execution.Name",
                    "ModelName": model_name,
                    "TransformInput": {
                        "DataSource": {
                            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/batch/in/"}
                        }
                    },
                    "TransformOutput": output,
                    "TransformResources": resources,
                },
                "End": True,
            }
        },
    }
    return sfn.CfnStateMachine(
        scope,
        "Machine",
        role_arn=ROLE,
        definition_string=cdk.Stack.of(scope).to_json_string(definition),
    )


def isolated_model(scope: Construct, *, vpc: bool = True, isolation: bool = True) -> sm.CfnModel:
    return sm.CfnModel(
        scope,
        "Model",
        execution_role_arn=ROLE,
        enable_network_isolation=isolation,
        vpc_config=sm.CfnModel.VpcConfigProperty(
            security_group_ids=["sg-0123456789abcdef0"], subnets=["subnet-01234567"]
        )
        if vpc
        else None,
    )
