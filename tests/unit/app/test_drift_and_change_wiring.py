"""The drift check and the change-detection rule in the fixture environments: derived from the
config, wired to the topic and retraining, and the Foundation's trail only where configured."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from mlops_cdk.config import EnvConfig
from mlops_cdk.constructs.drift_check import METRICS_NAMESPACE
from tests.helpers import SERVICES, Synthesized, environment_key, resources_of_type
from tests.unit.constructs.test_change_detection import (
    AUTOSCALING,
    IAM_USER,
    SSO_ADMIN,
    assumed_role,
    cloudtrail_event,
)

pytestmark = pytest.mark.xdist_group("environments")


def only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = resources_of_type(template, resource_type).items()
    return logical_id, resource


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_drift_check_exactly_where_configured(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    schedules = resources_of_type(template, "AWS::Scheduler::Schedule")
    assert bool(schedules) == (env_configs[env].services[service].drift is not None)


def test_drift_check_is_derived_from_the_config(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig]
) -> None:
    drift = env_configs["stage"].services["fraud"].drift
    assert drift is not None
    template = synthesized.template_json("stage", "fraud")
    _, schedule = only(template, "AWS::Scheduler::Schedule")
    assert schedule["Properties"]["ScheduleExpression"] == drift.schedule
    functions = resources_of_type(template, "AWS::Lambda::Function").values()
    (check,) = [f for f in functions if f["Properties"]["Handler"] == "drift.handler"]
    env = check["Properties"]["Environment"]["Variables"]
    assert env["CAPTURE_PREFIX"] == "data-capture/fraud/"
    assert env["BASELINE_KEY"] == "baselines/fraud/baseline.json"
    assert env["ENDPOINT_NAME"] == "stage-fraud"
    assert env["CONTENT_TYPE"] == drift.content_type
    assert env["WINDOW_HOURS"] == str(drift.window_hours)
    assert env["MIN_RECORDS"] == str(drift.min_records)
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm").values()
    (alarm,) = [a for a in alarms if a["Properties"].get("MetricName") == "DriftedFeatureShare"]
    props = alarm["Properties"]
    assert props["Namespace"] == METRICS_NAMESPACE
    assert props["Dimensions"] == [{"Name": "EndpointName", "Value": "stage-fraud"}]
    assert props["Threshold"] == drift.drifted_share_threshold
    assert props["Period"] == drift.period_minutes * 60
    assert props["TreatMissingData"] == "ignore"


def test_drift_alarm_notifies_and_retrains(synthesized: Synthesized) -> None:
    template = synthesized.template_json("stage", "fraud")
    (topic,) = resources_of_type(template, "AWS::SNS::Topic")
    functions = resources_of_type(template, "AWS::Lambda::Function")
    (retrain,) = [
        k for k, f in functions.items() if f["Properties"]["Handler"] == "retrain.handler"
    ]
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == METRICS_NAMESPACE
        and a["Properties"].get("Statistic") != "SampleCount"  # the heartbeat
    }
    share = alarms["DriftedFeatureShare"]
    assert {"Ref": topic} in share["AlarmActions"]
    assert {"Fn::GetAtt": [retrain, "Arn"]} in share["AlarmActions"]
    assert share["OKActions"] == [{"Ref": topic}]
    baseline = alarms["BaselineUnavailable"]
    assert baseline["AlarmActions"] == [{"Ref": topic}]  # notify only, never retrain


WATCHED_BY = {
    "AWS::SQS::Queue": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName"),
    "AWS::Lambda::Function": ("AWS/Lambda", "Errors", "FunctionName"),
    "AWS::Events::Rule": ("AWS/Events", "FailedInvocations", "RuleName"),
}


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_every_watcher_is_watched_and_notifies_the_topic(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    """Each failure queue, function and rule of the service has its alarm, the drift check a
    heartbeat over the configured hours; all notify the alarm topic on ALARM and OK and are
    on the service's dashboard."""
    template = synthesized.template_json(env, service)
    (topic,) = resources_of_type(template, "AWS::SNS::Topic")
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    watchers: list[str] = []
    for resource_type, (namespace, metric, dimension) in WATCHED_BY.items():
        for logical_id in resources_of_type(template, resource_type):
            watchers.append(logical_id)
            (alarm,) = [
                a["Properties"]
                for a in alarms.values()
                if (a["Properties"].get("Namespace"), a["Properties"].get("MetricName"))
                == (namespace, metric)
                and logical_id in json.dumps(a["Properties"]["Dimensions"])
            ]
            assert alarm["Dimensions"][0]["Name"] == dimension
            assert alarm["TreatMissingData"] == "notBreaching"
            assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic}]
    drift = env_configs[env].services[service].drift
    heartbeats = [
        (logical_id, a["Properties"])
        for logical_id, a in alarms.items()
        if a["Properties"].get("Statistic") == "SampleCount"
    ]
    assert bool(heartbeats) == (drift is not None)
    if drift is not None:
        ((heartbeat_id, beat),) = heartbeats
        assert beat["EvaluationPeriods"] == beat["DatapointsToAlarm"] == drift.heartbeat
        assert beat["TreatMissingData"] == "breaching"
        assert beat["AlarmActions"] == beat["OKActions"] == [{"Ref": topic}]
        watchers.append(heartbeat_id)
    # retraining: its queue and function; drift: its queue, function and heartbeat; change
    # detection: the rule and its dead-letter queue; scaled to the maximum (with scalable
    # targets): the rule and its dead-letter queue
    scaled = bool(resources_of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget"))
    notices = scaled and env_configs[env].thresholds(service).scaled_to_max
    # the runs the retraining function starts (a training job, an existing pipeline): the rule
    # and its dead-letter queue; a managed pipeline's failures are the pipeline's own
    retraining = env_configs[env].services[service].retraining
    runs = retraining is not None and retraining.managed_pipeline is None
    # image scans with critical or high findings: the rule and its dead-letter queue
    scans = env_configs[env].thresholds(service).image_scans
    expected = (
        2
        + 3 * (drift is not None)
        + 2 * (env_configs[env].change_detection is not None)
        + 2 * notices
        + 2 * runs
        + 2 * scans
    )
    assert len(watchers) == expected, watchers
    _, dashboard = only(template, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for logical_id in watchers:
        assert logical_id in body, logical_id


def change_rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The change-detection rules of a service template (its other rules notify of other
    things: approvals, failed pipelines, scaling to the maximum)."""
    rules = resources_of_type(template, "AWS::Events::Rule")
    return {k: r for k, r in rules.items() if k.startswith("ChangesOutsidePipeline")}


def resolved_pattern(template: dict[str, Any], names: dict[str, str]) -> EventPattern:
    """The rule's pattern with each Fn::GetAtt name replaced by a sample physical name."""
    ((_, rule),) = change_rules(template).items()
    text = json.dumps(rule["Properties"]["EventPattern"])
    for logical_id, name in names.items():
        for attribute in ("EndpointConfigName", "ModelName"):
            text = text.replace(
                json.dumps({"Fn::GetAtt": [logical_id, attribute]}), json.dumps(name)
            )
    assert "Fn::" not in text
    return EventPattern.load(text)


@pytest.mark.parametrize(("env", "service"), [s for s in SERVICES if s[0] != "dev"])
def test_change_rule_matches_manual_changes_only(
    synthesized: Synthesized, env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    account = {"stage": "222222222222", "prod": "333333333333"}[env]
    models = resources_of_type(template, "AWS::SageMaker::Model")
    config_id, _ = only(template, "AWS::SageMaker::EndpointConfig")
    names = {config_id: f"{env}-{service}-config-1", **{m: f"{m}-name" for m in models}}
    pattern = resolved_pattern(template, names)
    endpoint = f"{env}-{service}"
    cfn = assumed_role(
        f"cdk-hnb659fds-cfn-exec-role-{account}-eu-west-1",
        invoked_by="cloudformation.amazonaws.com",
    )
    some_model = f"{next(iter(models))}-name"
    assert pattern.matches_event(
        cloudtrail_event("UpdateEndpoint", {"endpointName": endpoint}, IAM_USER)
    )
    assert pattern.matches_event(
        cloudtrail_event("DeleteModel", {"modelName": some_model}, SSO_ADMIN)
    )
    assert pattern.matches_event(
        cloudtrail_event("DeleteEndpointConfig", {"endpointConfigName": names[config_id]}, IAM_USER)
    )
    # The pipeline's own deploys and autoscaling do not match.
    assert not pattern.matches_event(
        cloudtrail_event("UpdateEndpoint", {"endpointName": endpoint}, cfn)
    )
    assert not pattern.matches_event(
        cloudtrail_event("DeleteModel", {"modelName": some_model}, cfn)
    )
    weights = {"endpointName": endpoint, "desiredWeightsAndCapacities": []}
    assert not pattern.matches_event(
        cloudtrail_event("UpdateEndpointWeightsAndCapacities", weights, AUTOSCALING)
    )
    other = "prod-fraud" if endpoint != "prod-fraud" else "prod-churn"
    assert not pattern.matches_event(
        cloudtrail_event("UpdateEndpoint", {"endpointName": other}, IAM_USER)
    )


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_change_rule_publishes_to_the_alarm_topic_only_from_itself(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    rules = change_rules(template)
    if env_configs[env].change_detection is None:
        assert not rules
        return
    ((rule_id, rule),) = rules.items()
    (topic,) = resources_of_type(template, "AWS::SNS::Topic")
    assert [t["Arn"] for t in rule["Properties"]["Targets"]] == [{"Ref": topic}]
    _, policy = only(template, "AWS::SNS::TopicPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    admitted = [
        s["Condition"]["ArnEquals"]["aws:SourceArn"]
        for s in statements
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    # EventBridge publishes for the template's own rules only, each bound by its ARN.
    every_rule = resources_of_type(template, "AWS::Events::Rule")
    assert sorted(a["Fn::GetAtt"][0] for a in admitted) == sorted(every_rule)
    assert {"Fn::GetAtt": [rule_id, "Arn"]} in admitted


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_foundation_trail_and_key_grant_only_where_configured(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    template = synthesized.template_json(env, "foundation")
    change = env_configs[env].change_detection
    trails = resources_of_type(template, "AWS::CloudTrail::Trail")
    assert bool(trails) == (change is not None and change.creates_trail)
    _, key = environment_key(template)
    sids = {s["Sid"] for s in key["Properties"]["KeyPolicy"]["Statement"]}
    # The services' rules (changes, approvals, failed runs, scaling to the maximum) publish to
    # topics encrypted with this key wherever there are alarm topics.
    rules = change is not None or env_configs[env].monitoring is not None
    assert ("EventBridgeRulesToTopic" in sids) == rules
    assert ("EventBridgeDeadLetters" in sids) == rules
    assert ("CloudTrailEncryptLogs" in sids) == bool(trails)
    if trails:
        (trail,) = trails.values()
        assert trail["Properties"]["TrailName"] == f"mlops-{env}-changes"
        assert trail["Properties"]["EnableLogFileValidation"] is True
        assert template["Outputs"]["ChangeTrailName"]["Value"] == f"mlops-{env}-changes"
    elif change is not None:
        assert template["Outputs"]["ChangeTrailName"]["Value"] == change.existing_trail_name
    else:
        assert "ChangeTrailName" not in template.get("Outputs", {})


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_publishers_alone_write_baselines(synthesized: Synthesized, env: str) -> None:
    template = synthesized.template_json(env, "foundation")
    policies = resources_of_type(template, "AWS::S3::BucketPolicy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (deny,) = [s for s in statements if s.get("Sid") == "OnlyPublishersWriteBaselines"]
    assert deny["Effect"] == "Deny"
    assert json.dumps(deny["Resource"]).endswith('/baselines/*"]]}')


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_foundation_watch_where_the_trail_is_known_on_the_key_and_the_trail(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str
) -> None:
    """Wherever change detection (the trail) and monitoring are configured, the environment
    key's DisableKey and ScheduleKeyDeletion and the trail's StopLogging and DeleteTrail reach
    the alarm e-mails through a topic whose key is not the environment key."""
    config = env_configs[env]
    template = synthesized.template_json(env, "foundation")
    rules = {
        logical_id: rule
        for logical_id, rule in resources_of_type(template, "AWS::Events::Rule").items()
        if logical_id.startswith("FoundationWatch")
    }
    change = config.change_detection
    watched = change is not None and change.watch_foundation and config.monitoring is not None
    assert len(rules) == (2 if watched else 0)
    assert ("FoundationWatchTopicArn" in template.get("Outputs", {})) == watched
    if not watched:
        return
    assert change is not None
    assert config.monitoring is not None
    (keys,) = [r for k, r in rules.items() if k.startswith("FoundationWatchKeys")]
    (trail,) = [r for k, r in rules.items() if k.startswith("FoundationWatchTrail")]
    env_key_id, _ = environment_key(template)
    keys_pattern = keys["Properties"]["EventPattern"]["detail"]["requestParameters"]["keyId"]
    assert keys_pattern == [{"Ref": env_key_id}, {"Fn::GetAtt": [env_key_id, "Arn"]}]
    name = change.trail_of(env)
    trail_pattern = trail["Properties"]["EventPattern"]["detail"]["requestParameters"]["name"]
    assert trail_pattern[0] == name.rsplit("/", 1)[-1]
    assert trail_pattern[1].endswith(f":trail/{trail_pattern[0]}")
    ((topic_id, topic),) = [
        (k, t)
        for k, t in resources_of_type(template, "AWS::SNS::Topic").items()
        if k.startswith("FoundationWatch")
    ]
    assert topic["Properties"]["KmsMasterKeyId"] != {"Fn::GetAtt": [env_key_id, "Arn"]}
    assert template["Outputs"]["FoundationWatchTopicArn"]["Value"] == {"Ref": topic_id}
    subscribed = {
        s["Properties"]["Endpoint"]
        for s in resources_of_type(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id}
    }
    assert subscribed == set(config.monitoring.alarm_emails)
