"""Every configuration error names the file, the field path and the reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import ConfigError, load_environment, load_environments
from tests.helpers import CONFIG_DIR, ENVIRONMENTS, yaml_text

VALID: dict[str, Any] = {
    "account": "123456789012",
    "region": "eu-west-1",
    "production": False,
    "removal_policy": "destroy",
    "termination_protection": False,
    "log_retention_days": 14,
    "tags": {"Project": "test"},
    "network": {"new_vpc": {"cidr": "10.0.0.0/16", "max_azs": 2}},
}


def write(tmp_path: Path, data: Any, name: str = "dev") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml_text(data) if not isinstance(data, str) else data)
    return path


def with_change(path: str, value: Any) -> dict[str, Any]:
    """VALID with the dotted ``path`` set to ``value`` (or removed when value is ...)."""
    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    if value is ...:
        node.pop(last, None)
    else:
        node[last] = value
    return data


def problems_for(tmp_path: Path, data: Any, name: str = "dev") -> list[str]:
    path = write(tmp_path, data, name)
    with pytest.raises(ConfigError) as excinfo:
        load_environment(path, display=f"config/{name}.yaml")
    return excinfo.value.problems


def test_committed_environments_are_valid() -> None:
    configs = load_environments(CONFIG_DIR)
    assert tuple(c.name for c in configs) == ENVIRONMENTS
    prod = next(c for c in configs if c.name == "prod")
    assert prod.production
    assert prod.removal_policy == "retain"
    assert prod.termination_protection


def test_valid_minimal_file_gets_defaults(tmp_path: Path) -> None:
    config = load_environment(write(tmp_path, VALID))
    assert config.name == "dev"
    assert config.registry.max_tagged_images == 30
    assert config.storage.model_artifacts_prefix == "models/"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("account", 123456789012, "account: write the account id as a quoted string"),
        ("account", "12345", "account: '12345' is not a 12-digit AWS account id"),
        ("account", ..., "account: required field is missing"),
        ("region", "eu-west-9", "region: 'eu-west-9' is not an AWS region name"),
        ("removal_policy", "delete", "removal_policy: Input should be 'destroy' or 'retain'"),
        ("log_retention_days", 10, "log_retention_days: 10 is not a CloudWatch Logs retention"),
        ("tags", {"aws:owner": "x"}, "tags: tag key 'aws:owner': the 'aws:' prefix is reserved"),
        ("tags", {"Team": "a" * 300}, "tags: tag 'Team': value must be at most 256 characters"),
        ("network.new_vpc.cidr", "8.8.0.0/16", "network.new_vpc.cidr: 8.8.0.0/16 is not a private"),
        ("network.new_vpc.cidr", "10.0.0.0/8", "network.new_vpc.cidr: prefix /8 must be between"),
        ("network.new_vpc.cidr", "10.0.0.1/16", "network.new_vpc.cidr: Input is not a valid IPv4"),
        ("network.new_vpc.max_azs", 1, "network.new_vpc.max_azs: Input should be greater than"),
        ("network.new_vpc", ..., "network: set exactly one of new_vpc or existing_vpc"),
        ("registry.max_tagged_images", 0, "registry.max_tagged_images: Input should be greater"),
        ("storage.model_artifacts_prefix", "/models", "storage.model_artifacts_prefix: '/models'"),
        (
            "storage.data_capture_prefix",
            "models/capture/",
            "storage.data_capture_prefix: model_artifacts_prefix and data_capture_prefix must not",
        ),
    ],
)
def test_invalid_value_names_file_and_field(
    tmp_path: Path, path: str, value: Any, expected: str
) -> None:
    problems = problems_for(tmp_path, with_change(path, value))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"config/dev.yaml: {expected}"), problems[0]


def test_unknown_key_is_an_error_and_lists_allowed_fields(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, with_change("network.new_vpc.max_az", 2))
    assert problems == [
        "config/dev.yaml: network.new_vpc.max_az: unknown field (did you mean 'max_azs'? "
        "allowed: cidr, max_azs)"
    ]


def test_unknown_top_level_key_is_an_error(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, with_change("log_retention", 14))
    assert len(problems) == 1
    assert problems[0].startswith(
        "config/dev.yaml: log_retention: unknown field (did you mean 'log_retention_days'? "
        "allowed: account, "
    )
    # `name` is a field of the schema, but the loader sets it: never offered as allowed.
    assert " name," not in problems[0]


def test_name_key_is_rejected_because_the_file_name_is_the_environment(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, with_change("name", "dev"))
    assert problems == [
        "config/dev.yaml: name: unknown field (the file name is the environment name)"
    ]


def test_both_network_kinds_is_an_error(tmp_path: Path) -> None:
    data = with_change(
        "network.existing_vpc",
        {
            "vpc_id": "vpc-0123456789abcdef0",
            "cidr": "10.1.0.0/16",
            "availability_zones": ["eu-west-1a", "eu-west-1b"],
            "private_subnet_ids": ["subnet-01234567", "subnet-89abcdef"],
            "route_table_ids": ["rtb-01234567", "rtb-89abcdef"],
        },
    )
    assert problems_for(tmp_path, data) == [
        "config/dev.yaml: network: set exactly one of new_vpc or existing_vpc"
    ]


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (
            {"private_subnet_ids": ["subnet-01234567"], "route_table_ids": ["rtb-01234567"]},
            "network.existing_vpc.private_subnet_ids: private_subnet_ids has 1 entries but "
            "availability_zones has 2",
        ),
        (
            {"private_subnet_ids": ["subnet-01234567", "subnet-01234567"]},
            "network.existing_vpc.private_subnet_ids: lists a subnet twice",
        ),
        ({"vpc_id": "vpc-xyz"}, "network.existing_vpc.vpc_id: String should match pattern"),
        (
            {"private_subnet_ids": ["subnet-01234567", "sub-1"]},
            "network.existing_vpc.private_subnet_ids[1]: String should match pattern",
        ),
        (
            {
                "availability_zones": ["eu-west-1a"],
                "private_subnet_ids": ["subnet-01234567"],
                "route_table_ids": ["rtb-01234567"],
            },
            "network.existing_vpc.availability_zones: List should have at least 2 items",
        ),
        (
            {"route_table_ids": ["rtb-01234567"]},
            "network.existing_vpc.route_table_ids: route_table_ids has 1 entries but "
            "private_subnet_ids has 2: one per subnet, in the same order",
        ),
    ],
)
def test_existing_vpc_errors(tmp_path: Path, existing: dict[str, Any], expected: str) -> None:
    base = {
        "vpc_id": "vpc-0123456789abcdef0",
        "cidr": "10.1.0.0/16",
        "availability_zones": ["eu-west-1a", "eu-west-1b"],
        "private_subnet_ids": ["subnet-01234567", "subnet-89abcdef"],
        "route_table_ids": ["rtb-01234567", "rtb-89abcdef"],
    }
    data = with_change("network", {"existing_vpc": {**base, **existing}})
    problems = problems_for(tmp_path, data)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"config/dev.yaml: {expected}"), problems[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"removal_policy": "destroy", "termination_protection": True},
            "removal_policy: production environments must use retain",
        ),
        (
            {"removal_policy": "retain", "termination_protection": False},
            "termination_protection: production environments must set it to true",
        ),
    ],
)
def test_production_rules(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    data = {**VALID, "production": True, **change}
    assert problems_for(tmp_path, data, name="prod") == [f"config/prod.yaml: {expected}"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = {**VALID, "account": "1", "region": "nowhere", "log_retention_days": 2}
    problems = problems_for(tmp_path, data)
    assert [p.split(":")[1].strip() for p in problems] == [
        "account",
        "region",
        "log_retention_days",
    ]


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "account: '123456789012'\nregion: [eu-west-1\n")
    assert len(problems) == 1
    assert problems[0].startswith("config/dev.yaml:3:1: invalid YAML:"), problems[0]


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = yaml_text(VALID) + "region: us-east-1\n"
    problems = problems_for(tmp_path, text)
    assert len(problems) == 1
    assert "duplicate key 'region'" in problems[0]
    assert problems[0].startswith("config/dev.yaml:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "config/dev.yaml: the file is empty; expected a mapping of settings"),
        ("- a\n- b\n", "config/dev.yaml: expected a mapping of settings at the top, got list"),
    ],
)
def test_file_must_hold_a_mapping(tmp_path: Path, text: str, expected: str) -> None:
    assert problems_for(tmp_path, text) == [expected]


def test_unknown_environment_lists_known_ones(tmp_path: Path) -> None:
    write(tmp_path, VALID, "dev")
    write(tmp_path, {**VALID, "production": False}, "stage")
    with pytest.raises(ConfigError) as excinfo:
        load_environments(tmp_path, only="qa")
    assert excinfo.value.problems == ["unknown environment 'qa'; known environments: dev, stage"]


def test_all_files_are_validated_and_all_problems_reported(tmp_path: Path) -> None:
    write(tmp_path, {**VALID, "region": "nowhere"}, "dev")
    write(tmp_path, {**VALID, "account": "1"}, "stage")
    with pytest.raises(ConfigError) as excinfo:
        load_environments(tmp_path)
    files = [p.split(":")[0] for p in excinfo.value.problems]
    assert [Path(f).name for f in files] == ["dev.yaml", "stage.yaml"]


def test_empty_config_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no environment files"):
        load_environments(tmp_path)


def test_config_is_immutable(tmp_path: Path) -> None:
    config = load_environment(write(tmp_path, VALID))
    with pytest.raises(ValueError, match="frozen"):
        config.region = "us-east-1"  # type: ignore[misc]
