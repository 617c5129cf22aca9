"""A service's retraining pipeline, generated from its props: train -> evaluate -> condition on
the metric -> register the model (PendingManualApproval, the evaluation report attached) in the
service's model package group; otherwise fail with the measured value.

``AWS::SageMaker::Pipeline`` takes ``PipelineDefinition.PipelineDefinitionBody``, "the JSON
pipeline definition" (CloudFormation template reference,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-pipeline.html).
The body follows the SageMaker pipeline definition JSON schema
(https://aws-sagemaker-mlops.github.io/sagemaker-model-building-pipeline-definition-JSON-schema/,
``Version`` 2020-12-01): ``Parameters`` (String), ``Training`` / ``Processing`` steps whose
``Arguments`` are the CreateTrainingJob / CreateProcessingJob requests, a processing step's
``PropertyFiles`` read by ``Std:JsonGet`` in a ``Condition`` step (``GreaterThanOrEqualTo``...),
``RegisterModel`` (CreateModelPackage: group, ``InferenceSpecification``, ``ModelMetrics``,
``ModelApprovalStatus``) and ``Fail``; ``{"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}``
passes the trained model on.

Permissions ("IAM Access Management" for Pipelines,
https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-access.html): the pipeline
execution role needs ``iam:PassRole`` for the role its steps run as, Create and Describe for
each job type, and ``s3:GetObject`` for ``JsonGet``. Jobs a pipeline starts are named
``pipelines-<execution id>-<step>-<suffix>``, so the role may create jobs under that prefix only
in this pipeline's security group and with this stack's KMS key on the volumes, or without a
volume key on the spec's instance types with local NVMe storage, which refuse one (condition
keys ``sagemaker:VpcSecurityGroupIds``, ``sagemaker:VolumeKmsKey`` and
``sagemaker:InstanceTypes``, "Actions, resources, and condition keys for Amazon SageMaker AI",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
The job role also runs the evaluation processing job in the VPC, for which SageMaker wants the
network actions unscoped (:func:`~mlops_cdk.constructs.roles.processing_vpc_network_statement`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_wildcard_resources
from mlops_cdk.aws.facts import (
    PROCESSING_LOG_GROUP,
    PROCESSING_NAMESPACE,
    TRAINING_LOG_GROUP,
    has_local_nvme,
)
from mlops_cdk.aws.pipeline_events import execution_failure_pattern
from mlops_cdk.constructs.encryption import key_use_statements
from mlops_cdk.constructs.event_notification import EventToTopic
from mlops_cdk.constructs.metrics import FIVE_MINUTES
from mlops_cdk.constructs.network import allow_within_group, https_egress_only_group
from mlops_cdk.constructs.roles import (
    PROCESSING_VPC_REASON,
    SageMakerTrainingRole,
    job_log_and_metric_statements,
    processing_vpc_network_statement,
)
from mlops_cdk.props.fields import checked_arguments, checked_types
from mlops_cdk.props.retraining_pipeline import (
    CONDITION_TYPES,
    EVALUATION_REPORT,
    RETRAINING_PARAMETERS,
    ManagedPipelineSpec,
    channel_prefix,
    retraining_prefixes,
    training_data_prefix,
)

PIPELINE_VERSION = "2020-12-01"
TRAIN, EVALUATE, CHECK, REGISTER, FAIL = "Train", "Evaluate", "CheckMetric", "Register", "Fail"
REPORT_FILE = "EvaluationReport"
# Pipelines name the jobs they start pipelines-<execution id>-<step name>-<suffix>.
PIPELINE_JOB_PREFIX = "pipelines-"
# "Monitor Amazon SageMaker AI with Amazon CloudWatch", "SageMaker Pipelines Metrics"
# (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html#cloudwatch-metrics-pipelines):
# namespace AWS/Sagemaker/ModelBuildingPipeline, ExecutionFailed "the number of pipeline
# executions that failed" (Count; Average, Sum), dimension PipelineName, 1-minute frequency.
PIPELINE_METRICS_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"
EXECUTION_FAILED_METRIC = "ExecutionFailed"


@dataclass(frozen=True)
@checked_types
class PipelineImages:
    """Image URIs of the steps: ``training``, ``evaluation`` and ``serving`` (the image of the
    registered package); ``repository`` when any is in the service's repository (pull grant)."""

    training: str
    evaluation: str
    serving: str
    repository: ecr.IRepository | None = None


