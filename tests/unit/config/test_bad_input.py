"""Mistakes a new user makes: each is one clear line naming the file and the field, every
problem of a run is reported together, and nothing is accepted that AWS would refuse later."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.aws.schedules import cron_problem, time_zone_problem
from mlops_cdk.config import ConfigError, load_environment, load_environments
from mlops_cdk.config.context import availability_zones_key, context_problems
from tests.helpers import CONFIG_DIR, yaml_data, yaml_text

BASE_TEXT = (CONFIG_DIR / "dev.yaml").read_text(encoding="utf-8")
BASE: dict[str, Any] = yaml_data(BASE_TEXT)
SCHEDULED = "services.churn.variants[0].instance.autoscaling.scheduled[0]"


def problems_in(
    tmp_path: Path, content: str | bytes | dict[str, Any], name: str = "dev"
) -> list[str]:
    path = tmp_path / f"{name}.yaml"
    if isinstance(content, dict):
        path.write_text(yaml_text(content, sort_keys=False), encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_environment(path, display=f"config/{name}.yaml")
    return excinfo.value.problems


def changed(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    edit(data)
    return data


def churn(data: dict[str, Any]) -> dict[str, Any]:
    service: dict[str, Any] = data["services"]["churn"]
    return service


def test_the_base_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text(BASE_TEXT, encoding="utf-8")
    assert load_environment(path).services["churn"]


# --- encodings -----------------------------------------------------------------------------


def test_latin1_byte_is_one_line_with_its_position(tmp_path: Path) -> None:
    text = BASE_TEXT.replace("Project: mlops-cdk", "Project: caf\u00e9")
    before = text[: text.index("\u00e9")]
    line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    assert problems_in(tmp_path, text.encode("latin-1")) == [
        f"config/dev.yaml:{line}:{column}: the file is not UTF-8 (byte 0xe9): save it as UTF-8"
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files_are_refused(tmp_path: Path, encoding: str) -> None:
    raw = BASE_TEXT.encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw  # with its byte-order mark
    assert problems_in(tmp_path, raw) == [
        "config/dev.yaml: the file is UTF-16/32 encoded: save it as UTF-8"
    ]


def test_utf8_with_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE_TEXT.encode("utf-8"))
    assert load_environment(path).account == "111111111111"


# --- numbers -------------------------------------------------------------------------------

FINITE = "must be a finite number (not .inf, .nan or beyond ±1.8e308)"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("latency_ms: 2000", "latency_ms: .inf", "monitoring.operational.latency_ms"),
        ("latency_ms: 2000", "latency_ms: -.inf", "monitoring.operational.latency_ms"),
        ("latency_ms: 2000", "latency_ms: .nan", "monitoring.operational.latency_ms"),
        ("latency_ms: 2000", "latency_ms: 1e999", "monitoring.operational.latency_ms"),
        ("threshold: 0.7", "threshold: .nan", "services.churn.quality_alarms[0].threshold"),
        (
            "initial_weight: 1",
            "initial_weight: .inf",
            "services.churn.variants[0].initial_weight",
        ),
    ],
)
def test_non_finite_numbers_are_refused(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in BASE_TEXT
    assert problems_in(tmp_path, BASE_TEXT.replace(old, new, 1)) == [
        f"config/dev.yaml: {field}: {FINITE}"
    ]


def test_integers_beyond_what_jsii_carries_exactly_are_refused(tmp_path: Path) -> None:
    text = BASE_TEXT.replace("target_value: 100", "target_value: 100000000000000000000")
    assert problems_in(tmp_path, text) == [
        "config/dev.yaml: services.churn.variants[0].instance.autoscaling.target_value: "
        "100000000000000000000 is too large (at most 9007199254740991)"
    ]


@pytest.mark.parametrize("spelling", ["true", "True", "yes", "on", "Off", "no"])
def test_booleans_where_numbers_are_expected_are_refused(tmp_path: Path, spelling: str) -> None:
    text = BASE_TEXT.replace("initial_weight: 1", f"initial_weight: {spelling}")
    (line,) = problems_in(tmp_path, text)
    assert line.startswith(
        "config/dev.yaml: services.churn.variants[0].initial_weight: expected a number, got the "
        "boolean "
    )
    assert "YAML reads true/false, yes/no and on/off as booleans" in line


def test_boolean_in_an_integer_field_is_refused(tmp_path: Path) -> None:
    text = BASE_TEXT.replace("log_retention_days: 14", "log_retention_days: yes")
    (line,) = problems_in(tmp_path, text)
    assert line.startswith("config/dev.yaml: log_retention_days: expected a number")


def test_boolean_in_a_deployment_setting_is_refused_not_read_as_one_second(tmp_path: Path) -> None:
    """The deployment's settings are checked by hand in their props, after pydantic, which had
    read ``true`` as 1 (a one-second baking period)."""
    old = "wait_seconds: 300"
    assert old in BASE_TEXT
    (line,) = problems_in(tmp_path, BASE_TEXT.replace(old, "wait_seconds: true", 1))
    assert line.startswith(
        "config/dev.yaml: services.churn.deployment.wait_seconds: expected a number, got the "
        "boolean true"
    )


# --- schedules and time zones --------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [
        ("cron(75 19 ? * MON-FRI *)", "minutes: 75 is outside 0-59"),
        ("cron(0 24 ? * MON-FRI *)", "hours: 24 is outside 0-23"),
        ("cron(0 7 32 * ? *)", "day-of-month: 32 is outside 1-31"),
        ("cron(0 7 ? 13 MON *)", "month: 13 is outside 1-12"),
        ("cron(0 7 ? * 8 *)", "day-of-week: 8 is outside 1-7"),
        ("cron(0 7 ? * MON-FRI 2200)", "year: 2200 is outside 1970-2199"),
        ("cron(0 7 ? * FUN *)", "day-of-week: 'FUN' is not a value"),
        ("cron(0 7 * * MON *)", "set exactly one of day-of-month and day-of-week to '?'"),
        ("cron(0 7 ? * MON-FRI)", "5 fields; Application Auto Scaling cron has 6"),
        ("cron(*/0 7 ? * MON *)", "minutes: '*/0' needs a positive step after '/'"),
        ("cron(0 ? ? * MON *)", "hours: '?' is only allowed in the day fields"),
        ("0 19 * * 1-5", "expected cron(minutes hours day-of-month month day-of-week year)"),
    ],
)
def test_cron_fields_out_of_range_are_refused(tmp_path: Path, schedule: str, reason: str) -> None:
    text = BASE_TEXT.replace("cron(0 19 ? * MON-FRI *)", schedule)
    (line,) = problems_in(tmp_path, text)
    assert line.startswith(f"config/dev.yaml: {SCHEDULED}.schedule: {schedule!r}: {reason}")


@pytest.mark.parametrize(
    "schedule",
    [
        "cron(0 19 ? * MON-FRI *)",
        "cron(0/15 * * * ? *)",
        "cron(0 8 L * ? *)",
        "cron(0 8 LW * ? 2030)",
        "cron(0 8 15W * ? *)",
        "cron(0 8 ? * 6#3 *)",
        "cron(0 8 ? * FRIL *)",
        "cron(30 6 ? JAN-MAR,OCT 2-6 2026-2030)",
    ],
)
def test_valid_cron_expressions_are_accepted(schedule: str) -> None:
    assert cron_problem(schedule) is None


def test_unknown_time_zone_is_refused_with_suggestions(tmp_path: Path) -> None:
    text = BASE_TEXT.replace("time_zone: Europe/Dublin", "time_zone: Europe/Pariss", 1)
    assert problems_in(tmp_path, text) == [
        f"config/dev.yaml: {SCHEDULED}.time_zone: 'Europe/Pariss' is not an IANA time zone name "
        "(did you mean Europe/Paris, Europe/Warsaw, Europe/Madrid?)"
    ]
    assert time_zone_problem("America/Argentina/Buenos_Aires") is None


# --- instance types, models, names ---------------------------------------------------------


def test_instance_type_sagemaker_does_not_offer_is_refused(tmp_path: Path) -> None:
    text = BASE_TEXT.replace("instance_type: ml.m5.large", "instance_type: ml.c5.huge")
    (line,) = problems_in(tmp_path, text)
    assert line.startswith(
        "config/dev.yaml: services.churn.variants[0].instance.instance_type: 'ml.c5.huge' is not "
        "a SageMaker hosting instance type (did you mean "
    )


def test_a_model_no_variant_uses_is_refused(tmp_path: Path) -> None:
    def orphan(data: dict[str, Any]) -> None:
        model = {**churn(data)["models"][0], "name": "churn-v0"}
        churn(data)["models"].append(model)

    assert problems_in(tmp_path, changed(orphan)) == [
        "config/dev.yaml: services.churn.models[1]: model 'churn-v0' is not used by any variant: "
        "remove it (it would be created and kept in the template, serving nothing)"
    ]


def test_a_misspelt_model_reference_is_not_also_an_orphan(tmp_path: Path) -> None:
    def misspelt(data: dict[str, Any]) -> None:
        churn(data)["variants"][0]["model"] = "churn-v9"

    assert problems_in(tmp_path, changed(misspelt)) == [
        "config/dev.yaml: services.churn.variants[0].model: unknown model 'churn-v9' "
        "(models: churn-v1)"
    ]


def test_alarm_dimension_of_another_endpoint_is_refused(tmp_path: Path) -> None:
    def other_endpoint(data: dict[str, Any]) -> None:
        churn(data)["quality_alarms"][0]["dimensions"]["EndpointName"] = "stage-churn"

    (line,) = problems_in(tmp_path, changed(other_endpoint))
    assert line.startswith(
        "config/dev.yaml: services.churn.quality_alarms[0].dimensions.EndpointName: "
        "'stage-churn' is not this service's endpoint ('dev-churn')"
    )


def test_placeholders_derive_names_from_the_environment(tmp_path: Path) -> None:
    def placeholders(data: dict[str, Any]) -> None:
        churn(data)["quality_alarms"][0]["dimensions"] = {
            "EndpointName": "{endpoint}",
            "Model": "{service}",
            "Stage": "{env}",
        }
        churn(data)["retraining"]["pipeline"] = {}

    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(changed(placeholders)), encoding="utf-8")
    service = load_environment(path).services["churn"]
    assert service.quality_alarms[0].dimensions == {
        "EndpointName": "dev-churn",
        "Model": "churn",
        "Stage": "dev",
    }
    assert service.retraining is not None
    assert service.retraining.pipeline is not None
    assert service.retraining.pipeline.name == "dev-churn-retraining"


def test_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    def unknown(data: dict[str, Any]) -> None:
        churn(data)["quality_alarms"][0]["dimensions"]["Model"] = "{model}"

    (line,) = problems_in(tmp_path, changed(unknown))
    assert line == (
        "config/dev.yaml: services.churn.quality_alarms[0].dimensions: Model: unknown placeholder "
        "{model} (use {env}, {service} or {endpoint})"
    )


def copy_as(tmp_path: Path, source: str, target: str, edit: Callable[[str], str]) -> Path:
    """A config folder with the fixture environments and ``target`` copied from ``source``."""
    folder = tmp_path / "config"
    folder.mkdir()
    for path in CONFIG_DIR.glob("*.yaml"):
        if path.stem != "pipeline":
            (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    text = (CONFIG_DIR / f"{source}.yaml").read_text(encoding="utf-8")
    (folder / f"{target}.yaml").write_text(edit(text), encoding="utf-8")
    return folder


def test_a_copied_file_keeps_no_other_environments_names(tmp_path: Path) -> None:
    """The README's "Add an environment": copy stage.yaml to qa.yaml (its own CIDR and alarm
    e-mails: tests/unit/config/test_cross_file.py); every name derived from the environment
    follows the new file."""

    def own_range_and_recipients(text: str) -> str:
        return text.replace("10.20.0.0/16", "10.40.0.0/16").replace("-stage-", "-qa-")

    folder = copy_as(tmp_path, "stage", "qa", own_range_and_recipients)
    qa = next(env for env in load_environments(folder) if env.name == "qa")
    for name, service in qa.services.items():
        assert qa.endpoint_name(name) == f"qa-{name}"
        assert service.retraining is not None
        assert service.retraining.pipeline is not None
        assert "stage" not in service.retraining.pipeline.name
        assert "qa" in service.retraining.pipeline.name
    lookups = context_problems(
        [qa], {availability_zones_key(qa.account, qa.region): ["a", "b", "c"]}.get, str
    )
    assert lookups == []


def test_a_name_typed_for_another_environment_is_refused(tmp_path: Path) -> None:
    folder = copy_as(
        tmp_path,
        "stage",
        "qa",
        lambda text: text.replace('"{service}-retraining-{env}"', "churn-retraining-stage", 1),
    )
    with pytest.raises(ConfigError) as excinfo:
        load_environments(folder)
    (line,) = excinfo.value.problems
    assert line.endswith(
        "qa.yaml: services.churn.retraining.pipeline.name: 'churn-retraining-stage' names "
        "environment 'stage', not 'qa': write {env} where the environment name goes"
    )


# --- files that are not environments --------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "reason"),
    [
        ("qa.yml", "not read: environment files end in '.yaml' (rename it to qa.yaml)"),
        ("QA.yaml", "not read: environment names are 1-20 lowercase letters, digits or '-', "
                    "starting with a letter (rename it to qa.yaml)"),
        ("qa.YAML", "not read: environment files end in '.yaml' (rename it to qa.yaml)"),
        ("my_env.yaml", "not read: environment names are 1-20 lowercase letters, digits or '-', "
                        "starting with a letter"),
    ],
)  # fmt: skip
def test_files_that_look_like_environments_but_are_not_are_errors(
    tmp_path: Path, file_name: str, reason: str
) -> None:
    (tmp_path / "dev.yaml").write_text(BASE_TEXT, encoding="utf-8")
    (tmp_path / file_name).write_text(BASE_TEXT, encoding="utf-8")
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")  # not YAML: not a concern
    (tmp_path / ".hidden.yaml").write_text("x: 1", encoding="utf-8")  # editor files
    with pytest.raises(ConfigError) as excinfo:
        load_environments(tmp_path)
    (line,) = excinfo.value.problems
    assert line.endswith(f"{file_name}: {reason}")


# --- several problems, one run --------------------------------------------------------------


def test_field_and_cross_field_problems_are_reported_together(tmp_path: Path) -> None:
    def many(data: dict[str, Any]) -> None:
        data["log_retention_days"] = 13  # a field problem at the top
        data["operators"] = ["arn:aws:iam::999999999999:role/other"]  # cross-field, top
        service = churn(data)
        service["deployment"]["strategyy"] = "canary"  # unknown key, with a suggestion
        service["deployment"]["wait_seconds"] = 0  # cross-field: rollback needs baking
        service["variants"][0]["instance"]["autoscaling"]["scheduled"][1]["max_capacity"] = 5

    found = problems_in(tmp_path, changed(many))
    assert found == [
        "config/dev.yaml: log_retention_days: 13 is not a CloudWatch Logs retention period "
        "(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, "
        "2922, 3288, 3653)",
        "config/dev.yaml: services.churn.variants[0].instance.autoscaling.scheduled[1]."
        "max_capacity: 5 exceeds the autoscaling max_capacity 2",
        "config/dev.yaml: services.churn.deployment.strategyy: unknown field (did you mean "
        "'strategy'? allowed: canary_size, linear_step_size, maximum_execution_timeout_seconds, "
        "rollback_batch_size, rolling_batch_size, strategy, termination_wait_seconds, "
        "wait_seconds)",
        "config/dev.yaml: operators[0]: operators must be roles of this environment's account "
        "111111111111",
        "config/dev.yaml: services.churn.deployment.wait_seconds: rollback alarms are only "
        "evaluated during the baking period (WaitIntervalInSeconds): with 0 they can never roll "
        "a deployment back",
    ]


def test_allowed_keys_never_offer_a_key_the_loader_sets(tmp_path: Path) -> None:
    (line,) = problems_in(tmp_path, changed(lambda data: data.update(nmae="x")))
    assert "did you mean" not in line or "'name'" not in line
    assert ", name," not in line
    assert "(allowed: name" not in line


# --- cdk.context.json -----------------------------------------------------------------------


def test_more_zones_than_the_context_lists_is_one_line_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").write_text(
        BASE_TEXT.replace("max_azs: 2", "max_azs: 4"), encoding="utf-8"
    )
    (config,) = load_environments(tmp_path)
    key = "availability-zones:account=111111111111:region=eu-west-1"
    zones = {key: ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}
    assert context_problems([config], zones.get, lambda name: f"config/{name}.yaml") == [
        "config/dev.yaml: network.new_vpc.max_azs: 4 zones requested but cdk.context.json lists "
        f'3 under "{key}" (eu-west-1a, eu-west-1b, eu-west-1c): lower max_azs or add the '
        "account's other zones there"
    ]


def test_an_account_or_region_without_context_names_the_key_to_add(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").write_text(
        BASE_TEXT.replace("region: eu-west-1", "region: eu-central-1"), encoding="utf-8"
    )
    (config,) = load_environments(tmp_path)
    assert context_problems([config], {}.get, lambda name: f"config/{name}.yaml") == [
        "config/dev.yaml: network.new_vpc: cdk.context.json has no availability zones for "
        "account 111111111111 in eu-central-1: add "
        '"availability-zones:account=111111111111:region=eu-central-1": '
        '["eu-central-1a", "eu-central-1b"] with the zone names your account has there '
        "(synthesis is offline: it cannot look them up)"
    ]


def test_an_existing_vpc_needs_no_zone_lookup(tmp_path: Path) -> None:
    def existing(data: dict[str, Any]) -> None:
        data["network"] = {
            "existing_vpc": {
                "vpc_id": "vpc-0123456789abcdef0",
                "cidr": "10.1.0.0/16",
                "availability_zones": ["eu-central-1a", "eu-central-1b"],
                "private_subnet_ids": ["subnet-01234567", "subnet-89abcdef"],
                "route_table_ids": ["rtb-01234567", "rtb-89abcdef"],
            }
        }
        data["region"] = "eu-central-1"

    (tmp_path / "dev.yaml").write_text(yaml_text(changed(existing)), encoding="utf-8")
    (config,) = load_environments(tmp_path)
    assert context_problems([config], {}.get, str) == []


# --- settings that would have no effect are refused, never silently ignored (issue 20, 8) ----


def test_gpu_threshold_on_a_cpu_only_service_is_refused(tmp_path: Path) -> None:
    def gpu_threshold(data: dict[str, Any]) -> None:
        churn(data).setdefault("alarms", {})["gpu_percent"] = 80

    assert problems_in(tmp_path, changed(gpu_threshold)) == [
        "config/dev.yaml: services.churn.alarms.gpu_percent: no variant of this service runs on "
        "a GPU instance type: the threshold has no alarm"
    ]


def test_gpu_threshold_on_a_gpu_service_is_accepted(tmp_path: Path) -> None:
    def gpu_service(data: dict[str, Any]) -> None:
        churn(data)["variants"][0]["instance"]["instance_type"] = "ml.g5.xlarge"
        churn(data).setdefault("alarms", {})["gpu_memory_percent"] = 80

    path = tmp_path / "dev.yaml"
    path.write_text(yaml_text(changed(gpu_service), sort_keys=False), encoding="utf-8")
    assert load_environment(path).thresholds("churn").gpu_memory_percent == 80


def test_disabled_data_capture_with_settings_is_refused(tmp_path: Path) -> None:
    def disabled(data: dict[str, Any]) -> None:
        churn(data)["data_capture"] = {"enabled": False, "sampling_percentage": 50}
        churn(data).pop("drift", None)

    lines = problems_in(tmp_path, changed(disabled))
    assert lines == [
        "config/dev.yaml: services.churn.data_capture.sampling_percentage: has no effect while "
        "data capture is disabled: remove it"
    ]


def test_metrics_publish_frequency_aws_rejects_is_one_line(tmp_path: Path) -> None:
    def frequency(data: dict[str, Any]) -> None:
        churn(data)["metrics"] = {"publish_frequency_seconds": 45}

    (line,) = problems_in(tmp_path, changed(frequency))
    assert line == (
        "config/dev.yaml: services.churn.metrics.publish_frequency_seconds: must be one of "
        "10, 30, 60, 120, 180, 240, 300 (SageMaker MetricsConfig), got 45"
    )


def test_unknown_metrics_key_is_one_line(tmp_path: Path) -> None:
    def typo(data: dict[str, Any]) -> None:
        churn(data)["metrics"] = {"detailed_observabilty": True}

    (line,) = problems_in(tmp_path, changed(typo))
    assert line.startswith(
        "config/dev.yaml: services.churn.metrics.detailed_observabilty: unknown field "
        "(did you mean 'detailed_observability'?"
    )


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (
            "arn:aws:iam::111111111111:user/admin",
            "config/dev.yaml: storage.break_glass_role_arn: "
            "'arn:aws:iam::111111111111:user/admin' is not an IAM role ARN "
            "(arn:aws:iam::<12 digits>:role/<name>)",
        ),
        (
            "arn:aws:iam::999999999999:role/break-glass",
            "config/dev.yaml: storage.break_glass_role_arn: must be a role of this environment's "
            "account 111111111111 (the bucket policy exempts it from the delete deny; its IAM "
            "policy grants the delete)",
        ),
    ],
)
def test_break_glass_role_is_one_line_naming_the_field(
    tmp_path: Path, arn: str, expected: str
) -> None:
    def set_role(data: dict[str, Any]) -> None:
        data.setdefault("storage", {})["break_glass_role_arn"] = arn

    assert problems_in(tmp_path, changed(set_role)) == [expected]


def test_data_capture_problems_name_their_fields(tmp_path: Path) -> None:
    """The construct's props (DataCaptureSpec) check themselves; the file names each field."""

    def bad(data: dict[str, Any]) -> None:
        churn(data)["data_capture"] = {
            "sampling_percentage": 0,
            "capture_input": False,
            "capture_output": False,
        }
        churn(data).pop("drift", None)

    assert problems_in(tmp_path, changed(bad)) == [
        "config/dev.yaml: services.churn.data_capture.sampling_percentage: must be 1-100",
        "config/dev.yaml: services.churn.data_capture.capture_input: capture at least one of "
        "input or output",
    ]


