"""A small cloud assembly written by hand: one environment (``dev``, eu-west-1) with a
Foundation and a service ``churn`` (registry + serving stacks: two weighted variants, scaling,
a batch job on a schedule, alarms notifying a topic and a function), laid out as the CDK CLI
writes it (top manifest -> nested assembly -> templates and metadata files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BUCKET = {"Fn::ImportValue": "dev-Foundation:ExportsOutputRefArtifactsBucket886718973B17A16E"}
TAGS = [{"Key": "Environment", "Value": "dev"}]


def _s3(key: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["s3://", BUCKET, key]]}


FOUNDATION = {
    "NetworkVpc7FB7348F": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.10.0.0/16"}},
    "NetworkVpcSubnet1A1B2C3D4": {"Type": "AWS::EC2::Subnet", "Properties": {}},
    "NetworkVpcSubnet2A1B2C3D5": {"Type": "AWS::EC2::Subnet", "Properties": {}},
    "NetworkVpcRuntime180209FC": {
        "Type": "AWS::EC2::VPCEndpoint",
        "Properties": {
            "ServiceName": "com.amazonaws.eu-west-1.sagemaker.runtime",
            "VpcEndpointType": "Interface",
            "SubnetIds": ["subnet-1", "subnet-2"],
        },
    },
    "EncryptionKey3A692D6E": {
        "Type": "AWS::KMS::Key",
        "Properties": {"Description": "ML hosting data key (dev)", "EnableKeyRotation": True},
    },
    "ArtifactsBucket88671897": {
        "Type": "AWS::S3::Bucket",
        "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
    },
}

REGISTRY = {
    "ModelImagesRepository9F779EF6": {
        "Type": "AWS::ECR::Repository",
        "Properties": {"ImageTagMutability": "IMMUTABLE"},
    }
}

TRANSFORM = {
    "StartAt": "Transform",
    "States": {
        "Transform": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createTransformJob.sync",
            "TimeoutSeconds": 3600,
            "Arguments": {
                "ModelName": "${Modelchurnv1ModelD83F0E28.ModelName}",
                "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 2},
            },
            "End": True,
        }
    },
}

SERVING = {
    "Modelchurnv1ModelD83F0E28": {
        "Type": "AWS::SageMaker::Model",
        "Properties": {
            "Containers": [
                {
                    "Image": {"Fn::Join": ["", [{"Ref": "AWS::URLSuffix"}, "/", "repo", ":1.0.0"]]},
                    "ModelDataUrl": _s3("/models/churn/1.0.0/model.tar.gz"),
                }
            ]
        },
    },
    "Modelchurnv2Model0A0B0C0D": {
        "Type": "AWS::SageMaker::Model",
        "Properties": {
            "PrimaryContainer": {
                "Image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
            }
        },
    },
    "EndpointConfig24AD0A28": {
        "Type": "AWS::SageMaker::EndpointConfig",
        "Properties": {
            "ProductionVariants": [
                {
                    "VariantName": "champion",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 2,
                    "InitialVariantWeight": 3,
                    "ModelName": {"Fn::GetAtt": ["Modelchurnv1ModelD83F0E28", "ModelName"]},
                },
                {
                    "VariantName": "challenger",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": 1,
                    "ModelName": {"Fn::GetAtt": ["Modelchurnv2Model0A0B0C0D", "ModelName"]},
                },
            ],
            "DataCaptureConfig": {
                "EnableCapture": True,
                "InitialSamplingPercentage": 20,
                "DestinationS3Uri": _s3("/data-capture/churn"),
            },
        },
    },
    "Endpoint8024A810": {
        "Type": "AWS::SageMaker::Endpoint",
        "Properties": {
            "EndpointName": "dev-churn",
            "EndpointConfigName": {"Fn::GetAtt": ["EndpointConfig24AD0A28", "EndpointConfigName"]},
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY"}},
                "AutoRollbackConfiguration": {
                    "Alarms": [{"AlarmName": {"Ref": "AlarmsLatency200CF1A8"}}]
                },
            },
        },
    },
    "ScalingchampionTarget488A130A": {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {
            "MinCapacity": 2,
            "MaxCapacity": 4,
            "ResourceId": "endpoint/dev-churn/variant/champion",
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "ServiceNamespace": "sagemaker",
        },
    },
    "ScalingchampionTracking1A4C650B": {
        "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
        "Properties": {
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": "ScalingchampionTarget488A130A"},
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "TargetValue": 100,
            },
        },
    },
    "AlarmTopicC2164170": {
        "Type": "AWS::SNS::Topic",
        "Properties": {"DisplayName": "ML endpoint alarms", "Tags": TAGS},
    },
    "AlarmTopiconcall4C5BEB8A": {
        "Type": "AWS::SNS::Subscription",
        "Properties": {
            "Protocol": "email",
            "Endpoint": "oncall@example.com",
            "TopicArn": {"Ref": "AlarmTopicC2164170"},
        },
    },
    "AlarmsLatency200CF1A8": {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": "champion: ModelLatency p99 above 500 ms; see the runbook.",
            "Namespace": "AWS/SageMaker",
            "MetricName": "ModelLatency",
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 500000,
            "EvaluationPeriods": 3,
            "AlarmActions": [{"Ref": "AlarmTopicC2164170"}],
        },
    },
    "AlarmsQualityaucE5D58592": {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": "Evaluation AUC below the agreed floor",
            "Namespace": "MlopsCdk/ModelQuality",
            "MetricName": "AUC",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 0.8,
            "EvaluationPeriods": 1,
            "AlarmActions": [
                {"Ref": "AlarmTopicC2164170"},
                {"Fn::GetAtt": ["RetrainingFunctionD65F8A2D", "Arn"]},
            ],
        },
    },
    "RetrainingFunctionD65F8A2D": {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Description": "Starts SageMaker retraining when a model alarm fires (idempotent)",
            "MemorySize": 256,
            "Timeout": 60,
            "Environment": {"Variables": {"BASELINE_KEY": "baselines/churn/baseline.json"}},
        },
    },
    "BatchnightlyStateMachine9760DF85": {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": "dev-churn-nightly",
            "DefinitionString": json.dumps(TRANSFORM),
        },
    },
    "BatchnightlySchedule0A1B2C3D": {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {
            "ScheduleExpression": "cron(0 2 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/Dublin",
            "Target": {"Arn": {"Ref": "BatchnightlyStateMachine9760DF85"}},
        },
    },
}

PATHS = {
    "dev-Foundation": {
        "EncryptionKey3A692D6E": "/dev/Foundation/Encryption/Key/Resource",
        "ArtifactsBucket88671897": "/dev/Foundation/Artifacts/Bucket/Resource",
    },
    "dev-churn": {
        "Modelchurnv1ModelD83F0E28": "/dev/churn/Model-churn-v1/Model",
        "Modelchurnv2Model0A0B0C0D": "/dev/churn/Model-churn-v2/Model",
        "AlarmTopicC2164170": "/dev/churn/AlarmTopic/Topic/Resource",
        "AlarmsLatency200CF1A8": "/dev/churn/Alarms/Variant-champion/Latency/Resource",
        "AlarmsQualityaucE5D58592": "/dev/churn/Alarms/Quality-auc/Resource",
        "RetrainingFunctionD65F8A2D": "/dev/churn/Retraining/Default/Function/Resource",
    },
}


def write_assembly(directory: Path) -> Path:
    """The assembly in ``directory`` (returned)."""
    nested = directory / "assembly-dev"
    nested.mkdir(parents=True)
    stacks = {
        "devFoundation3D911934": ("dev-Foundation", FOUNDATION),
        "devchurnRegistry217A09BA": ("dev-churn-Registry", REGISTRY),
        "devchurn7DDE3149": ("dev-churn", SERVING),
    }
    artifacts: dict[str, Any] = {}
    for artifact_id, (name, resources) in stacks.items():
        (nested / f"{artifact_id}.template.json").write_text(
            json.dumps({"Resources": {**resources, "CDKMetadata": {"Type": "AWS::CDK::Metadata"}}})
        )
        metadata = {
            path: [{"type": "aws:cdk:logicalId", "data": logical_id}]
            for logical_id, path in PATHS.get(name, {}).items()
        }
        (nested / f"{artifact_id}.metadata.json").write_text(json.dumps(metadata))
        artifacts[artifact_id] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://111111111111/eu-west-1",
            "properties": {"templateFile": f"{artifact_id}.template.json", "stackName": name},
            "additionalMetadataFile": f"{artifact_id}.metadata.json",
        }
    (nested / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    top = {
        "artifacts": {
            "assembly-dev": {
                "type": "cdk:cloud-assembly",
                "properties": {"directoryName": "assembly-dev", "displayName": "dev"},
            }
        }
    }
    (directory / "manifest.json").write_text(json.dumps(top))
    return directory
