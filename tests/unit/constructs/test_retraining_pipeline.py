"""RetrainingPipeline: the generated pipeline definition (train -> evaluate -> condition ->
register / fail), encryption and VPC of its jobs, managed spot, its roles, its failure alarm and
failure notification (the rule's pattern against the documented "SageMaker Model Building
Pipeline Execution Status Change" event, matched with moto's EventBridge patterns; the message,
the dead-letter queue and its alarms); ModelPackageGroup and its reader policy."""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from moto.events.models import EventPattern

from mlops_cdk.aws.pipeline_events import execution_failure_pattern
from mlops_cdk.compliance.sagemaker.rules.event_input_placeholders import unknown_placeholders
from mlops_cdk.constructs.event_notification import EventToTopic
from mlops_cdk.constructs.model_registry import READER_ACTIONS, ModelPackageGroup
from mlops_cdk.constructs.retraining_pipeline import PipelineImages, RetrainingPipeline
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.retraining_pipeline import (
    RETRAINING_PARAMETERS,
    EvaluationSpec,
    ManagedPipelineSpec,
    MetricGateSpec,
    ModelRegistrySpec,
    SpotSpec,
    TrainingSpec,
)
from tests.helpers import imported_vpc, new_stack

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def spec(
    *, spot: bool = False, evaluation_instance_type: str = "ml.m5.large", **training: Any
) -> ManagedPipelineSpec:
    return ManagedPipelineSpec(
        training=TrainingSpec(
            image_tag="train-1",
            instance_type=training.pop("instance_type", "ml.m5.xlarge"),
            instance_count=training.pop("instance_count", 2),
            max_runtime_seconds=3600,
            hyperparameters={"max_depth": "6"},
            channels=("train", "validation"),
            spot=SpotSpec(max_wait_seconds=7200) if spot else None,
            **training,
        ),
        evaluation=EvaluationSpec(
            image_tag="eval-1",
            instance_type=evaluation_instance_type,
            entrypoint=("python3", "/opt/ml/code/evaluate.py"),
            metric=MetricGateSpec(name="auc", threshold=0.8),
        ),
    )


def build(pipeline: ManagedPipelineSpec | None = None) -> tuple[cdk.Stack, RetrainingPipeline]:
    stack = new_stack()
    vpc = imported_vpc(stack)
    built = RetrainingPipeline(
        stack,
        "Retraining",
        spec=pipeline or spec(),
        pipeline_name="dev-churn-retraining",
        service="churn",
        group_name="dev-churn",
        images=PipelineImages(training="train:1", evaluation="eval:1", serving="serve:1"),
        bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts"),
        key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        vpc=vpc,
        subnets=vpc.isolated_subnets,
        role_path="/mlops/dev/",
    )
    return stack, built


def definition(template: Template) -> dict[str, Any]:
    (pipeline,) = template.find_resources("AWS::SageMaker::Pipeline").values()
    body = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    if isinstance(body, dict):
        body = "".join(p if isinstance(p, str) else "<ref>" for p in body["Fn::Join"][1])
    return dict(json.loads(body))


@pytest.fixture(scope="module")
def template() -> Template:
    stack, _ = build()
    return Template.from_stack(stack)


def test_pipeline_is_named_and_declares_the_function_parameters(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SageMaker::Pipeline", {"PipelineName": "dev-churn-retraining"}
    )
    names = [p["Name"] for p in definition(template)["Parameters"]]
    assert names == list(RETRAINING_PARAMETERS)


def test_steps_train_evaluate_then_condition(template: Template) -> None:
    steps = definition(template)["Steps"]
    assert [(s["Name"], s["Type"]) for s in steps] == [
        ("Train", "Training"),
        ("Evaluate", "Processing"),
        ("CheckMetric", "Condition"),
    ]


def test_training_runs_in_the_vpc_with_kms_and_isolation(template: Template) -> None:
    args = definition(template)["Steps"][0]["Arguments"]
    assert args["ResourceConfig"]["VolumeKmsKeyId"] == KEY_ARN
    assert args["OutputDataConfig"]["KmsKeyId"] == KEY_ARN
    assert args["OutputDataConfig"]["S3OutputPath"] == "s3://artifacts/retraining/churn/models/"
    assert args["VpcConfig"]["Subnets"] == ["subnet-01234567", "subnet-89abcdef"]
    assert args["VpcConfig"]["SecurityGroupIds"] == ["<ref>"]
    assert args["EnableNetworkIsolation"] is True
    assert args["EnableInterContainerTrafficEncryption"] is True  # two instances
    assert args["EnableManagedSpotTraining"] is False
    assert "CheckpointConfig" not in args
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in args["InputDataConfig"]
    }
    assert channels == {
        "train": "s3://artifacts/training/churn/train/",
        "validation": "s3://artifacts/training/churn/validation/",
    }
    assert args["HyperParameters"] == {"max_depth": "6"}


