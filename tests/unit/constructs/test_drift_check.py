"""DriftCheck: schedule and retry policy, function settings, least privilege, alarms."""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.aws.facts import DRIFT_CONTENT_TYPES, LAMBDA_ENVIRONMENT_MAX_BYTES
from mlops_cdk.constructs.drift_check import METRICS_NAMESPACE, UNREADABLE_SHARE, DriftCheck
from mlops_cdk.props.drift import DriftSpec
from mlops_cdk.props.errors import PropProblems
from tests.helpers import imported_vpc, new_stack

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
SPEC = DriftSpec(window_hours=6, features=["tenure", "plan"], content_type="application/json")


def build(**changes: Any) -> tuple[cdk.Stack, DriftCheck]:
    """A drift check with SPEC and the test props, ``changes`` replacing some of them (a
    DriftSpec field changes the spec)."""
    spec_fields = {f.name for f in dataclasses.fields(DriftSpec)}
    spec = dataclasses.replace(SPEC, **{k: v for k, v in changes.items() if k in spec_fields})
    changes = {k: v for k, v in changes.items() if k not in spec_fields}
    stack = new_stack()
    vpc = imported_vpc(stack)
    props: dict[str, Any] = {
        "key": kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        "vpc": vpc,
        "subnets": vpc.isolated_subnets,
        "bucket": s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts"),
        "capture_prefix": "data-capture/churn/",
        "baseline_key": "baselines/churn/baseline.json",
        "endpoint_name": "dev-churn",
        "spec": spec,
        "log_retention": logs.RetentionDays.TWO_WEEKS,
        "removal_policy": cdk.RemovalPolicy.DESTROY,
        "role_path": "/mlops/dev/",
        **changes,
    }
    return stack, DriftCheck(stack, "Drift", **props)


@pytest.fixture(scope="module")
def template() -> Template:
    stack, _ = build()
    return Template.from_stack(stack)


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(resource_type).values()
    return dict(resource["Properties"])


def test_schedule_runs_the_function_with_a_bounded_retry_policy(template: Template) -> None:
    schedule = only(template, "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    target = schedule["Target"]
    assert "DriftFunction" in json.dumps(target["Arn"])
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}
    assert "DriftFailures" in json.dumps(target["DeadLetterConfig"])
    assert "DriftSchedulerRole" in json.dumps(target["RoleArn"])


def test_function_settings(template: Template) -> None:
    function = only(template, "AWS::Lambda::Function")
    assert function["Handler"] == "drift.handler"
    assert function["Runtime"].startswith("python3.")
    env = function["Environment"]["Variables"]
    assert env["CAPTURE_PREFIX"] == "data-capture/churn/"
    assert env["BASELINE_KEY"] == "baselines/churn/baseline.json"
    assert env["ENDPOINT_NAME"] == "dev-churn"
    assert env["FEATURES"] == "tenure,plan"
    assert env["CONTENT_TYPE"] == "application/json"
    assert env["WINDOW_HOURS"] == "6"
    assert env["METRICS_NAMESPACE"] == METRICS_NAMESPACE
    assert function["VpcConfig"]["SubnetIds"] == ["subnet-01234567", "subnet-89abcdef"]
    invoke = only(template, "AWS::Lambda::EventInvokeConfig")
    assert invoke["MaximumRetryAttempts"] == 0  # no crash loop: the next run reads the window
    assert "DriftFailures" in json.dumps(invoke["DestinationConfig"]["OnFailure"])
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 14})
    template.has_resource_properties(
        "AWS::SQS::Queue", {"KmsMasterKeyId": KEY_ARN, "MessageRetentionPeriod": 1209600}
    )


def statements(template: Template, description_start: str) -> dict[str, dict[str, Any]]:
    for policy in template.find_resources("AWS::IAM::ManagedPolicy").values():
        props = policy["Properties"]
        if props["Description"].startswith(description_start):
            return {s["Sid"]: s for s in props["PolicyDocument"]["Statement"]}
    raise AssertionError(description_start)


