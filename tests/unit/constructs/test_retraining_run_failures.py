"""RetrainingFunction.notify_failures: the runs the function starts that fail later (a training
job, or an execution of an existing pipeline) reach the topic, matched against events of the
documented shapes with moto's EventBridge patterns."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from moto.events.models import EventPattern

from mlops_cdk.constructs.retraining import RetrainingFunction
from tests.helpers import delivered_message, imported_vpc, new_stack
from tests.unit.constructs.test_retraining import TEMPLATE

PREFIX = "dev-churn-retrain"
PIPELINE = "Churn-Retraining"


def build(**mode: Any) -> dict[str, Any]:
    stack = new_stack()
    vpc = imported_vpc(stack)
    key = kms.Key(stack, "Key")
    topic = sns.Topic(stack, "Topic", master_key=key)
    if "training_job_template" in mode:
        mode["training_role"] = iam.Role.from_role_arn(
            stack, "Exec", "arn:aws:iam::123456789012:role/exec"
        )
    function = RetrainingFunction(
        stack,
        "Retraining",
        key=key,
        vpc=vpc,
        subnets=vpc.isolated_subnets,
        endpoint_name="dev-churn",
        removal_policy=cdk.RemovalPolicy.DESTROY,
        **mode,
    )
    notification = function.notify_failures(topic, removal_policy=cdk.RemovalPolicy.DESTROY)
    assert len(notification.alarms) == 2  # failed invocations, dead letters waiting
    return Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def by_job() -> dict[str, Any]:
    return build(training_job_template=TEMPLATE, training_job_prefix=PREFIX)


@pytest.fixture(scope="module")
def by_pipeline() -> dict[str, Any]:
    return build(pipeline_name=PIPELINE)


def rule_of(template: dict[str, Any]) -> dict[str, Any]:
    (rule,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    return dict(rule["Properties"])


def message(rule: dict[str, Any], event: dict[str, Any]) -> str:
    (target,) = rule["Targets"]
    return delivered_message(target, event)


def job_event(name: str, status: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "a",
        "detail-type": "SageMaker Training Job State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-12-05T10:00:00Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{name}"],
        "detail": {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{name}",
            "TrainingJobStatus": status,
            "SecondaryStatus": "MaxRuntimeExceeded" if status == "Stopped" else status,
        },
    }


@pytest.mark.parametrize(
    ("name", "status", "matches"),
    [
        (f"{PREFIX}-20261205100000", "Failed", True),
        (f"{PREFIX}-20261205100000", "Stopped", True),
        (f"{PREFIX}-20261205100000", "Completed", False),
        (f"{PREFIX}-20261205100000", "InProgress", False),
        ("dev-fraud-retrain-20261205100000", "Failed", False),
        (f"{PREFIX}x-20261205100000", "Failed", False),  # another prefix that starts alike
    ],
)
def test_failed_or_stopped_jobs_of_its_prefix_match(
    by_job: dict[str, Any], name: str, status: str, matches: bool
) -> None:
    pattern = EventPattern.load(json.dumps(rule_of(by_job)["EventPattern"]))
    assert pattern.matches_event(job_event(name, status)) is matches


def test_the_job_message_says_why_and_how_to_start_again(by_job: dict[str, Any]) -> None:
    name = f"{PREFIX}-20261205100000"
    text = message(rule_of(by_job), job_event(name, "Failed"))
    assert text.startswith(f"Retraining of dev-churn: training job {name} ended Failed; no new")
    assert f"aws sagemaker describe-training-job --training-job-name {name}" in text
    assert "docs/runbooks/replay-failures.md" in text


def pipeline_event(name: str, status: str) -> dict[str, Any]:
    arn = f"arn:aws:sagemaker:eu-west-1:123456789012:pipeline/{name}"
    return {
        "version": "0",
        "id": "b",
        "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-12-05T10:00:00Z",
        "region": "eu-west-1",
        "resources": [arn],
        "detail": {
            "pipelineArn": arn,
            "pipelineExecutionArn": f"{arn}/execution/abc123",
            "currentPipelineExecutionStatus": status,
            "previousPipelineExecutionStatus": "Executing",
        },
    }


@pytest.mark.parametrize(
    ("name", "status", "matches"),
    [
        ("churn-retraining", "Failed", True),  # SageMaker's ARNs hold the lower-cased name
        (PIPELINE, "Stopped", True),
        ("churn-retraining", "Succeeded", False),
        ("fraud-retraining", "Failed", False),
    ],
)
def test_failed_or_stopped_executions_of_its_pipeline_match(
    by_pipeline: dict[str, Any], name: str, status: str, matches: bool
) -> None:
    pattern = EventPattern.load(json.dumps(rule_of(by_pipeline)["EventPattern"]))
    assert pattern.matches_event(pipeline_event(name, status)) is matches


def test_the_pipeline_message_names_the_execution(by_pipeline: dict[str, Any]) -> None:
    event = pipeline_event("churn-retraining", "Failed")
    text = message(rule_of(by_pipeline), event)
    execution = event["detail"]["pipelineExecutionArn"]
    assert text.startswith(
        f"Retraining of dev-churn: execution {execution} of pipeline {PIPELINE} ended Failed"
    )
    assert f"list-pipeline-execution-steps --pipeline-execution-arn {execution}" in text


def test_the_topic_admits_events_for_this_rule_only(by_job: dict[str, Any]) -> None:
    (rule_id,) = [k for k, r in by_job["Resources"].items() if r["Type"] == "AWS::Events::Rule"]
    statements = [
        s
        for r in by_job["Resources"].values()
        if r["Type"] == "AWS::SNS::TopicPolicy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    (publish,) = [s for s in statements if s.get("Sid") == "EventBridgeRetrainingRunsRulePublish"]
    assert publish["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    assert rule_id.startswith("RetrainingFailureNotificationRule")
