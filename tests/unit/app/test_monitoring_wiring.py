"""Alarms, notifications, rollback and retraining wired together in every environment."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_cdk.config import EnvConfig
from tests.helpers import (
    ENVIRONMENTS,
    SERVICES,
    Synthesized,
    environment_key,
    resources_of_type,
)

# Tests that share the session synth of every environment run on one xdist worker.
pytestmark = pytest.mark.xdist_group("environments")


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(template, "AWS::CloudWatch::Alarm")


def function_id(template: dict[str, Any]) -> str:
    """The retraining function (a service with a drift check has a second function)."""
    functions = resources_of_type(template, "AWS::Lambda::Function")
    (logical_id,) = [
        k for k, f in functions.items() if f["Properties"]["Handler"] == "retrain.handler"
    ]
    return logical_id


def invokes_function(alarm: dict[str, Any], fn: str) -> bool:
    return any(
        isinstance(a, dict) and a.get("Fn::GetAtt", [None])[0] == fn
        for a in alarm["Properties"].get("AlarmActions", [])
    )


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_every_alarm_notifies_the_topic_on_alarm_and_ok(
    synthesized: Synthesized, env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    (topic,) = resources_of_type(template, "AWS::SNS::Topic")
    for alarm in alarms(template).values():
        assert {"Ref": topic} in alarm["Properties"]["AlarmActions"]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic}]


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_only_marked_alarms_invoke_retraining(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    fn = function_id(template)
    spec = env_configs[env].services[service]
    invoking = [a for a in alarms(template).values() if invokes_function(a, fn)]
    drift = [a for a in invoking if a["Properties"].get("MetricName") == "DriftedFeatureShare"]
    assert len(drift) == (1 if spec.drift is not None and spec.drift.retrain else 0)
    invoking = [a for a in invoking if a not in drift]
    expected_quality = {
        (a.description or f"{a.metric_name} {a.comparison} {a.threshold:g}")
        for a in spec.quality_alarms
        if a.retrain
    }
    assert {a["Properties"]["AlarmDescription"] for a in invoking} == expected_quality
    for alarm in invoking:
        assert fn not in str(alarm["Properties"].get("OKActions"))


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_alarms_may_invoke_the_function_only_from_this_account(
    synthesized: Synthesized, env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    permissions = resources_of_type(template, "AWS::Lambda::Permission")
    alarm_ids = set(alarms(template))
    assert permissions
    for permission in permissions.values():
        props = permission["Properties"]
        assert props["Principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
        assert props["Action"] == "lambda:InvokeFunction"
        assert props["SourceArn"]["Fn::GetAtt"][0] in alarm_ids
        assert props["SourceAccount"] == env_configs_account(env)


def env_configs_account(env: str) -> str:
    return {"dev": "111111111111", "stage": "222222222222", "prod": "333333333333"}[env]


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_rollback_alarms_feed_the_deployment_guardrails(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    thresholds = env_configs[env].thresholds(service)
    spec = env_configs[env].services[service]
    (endpoint,) = resources_of_type(template, "AWS::SageMaker::Endpoint").values()
    refs = endpoint["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    referenced = [r["AlarmName"]["Ref"] for r in refs]
    assert len(referenced) == len(thresholds.rollback_on) * len(spec.variants)
    descriptions = [alarms(template)[r]["Properties"]["AlarmDescription"] for r in referenced]
    for description in descriptions:
        assert "ModelLatency" in description or "Invocation5XXErrors" in description
    # The endpoint depends on the alarms (Ref), not the other way round: no cycle.
    for r in referenced:
        assert "Endpoint" not in str(alarms(template)[r].get("DependsOn", []))


def test_fraud_overrides_the_environment_latency_threshold(synthesized: Synthesized) -> None:
    for env, default_ms in (("stage", 1000), ("prod", 500)):
        churn = alarms(synthesized.template_json(env, "churn"))
        fraud = alarms(synthesized.template_json(env, "fraud"))
        latency = "ModelLatency p99 above"
        assert {
            a["Properties"]["Threshold"]
            for a in churn.values()
            if latency in a["Properties"]["AlarmDescription"]
        } == {default_ms * 1000}
        assert {a["Properties"]["Threshold"] for a in fraud.values()
                if latency in a["Properties"]["AlarmDescription"]} == {200_000}  # fmt: skip


def test_prod_rolls_back_on_latency_and_5xx(synthesized: Synthesized) -> None:
    template = synthesized.template_json("prod", "churn")
    (endpoint,) = resources_of_type(template, "AWS::SageMaker::Endpoint").values()
    refs = endpoint["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    descriptions = sorted(
        alarms(template)[r["AlarmName"]["Ref"]]["Properties"]["AlarmDescription"].split(":")[1]
        for r in refs
    )
    assert descriptions == [
        " Invocation5XXErrors above 1% of invocations",
        " Invocation5XXErrors above 1% of invocations",
        " ModelLatency p99 above 500 ms",
        " ModelLatency p99 above 500 ms",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_key_policy_admits_alarms_and_the_service_role_path(
    synthesized: Synthesized, env: str
) -> None:
    template = synthesized.template_json(env, "foundation")
    _, key = environment_key(template)
    policy = key["Properties"]["KeyPolicy"]["Statement"]
    # Every statement is one this project wrote on purpose (no implicit grants from CDK).
    assert all("Sid" in s for s in policy), [s for s in policy if "Sid" not in s]
    statements = {s["Sid"]: s for s in policy}
    assert statements["CloudWatchAlarmsToTopic"]["Principal"] == {
        "Service": "cloudwatch.amazonaws.com"
    }
    account = template_account(template)
    use = statements["ServiceRolesUse"]
    # The root with an aws:PrincipalArn condition on the environment's role path: never a
    # role itself (IAM propagation), never one statement per service (blast radius)
    assert use["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    assert use["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/mlops/{env}/*"},
        # Only through the services that use the key on the roles' behalf (issue 21).
        "StringEquals": {
            "kms:ViaService": [
                f"{service}.eu-west-1.amazonaws.com"
                for service in ("s3", "sqs", "sns", "sagemaker", "lambda", "ecr", "ec2")
            ]
        },
    }
    # The smoke roles (one per service under /mlops-smoke/) upload asynchronous requests:
    # through S3 only, and whether or not a service is asynchronous (blast radius).
    smoke = statements["SmokeRolesUseThroughS3"]
    assert smoke["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    assert smoke["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/mlops-smoke/*"},
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
    }
    # upload (GenerateDataKey, multipart too) and read (Decrypt) only, and no grants
    assert sorted(smoke["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "SmokeRolesUseThroughS3Grants" not in statements
    for statement in policy:
        assert "Fn::GetAtt" not in json.dumps(statement["Principal"]), statement["Sid"]
        assert "churn" not in json.dumps(statement)
        assert "fraud" not in json.dumps(statement)


def template_account(template: dict[str, Any]) -> str:
    _, key = environment_key(template)
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    admin = next(s for s in statements if s["Sid"] == "KeyAdministrationByAccount")
    return str(admin["Principal"]["AWS"]).split(":")[4]


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_topic_encrypted_dashboard_present_and_log_retention(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    template = synthesized.template_json(env, service)
    (topic,) = resources_of_type(template, "AWS::SNS::Topic").values()
    assert "Fn::ImportValue" in str(topic["Properties"]["KmsMasterKeyId"])
    assert len(resources_of_type(template, "AWS::CloudWatch::Dashboard")) == 1
    log_groups = resources_of_type(template, "AWS::Logs::LogGroup").values()
    assert log_groups
    for logs in log_groups:
        assert logs["Properties"]["RetentionInDays"] == env_configs[env].log_retention_days
    monitoring = env_configs[env].monitoring
    assert monitoring is not None
    emails = sorted(
        s["Properties"]["Endpoint"]
        for s in resources_of_type(template, "AWS::SNS::Subscription").values()
    )
    assert emails == sorted(monitoring.alarm_emails)


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_the_topic_hears_when_scaling_reaches_any_scalable_targets_maximum(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    """One rule for every scalable target of the service (variants, asynchronous variants,
    inference components), unless the service turns it off (the stage fixture's fraud)."""
    template = synthesized.template_json(env, service)
    targets = resources_of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    rules = {
        k: r
        for k, r in resources_of_type(template, "AWS::Events::Rule").items()
        if k.startswith("ScaledToMax")
    }
    config = env_configs[env]
    wanted = (
        bool(targets) and config.monitoring is not None and config.thresholds(service).scaled_to_max
    )
    assert len(rules) == (1 if wanted else 0)
    if wanted:
        ((_, rule),) = rules.items()
        pattern = rule["Properties"]["EventPattern"]
        assert pattern["source"] == ["aws.application-autoscaling"]
        assert pattern["detail"]["resourceId"] == sorted(
            t["Properties"]["ResourceId"] for t in targets.values()
        )
        (topic,) = resources_of_type(template, "AWS::SNS::Topic")
        assert [t["Arn"] for t in rule["Properties"]["Targets"]] == [{"Ref": topic}]


def test_a_service_may_turn_the_scaled_to_maximum_notification_off(
    env_configs: dict[str, EnvConfig],
) -> None:
    """The fixture the test above reads without a rule (so both of its branches run)."""
    assert env_configs["stage"].thresholds("fraud").scaled_to_max is False
    assert env_configs["stage"].thresholds("churn").scaled_to_max is True


@pytest.mark.parametrize(("env", "service"), SERVICES)
def test_the_topic_hears_of_critical_or_high_findings_in_the_services_repository(
    synthesized: Synthesized, env_configs: dict[str, EnvConfig], env: str, service: str
) -> None:
    """One rule on ECR's scans of the service's own repository (imported from its Registry
    stack), unless the service turns it off (the stage fixture's fraud)."""
    template = synthesized.template_json(env, service)
    rules = {
        k: r
        for k, r in resources_of_type(template, "AWS::Events::Rule").items()
        if k.startswith("ImageScans")
    }
    config = env_configs[env]
    wanted = config.monitoring is not None and config.thresholds(service).image_scans
    assert len(rules) == (1 if wanted else 0)
    if not wanted:
        return
    ((_, rule),) = rules.items()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.ecr"]
    assert pattern["detail-type"] == ["ECR Image Scan"]
    (repository,) = pattern["detail"]["repository-name"]
    assert "Fn::ImportValue" in repository  # the Registry stack's repository
    registry = synthesized.template_json(env, f"{service}-registry")
    exported = {
        output["Export"]["Name"]: output["Value"]
        for output in registry.get("Outputs", {}).values()
        if "Export" in output
    }
    assert exported[repository["Fn::ImportValue"]] == {"Ref": "ModelImagesRepository9F779EF6"}
    (topic,) = resources_of_type(template, "AWS::SNS::Topic")
    assert [t["Arn"] for t in rule["Properties"]["Targets"]] == [{"Ref": topic}]


def test_a_service_may_turn_the_image_scan_notification_off(
    env_configs: dict[str, EnvConfig],
) -> None:
    """The fixture the test above reads without a rule (so both of its branches run)."""
    assert env_configs["stage"].thresholds("fraud").image_scans is False
    assert env_configs["stage"].thresholds("churn").image_scans is True