def test_function_least_privilege(template: Template) -> None:
    policy = statements(template, "Drift check: read")
    read = json.dumps(policy["ReadCaptureAndBaseline"]["Resource"])
    assert "/data-capture/churn/*" in read
    assert "/baselines/churn/baseline.json" in read
    assert policy["ReadCaptureAndBaseline"]["Action"] == "s3:GetObject"
    assert policy["ListCaptureAndBaseline"]["Condition"]["StringLike"]["s3:prefix"] == [
        "data-capture/churn/",
        "data-capture/churn/*",
        "baselines/churn/",
        "baselines/churn/*",
    ]
    assert policy["DecryptThroughS3"]["Action"] == "kms:Decrypt"
    assert policy["DecryptThroughS3"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    }
    assert policy["PutDriftMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}
    }
    actions = {a for s in policy.values() for a in _list(s["Action"])}
    assert not {
        a for a in actions if a.startswith("s3:") and a not in ("s3:GetObject", "s3:ListBucket")
    }
    assert "kms:Encrypt" not in actions
    template.resource_count_is("AWS::IAM::Policy", 0)  # no implicit inline grants


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_roles_live_under_the_path_and_trust_their_service_in_this_account(
    template: Template,
) -> None:
    roles = template.find_resources("AWS::IAM::Role")
    assert len(roles) == 2
    services = set()
    for role in roles.values():
        props = role["Properties"]
        assert props["Path"] == "/mlops/dev/"
        (statement,) = props["AssumeRolePolicyDocument"]["Statement"]
        services.add(statement["Principal"]["Service"])
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert services == {"lambda.amazonaws.com", "scheduler.amazonaws.com"}
    scheduler = statements(template, "Drift check schedule")
    assert scheduler["InvokeDriftCheck"]["Action"] == "lambda:InvokeFunction"
    assert scheduler["DeadLettersEncrypt"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}
    }


def alarm_properties(stack: cdk.Stack, check: DriftCheck) -> dict[str, dict[str, Any]]:
    """Properties of each alarm of the check, by the alarm's construct id."""
    template = Template.from_stack(stack)
    resources = template.find_resources("AWS::CloudWatch::Alarm")
    return {
        alarm.node.id: resources[stack.get_logical_id(alarm.node.default_child)]["Properties"]  # type: ignore[arg-type]
        for alarm in check.alarms
    }


def test_alarms_are_derived_from_the_settings() -> None:
    stack, check = build(drifted_share_threshold=0.5, schedule="rate(6 hours)")
    alarms = {
        props["MetricName"]: props
        for alarm_id, props in alarm_properties(stack, check).items()
        if alarm_id in ("Alarm", "BaselineAlarm")
    }
    share = alarms["DriftedFeatureShare"]
    assert share["Namespace"] == METRICS_NAMESPACE
    assert share["Dimensions"] == [{"Name": "EndpointName", "Value": "dev-churn"}]
    assert share["Threshold"] == 0.5
    assert share["Period"] == 6 * 3600
    assert share["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert share["TreatMissingData"] == "ignore"
    assert alarms["BaselineUnavailable"]["TreatMissingData"] == "notBreaching"
    assert check.metric("PSI", feature="tenure").dimensions == {
        "EndpointName": "dev-churn",
        "Feature": "tenure",
    }


@pytest.mark.parametrize(
    ("schedule", "heartbeat_hours", "hours"),
    [
        ("rate(1 hour)", None, 2),  # default: two periods
        ("rate(1 day)", None, 48),
        ("rate(6 hours)", 6, 6),
        ("rate(1 hour)", 168, 168),
    ],
)
def test_heartbeat_alarm_fires_when_no_run_completed(
    schedule: str, heartbeat_hours: int | None, hours: int
) -> None:
    stack, check = build(schedule=schedule, heartbeat_hours=heartbeat_hours, window_hours=24)
    assert check.heartbeat.to_hours() == hours
    beat = alarm_properties(stack, check)["HeartbeatAlarm"]
    # BaselineUnavailable (0 or 1) is published by every completed run: its sample count
    assert (beat["Namespace"], beat["MetricName"]) == (METRICS_NAMESPACE, "BaselineUnavailable")
    assert beat["Dimensions"] == [{"Name": "EndpointName", "Value": "dev-churn"}]
    assert beat["Statistic"] == "SampleCount"
    assert (beat["Period"], beat["EvaluationPeriods"], beat["DatapointsToAlarm"]) == (
        3600,
        hours,
        hours,
    )
    assert (beat["ComparisonOperator"], beat["Threshold"]) == ("LessThanThreshold", 1)
    assert beat["TreatMissingData"] == "breaching"  # nothing published is the condition
    # CloudWatch: Period x EvaluationPeriods at most 7 days for periods of an hour or more
    assert beat["Period"] * beat["EvaluationPeriods"] <= 7 * 86400
    assert f"no run completed in the last {hours} hours" in beat["AlarmDescription"]


def test_capture_alarm_fires_when_most_of_the_window_is_unreadable() -> None:
    """A run whose lines are all malformed completes (no error, a heartbeat) and publishes no
    share: only this alarm tells that the check is blind."""
    stack, check = build(schedule="rate(6 hours)")
    alarm = alarm_properties(stack, check)["CaptureAlarm"]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        UNREADABLE_SHARE,
        "GreaterThanOrEqualToThreshold",
    )
    assert (alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (1, "notBreaching")
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    (expression,) = (q for q in queries.values() if "Expression" in q)
    assert expression["Expression"] == (
        "IF(malformed + used > 0, malformed / (malformed + used), 0)"
    )
    assert expression["ReturnData"] is True
    for query_id, metric_name in (("malformed", "MalformedRecords"), ("used", "RecordsUsed")):
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"] == {
            "Namespace": METRICS_NAMESPACE,
            "MetricName": metric_name,
            "Dimensions": [{"Name": "EndpointName", "Value": "dev-churn"}],
        }
        assert (stat["Period"], queries[query_id]["ReturnData"]) == (6 * 3600, False)
    assert alarm["AlarmDescription"].startswith("Drift check of dev-churn: at least 50% ")