def test_evaluation_writes_the_report_the_condition_reads(template: Template) -> None:
    steps = definition(template)["Steps"]
    evaluate, check = steps[1], steps[2]
    args = evaluate["Arguments"]
    assert args["ProcessingOutputConfig"]["KmsKeyId"] == KEY_ARN
    assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KEY_ARN
    assert args["NetworkConfig"]["VpcConfig"]["Subnets"] == ["subnet-01234567", "subnet-89abcdef"]
    model_input = args["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert model_input == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert evaluate["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]
    (condition,) = check["Arguments"]["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["RightValue"] == 0.8
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "metrics.auc.value"
    assert [s["Type"] for s in check["Arguments"]["ElseSteps"]] == ["Fail"]


def test_registers_pending_approval_with_metrics(template: Template) -> None:
    (register,) = definition(template)["Steps"][2]["Arguments"]["IfSteps"]
    args = register["Arguments"]
    assert register["Type"] == "RegisterModel"
    assert args["ModelPackageGroupName"] == "dev-churn"
    assert args["ModelApprovalStatus"] == "PendingManualApproval"
    (container,) = args["InferenceSpecification"]["Containers"]
    assert container["Image"] == "serve:1"
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    stats = args["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert stats["ContentType"] == "application/json"
    assert stats["S3Uri"]["Std:Join"]["Values"][1] == "evaluation.json"


def test_managed_spot_sets_wait_and_checkpoints() -> None:
    stack, _ = build(spec(spot=True))
    args = definition(Template.from_stack(stack))["Steps"][0]["Arguments"]
    assert args["EnableManagedSpotTraining"] is True
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert args["CheckpointConfig"]["S3Uri"] == "s3://artifacts/retraining/churn/checkpoints/"


def test_local_nvme_instances_get_no_volume_key() -> None:
    stack, _ = build(spec(instance_type="ml.m5d.xlarge"))
    args = definition(Template.from_stack(stack))["Steps"][0]["Arguments"]
    assert "VolumeKmsKeyId" not in args["ResourceConfig"]
    assert args["OutputDataConfig"]["KmsKeyId"] == KEY_ARN


def test_pipeline_role_passes_only_the_job_role(template: Template) -> None:
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "PassJobRoleToSageMaker"
    ]
    (passing,) = statements
    (logical_id, attribute) = passing["Resource"]["Fn::GetAtt"]
    assert logical_id.startswith("RetrainingJobRole")
    assert attribute == "Arn"
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_pipeline_jobs_are_created_only_with_the_key_and_group(template: Template) -> None:
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "CreatePipelineJobs"
    ]
    (create,) = statements
    assert create["Condition"]["StringEquals"] == {"sagemaker:VolumeKmsKey": KEY_ARN}
    assert "sagemaker:VpcSecurityGroupIds" in create["Condition"]["ForAllValues:StringEquals"]
    assert all("pipelines-*" in json.dumps(r) for r in create["Resource"])


def role_statements(template: Template, role_prefix: str) -> dict[str, dict[str, Any]]:
    """The statements, by Sid, of every managed policy attached to the role whose logical id
    starts with ``role_prefix``."""
    (role_id,) = [r for r in template.find_resources("AWS::IAM::Role") if r.startswith(role_prefix)]
    return {
        s["Sid"]: s
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    }


# "How to use SageMaker AI execution roles", CreateProcessingJob API: Execution Role Permissions.
PROCESSING_VPC_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
}


def test_job_role_has_the_processing_network_actions_unscoped(template: Template) -> None:
    """The Evaluate step is a processing job in the VPC: its role needs the ENI and describe
    actions with no condition and on "*", or CreateProcessingJob's validation fails."""
    unscoped = [
        s
        for s in role_statements(template, "RetrainingJobRole").values()
        if s["Resource"] == "*" and "Condition" not in s
    ]
    granted = {action for s in unscoped for action in _values(s["Action"])}
    assert granted >= PROCESSING_VPC_ACTIONS


