"""Monitoring configuration: every bad-input rule names the file and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import ConfigError, load_environment
from tests.helpers import yaml_text
from tests.unit.config.test_serving_validation import SERVING, config_with, instance_variant

QUALITY = {
    "name": "drift",
    "namespace": "ns",
    "metric_name": "drift",
    "threshold": 0.2,
    "comparison": "greater_than",
    "published_by": "the nightly evaluation job of the team",
}
MONITORING: dict[str, Any] = {
    "alarm_emails": ["team@example.com"],
    "quality_alarms": [QUALITY],
    "retraining": {"pipeline": {"name": "retrain"}},
}
TEMPLATE = {
    "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
    "OutputDataConfig": {"S3OutputPath": "s3://{bucket}/training-output/svc/"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
}


def load(tmp_path: Path, data: dict[str, Any], name: str = "dev") -> Any:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml_text(data))
    return load_environment(path, display=f"config/{name}.yaml")


def problem(tmp_path: Path, data: dict[str, Any], name: str = "dev") -> str:
    with pytest.raises(ConfigError) as excinfo:
        load(tmp_path, data, name)
    assert len(excinfo.value.problems) == 1, excinfo.value.problems
    return excinfo.value.problems[0]


def monitoring(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MONITORING)
    data.update(changes)
    return data


def test_valid_monitoring(tmp_path: Path) -> None:
    config = load(tmp_path, config_with(SERVING, monitoring=MONITORING))
    assert config.monitoring.operational.rollback_on == ["latency", "errors_5xx"]
    assert config.services["svc"].quality_alarms[0].missing_data == "ignore"


@pytest.mark.parametrize("image", ["{image_repository}", "{image_repository}:latest"])
def test_a_training_image_of_the_repository_names_its_own_tag(tmp_path: Path, image: str) -> None:
    """The repository's tags are immutable: 'latest' could be pushed once and never move."""
    template = {**TEMPLATE, "AlgorithmSpecification": {"TrainingImage": image}}
    retraining = {"training_job": {"job_prefix": "retrain", "template": template}}
    data = config_with(SERVING, monitoring=monitoring(retraining=retraining))
    assert problem(tmp_path, data) == (
        "config/dev.yaml: services.svc.retraining.training_job.template.AlgorithmSpecification."
        f"TrainingImage: {image!r} is the repository's 'latest', which its immutable tags let be "
        "pushed only once: name the image's own tag ({image_repository}:<tag>) or digest "
        "({image_repository}@sha256:...)"
    )


def test_training_job_retraining(tmp_path: Path) -> None:
    retraining = {"training_job": {"job_prefix": "retrain", "template": TEMPLATE}}
    config = load(tmp_path, config_with(SERVING, monitoring=monitoring(retraining=retraining)))
    assert config.services["svc"].retraining.training_job.job_prefix == "retrain"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"alarm_emails": ["not-an-email"]}, "monitoring.alarm_emails: 'not-an-email' is not an"),
        ({"alarm_emails": ["a@b.co", "a@b.co"]}, "monitoring.alarm_emails: lists an address twice"),
        (
            {"quality_alarms": [QUALITY, QUALITY]},
            "services.svc.quality_alarms[1].name: duplicate alarm 'drift'",
        ),
        (
            {"quality_alarms": [{**QUALITY, "comparison": "above"}]},
            "services.svc.quality_alarms[0].comparison: Input should be 'greater_than'",
        ),
        (  # CloudWatch: Period x EvaluationPeriods at most 7 days (PutMetricAlarm)
            {"quality_alarms": [{**QUALITY, "period_minutes": 1440, "evaluation_periods": 8}]},
            "services.svc.quality_alarms[0].evaluation_periods: 8 periods of 1440 minutes are "
            "11520 minutes; CloudWatch evaluates at most 10080 (7 days)",
        ),
        (
            {"quality_alarms": [{**QUALITY, "statistic": "p100x"}]},
            "services.svc.quality_alarms[0].statistic: 'p100x' is not a CloudWatch statistic",
        ),
        (
            {"quality_alarms": [{**QUALITY, "missing_data": "zero"}]},
            "services.svc.quality_alarms[0].missing_data: Input should be 'breaching'",
        ),
        ({"retraining": None}, "services.svc.retraining: alarms are marked as retraining triggers"),
        (
            {"quality_alarms": [{**QUALITY, "retrain": False}]},
            "services.svc.retraining: no alarm triggers retraining",
        ),
        (
            {
                "retraining": {
                    "pipeline": {"name": "p"},
                    "training_job": {"job_prefix": "j", "template": TEMPLATE},
                }
            },
            "services.svc.retraining.pipeline: set exactly one of pipeline, training_job or "
            "managed_pipeline",
        ),
        (
            {
                "retraining": {
                    "training_job": {"job_prefix": "j", "template": {**TEMPLATE, "RoleArn": "arn"}}
                }
            },
            "services.svc.retraining.training_job.template: RoleArn is set by the function",
        ),
        (
            {"retraining": {"training_job": {"job_prefix": "j", "template": {"X": 1}}}},
            "services.svc.retraining.training_job.template: missing CreateTrainingJob fields",
        ),
        (
            {"retraining": {"pipeline": {"name": "p"}, "cooldown_minutes": 1}},
            "services.svc.retraining.cooldown_minutes: Input should be greater than or equal to 5",
        ),
        (
            {"operational": {"evaluation_periods": 2, "datapoints_to_alarm": 3}},
            "monitoring.operational.datapoints_to_alarm: must not exceed evaluation_periods",
        ),
        (
            {"operational": {"latency_statistic": "median"}},
            "monitoring.operational.latency_statistic: 'median' is not a CloudWatch statistic",
        ),
        (
            {"operational": {"rollback_on": ["cpu"]}},
            "monitoring.operational.rollback_on[0]: Input should be 'latency' or 'errors_5xx'",
        ),
        (
            {"operational": {"no_invocations_minutes": 1}},
            "monitoring.operational.no_invocations_minutes: Input should be greater than",
        ),
    ],
)
def test_monitoring_rules(tmp_path: Path, changes: dict[str, Any], expected: str) -> None:
    found = problem(tmp_path, config_with(SERVING, monitoring=monitoring(**changes)))
    assert found.startswith(f"config/dev.yaml: {expected}"), found