def test_failure_queue_and_function_errors_are_watched() -> None:
    stack, check = build()
    alarms = alarm_properties(stack, check)
    assert set(alarms) == {
        "Alarm",
        "BaselineAlarm",
        "HeartbeatAlarm",
        "CaptureAlarm",
        "FailuresWaiting",
        "FunctionErrors",
    }
    queue_id = stack.get_logical_id(check.failures.node.default_child)  # type: ignore[arg-type]
    function_id = stack.get_logical_id(check.function.node.default_child)  # type: ignore[arg-type]
    depth, errors = alarms["FailuresWaiting"], alarms["FunctionErrors"]
    assert (depth["Namespace"], depth["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert depth["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    ]
    assert (depth["Threshold"], depth["TreatMissingData"]) == (0, "notBreaching")
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    assert (errors["Threshold"], errors["TreatMissingData"]) == (1, "notBreaching")
    assert "Drift check of dev-churn" in str(errors["AlarmDescription"])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"schedule": "rate(6 hours)", "heartbeat_hours": 5}, "heartbeat_hours", "shorter than"),
        ({"heartbeat_hours": 169}, "heartbeat_hours", "less than or equal to 168"),
        ({"heartbeat_hours": 0}, "heartbeat_hours", "greater than or equal to 1"),
        ({"schedule": "rate(30 minutes)"}, "schedule", "whole number of hours"),
        ({"schedule": "rate(25 hours)"}, "schedule", "whole number of hours"),
        ({"schedule": "rate(1 hours)"}, "schedule", "singular for 1"),
        ({"schedule": "cron(0 * * * ? *)"}, "schedule", "not an EventBridge Scheduler rate"),
        ({"schedule": "rate(6 hours)", "window_hours": 3}, "window_hours", "shorter than"),
        ({"window_hours": 169}, "window_hours", "less than or equal to 168"),
        ({"min_records": 0}, "min_records", "greater than or equal to 1"),
        ({"min_records": True}, "min_records", "expected a number, got the boolean true"),
        ({"features": ["a", "a"]}, "features", "lists a more than once"),
        ({"features": ["a,b"]}, "features", "not a feature name"),
        ({"psi_threshold": 0}, "psi_threshold", "greater than 0"),
        ({"content_type": "text/xml"}, "content_type", "'text/csv' or 'application/json'"),
        ({"drifted_share_threshold": 0}, "drifted_share_threshold", "greater than 0"),
        ({"drifted_share_threshold": 1.5}, "drifted_share_threshold", "less than or equal to 1"),
    ],
)
def test_a_library_user_gets_the_configurations_checks(
    changes: dict[str, Any], field: str, message: str
) -> None:
    """DriftSpec checks itself: building a DriftCheck with bad settings fails before any
    resource, with the field and the message a configuration file gets."""
    with pytest.raises(PropProblems) as excinfo:
        build(**changes)
    ((path, text),) = excinfo.value.problems
    assert path == field
    assert message in text
    assert str(excinfo.value).startswith(f"drift check: {field}: ")