def test_processing_logs_and_metrics_of_the_evaluation_step(template: Template) -> None:
    statements = role_statements(template, "RetrainingJobRole")
    assert ":log-group:/aws/sagemaker/ProcessingJobs:*" in json.dumps(
        statements["ProcessingLogs"]["Resource"]
    )
    metrics = statements["ProcessingMetrics"]
    assert metrics["Action"] == "cloudwatch:PutMetricData"
    assert metrics["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/ProcessingJobs"}
    }
    # The training part of the same role keeps its own log group and namespace.
    assert statements["TrainingMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}
    }


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, list[Any]]) -> bool:
    """IAM's evaluation of one condition key ("IAM JSON policy elements: Condition operators"
    and "Single-valued vs. multivalued context keys"), for the operators the role uses."""
    present = key in context
    if operator == "Null":  # "true": the key is absent from the request context
        return (str(expected) == "true") != present
    if operator == "StringEquals":  # an absent key does not match
        return present and any(v in _values(expected) for v in context[key])
    if operator == "ForAllValues:StringEquals":  # true when the key is absent
        return all(v in _values(expected) for v in context.get(key, []))
    raise AssertionError(f"the test does not evaluate {operator}")


def allowed(statements: list[dict[str, Any]], action: str, context: dict[str, list[Any]]) -> bool:
    """Whether an Allow statement grants ``action`` for a request with ``context``."""
    return any(
        s["Effect"] == "Allow"
        and action in _values(s["Action"])
        and all(
            _condition_holds(operator, key, expected, context)
            for operator, keys in s.get("Condition", {}).items()
            for key, expected in keys.items()
        )
        for s in statements
    )


def create_request(step: dict[str, Any]) -> tuple[str, dict[str, list[Any]]]:
    """The action and the request context of the job a step creates (its ``Arguments`` are the
    CreateTrainingJob / CreateProcessingJob request)."""
    args = step["Arguments"]
    if step["Type"] == "Training":
        action, resources, network = "sagemaker:CreateTrainingJob", args["ResourceConfig"], args
    else:
        action = "sagemaker:CreateProcessingJob"
        resources = args["ProcessingResources"]["ClusterConfig"]
        network = args["NetworkConfig"]
    context = {
        "sagemaker:InstanceTypes": [resources["InstanceType"]],
        "sagemaker:VpcSecurityGroupIds": network["VpcConfig"]["SecurityGroupIds"],
    }
    if "VolumeKmsKeyId" in resources:
        context["sagemaker:VolumeKmsKey"] = [resources["VolumeKmsKeyId"]]
    return action, context


# Instance types of the cases below with local NVMe storage (Amazon EC2 instance store).
LOCAL_NVME = {"ml.g5.xlarge", "ml.p4d.24xlarge", "ml.g4dn.xlarge", "ml.m5d.large"}


@pytest.mark.parametrize(
    ("training_type", "evaluation_type"),
    [
        ("ml.m5.xlarge", "ml.m5.large"),  # EBS volumes: the key on both
        ("ml.g5.xlarge", "ml.m5.large"),  # local NVMe training: no key there
        ("ml.p4d.24xlarge", "ml.g4dn.xlarge"),  # local NVMe only
        ("ml.m5.xlarge", "ml.m5d.large"),
    ],
)
def test_pipeline_role_may_create_the_jobs_its_definition_starts(
    training_type: str, evaluation_type: str
) -> None:
    """The pipeline role's conditions against what the definition sends: each job it creates
    is allowed; without the key on an EBS type, on an instance type the spec does not use
    without a key, in another security group or outside any VPC, it is not."""
    pipeline = spec(instance_type=training_type, evaluation_instance_type=evaluation_type)
    stack, built = build(pipeline)
    images = PipelineImages(training="train:1", evaluation="eval:1", serving="serve:1")
    steps = stack.resolve(built.definition("dev-churn", images))["Steps"][:2]
    statements = list(role_statements(Template.from_stack(stack), "RetrainingRole").values())
    for step in steps:
        action, context = create_request(step)
        instance_type = context["sagemaker:InstanceTypes"][0]
        assert ("sagemaker:VolumeKmsKey" in context) == (instance_type not in LOCAL_NVME)
        assert allowed(statements, action, context), (step["Name"], context)
        elsewhere = {**context, "sagemaker:VpcSecurityGroupIds": ["sg-0123456789abcdef0"]}
        assert not allowed(statements, action, elsewhere)
        outside = {k: v for k, v in context.items() if k != "sagemaker:VpcSecurityGroupIds"}
        assert not allowed(statements, action, outside)  # ForAllValues alone would pass it
        if "sagemaker:VolumeKmsKey" in context:
            unkeyed = {k: v for k, v in context.items() if k != "sagemaker:VolumeKmsKey"}
            assert not allowed(statements, action, unkeyed)
            assert not allowed(statements, action, {**context, "sagemaker:VolumeKmsKey": ["k"]})
        else:
            other_type = {**context, "sagemaker:InstanceTypes": ["ml.m5.24xlarge"]}
            assert not allowed(statements, action, other_type)
            untyped = {k: v for k, v in context.items() if k != "sagemaker:InstanceTypes"}
            assert not allowed(statements, action, untyped)