def test_service_alarms_need_environment_monitoring(tmp_path: Path) -> None:
    data = config_with(SERVING, monitoring=MONITORING)
    del data["monitoring"]
    assert problem(tmp_path, data).startswith(
        "config/dev.yaml: monitoring: service 'svc' has alarms (quality_alarms, retraining): "
        "configure the environment's monitoring"
    )


def test_batch_jobs_need_environment_monitoring(tmp_path: Path) -> None:
    """A batch job alarms on failed, timed-out and aborted runs: without the environment's
    monitoring there is no topic for them, so the configuration is refused in one line."""
    data = config_with(SERVING, monitoring=MONITORING)
    del data["monitoring"]
    service = data["services"]["svc"]
    service.pop("quality_alarms", None)
    service.pop("retraining", None)
    model = service["models"][0]["name"]
    service["batch_jobs"] = [
        {"name": "nightly", "model": model, "instance_type": "ml.m5.large", "instance_count": 1}
    ]
    assert problem(tmp_path, data) == (
        "config/dev.yaml: monitoring: service 'svc' has alarms (batch_jobs): configure the "
        "environment's monitoring (alarm_emails, operational defaults)"
    )


def test_a_model_registry_needs_environment_monitoring(tmp_path: Path) -> None:
    """Approved versions are announced on the service's alarm topic: without monitoring there
    is none, and the announcement would be silently left out."""
    data = config_with(SERVING, monitoring=MONITORING)
    del data["monitoring"]
    service = data["services"]["svc"]
    service.pop("quality_alarms", None)
    service.pop("retraining", None)
    service["model_registry"] = {}
    assert problem(tmp_path, data) == (
        "config/dev.yaml: monitoring: service 'svc' has alarms (model_registry): configure the "
        "environment's monitoring (alarm_emails, operational defaults)"
    )


def test_previous_single_endpoint_shape_shows_the_new_one(tmp_path: Path) -> None:
    data = config_with(SERVING)
    data["serving"] = data.pop("services")["svc"]
    found = problem(tmp_path, data)
    assert found.startswith(
        "config/dev.yaml: serving: an environment now hosts several model services: move the "
        "endpoint's settings under services.<name>"
    )
    assert "\nservices:\n  churn:" in found  # the new shape is shown


def test_service_thresholds_override_the_environment_defaults(tmp_path: Path) -> None:
    data = config_with(SERVING, monitoring=monitoring(operational={"latency_ms": 700}))
    data["services"]["svc"]["alarms"] = {"errors_5xx_percent": 3}
    config = load(tmp_path, data)
    merged = config.thresholds("svc")
    assert (merged.latency_ms, merged.errors_5xx_percent) == (700, 3)


def test_bad_service_threshold_names_the_service_field(tmp_path: Path) -> None:
    data = config_with(SERVING, monitoring=MONITORING)
    data["services"]["svc"]["alarms"] = {"evaluation_periods": 2, "datapoints_to_alarm": 3}
    assert problem(tmp_path, data).startswith(
        "config/dev.yaml: services.svc.alarms.datapoints_to_alarm: must not exceed"
    )


def test_too_many_rollback_alarms(tmp_path: Path) -> None:
    serving = {**SERVING, "variants": [instance_variant(f"v{i}") for i in range(6)]}
    found = problem(tmp_path, config_with(serving, monitoring=MONITORING))
    assert found.startswith(
        "config/dev.yaml: services.svc.alarms.rollback_on: 12 rollback alarms (2 per variant); "
        "SageMaker deployment guardrails take at most 10"
    )


PROD = {"production": True, "removal_policy": "retain", "termination_protection": True}


def test_production_needs_monitoring(tmp_path: Path) -> None:
    found = problem(tmp_path, config_with(SERVING, **PROD), name="prod")
    assert found == (
        "config/prod.yaml: monitoring: production endpoints need alarms and rollback: configure it"
    )


def test_production_canary_needs_rollback_alarms(tmp_path: Path) -> None:
    serving = {
        **SERVING,
        "deployment": {
            "strategy": "canary",
            "canary_size": {"type": "capacity_percent", "value": 10},
        },
    }
    data = config_with(serving, monitoring=monitoring(operational={"rollback_on": []}), **PROD)
    found = problem(tmp_path, data, name="prod")
    assert found == (
        "config/prod.yaml: services.svc.alarms.rollback_on: production canary/linear "
        "deployments need rollback alarms"
    )