def test_default_spec_runs_hourly_over_a_day() -> None:
    _, check = build(spec=DriftSpec())
    assert (check.every.to_hours(), check.heartbeat.to_hours()) == (1, 2)
    assert check.spec == DriftSpec(window_hours=24, schedule="rate(1 hour)")


def test_content_types_are_the_functions() -> None:
    content_type = typing.get_type_hints(DriftSpec)["content_type"]
    assert typing.get_args(content_type) == DRIFT_CONTENT_TYPES


def test_logical_ids_of_deployed_resources_are_kept() -> None:
    """The function's infrastructure comes from WatchedFunction (under "Default"): the logical
    ids stay those of the deployed stacks, so the queue and the log group are not replaced."""
    stack, check = build()
    assert check.security_group is not None
    constructs = (
        check.log_group,
        check.failures,
        check.security_group,
        check.role,
        check.function,
        check.policy,
        check.schedule,
        *check.alarms,
    )
    assert {stack.get_logical_id(c.node.default_child) for c in constructs} == {  # type: ignore[arg-type]
        "DriftLogsBBEDFA1D",
        "DriftFailuresA4C2A91E",
        "DriftSecurityGroupFC85451B",
        "DriftRole8A5FB833",
        "DriftFunctionC635B4D0",
        "DriftPolicyDC7E85E5",
        "DriftScheduleB935ADA8",
        "DriftAlarmF34B5B00",
        "DriftBaselineAlarmE8D60940",
        "DriftHeartbeatAlarmBB6D1882",
        "DriftCaptureAlarmD1F23575",
        "DriftWatchFailuresWaiting2B142822",
        "DriftWatchFunctionErrors066CAF0C",
    }


def test_function_waits_for_its_policy(template: Template) -> None:
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    (invoke,) = template.find_resources("AWS::Lambda::EventInvokeConfig").values()
    assert function["DependsOn"] == ["DriftPolicyDC7E85E5"]
    assert invoke["DependsOn"] == ["DriftPolicyDC7E85E5"]
    assert function["Properties"]["Role"] == {"Fn::GetAtt": ["DriftRole8A5FB833", "Arn"]}


def test_features_at_their_budget_keep_the_function_within_4_kb() -> None:
    """Every other variable at its longest (a 63-character endpoint and bucket, a 42-character
    service's prefixes, the longest numbers) beside features just under their budget: the
    function's variables, as compact JSON, fit Lambda's 4,096 bytes."""
    service = "s" * 42
    features = [f"f{i:02d}" + "x" * 27 for i in range(99)]  # 99 x 30 + 98 commas = 3,068 bytes
    stack, _ = build(
        features=features,
        window_hours=168,
        min_records=100_000_000,
        psi_threshold=0.123457,
        content_type="application/json",
        capture_prefix=f"data-capture/{service}/",
        baseline_key=f"baselines/{service}/baseline.json",
        endpoint_name="e" * 63,
        bucket=s3.Bucket.from_bucket_name(new_stack("Other"), "Bucket", "b" * 63),
    )
    function = only(Template.from_stack(stack), "AWS::Lambda::Function")
    variables = function["Environment"]["Variables"]
    size = len(json.dumps(variables, separators=(",", ":"), ensure_ascii=False).encode())
    assert 3_400 < size <= LAMBDA_ENVIRONMENT_MAX_BYTES