def test_pipeline_waits_for_its_policies_and_has_a_failure_alarm(template: Template) -> None:
    (pipeline,) = template.find_resources("AWS::SageMaker::Pipeline").values()
    assert len(pipeline["DependsOn"]) == 3
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/Sagemaker/ModelBuildingPipeline",
            "MetricName": "ExecutionFailed",
            "Dimensions": [{"Name": "PipelineName", "Value": "dev-churn-retraining"}],
        },
    )
    # Without a topic there is no rule: the owner asks for the notification.
    assert not template.find_resources("AWS::Events::Rule")


PIPELINE_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/dev-churn-retraining"
EXECUTION_ARN = f"{PIPELINE_ARN}/execution/p4jn9xou8a8s"


def status_change(**detail: Any) -> dict[str, Any]:
    """The event as the SageMaker developer guide shows it ("Events that Amazon SageMaker AI
    sends to Amazon EventBridge", "Pipeline execution state change")."""
    event: dict[str, Any] = {
        "version": "0",
        "id": "315c1398-40ff-a850-213b-158f73kd93ir",
        "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-12-01T10:10:11Z",
        "region": "eu-west-1",
        "resources": [PIPELINE_ARN, EXECUTION_ARN],
        "detail": {
            "pipelineExecutionDisplayName": "execution-1",
            "currentPipelineExecutionStatus": "Failed",
            "previousPipelineExecutionStatus": "Executing",
            "executionStartTime": "2026-12-01T10:03:13Z",
            "executionEndTime": "2026-12-01T10:10:10Z",
            "pipelineArn": PIPELINE_ARN,
            "pipelineExecutionArn": EXECUTION_ARN,
        },
    }
    event["detail"].update(detail)
    return event


@pytest.fixture(scope="module")
def failure_pattern() -> EventPattern:
    return EventPattern.load(json.dumps(execution_failure_pattern(PIPELINE_ARN)))


@pytest.mark.parametrize("status", ["Failed", "Stopped"])
def test_failed_and_stopped_executions_match(failure_pattern: EventPattern, status: str) -> None:
    assert failure_pattern.matches_event(status_change(currentPipelineExecutionStatus=status))


def test_the_pipeline_arn_matches_in_any_case(failure_pattern: EventPattern) -> None:
    # The guide's example shows a mixed-case name in the ARN; the rule must not depend on it.
    mixed = PIPELINE_ARN.replace("dev-churn-retraining", "Dev-Churn-Retraining")
    assert failure_pattern.matches_event(status_change(pipelineArn=mixed))


@pytest.mark.parametrize(
    "detail",
    [
        {"currentPipelineExecutionStatus": "Succeeded"},
        {"currentPipelineExecutionStatus": "Executing"},
        {"currentPipelineExecutionStatus": "Stopping"},
        {"pipelineArn": PIPELINE_ARN.replace("dev-churn", "dev-fraud")},
        {"pipelineArn": PIPELINE_ARN.replace("eu-west-1:123456789012", "eu-west-1:210987654321")},
    ],
)
def test_other_statuses_and_pipelines_do_not_match(
    failure_pattern: EventPattern, detail: dict[str, Any]
) -> None:
    assert not failure_pattern.matches_event(status_change(**detail))


def test_step_events_do_not_match(failure_pattern: EventPattern) -> None:
    event = copy.deepcopy(status_change())
    event["detail-type"] = "SageMaker Model Building Pipeline Execution Step Status Change"
    assert not failure_pattern.matches_event(event)


