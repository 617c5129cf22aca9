"""BatchTransformJob: the state machine's definition (JSONata: job name, input, output,
encryption, throttling-only retry), least privilege, schedule with dead-letter queue, alarms."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk.assertions import Template

from mlops_cdk.constructs.batch_transform import BatchTransformJob, job_name_expression
from mlops_cdk.props.batch import MAX_JOB_NAME_PREFIX, BatchJobSpec, DataProcessingSpec
from tests.helpers import new_stack

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
ROLE_ARN = "arn:aws:iam::123456789012:role/mlops/dev/exec"


def spec(**changes: Any) -> BatchJobSpec:
    values: dict[str, Any] = {
        "name": "nightly",
        "model": "m",
        "instance_type": "ml.m5.xlarge",
        "instance_count": 2,
        "schedule": "cron(0 2 * * ? *)",
        "time_zone": "Europe/Dublin",
        "data_processing": DataProcessingSpec(input_filter="$[1:]", join_source="Input"),
        "environment": {"MODE": "batch"},
        **changes,
    }
    return BatchJobSpec(**values)


def build(**changes: Any) -> tuple[cdk.Stack, BatchTransformJob]:
    stack = new_stack()
    props: dict[str, Any] = {
        "spec": spec(),
        "service": "churn",
        "job_name_prefix": "dev-churn-nightly",
        "model_name": "churn-model",
        "execution_role": iam.Role.from_role_arn(stack, "Exec", ROLE_ARN),
        "key": kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        "bucket": s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts"),
        "role_path": "/mlops/dev/",
        "log_retention": logs.RetentionDays.TWO_WEEKS,
        "removal_policy": cdk.RemovalPolicy.DESTROY,
        **changes,
    }
    return stack, BatchTransformJob(stack, "Batch", **props)


def definition(template: Template) -> dict[str, Any]:
    """The state machine's definition, tokens rendered as ``<ref>``."""
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    body = machine["Properties"]["DefinitionString"]
    if isinstance(body, dict):
        parts = body["Fn::Join"][1]
        body = "".join(p if isinstance(p, str) else "<ref>" for p in parts)
    return dict(json.loads(body))


@pytest.fixture(scope="module")
def template() -> Template:
    stack, _ = build()
    return Template.from_stack(stack)


def test_runs_one_transform_job_and_waits(template: Template) -> None:
    states = definition(template)["States"]
    task = states["Transform"]
    assert task["Resource"] == "arn:<ref>:states:::sagemaker:createTransformJob.sync"
    args = task["Arguments"]
    assert args["ModelName"] == "churn-model"
    assert args["TransformResources"] == {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 2,
        "VolumeKmsKeyId": KEY_ARN,
    }
    assert args["TransformOutput"]["KmsKeyId"] == KEY_ARN
    assert args["DataProcessing"] == {"InputFilter": "$[1:]", "JoinSource": "Input"}
    assert args["Environment"] == {"MODE": "batch"}
    assert args["MaxPayloadInMB"] == 6
    assert args["BatchStrategy"] == "MultiRecord"
    assert task["TimeoutSeconds"] == 3600


def test_job_name_is_computed_by_the_transform_state_from_the_redrive_count(
    template: Template,
) -> None:
    states = definition(template)["States"]
    # A redrive reruns the failed Transform state, not Prepare (whose variables it keeps): the
    # name is computed in Transform's own Arguments, from the execution ARN on the first
    # attempt and from "<ARN>:<redrive count>" after. 63 - len("dev-churn-nightly-") = 45,
    # capped at MD5's 32 hex characters.
    assert "jobName" not in states["Prepare"]["Assign"]
    assert states["Transform"]["Arguments"]["TransformJobName"] == (
        "{% 'dev-churn-nightly-' & $substring($hash(($states.context.Execution.RedriveCount > 0"
        " ? $states.context.Execution.Id & ':' & $string($states.context.Execution.RedriveCount)"
        " : $states.context.Execution.Id), 'MD5'), 0, 32) %}"
    )
    assert "batch/churn/nightly/input/" in states["Prepare"]["Assign"]["input"]


def test_the_longest_prefix_leaves_twelve_hex_characters() -> None:
    expression = job_name_expression("p" * MAX_JOB_NAME_PREFIX)
    assert expression.endswith(", 0, 12) %}")
    assert "RedriveCount" in expression


def test_input_outside_the_service_prefix_fails_the_run(template: Template) -> None:
    states = definition(template)["States"]
    condition = states["CheckInput"]["Choices"][0]["Condition"]
    assert "$substring($input, 0, 12) = 'batch/churn/'" in condition
    assert "$not($contains($input, '..'))" in condition
    assert states["CheckInput"]["Default"] == "InputRefused"
    assert states["InputRefused"]["Type"] == "Fail"


def test_output_lands_per_execution(template: Template) -> None:
    output = definition(template)["States"]["Transform"]["Arguments"]["TransformOutput"]
    assert output["S3OutputPath"] == (
        "{% 's3://artifacts/batch/churn/nightly/output/' & $states.context.Execution.Name & '/' %}"
    )


def test_only_throttling_is_retried(template: Template) -> None:
    states = definition(template)["States"]
    (catch,) = states["Transform"]["Catch"]
    assert catch["ErrorEquals"] == ["SageMaker.AmazonSageMakerException"]
    assert "Retry" not in states["Transform"]
    condition = states["Throttled"]["Choices"][0]["Condition"]
    assert "'ThrottlingException'" in condition
    assert "$attempt < 5" in condition
    assert states["Throttled"]["Default"] == "Failed"
    assert states["Backoff"]["Next"] == "Transform"


