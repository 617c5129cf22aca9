"""The published JSON Schemas (config/schema/, `make schema`): in step with the models, every
committed and fixture file validates against them and names them in its first line, what only
the loader sets is never offered, and a file's mistakes are flagged by the schema as by the loader.

``jsonschema`` is not a dependency of the project, so the files are checked by the small
validator below; it refuses to run over a keyword it does not know, so no constraint of the
schemas is skipped silently."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.config import ConfigError, EnvConfig, PipelineConfig, load_environment
from mlops_cdk.config.json_schema import (
    DERIVED_FIELDS,
    DIALECT,
    SCHEMAS,
    main,
    render,
)
from mlops_cdk.config.retraining import PipelineRetraining, TrainingJobRetraining
from mlops_cdk.config.service import derive_service_names
from mlops_cdk.config.yaml_loader import read_yaml_mapping
from mlops_cdk.props.endpoint import MetricsSpec
from tests.helpers import COMMITTED_CONFIG_DIR, CONFIG_DIR, ROOT

SCHEMA_DIR = COMMITTED_CONFIG_DIR / "schema"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
YAML_FILES = sorted(
    [*COMMITTED_CONFIG_DIR.glob("*.yaml"), *(ROOT / "tests" / "fixtures").rglob("*.yaml")]
)

# --- a small JSON Schema validator (the keywords pydantic emits) ---------------------------

ANNOTATIONS = frozenset({"$schema", "$defs", "title", "description", "default", "format"})
CHECKED = frozenset({
    "$ref", "anyOf", "type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "minItems", "maxItems", "items", "properties", "required",
    "additionalProperties",
})  # fmt: skip
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}


def _at(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _scalar_problems(value: Any, schema: dict[str, Any]) -> list[str]:
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{value!r} does not match {schema['pattern']}")
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            found.append(f"{value!r} has the wrong length")
    if _TYPES["number"](value):
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            found.append(f"{value} is out of bounds")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            found.append(f"{value} is not above {schema['exclusiveMinimum']}")
    return found


def _any_of(
    value: Any, options: list[dict[str, Any]], root: dict[str, Any], where: str
) -> list[str]:
    """No problems when an option fits; for pydantic's ``X | None``, X's problems (as an
    editor shows)."""
    tried = [problems(value, option, root, where) for option in options]
    if not all(tried):
        return []
    shapes = [
        found for found, option in zip(tried, options, strict=True) if option != {"type": "null"}
    ]
    return shapes[0] if len(shapes) == 1 else [f"{where or '(top level)'}: matches no shape"]


def problems(
    value: Any, schema: dict[str, Any], root: dict[str, Any], where: str = ""
) -> list[str]:
    """``<path>: <reason>`` for each way ``value`` breaks ``schema`` (paths as the loader's)."""
    unknown = set(schema) - CHECKED - ANNOTATIONS
    assert not unknown, f"the test's validator does not check {sorted(unknown)}: extend it"
    shown = where or "(top level)"
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return problems(value, root["$defs"][name], root, where)
    if "anyOf" in schema:
        return _any_of(value, schema["anyOf"], root, where)
    kind = schema.get("type")
    if kind is not None and not _TYPES[kind](value):
        return [f"{shown}: expected {kind}, got {type(value).__name__}"]
    found = [f"{shown}: {reason}" for reason in _scalar_problems(value, schema)]
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            found.append(f"{shown}: has the wrong number of items")
        for index, item in enumerate(value):
            found += problems(item, schema.get("items", {}), root, _at(where, index))
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        found += [
            f"{shown}: missing {key!r}" for key in schema.get("required", ()) if key not in value
        ]
        for key, item in value.items():
            if key in properties:
                found += problems(item, properties[key], root, _at(where, key))
            elif extra is False:
                found.append(f"{_at(where, key)}: unknown key")
            elif isinstance(extra, dict):
                found += problems(item, extra, root, _at(where, key))
    return found


def keywords(node: Any) -> set[str]:
    """Every keyword used anywhere in a schema (property and definition names excluded)."""
    if isinstance(node, list):
        return set().union(*map(keywords, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set(node)
    for key, item in node.items():
        if key in ("properties", "$defs"):
            found |= set().union(*map(keywords, item.values())) if item else set()
        elif key not in ("default", "enum"):
            found |= keywords(item)
    return found


def committed(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return schema


ENVIRONMENT = committed("environment.schema.json")
PIPELINE = committed("pipeline.schema.json")


def schema_of(path: Path) -> dict[str, Any]:
    return PIPELINE if path.name == "pipeline.yaml" else ENVIRONMENT


# --- the committed files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_what_the_models_generate(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.is_file(), f"config/schema/{name} is missing: run make schema"
    fresh = render(SCHEMAS[name]())
    assert path.read_text(encoding="utf-8") == fresh, (
        f"config/schema/{name} is out of date with the models: run make schema"
    )
    assert fresh.endswith("}\n")
    assert not fresh.endswith("\n\n")


def test_schemas_are_draft_2020_12_documents_with_a_title() -> None:
    for schema in (ENVIRONMENT, PIPELINE):
        assert schema["$schema"] == DIALECT == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"].startswith("mlops-cdk ")
        assert "make schema" in schema["description"]
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False


def test_the_validator_checks_every_keyword_the_schemas_use() -> None:
    used = keywords(ENVIRONMENT) | keywords(PIPELINE)
    assert used - ANNOTATIONS <= CHECKED, sorted(used - ANNOTATIONS - CHECKED)
    assert {"enum", "pattern", "additionalProperties", "$ref", "anyOf"} <= used


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_committed_and_fixture_file_validates(path: Path) -> None:
    data = read_yaml_mapping(path, str(path))
    assert problems(data, schema_of(path), schema_of(path)) == []


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_names_its_schema_in_its_first_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{path.relative_to(ROOT)}: first line is not a yaml-language-server modeline"
    target = (path.parent / match.group(1)).resolve()
    expected = "pipeline" if path.name == "pipeline.yaml" else "environment"
    assert target == (SCHEMA_DIR / f"{expected}.schema.json").resolve()


def test_the_modeline_is_a_comment_to_the_loader(tmp_path: Path) -> None:
    text = (CONFIG_DIR / "dev.yaml").read_text(encoding="utf-8")
    assert MODELINE.match(text.splitlines()[0])
    (tmp_path / "dev.yaml").write_text(text.split("\n", 1)[1], encoding="utf-8")
    without = load_environment(tmp_path / "dev.yaml")
    assert load_environment(CONFIG_DIR / "dev.yaml") == without


# --- what a file may write ---------------------------------------------------------------------


def test_loader_only_fields_are_never_offered() -> None:
    assert EnvConfig.loader_fields == {"name"}
    assert set(ENVIRONMENT["properties"]) == set(EnvConfig.model_fields) - {"name"}
    assert "name" not in ENVIRONMENT["required"]
    assert set(PIPELINE["properties"]) == set(PipelineConfig.model_fields)
    data = read_yaml_mapping(CONFIG_DIR / "dev.yaml", "dev.yaml")
    assert problems({**data, "name": "dev"}, ENVIRONMENT, ENVIRONMENT) == ["name: unknown key"]


def test_derived_names_are_optional_and_take_placeholders() -> None:
    spec: dict[str, Any] = {"retraining": {"pipeline": {}, "training_job": {}}}
    filled = derive_service_names(spec, env="dev", service="churn")["retraining"]
    filled_by_model = {
        PipelineRetraining: frozenset(filled["pipeline"]),
        TrainingJobRetraining: frozenset(filled["training_job"]),
    }
    assert filled_by_model == DERIVED_FIELDS
    for model, fields in DERIVED_FIELDS.items():
        definition = ENVIRONMENT["$defs"][model.__name__]
        assert fields.isdisjoint(definition.get("required", ()))
        assert all("pattern" not in definition["properties"][f] for f in fields)
        assert all(model.model_fields[f].is_required() for f in fields)  # the model does require


def test_models_reach_editors_with_descriptions_enums_and_dataclasses() -> None:
    described = ENVIRONMENT["properties"]["publishers"]["description"]
    assert described == EnvConfig.model_fields["publishers"].description
    assert ENVIRONMENT["properties"]["removal_policy"]["enum"] == ["destroy", "retain"]
    metrics = ENVIRONMENT["$defs"]["MetricsSpec"]  # a standard dataclass (mlops_cdk.props)
    assert metrics["additionalProperties"] is False
    assert set(metrics["properties"]) == {f.name for f in dataclasses.fields(MetricsSpec)}
    closed = [n for n, d in ENVIRONMENT["$defs"].items() if d.get("additionalProperties") is False]
    assert sorted(closed) == sorted(ENVIRONMENT["$defs"])  # every model forbids unknown keys


def test_generation_warns_about_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a default pydantic cannot write as JSON
        for build in SCHEMAS.values():
            build()


# --- mistakes: flagged by the schema (in the editor) and by the loader -------------------------


def _typo_top(data: dict[str, Any]) -> None:
    data["log_retention_day"] = data.pop("log_retention_days")


def _typo_nested(data: dict[str, Any]) -> None:
    variant = data["services"]["churn"]["variants"][0]
    variant["intial_weight"] = variant.pop("initial_weight")


def _bad_enum(data: dict[str, Any]) -> None:
    data["removal_policy"] = "keep"


def _bad_type(data: dict[str, Any]) -> None:
    data["network"]["new_vpc"]["max_azs"] = "two"


@pytest.mark.parametrize(
    ("edit", "path", "reason"),
    [
        (_typo_top, "log_retention_day", "unknown key"),
        (_typo_nested, "services.churn.variants[0].intial_weight", "unknown key"),
        (_bad_enum, "removal_policy", "is not one of"),
        (_bad_type, "network.new_vpc.max_azs", "expected integer"),
    ],
    ids=["typo", "nested-typo", "enum", "type"],
)
def test_a_mistake_is_flagged_by_the_schema_and_the_loader(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], path: str, reason: str
) -> None:
    data = copy.deepcopy(read_yaml_mapping(CONFIG_DIR / "dev.yaml", "dev.yaml"))
    edit(data)
    flagged = problems(data, ENVIRONMENT, ENVIRONMENT)
    assert any(line.startswith(f"{path}: ") and reason in line for line in flagged), flagged
    (tmp_path / "dev.yaml").write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    with pytest.raises(ConfigError) as excinfo:
        load_environment(tmp_path / "dev.yaml", display="config/dev.yaml")
    assert any(line.startswith(f"config/dev.yaml: {path}: ") for line in excinfo.value.problems)


# --- make schema -------------------------------------------------------------------------------


def test_make_schema_writes_and_check_reports_stale_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schema"
    assert main(["--check", "--out", str(out)]) == 1
    assert f"{out / 'environment.schema.json'}: out of date with the models: run make schema" in (
        capsys.readouterr().err
    )
    assert main(["--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(SCHEMAS)
    assert (out / "pipeline.schema.json").read_text() == (
        SCHEMA_DIR / "pipeline.schema.json"
    ).read_text()
    assert main(["--check", "--out", str(out)]) == 0