@pytest.fixture(scope="module")
def notified() -> tuple[dict[str, Any], EventToTopic]:
    stack, pipeline = build()
    topic = sns.Topic(stack, "Topic", master_key=kms.Key(stack, "TopicKey"))
    notification = pipeline.notify_failures(topic, removal_policy=cdk.RemovalPolicy.DESTROY)
    return Template.from_stack(stack).to_json(), notification


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_failure_rule_tells_the_topic_which_execution_and_where_to_look(
    notified: tuple[dict[str, Any], EventToTopic],
) -> None:
    template, _ = notified
    ((_, rule),) = _of_type(template, "AWS::Events::Rule").items()
    props = rule["Properties"]
    assert props["EventPattern"] == execution_failure_pattern(PIPELINE_ARN)
    ((topic_id, _),) = _of_type(template, "AWS::SNS::Topic").items()
    (target,) = props["Targets"]
    assert target["Arn"] == {"Ref": topic_id}
    transformer = target["InputTransformer"]
    paths = {v: k for k, v in transformer["InputPathsMap"].items()}
    filled = transformer["InputTemplate"]
    for path, value in (
        ("$.detail.pipelineExecutionArn", EXECUTION_ARN),
        ("$.detail.currentPipelineExecutionStatus", "Failed"),
    ):
        filled = filled.replace(f"<{paths[path]}>", value)
    # What SNS receives once EventBridge fills the placeholders of the template.
    text = json.loads(filled)
    assert f"execution {EXECUTION_ARN} ended Failed" in text
    assert f"list-pipeline-execution-steps --pipeline-execution-arn {EXECUTION_ARN}" in text
    assert "dev-churn-retraining" in text
    assert "s3://artifacts/retraining/churn/evaluation/ under the execution's id" in text
    # EventBridge reads every <...> as a variable: the only ones are the two input paths
    assert unknown_placeholders(transformer) == []


def test_failure_rule_has_an_encrypted_dead_letter_queue_and_alarms(
    notified: tuple[dict[str, Any], EventToTopic],
) -> None:
    template, notification = notified
    ((rule_id, rule),) = _of_type(template, "AWS::Events::Rule").items()
    ((queue_id, queue),) = _of_type(template, "AWS::SQS::Queue").items()
    (target,) = rule["Properties"]["Targets"]
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert queue["Properties"]["KmsMasterKeyId"] == KEY_ARN
    # The dead-letter queue waiting, the rule's failed invocations; no actions: the owner's.
    assert len(notification.alarms) == 2
    watched = {
        json.dumps(alarm["Properties"]["Dimensions"])
        for alarm in _of_type(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") in ("AWS/SQS", "AWS/Events")
    }
    assert any(rule_id in d for d in watched)
    assert any(queue_id in d for d in watched)
    assert all(
        "AlarmActions" not in a["Properties"]
        for a in _of_type(template, "AWS::CloudWatch::Alarm").values()
    )


def test_topic_and_queue_admit_events_for_the_failure_rule_only(
    notified: tuple[dict[str, Any], EventToTopic],
) -> None:
    template, _ = notified
    ((rule_id, _),) = _of_type(template, "AWS::Events::Rule").items()
    statements = [
        s
        for kind in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy")
        for p in _of_type(template, kind).values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid", "").startswith("EventBridgeRetrainingPipelineRule")
    ]
    assert sorted(s["Sid"] for s in statements) == [
        "EventBridgeRetrainingPipelineRuleDeadLetters",
        "EventBridgeRetrainingPipelineRulePublish",
    ]
    for statement in statements:
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {
            "Fn::GetAtt": [rule_id, "Arn"]
        }
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_spot_wait_below_runtime_is_refused() -> None:
    with pytest.raises(PropProblems, match=r"spot\.max_wait_seconds"):
        TrainingSpec(image_tag="t", instance_type="ml.m5.large", spot=SpotSpec(max_wait_seconds=60))


def test_exactly_one_image_and_unique_channels() -> None:
    with pytest.raises(PropProblems, match="exactly one of image_tag"):
        TrainingSpec(image_tag="t", image_digest="sha256:" + "0" * 64, instance_type="ml.m5.large")
    with pytest.raises(PropProblems, match="unique"):
        TrainingSpec(image_tag="t", instance_type="ml.m5.large", channels=("a", "a"))


def test_model_package_group_reader_policy() -> None:
    stack = new_stack()
    ModelPackageGroup(stack, "Registry", group_name="dev-churn", reader_accounts=["210987654321"])
    template = Template.from_stack(stack)
    (group,) = template.find_resources("AWS::SageMaker::ModelPackageGroup").values()
    assert group["Properties"]["ModelPackageGroupName"] == "dev-churn"
    (statement,) = group["Properties"]["ModelPackageGroupPolicy"]["Statement"]
    assert statement["Action"] == list(READER_ACTIONS)
    assert "210987654321:root" in json.dumps(statement["Principal"])
    assert json.dumps(statement["Resource"]).count("dev-churn") == 2


def test_model_package_group_without_readers_has_no_policy() -> None:
    stack = new_stack()
    ModelPackageGroup(stack, "Registry", group_name="dev-churn")
    (group,) = (
        Template.from_stack(stack).find_resources("AWS::SageMaker::ModelPackageGroup").values()
    )
    assert "ModelPackageGroupPolicy" not in group["Properties"]


def test_reader_accounts_are_account_ids() -> None:
    with pytest.raises(PropProblems, match="reader_accounts"):
        ModelRegistrySpec(reader_accounts=("12345",))
