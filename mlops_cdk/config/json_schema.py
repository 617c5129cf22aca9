"""The JSON Schema of the configuration files, generated from the same models that validate
them: ``python -m mlops_cdk.config.json_schema`` (``make schema``) writes
``config/schema/environment.schema.json`` (:class:`EnvConfig`, ``config/<env>.yaml``) and
``config/schema/pipeline.schema.json`` (:class:`PipelineConfig`, ``config/pipeline.yaml``).

Every committed YAML file names its schema in a first-line comment,
``# yaml-language-server: $schema=schema/environment.schema.json``, a path relative to the
YAML file (the yaml-language-server project's section on modelines, which also says it
supports drafts 04, 07, 2019-09 and 2020-12: https://github.com/redhat-developer/yaml-language-server#using-modeline;
nvim-lspconfig's yamlls notes: "the relative filepath is the path relative to the open yaml
file", https://github.com/neovim/nvim-lspconfig/blob/master/doc/configs.md#yamlls). VS Code's
YAML extension (Red Hat) and other editors using that server then complete keys, show the
models' descriptions and flag unknown keys, wrong types and values outside enums or bounds.

What a file may write, not what the model holds: fields only the loader sets
(``loader_fields``, e.g. the environment ``name``) are left out, and names the loader derives
(:data:`DERIVED_FIELDS`) are optional and may hold ``{env}``-style placeholders. Cross-field
rules and checks done in code (validators) are not in the schema; the loader still runs them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from mlops_cdk.config.pipeline import PipelineConfig
from mlops_cdk.config.retraining import PipelineRetraining, TrainingJobRetraining
from mlops_cdk.config.schema import EnvConfig

SCHEMA_DIR = Path("config") / "schema"
# Pydantic's generator writes draft 2020-12 (pydantic.json_schema.GenerateJsonSchema).
DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Fields the loader fills in when a file leaves them out, with {env}, {service} and
# {endpoint} replaced in a typed value (mlops_cdk.config.service.derive_service_names): the
# model requires them and checks their pattern after the replacement, a file does neither.
DERIVED_FIELDS: dict[type[BaseModel], frozenset[str]] = {
    PipelineRetraining: frozenset({"name"}),
    TrainingJobRetraining: frozenset({"job_prefix"}),
}


class FileSchema(GenerateJsonSchema):
    """Each model's schema as a file may write it: without the fields only the loader sets,
    and with the derived names optional and free of the pattern placeholders would fail."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        model = schema["cls"]
        hidden: frozenset[str] = getattr(model, "loader_fields", frozenset())
        derived = DERIVED_FIELDS.get(model, frozenset())
        properties: dict[str, Any] = json_schema.get("properties", {})
        for name in hidden:
            properties.pop(name, None)
        for name in derived:
            properties[name].pop("pattern", None)
        required = [
            name for name in json_schema.get("required", []) if name not in hidden | derived
        ]
        json_schema.pop("required", None)
        if required:
            json_schema["required"] = required
        return json_schema


def _document(model: type[BaseModel], *, title: str, description: str) -> dict[str, Any]:
    body = model.model_json_schema(mode="validation", schema_generator=FileSchema)
    return {**body, "$schema": DIALECT, "title": title, "description": description}


_GENERATED = (
    "Generated from the pydantic models in mlops_cdk/config/ by `make schema`: do not edit. "
    "Cross-field rules are checked by the loader (`make synth`), not by this schema."
)


def environment_schema() -> dict[str, Any]:
    """The schema of ``config/<env>.yaml`` (without the loader's ``name``)."""
    return _document(
        EnvConfig,
        title="mlops-cdk environment (config/<env>.yaml)",
        description="One deployment environment; the file name is the environment name. What "
        "its services share (account, region, network, key, storage, publishers, alarm "
        f"e-mails, default thresholds) and `services`, one entry per model service. {_GENERATED}",
    )


def pipeline_schema() -> dict[str, Any]:
    """The schema of ``config/pipeline.yaml``."""
    return _document(
        PipelineConfig,
        title="mlops-cdk deployment pipeline (config/pipeline.yaml)",
        description="The CDK Pipelines deployment of the environments, run in the tooling "
        f"account `account`/`region`. {_GENERATED}",
    )


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "environment.schema.json": environment_schema,
    "pipeline.schema.json": pipeline_schema,
}


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, UTF-8 as is, one trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale(out_dir: Path) -> list[str]:
    """The schema files in ``out_dir`` that are missing or differ from the models."""
    return [
        name
        for name, build in SCHEMAS.items()
        if not (out_dir / name).is_file()
        or (out_dir / name).read_text(encoding="utf-8") != render(build())
    ]


def write(out_dir: Path) -> list[Path]:
    """Write every schema into ``out_dir``; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in SCHEMAS.items():
        path = out_dir / name
        path.write_text(render(build()), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_cdk.config.json_schema",
        description="Write the configuration files' JSON Schemas, generated from the models.",
    )
    parser.add_argument("--out", type=Path, default=SCHEMA_DIR, help="default: config/schema")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.out)
        for name in outdated:
            print(
                f"{args.out / name}: out of date with the models: run make schema", file=sys.stderr
            )
        return 1 if outdated else 0
    for path in write(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