def test_nvme_instance_types_get_no_volume_key() -> None:
    stack, _ = build(spec=spec(instance_type="ml.g4dn.xlarge"))
    resources = definition(Template.from_stack(stack))["States"]["Transform"]["Arguments"]
    assert "VolumeKmsKeyId" not in resources["TransformResources"]
    assert resources["TransformOutput"]["KmsKeyId"] == KEY_ARN


def statements(template: Template, description_part: str) -> list[dict[str, Any]]:
    for policy in template.find_resources("AWS::IAM::ManagedPolicy").values():
        props = policy["Properties"]
        if description_part in props.get("Description", ""):
            return list(props["PolicyDocument"]["Statement"])
    raise AssertionError(description_part)


def test_role_runs_only_this_jobs_transform_jobs_and_passes_only_the_execution_role(
    template: Template,
) -> None:
    by_sid = {s["Sid"]: s for s in statements(template, "this job's transform jobs")}
    jobs = json.dumps(by_sid["RunThisJobsTransformJobs"]["Resource"])
    assert "transform-job/dev-churn-nightly-*" in jobs
    # a .sync run tags the job it creates (MANAGED_BY_AWS): without AddTags it fails at once
    # (aws/aws-cdk#26012), as aws-cdk-lib's own task knows (read below)
    assert set(by_sid["RunThisJobsTransformJobs"]["Action"]) == {
        "sagemaker:AddTags",
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:StopTransformJob",
    }
    passing = by_sid["PassExecutionRoleToSageMaker"]
    assert passing["Resource"] == ROLE_ARN
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    rule = json.dumps(by_sid["JobCompletionEvents"]["Resource"])
    assert "rule/StepFunctionsGetEventsForSageMakerTransformJobsRule" in rule
    assert set(by_sid["JobCompletionEvents"]["Action"]) == {
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    }
    # No DefaultPolicy: the managed policy is the role's only permission.
    assert template.find_resources("AWS::IAM::Policy") == {}


def test_state_machine_waits_for_its_policy_and_logs_encrypted(template: Template) -> None:
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    (policy_id,) = template.find_resources(
        "AWS::IAM::ManagedPolicy",
        {"Properties": {"Description": "Batch transform nightly: this job's transform jobs only"}},
    )
    assert policy_id in machine["DependsOn"]
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"
    (group,) = template.find_resources("AWS::Logs::LogGroup").values()
    assert group["Properties"]["KmsKeyId"] == KEY_ARN
    assert group["Properties"]["RetentionInDays"] == 14


def test_schedule_starts_the_state_machine_with_retries_and_a_dead_letter_queue(
    template: Template,
) -> None:
    (schedule,) = template.find_resources("AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Europe/Dublin"
    target = props["Target"]
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}
    assert "DeadLetters" in json.dumps(target["DeadLetterConfig"])
    (queue,) = template.find_resources("AWS::SQS::Queue").values()
    assert queue["Properties"]["KmsMasterKeyId"] == KEY_ARN
    by_sid = {s["Sid"]: s for s in statements(template, "Batch schedule")}
    assert by_sid["StartBatchRun"]["Action"] == "states:StartExecution"


def test_alarms_on_failed_timed_out_and_aborted_executions_and_dead_letters(
    template: Template,
) -> None:
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    metrics = sorted(a["Properties"]["MetricName"] for a in alarms.values())
    assert metrics == [
        "ApproximateNumberOfMessagesVisible",
        "ExecutionsAborted",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
    ]


def test_without_a_schedule_there_is_no_schedule_or_queue() -> None:
    stack, job = build(spec=spec(schedule=None, time_zone="UTC"))
    template = Template.from_stack(stack)
    assert template.find_resources("AWS::Scheduler::Schedule") == {}
    assert template.find_resources("AWS::SQS::Queue") == {}
    assert len(job.alarms) == 3


def test_a_prefix_too_long_for_unique_job_names_is_refused() -> None:
    with pytest.raises(ValueError, match=r"job_name_prefix .* at most 50"):
        build(job_name_prefix="x" * 51)


def sagemaker_actions(statements: list[dict[str, Any]]) -> set[str]:
    return {
        action
        for statement in statements
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
        if action.startswith("sagemaker:")
    }


def test_the_role_has_every_sagemaker_action_aws_cdk_libs_transform_task_grants(
    template: Template,
) -> None:
    """aws-cdk-lib's SageMakerCreateTransformJob (RUN_JOB) is the reference for what a .sync
    transform run calls: every SageMaker action its role gets, ours has too."""
    stack = new_stack()
    task = tasks.SageMakerCreateTransformJob(
        stack,
        "Reference",
        transform_job_name="j",
        model_name="m",
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        transform_input=tasks.TransformInput(
            transform_data_source=tasks.TransformDataSource(
                s3_data_source=tasks.TransformS3DataSource(s3_uri="s3://b/in/")
            )
        ),
        transform_output=tasks.TransformOutput(s3_output_path="s3://b/out/"),
    )
    sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(task))
    machine_policies = [
        policy
        for policy in Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        if "MachineRole" in json.dumps(policy["Properties"]["Roles"])
    ]
    reference = sagemaker_actions(
        [s for p in machine_policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    )
    ours = sagemaker_actions(statements(template, "this job's transform jobs"))
    assert "sagemaker:AddTags" in reference
    assert reference <= ours, sorted(reference - ours)