def test_data_capture_wrong_type_and_unknown_key_are_one_line_each(tmp_path: Path) -> None:
    def bad(data: dict[str, Any]) -> None:
        churn(data)["data_capture"] = {"sampling_percentage": "half", "sampling_percentag": 5}

    lines = problems_in(tmp_path, changed(bad))
    assert lines[0].startswith(
        "config/dev.yaml: services.churn.data_capture.sampling_percentage: Input should be a "
        "valid integer"
    )
    assert lines[1].startswith(
        "config/dev.yaml: services.churn.data_capture.sampling_percentag: unknown field (did you "
        "mean 'sampling_percentage'?"
    )
    assert len(lines) == 2


def test_component_name_longer_than_sagemaker_allows_is_one_line(tmp_path: Path) -> None:
    """A component is named <env>-<service>-<component> (InferenceComponentName: at most 63
    characters): the file names the component, rather than the construct raising at synth."""
    service = "r" * 40  # dev-<40>: 44 characters, a valid endpoint name

    def long_names(data: dict[str, Any]) -> None:
        data["services"][service] = {
            "models": [
                {
                    "name": "ranker-v1",
                    "image_tag": "1.0.0",
                    "model_data_key": f"models/{service}/m.tar.gz",
                }
            ],
            "inference_components": {
                "fleet": {
                    "instance_type": "ml.m5.xlarge",
                    "initial_instance_count": 1,
                    "managed_scaling": {"min_instance_count": 0, "max_instance_count": 1},
                },
                "components": [
                    {"name": "ranker", "model": "ranker-v1", "memory_mb": 1024},
                    {"name": "r" * 20, "model": "ranker-v1", "memory_mb": 1024},
                ],
            },
        }

    name = f"dev-{service}-{'r' * 20}"
    assert problems_in(tmp_path, changed(long_names)) == [
        f"config/dev.yaml: services.{service}.inference_components.components[1].name: the "
        f"component is named {name!r}: 65 characters; SageMaker allows 63: shorten the "
        "component or service name"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("maybe", "change_detection.watch_foundation: "),
        (None, "change_detection.watch_foundation: "),
    ],
)
def test_a_watch_foundation_that_is_not_a_boolean_is_one_line(
    tmp_path: Path, value: Any, expected: str
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["change_detection"] = {"trail": "create", "watch_foundation": value}

    (line,) = problems_in(tmp_path, changed(edit))
    assert line.startswith(f"config/dev.yaml: {expected}")


@pytest.mark.parametrize("value", [0, "ten", 2.5])
def test_a_minimum_request_count_that_is_not_a_whole_number_from_one_is_one_line(
    tmp_path: Path, value: Any
) -> None:
    def edit(data: dict[str, Any]) -> None:
        churn(data)["alarms"] = {"min_invocations": value}

    (line,) = problems_in(tmp_path, changed(edit))
    assert line.startswith("config/dev.yaml: services.churn.alarms.min_invocations: ")
