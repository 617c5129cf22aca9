"""RetrainingFunction: runtime, concurrency, on-failure queue, logs, least privilege."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from mlops_cdk.constructs.retraining import RetrainingFunction, substitute_placeholders
from mlops_cdk.constructs.roles import FunctionRole
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.retraining import RetrainingSpec
from tests.helpers import imported_vpc, new_stack

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
TEMPLATE = {
    "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
    "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
}


def function_template(spec: RetrainingSpec | None = None, **mode: Any) -> Template:
    stack = new_stack()
    vpc = imported_vpc(stack)
    role = iam.Role(stack, "FnRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    if "training_job_template" in mode:
        mode["training_role"] = iam.Role.from_role_arn(
            stack, "Exec", "arn:aws:iam::123456789012:role/exec"
        )
    RetrainingFunction(
        stack,
        "Retraining",
        role=role,
        key=kms.Key.from_key_arn(
            stack,
            "Key",
            KEY_ARN,
        ),
        vpc=vpc,
        subnets=vpc.isolated_subnets,
        endpoint_name="dev-Serving",
        spec=spec or RetrainingSpec(cooldown_minutes=90),
        log_retention=logs.RetentionDays.TWO_WEEKS,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        **mode,
    )
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def pipeline() -> Template:
    return function_template(pipeline_name="Churn-Retraining")


def statements(template: Template) -> dict[str, dict[str, Any]]:
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_function_runtime_concurrency_vpc_and_environment(pipeline: Template) -> None:
    (fn,) = pipeline.find_resources("AWS::Lambda::Function").values()
    props = fn["Properties"]
    assert props["Runtime"] == "python3.14"
    assert props["Handler"] == "retrain.handler"
    # Off by default: a reservation fails where it would leave < 100 unreserved executions
    assert "ReservedConcurrentExecutions" not in props
    assert props["VpcConfig"]["SubnetIds"] == ["subnet-01234567", "subnet-89abcdef"]
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert props["Environment"]["Variables"] == {
        "ENDPOINT_NAME": "dev-Serving",
        "COOLDOWN_SECONDS": "5400",
        "METRICS_NAMESPACE": "MlopsCdk/Retraining",
        "RETRAIN_MODE": "pipeline",
        "PIPELINE_NAME": "Churn-Retraining",
    }
    assert fn["DependsOn"], "the function waits for its managed policy"


def test_async_retries_then_kms_encrypted_on_failure_queue(pipeline: Template) -> None:
    (config,) = pipeline.find_resources("AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["MaximumRetryAttempts"] == 2
    assert props["MaximumEventAgeInSeconds"] == 21600
    assert "Fn::GetAtt" in str(props["DestinationConfig"]["OnFailure"]["Destination"])
    pipeline.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "KmsMasterKeyId": KEY_ARN,
            "MessageRetentionPeriod": 1209600,
        },
    )


def test_on_failure_queue_and_errors_are_watched() -> None:
    stack = new_stack()
    vpc = imported_vpc(stack)
    function = RetrainingFunction(
        stack,
        "Retraining",
        key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        vpc=vpc,
        endpoint_name="dev-Serving",
        pipeline_name="Churn-Retraining",
    )
    resources = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")

    def props(alarm: Any) -> dict[str, Any]:
        return dict(resources[stack.get_logical_id(alarm.node.default_child)]["Properties"])

    depth, errors = (props(alarm) for alarm in function.alarms)
    queue_id = stack.get_logical_id(function.failures.node.default_child)  # type: ignore[arg-type]
    function_id = stack.get_logical_id(function.function.node.default_child)  # type: ignore[arg-type]
    assert (depth["Namespace"], depth["MetricName"], depth["Statistic"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
    )
    assert depth["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    ]
    assert (depth["ComparisonOperator"], depth["Threshold"]) == ("GreaterThanThreshold", 0)
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == (
        "AWS/Lambda",
        "Errors",
        "Sum",
    )
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    for alarm in (depth, errors):
        assert alarm["TreatMissingData"] == "notBreaching"
        assert "Retraining function of dev-Serving" in str(alarm["AlarmDescription"])
        assert "AlarmActions" not in alarm  # the owner adds its topic


def test_log_group_encrypted_with_retention(pipeline: Template) -> None:
    pipeline.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "RetentionInDays": 14,
                "KmsKeyId": KEY_ARN,
            },
            "DeletionPolicy": "Delete",
        },
    )


def test_pipeline_permissions_are_scoped_to_the_one_pipeline(pipeline: Template) -> None:
    s = statements(pipeline)
    start = s["StartRetrainingPipeline"]
    assert sorted(start["Action"]) == [
        "sagemaker:ListPipelineExecutions",
        "sagemaker:StartPipelineExecution",
    ]
    assert start["Resource"] == "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/churn-retraining"
    assert set(s) == {
        "StartRetrainingPipeline",
        "WriteOwnLogs",
        "SendFailedInvocations",
        "VpcNetworkInterfaces",
    }
    star = {sid for sid, statement in s.items() if statement["Resource"] == "*"}
    assert star == {"VpcNetworkInterfaces"}
    assert not any("iam:PassRole" in str(st["Action"]) for st in s.values())


def test_the_given_role_is_not_edited(pipeline: Template) -> None:
    pipeline.resource_count_is("AWS::IAM::Policy", 0)
    (role,) = pipeline.find_resources("AWS::IAM::Role").values()
    assert "Policies" not in role["Properties"]
    assert "ManagedPolicyArns" not in role["Properties"]


def test_training_job_mode_passes_only_the_training_role() -> None:
    template = function_template(
        training_job_template={**TEMPLATE, "Tags": [{"Key": "k", "Value": "v"}]},
        training_job_prefix="Churn-Retrain",
    )
    s = statements(template)
    assert s["CreateRetrainingJob"]["Resource"] == (
        "arn:aws:sagemaker:eu-west-1:123456789012:training-job/churn-retrain-*"
    )
    assert sorted(s["CreateRetrainingJob"]["Action"]) == [
        "sagemaker:AddTags",
        "sagemaker:CreateTrainingJob",
    ]
    assert s["PassTrainingRoleToSageMaker"] == {
        "Sid": "PassTrainingRoleToSageMaker",
        "Action": "iam:PassRole",
        "Effect": "Allow",
        "Resource": "arn:aws:iam::123456789012:role/exec",
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    }
    (fn,) = template.find_resources("AWS::Lambda::Function").values()
    variables = fn["Properties"]["Environment"]["Variables"]
    assert variables["RETRAIN_MODE"] == "training_job"
    # The function sets RoleArn from TRAINING_ROLE_ARN, the one role its policy may pass.
    assert variables["TRAINING_ROLE_ARN"] == "arn:aws:iam::123456789012:role/exec"
    assert "RoleArn" not in variables["TRAINING_JOB_TEMPLATE"]
    assert [st["Resource"] for st in s.values() if "iam:PassRole" in str(st["Action"])] == [
        "arn:aws:iam::123456789012:role/exec"
    ]


def test_placeholders_are_replaced_in_every_string_of_a_template() -> None:
    template = {
        "InputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": "s3://{bucket}/d/"}}}],
        "AlgorithmSpecification": {"TrainingImage": "{image_repository}:1.0"},
        "ResourceConfig": {"InstanceCount": 1},
    }
    assert substitute_placeholders(
        template, {"{bucket}": "my-bucket", "{image_repository}": "repo-uri"}
    ) == {
        "InputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": "s3://my-bucket/d/"}}}],
        "AlgorithmSpecification": {"TrainingImage": "repo-uri:1.0"},
        "ResourceConfig": {"InstanceCount": 1},
    }


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ({}, "give pipeline_name or a training job template"),
        ({"pipeline_name": "p", "training_job_template": TEMPLATE}, "give pipeline_name or"),
    ],
)
def test_invalid_modes(mode: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        function_template(**mode)


def test_reserved_concurrency_when_configured() -> None:
    template = function_template(RetrainingSpec(reserved_concurrency=2), pipeline_name="p")
    (fn,) = template.find_resources("AWS::Lambda::Function").values()
    assert fn["Properties"]["ReservedConcurrentExecutions"] == 2
    assert fn["Properties"]["Environment"]["Variables"]["COOLDOWN_SECONDS"] == "3600"


@pytest.mark.parametrize(
    ("settings", "field", "message"),
    [
        ({"cooldown_minutes": 4}, "cooldown_minutes", "greater than or equal to 5"),
        ({"cooldown_minutes": 10081}, "cooldown_minutes", "less than or equal to 10080"),
        ({"cooldown_minutes": True}, "cooldown_minutes", "got the boolean true"),
        ({"reserved_concurrency": 0}, "reserved_concurrency", "greater than or equal to 1"),
        ({"reserved_concurrency": 1001}, "reserved_concurrency", "less than or equal to 1000"),
    ],
)
def test_a_library_user_gets_the_configurations_checks(
    settings: dict[str, Any], field: str, message: str
) -> None:
    """RetrainingSpec checks itself: the bounds a configuration file gets hold for a library
    user too, before any resource is made."""
    with pytest.raises(PropProblems) as excinfo:
        function_template(RetrainingSpec(**settings), pipeline_name="p")
    ((path, text),) = excinfo.value.problems
    assert path == field
    assert message in text
    assert str(excinfo.value).startswith(f"retraining: {field}: ")


def test_logical_ids_of_deployed_resources_are_kept() -> None:
    """The function's infrastructure comes from WatchedFunction (under "Default"): the logical
    ids stay those of the deployed stacks, so the queue and the log group are not replaced."""
    stack = new_stack()
    function = RetrainingFunction(
        stack,
        "Retraining",
        key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        vpc=imported_vpc(stack),
        endpoint_name="dev-Serving",
        pipeline_name="Churn-Retraining",
    )
    assert function.security_group is not None
    constructs = (
        function.log_group,
        function.failures,
        function.security_group,
        function.function,
        function.policy,
        *function.alarms,
    )
    assert {stack.get_logical_id(c.node.default_child) for c in constructs} == {  # type: ignore[arg-type]
        "RetrainingLogs69FBA9E0",
        "RetrainingOnFailureD2C9F4DA",
        "RetrainingSecurityGroupD030C85C",
        "RetrainingFunctionD65F8A2D",
        "RetrainingPolicyFE6F56C8",
        "RetrainingWatchOnFailureWaiting6693F241",
        "RetrainingWatchFunctionErrors5ABD74CE",
    }


def test_function_waits_for_every_policy_of_a_role_made_elsewhere() -> None:
    """The stack no longer does it: the function's resource waits for its own policy and for
    the key-use policy that FunctionRole attached to the role (CreateFunction checks the
    role's network-interface permissions)."""
    stack = new_stack()
    role = FunctionRole(stack, "RetrainingRole", description="r", key=kms.Key(stack, "Key"))
    function = RetrainingFunction(
        stack,
        "Retraining",
        role=role.role,
        key=kms.Key.from_key_arn(stack, "Imported", KEY_ARN),
        vpc=imported_vpc(stack),
        endpoint_name="dev-Serving",
        pipeline_name="Churn-Retraining",
    )
    template = Template.from_stack(stack)
    (resource,) = template.find_resources("AWS::Lambda::Function").values()
    key_use = stack.get_logical_id(role.key_policy.node.default_child)  # type: ignore[arg-type]
    own = stack.get_logical_id(function.policy.node.default_child)  # type: ignore[arg-type]
    assert set(resource["DependsOn"]) == {own, key_use}
    # The function sees the role by ARN (immutable): the given role is never edited.
    assert resource["Properties"]["Role"] == {
        "Fn::GetAtt": [stack.get_logical_id(role.role.node.default_child), "Arn"]  # type: ignore[arg-type]
    }