class RetrainingPipeline(Construct):
    """The pipeline ``pipeline_name`` of ``service`` (``spec``), registering into
    ``group_name``. Its jobs run in ``subnets`` of ``vpc`` behind a security group of their own
    (HTTPS out; distributed jobs talk within the group), encrypt volumes and outputs with
    ``key``, and run as ``job_role`` (``self.job_role``: read ``training/<service>/``, write
    ``retraining/<service>/``). The pipeline runs as ``self.role``, which may pass only the job
    role. ``alarm`` fires when an execution fails (its action is the owner's);
    :meth:`notify_failures` tells a topic of each execution that failed or was stopped."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: ManagedPipelineSpec,
        pipeline_name: str,
        service: str,
        group_name: str,
        images: PipelineImages,
        bucket: s3.IBucket,
        key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        role_path: str = "/",
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec, self.service, self.pipeline_name = spec, service, pipeline_name
        self.bucket, self.key = bucket, key
        self.security_group = https_egress_only_group(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"Retraining jobs of {service}: HTTPS to the VPC endpoints",
            egress="HTTPS to VPC interface endpoints and the S3 gateway endpoint",
        )
        if max(spec.training.instance_count, spec.evaluation.instance_count) > 1:
            self._within_group()
        self.subnet_ids = [subnet.subnet_id for subnet in subnets]
        self.job_role = self._job_role(images.repository, vpc, role_path)
        self.role, policy = self._pipeline_role(group_name, role_path)
        definition = self.definition(group_name, images)
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=pipeline_name,
            pipeline_description=f"Retraining of {service}: train, evaluate, register if "
            f"{spec.evaluation.metric.name} meets its threshold (pending approval)",
            role_arn=self.role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": self._stack.to_json_string(definition)},
        )
        # SageMaker checks the role when the pipeline is created or updated.
        self.pipeline.node.add_dependency(policy, *self._job_policies)
        self.alarm = self._failure_alarm()

    def _within_group(self) -> None:
        """The instances of a distributed job talk to each other ("Give SageMaker AI Training
        Jobs Access to Resources in Your Amazon VPC": the group must allow traffic between its
        own members)."""
        allow_within_group(self.security_group, "Distributed jobs within the group")

    # --- values read through jsii once (each read is a round trip; the value never changes)

    @cached_property
    def _stack(self) -> cdk.Stack:
        return cdk.Stack.of(self)

    @cached_property
    def _bucket_name(self) -> str:
        return self.bucket.bucket_name

    @cached_property
    def _report_objects(self) -> str:
        """The evaluation reports of every execution (the service's reports prefix)."""
        _, reports, _ = retraining_prefixes(self.service)
        return self.bucket.arn_for_objects(f"{reports}*")

    @cached_property
    def _key_arn(self) -> str:
        return self.key.key_arn

    @cached_property
    def _security_group_id(self) -> str:
        return self.security_group.security_group_id

    # --- roles ---------------------------------------------------------------------------

    def _job_role(
        self, repository: ecr.IRepository | None, vpc: ec2.IVpc, role_path: str
    ) -> iam.IRole:
        """The training role of the service's prefixes, plus what evaluation (a processing job
        in the VPC) needs: read the trained models, write reports, processing logs and metrics,
        the network actions a processing job needs unscoped."""
        models, _, checkpoints = retraining_prefixes(self.service)
        training = SageMakerTrainingRole(
            self,
            "JobRole",
            bucket=self.bucket,
            data_prefix=training_data_prefix(self.service),
            output_prefix=models,
            checkpoint_prefix=checkpoints if self.spec.training.spot else None,
            key=self.key,
            repository=repository,
            vpc=vpc,
            path=role_path,
        )
        statements, reasons = self._evaluation_statements(models)
        evaluation = iam.ManagedPolicy(
            self,
            "EvaluationPolicy",
            description=f"Evaluation step of {self.service}: read models, write reports",
            roles=[training.role],
            statements=statements,
        )
        acknowledge_wildcard_resources(evaluation, reasons)
        self._job_policies: list[Construct] = [training.policy, evaluation]
        return training.role

    def _evaluation_statements(
        self, models: str
    ) -> tuple[list[iam.PolicyStatement], dict[str, str]]:
        """The evaluation step's statements and the reasons for their wildcards."""
        model_objects = self.bucket.arn_for_objects(f"{models}*")
        report_objects = self._report_objects
        observability, logs = job_log_and_metric_statements(
            self._stack,
            sid="Processing",
            log_group=PROCESSING_LOG_GROUP,
            namespace=PROCESSING_NAMESPACE,
        )
        statements = [
            iam.PolicyStatement(
                sid="ReadTrainedModels", actions=["s3:GetObject"], resources=[model_objects]
            ),
            iam.PolicyStatement(
                sid="ListTrainedModels",
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{models}*"]}},
            ),
            iam.PolicyStatement(
                sid="WriteEvaluationReports",
                actions=["s3:AbortMultipartUpload", "s3:PutObject"],
                resources=[report_objects],
            ),
            *observability,
            # The Evaluate step always runs in the VPC (_vpc_config).
            processing_vpc_network_statement(),
        ]
        reasons = {
            model_objects: "Models this service's training jobs wrote (named per job).",
            report_objects: "Evaluation reports, one folder per pipeline execution.",
            logs: f"SageMaker writes processing job logs to {PROCESSING_LOG_GROUP}.",
            "*": "cloudwatch:PutMetricData takes no resource (limited to the namespace "
            f"{PROCESSING_NAMESPACE} by condition). {PROCESSING_VPC_REASON}",
        }
        return statements, reasons

    def _pipeline_role(self, group_name: str, role_path: str) -> tuple[iam.IRole, Construct]:
        """Start this pipeline's jobs (with its key and security group), register into its
        group, read its evaluation reports (JsonGet), pass the job role only."""
        stack = self._stack
        role = iam.Role(
            self,
            "Role",
            path=role_path,
            description=f"Retraining pipeline {self.pipeline_name}",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        jobs = {
            kind: stack.format_arn(
                service="sagemaker", resource=kind, resource_name=f"{PIPELINE_JOB_PREFIX}*"
            )
            for kind in ("training-job", "processing-job")
        }
        group = stack.format_arn(
            service="sagemaker", resource="model-package-group", resource_name=group_name.lower()
        )
        packages = stack.format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{group_name.lower()}/*"
        )
        policy = iam.ManagedPolicy(
            self,
            "RolePolicy",
            description=f"Retraining pipeline {self.pipeline_name}: its jobs, its group",
            roles=[role],
            statements=[
                *self._job_statements(jobs),
                iam.PolicyStatement(
                    sid="RegisterIntoGroup",
                    actions=[
                        "sagemaker:CreateModelPackage",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:DescribeModelPackageGroup",
                    ],
                    resources=[group, packages],
                ),
                iam.PolicyStatement(
                    sid="ReadEvaluationReports",
                    actions=["s3:GetObject"],
                    resources=[self._report_objects],
                ),
                iam.PolicyStatement(
                    sid="PassJobRoleToSageMaker",
                    actions=["iam:PassRole"],
                    resources=[self.job_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                ),
                *key_use_statements(self.key),
            ],
        )
        reasons = {
            jobs["training-job"]: "Pipelines name the jobs they start pipelines-<execution>-"
            "<step>-<suffix>; creating one requires this stack's security group and key (no "
            "key only on the spec's local-NVMe instance types).",
            jobs["processing-job"]: "As for training jobs: named by Pipelines, created only "
            "with this stack's security group and key (or on the spec's local-NVMe types).",
            packages: "Versions of this service's model package group only.",
            self._report_objects: "JsonGet reads the evaluation report "
            "of each execution (one folder per execution).",
        }
        acknowledge_wildcard_resources(policy, reasons)
        return role, policy

    def _job_statements(self, jobs: dict[str, str]) -> list[iam.PolicyStatement]:
        """Create jobs only in this pipeline's security group and with the key on their volumes
        or, for the spec's instance types with local NVMe storage, which take no volume key
        (:meth:`_resources`), without one and on those types only; describe, stop and tag the
        pipeline's jobs.

        CreateTrainingJob and CreateProcessingJob take the condition keys
        ``sagemaker:VolumeKmsKey`` (ARN), ``sagemaker:InstanceTypes`` and
        ``sagemaker:VpcSecurityGroupIds`` (ArrayOfString) ("Actions, resources, and condition
        keys for Amazon SageMaker AI",
        https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
        A request without a volume key has no ``sagemaker:VolumeKmsKey``, and "If the key that
        you specify in a policy condition is not present in the request context, the values do
        not match and the condition is false" ("IAM JSON policy elements: Condition operators",
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html),
        so such jobs need a statement of their own: ``Null`` ``true`` for the missing key,
        ``Null`` ``false`` and ``ForAllValues:StringEquals`` for the instance types (``Null``
        because "The ForAllValues set operator also returns true if there are no context keys
        in the request", "Single-valued vs. multivalued context keys",
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html)."""
        create = ["sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"]
        in_group = {"sagemaker:VpcSecurityGroupIds": [self._security_group_id]}
        in_vpc = {"sagemaker:VpcSecurityGroupIds": "false"}  # ForAllValues passes an empty set
        types = (self.spec.training.instance_type, self.spec.evaluation.instance_type)
        nvme_types = sorted({t for t in types if not _takes_volume_key(t)})
        statements = []
        if any(_takes_volume_key(t) for t in types):
            statements.append(
                iam.PolicyStatement(
                    sid="CreatePipelineJobs",
                    actions=create,
                    resources=list(jobs.values()),
                    conditions={
                        "StringEquals": {"sagemaker:VolumeKmsKey": self._key_arn},
                        "Null": in_vpc,
                        "ForAllValues:StringEquals": in_group,
                    },
                )
            )
        if nvme_types:
            statements.append(
                iam.PolicyStatement(
                    sid="CreatePipelineJobsOnLocalNvme",
                    actions=create,
                    resources=list(jobs.values()),
                    conditions={
                        "Null": {
                            "sagemaker:VolumeKmsKey": "true",
                            "sagemaker:InstanceTypes": "false",
                            **in_vpc,
                        },
                        "ForAllValues:StringEquals": {
                            "sagemaker:InstanceTypes": nvme_types,
                            **in_group,
                        },
                    },
                )
            )
        statements.append(
            iam.PolicyStatement(
                sid="FollowPipelineJobs",
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                ],
                resources=list(jobs.values()),
            )
        )
        return statements

    def notify_failures(
        self,
        topic: sns.ITopic,
        *,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> EventToTopic:
        """Tell ``topic`` of each execution of this pipeline that ended ``Failed`` or
        ``Stopped`` (the execution's ARN, its status and where to read why), through an
        EventBridge rule on the documented status-change event
        (:mod:`mlops_cdk.aws.pipeline_events`). Its dead-letter queue is encrypted with the
        pipeline's key; the returned notification's ``watch`` holds its alarms, without
        actions (the owner's)."""
        # SageMaker pipeline ARNs use the lower-cased name (the pattern ignores case anyway).
        pipeline_arn = self._stack.format_arn(
            service="sagemaker", resource="pipeline", resource_name=self.pipeline_name.lower()
        )
        execution = events.EventField.from_path("$.detail.pipelineExecutionArn")
        status = events.EventField.from_path("$.detail.currentPipelineExecutionStatus")
        _, reports, _ = retraining_prefixes(self.service)
        # ListPipelineExecutionSteps returns each step's FailureReason (API reference,
        # PipelineExecutionStep); the execution's own may only say that a step failed.
        message = events.RuleTargetInput.from_text(
            f"Retraining pipeline {self.pipeline_name} of {self.service}: execution "
            f"{execution} ended {status}; no new model was registered. Why: aws sagemaker "
            f"list-pipeline-execution-steps --pipeline-execution-arn {execution} (each step's "
            f"FailureReason; the {FAIL} step gives the measured "
            f"{self.spec.evaluation.metric.name} against its threshold); the evaluation report "
            f"is in {self._s3(reports)} under the execution's id (the ARN's last part), "
            f"job logs in {TRAINING_LOG_GROUP} and {PROCESSING_LOG_GROUP}. Stopped: someone called "
            "StopPipelineExecution."
        )
        return EventToTopic(
            self,
            "FailureNotification",
            topic=topic,
            key=self.key,
            pattern=execution_failure_pattern(pipeline_arn),
            message=message,
            description=f"Failed or stopped executions of retraining pipeline {self.pipeline_name}",
            subject=f"Failure notifications of retraining pipeline {self.pipeline_name}",
            sid="EventBridgeRetrainingPipelineRule",
            replay="See docs/concepts/retraining-pipeline.md (Failure notification).",
            removal_policy=removal_policy,
        )

    def _failure_alarm(self) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            "ExecutionFailed",
            alarm_description=f"An execution of retraining pipeline {self.pipeline_name} "
            "failed (a step failed, or the new model missed its threshold): see the "
            "execution's FailureReason",
            metric=cloudwatch.Metric(
                namespace=PIPELINE_METRICS_NAMESPACE,
                metric_name=EXECUTION_FAILED_METRIC,
                dimensions_map={"PipelineName": self.pipeline_name},
                statistic="Sum",
                period=FIVE_MINUTES,
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    # --- the definition --------------------------------------------------------------------

    def definition(self, group_name: str, images: PipelineImages) -> dict[str, Any]:
        """The pipeline definition (tokens for the bucket, key, roles, network)."""
        return {
            "Version": PIPELINE_VERSION,
            "Metadata": {},
            # Declared because the retraining function passes them (StartPipelineExecution).
            "Parameters": [
                {"Name": name, "Type": "String", "DefaultValue": ""}
                for name in RETRAINING_PARAMETERS
            ],
            "Steps": [
                self._training_step(images.training),
                self._evaluation_step(images.evaluation),
                self._condition_step(group_name, images.serving),
            ],
        }

    def _s3(self, prefix: str) -> str:
        return f"s3://{self._bucket_name}/{prefix}"

    def _vpc_config(self) -> dict[str, Any]:
        return {
            "Subnets": self.subnet_ids,
            "SecurityGroupIds": [self._security_group_id],
        }

    def _resources(self, instance_type: str, count: int, volume_gb: int) -> dict[str, Any]:
        """Instances and their volume key (not on local NVMe instance types: AWS encrypts
        those volumes itself and refuses a key)."""
        resources: dict[str, Any] = {
            "InstanceCount": count,
            "InstanceType": instance_type,
            "VolumeSizeInGB": volume_gb,
        }
        if _takes_volume_key(instance_type):
            resources["VolumeKmsKeyId"] = self._key_arn
        return resources

    def _training_step(self, image: str) -> dict[str, Any]:
        training = self.spec.training
        models, _, checkpoints = retraining_prefixes(self.service)
        stopping: dict[str, Any] = {"MaxRuntimeInSeconds": training.max_runtime_seconds}
        arguments: dict[str, Any] = {
            "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
            "RoleArn": self.job_role.role_arn,
            "HyperParameters": dict(training.hyperparameters),
            "InputDataConfig": [self._channel(name) for name in training.channels],
            "OutputDataConfig": {"S3OutputPath": self._s3(models), "KmsKeyId": self._key_arn},
            "ResourceConfig": self._resources(
                training.instance_type, training.instance_count, training.volume_gb
            ),
            "StoppingCondition": stopping,
            "VpcConfig": self._vpc_config(),
            "EnableNetworkIsolation": training.network_isolation,
            "EnableInterContainerTrafficEncryption": training.instance_count > 1,
            "EnableManagedSpotTraining": training.spot is not None,
        }
        if training.spot is not None:
            stopping["MaxWaitTimeInSeconds"] = training.spot.max_wait_seconds
            arguments["CheckpointConfig"] = {
                "S3Uri": self._s3(checkpoints),
                "LocalPath": training.spot.checkpoint_local_path,
            }
        return {"Name": TRAIN, "Type": "Training", "Arguments": arguments}

    def _channel(self, name: str) -> dict[str, Any]:
        channel: dict[str, Any] = {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": self._s3(channel_prefix(self.service, name)),
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
        if self.spec.training.content_type:
            channel["ContentType"] = self.spec.training.content_type
        return channel

    def _evaluation_step(self, image: str) -> dict[str, Any]:
        evaluation = self.spec.evaluation
        _, reports, _ = retraining_prefixes(self.service)
        app: dict[str, Any] = {
            "ImageUri": image,
            "ContainerEntrypoint": list(evaluation.entrypoint),
        }
        if evaluation.arguments:
            app["ContainerArguments"] = list(evaluation.arguments)
        arguments = {
            "ProcessingResources": {
                "ClusterConfig": self._resources(
                    evaluation.instance_type, evaluation.instance_count, evaluation.volume_gb
                )
            },
            "AppSpecification": app,
            "RoleArn": self.job_role.role_arn,
            "ProcessingInputs": [
                _input("model", {"Get": f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"}),
                _input("test", self._s3(channel_prefix(self.service, evaluation.channel))),
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "evaluation",
                        "AppManaged": False,
                        "S3Output": {
                            "S3Uri": {
                                "Std:Join": {
                                    "On": "/",
                                    "Values": [
                                        self._s3(reports).rstrip("/"),
                                        {"Get": "Execution.PipelineExecutionId"},
                                    ],
                                }
                            },
                            "LocalPath": "/opt/ml/processing/evaluation",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ],
                "KmsKeyId": self._key_arn,
            },
            "NetworkConfig": {
                "EnableNetworkIsolation": evaluation.network_isolation,
                "EnableInterContainerTrafficEncryption": evaluation.instance_count > 1,
                "VpcConfig": self._vpc_config(),
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": evaluation.max_runtime_seconds},
        }
        return {
            "Name": EVALUATE,
            "Type": "Processing",
            "Arguments": arguments,
            "PropertyFiles": [
                {
                    "PropertyFileName": REPORT_FILE,
                    "OutputName": "evaluation",
                    "FilePath": EVALUATION_REPORT,
                }
            ],
        }

    def _condition_step(self, group_name: str, serving_image: str) -> dict[str, Any]:
        metric = self.spec.evaluation.metric
        value = {
            "Std:JsonGet": {
                "PropertyFile": {"Get": f"Steps.{EVALUATE}.PropertyFiles.{REPORT_FILE}"},
                "Path": metric.json_path,
            }
        }
        comparison = CONDITION_TYPES[metric.comparison]
        fail = {
            "Name": FAIL,
            "Type": "Fail",
            "Arguments": {
                "ErrorMessage": {
                    "Std:Join": {
                        "On": " ",
                        "Values": [
                            f"{metric.name} =",
                            value,
                            f"does not meet {comparison} {metric.threshold}: not registered",
                        ],
                    }
                }
            },
        }
        return {
            "Name": CHECK,
            "Type": "Condition",
            "Arguments": {
                "Conditions": [
                    {"Type": comparison, "LeftValue": value, "RightValue": metric.threshold}
                ],
                "IfSteps": [self._register_step(group_name, serving_image)],
                "ElseSteps": [fail],
            },
        }

    def _register_step(self, group_name: str, serving_image: str) -> dict[str, Any]:
        report = {
            "Std:Join": {
                "On": "/",
                "Values": [
                    {
                        "Get": f"Steps.{EVALUATE}.ProcessingOutputConfig.Outputs['evaluation']"
                        ".S3Output.S3Uri"
                    },
                    EVALUATION_REPORT,
                ],
            }
        }
        return {
            "Name": REGISTER,
            "Type": "RegisterModel",
            "Arguments": {
                "ModelPackageGroupName": group_name,
                "ModelPackageDescription": f"Trained by {self.pipeline_name}",
                "ModelApprovalStatus": "PendingManualApproval",
                "InferenceSpecification": {
                    "Containers": [
                        {
                            "Image": serving_image,
                            "ModelDataUrl": {
                                "Get": f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"
                            },
                        }
                    ],
                    "SupportedContentTypes": list(self.spec.content_types),
                    "SupportedResponseMIMETypes": list(self.spec.response_types),
                },
                "ModelMetrics": {
                    "ModelQuality": {
                        "Statistics": {"ContentType": "application/json", "S3Uri": report}
                    }
                },
            },
        }


def _takes_volume_key(instance_type: str) -> bool:
    """Whether a job on ``instance_type`` gets ``VolumeKmsKeyId``: "You can't request a
    VolumeKmsKeyId when using an instance type with local storage" (SageMaker API reference,
    "ResourceConfig" and "ProcessingClusterConfig",
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html). The
    definition (:meth:`RetrainingPipeline._resources`) and the pipeline role's conditions
    (:meth:`RetrainingPipeline._job_statements`) both ask this, so they cannot disagree."""
    return not has_local_nvme(instance_type)


def _input(name: str, uri: Any) -> dict[str, Any]:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": f"/opt/ml/processing/{name}",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }
