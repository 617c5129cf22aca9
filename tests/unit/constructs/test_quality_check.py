"""QualityCheck: schedule (the drift check's, extracted), function settings, least privilege,
the label heartbeat, and the pack's AlarmMetricPublished rule accepting alarms on its metrics."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.aws.facts import LAMBDA_ENVIRONMENT_MAX_BYTES, QUALITY_DIMENSIONS_MAX_BYTES
from mlops_cdk.constructs.quality_check import QualityCheck
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.quality import QualityCheckSpec
from tests.helpers import imported_vpc, new_stack
from tests.unit.compliance.sagemaker import pack_helpers as ph

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
SPEC = QualityCheckSpec(
    problem="binary",
    metrics=["auc", "accuracy"],
    schedule="rate(2 hours)",
    window_hours=12,
    label_delay_hours=48,
    threshold=0.4,
    min_labels=50,
    label_heartbeat_hours=36,
)


def build(stack: cdk.Stack | None = None, **changes: Any) -> tuple[cdk.Stack, QualityCheck]:
    stack = stack or new_stack()
    vpc = imported_vpc(stack)
    props: dict[str, Any] = {
        "spec": SPEC,
        "service": "churn",
        "endpoint_name": "dev-churn",
        "key": kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        "vpc": vpc,
        "subnets": vpc.isolated_subnets,
        "bucket": s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts"),
        "capture_prefix": "data-capture/churn/",
        "variants": ["champion", "challenger"],
        "log_retention": logs.RetentionDays.TWO_WEEKS,
        "removal_policy": cdk.RemovalPolicy.DESTROY,
        "role_path": "/mlops/dev/",
        **changes,
    }
    return stack, QualityCheck(stack, "Quality", **props)


@pytest.fixture(scope="module")
def template() -> Template:
    stack, _ = build()
    return Template.from_stack(stack)


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(resource_type).values()
    return dict(resource["Properties"])


def statements(template: Template, description_start: str) -> dict[str, dict[str, Any]]:
    for policy in template.find_resources("AWS::IAM::ManagedPolicy").values():
        props = policy["Properties"]
        if props["Description"].startswith(description_start):
            return {s["Sid"]: s for s in props["PolicyDocument"]["Statement"]}
    raise AssertionError(description_start)


def test_schedule_runs_the_function_every_period(template: Template) -> None:
    schedule = only(template, "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "rate(2 hours)"
    assert schedule["Description"] == "Quality check of dev-churn"
    target = schedule["Target"]
    assert "QualityFunction" in json.dumps(target["Arn"])
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 3}
    assert "QualityFailures" in json.dumps(target["DeadLetterConfig"])
    scheduler = statements(template, "Quality check schedule")
    assert scheduler["InvokeQualityCheck"]["Action"] == "lambda:InvokeFunction"


def test_function_settings(template: Template) -> None:
    function = only(template, "AWS::Lambda::Function")
    assert function["Handler"] == "quality.handler"
    assert function["Timeout"] == 600
    env = function["Environment"]["Variables"]
    assert {k: v for k, v in env.items() if k != "BUCKET"} == {
        "CAPTURE_PREFIX": "data-capture/churn/",
        "LABELS_PREFIX": "ground-truth/churn/",
        "ENDPOINT_NAME": "dev-churn",
        "VARIANTS": "champion,challenger",
        "WINDOW_HOURS": "12",
        "LABEL_DELAY_HOURS": "48",
        "PERIOD_HOURS": "2",
        "PROBLEM": "binary",
        "METRICS": "auc,accuracy",
        "THRESHOLD": "0.4",
        "MIN_LABELS": "50",
        "METRICS_NAMESPACE": "MlopsCdk/ModelQuality",
        "DIMENSIONS": '{"Service": "churn"}',
    }
    assert function["VpcConfig"]["SubnetIds"] == ["subnet-01234567", "subnet-89abcdef"]
    invoke = only(template, "AWS::Lambda::EventInvokeConfig")
    assert invoke["MaximumRetryAttempts"] == 0


def test_function_least_privilege(template: Template) -> None:
    policy = statements(template, "Quality check: read capture and labels")
    read = json.dumps(policy["ReadCaptureAndLabels"]["Resource"])
    assert "/data-capture/churn/*" in read
    assert "/ground-truth/churn/*" in read
    assert policy["ReadCaptureAndLabels"]["Action"] == "s3:GetObject"
    assert policy["ListCaptureAndLabels"]["Condition"]["StringLike"]["s3:prefix"] == [
        "data-capture/churn/",
        "data-capture/churn/*",
        "ground-truth/churn/",
        "ground-truth/churn/*",
    ]
    assert policy["DecryptThroughS3"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    }
    assert policy["PutQualityMetrics"] == {
        "Sid": "PutQualityMetrics",
        "Effect": "Allow",
        "Action": "cloudwatch:PutMetricData",
        "Resource": "*",
        "Condition": {"StringEquals": {"cloudwatch:namespace": "MlopsCdk/ModelQuality"}},
    }
    actions = json.dumps([s["Action"] for s in policy.values()])
    assert "s3:PutObject" not in actions
    assert "kms:Encrypt" not in actions


def test_label_heartbeat_alarm(template: Template) -> None:
    stack, check = build()
    beat = next(
        a["Properties"]
        for a in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "NewMatchedLabels"
    )
    assert beat["Namespace"] == "MlopsCdk/ModelQuality"
    assert beat["Dimensions"] == [{"Name": "Service", "Value": "churn"}]
    assert (beat["Statistic"], beat["Period"]) == ("Sum", 3600)
    assert (beat["EvaluationPeriods"], beat["DatapointsToAlarm"]) == (36, 36)
    assert beat["ComparisonOperator"] == "LessThanThreshold"
    assert beat["TreatMissingData"] == "breaching"
    assert check.alarms[0] is check.heartbeat_alarm
    assert len(check.alarms) == 3  # heartbeat, failure queue, errors
    assert check.metric("AUC").dimensions == {"Service": "churn"}


def test_custom_dimensions_and_namespace() -> None:
    spec = QualityCheckSpec(
        problem="regression",
        metrics=["rmse"],
        namespace="Team/Quality",
        dimensions={"Model": "churn", "Stage": "dev"},
    )
    stack, _ = build(spec=spec)
    env = only(Template.from_stack(stack), "AWS::Lambda::Function")["Environment"]["Variables"]
    assert env["DIMENSIONS"] == '{"Model": "churn", "Stage": "dev"}'
    assert env["METRICS_NAMESPACE"] == "Team/Quality"


def _alarm_on(stack: cdk.Stack, namespace: str) -> None:
    cloudwatch.Metric(
        namespace=namespace,
        metric_name="AUC",
        dimensions_map={"Service": "churn"},
        statistic="Minimum",
        period=cdk.Duration.days(1),
    ).create_alarm(
        stack,
        "AucAlarm",
        threshold=0.8,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    )


def test_an_alarm_on_its_metrics_passes_the_published_metric_rule() -> None:
    stack = ph.stage_stack()
    build(stack)
    _alarm_on(stack, "MlopsCdk/ModelQuality")
    assert ph.rules_for(stack, "prod/S/AucAlarm/Resource") == set()


def test_without_the_check_the_alarm_watches_nothing_published() -> None:
    stack = ph.stage_stack()
    _alarm_on(stack, "MlopsCdk/ModelQuality")
    assert ph.rules_for(stack, "prod/S/AucAlarm/Resource") == {"AlarmMetricPublished"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metrics": ["rmse"]}, "metrics[0]: rmse is not a binary metric"),
        ({"problem": "multiclass", "metrics": ["auc"]}, "auc is not a multiclass metric"),
        ({"metrics": ["auc", "auc"]}, "metrics: lists auc more than once"),
        ({"schedule": "rate(30 minutes)"}, "run every whole number of hours"),
        ({"schedule": "rate(1 hours)"}, "is not an EventBridge Scheduler rate expression"),
        ({"schedule": "rate(6 hours)", "window_hours": 3}, "window_hours: 3 hours is shorter"),
        ({"label_heartbeat_hours": 169}, "label_heartbeat_hours: Input should be less than"),
        ({"namespace": "AWS/SageMaker"}, "reserved for AWS services"),
        ({"dimensions": {}}, "1 to 30 dimensions"),
        ({"problem": "regression", "metrics": ["mae"], "threshold": 0.3}, "binary problems only"),
        ({"threshold": 0}, "threshold: Input should be greater than 0"),
    ],
)
def test_bad_props_name_their_field(changes: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"problem": "binary", "metrics": ["auc"], **changes}
    with pytest.raises(PropProblems, match=r"^quality check: ") as excinfo:
        QualityCheckSpec(**values)
    assert message in str(excinfo.value)


def test_dimensions_at_their_budget_keep_the_function_within_4_kb() -> None:
    """Every other variable at its longest (ten 63-character variants, a 255-character
    namespace, every binary metric, 63-character endpoint and bucket, a 42-character service's
    prefixes) beside dimensions just under their budget: the function's variables, as compact
    JSON, fit Lambda's 4,096 bytes."""
    service = "s" * 42
    dimensions = {f"D{i:02d}": "v" * 52 for i in range(30)}  # 2,010 bytes, escaped
    spec = QualityCheckSpec(
        problem="binary",
        metrics=["accuracy", "precision", "recall", "f1", "auc"],
        window_hours=168,
        label_delay_hours=168,
        threshold=0.123457,
        min_labels=10_000_000,
        namespace="N" * 255,
        dimensions=dimensions,
    )
    stack, _ = build(
        spec=spec,
        service=service,
        endpoint_name="e" * 63,
        capture_prefix=f"data-capture/{service}/",
        variants=[f"v{i}" + "x" * 61 for i in range(10)],
        bucket=s3.Bucket.from_bucket_name(new_stack("Other"), "Bucket", "b" * 63),
    )
    (function,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert len(json.dumps(variables["DIMENSIONS"])) - 2 <= QUALITY_DIMENSIONS_MAX_BYTES
    size = len(json.dumps(variables, separators=(",", ":"), ensure_ascii=False).encode())
    assert 3_400 < size <= LAMBDA_ENVIRONMENT_MAX_BYTES
