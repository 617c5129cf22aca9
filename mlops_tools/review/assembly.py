"""Read a synthesized cloud assembly: per environment (stage), each stack's template and the
compliance acknowledgements recorded in its metadata."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# aws_cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY (not imported: reading an assembly must
# not load the jsii runtime).
ACKNOWLEDGED_RULES_METADATA_KEY = "aws:cdk:acknowledged-rules"
# Validations.acknowledge() records a cdk-nag id as "Annotation::<id>".
ANNOTATION_NAMESPACE = "Annotation::"

# What json.loads returns for each JSON value, named as JSON names it.
_JSON_TYPES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}

NESTED_ASSEMBLY = "cdk:cloud-assembly"
STACK = "aws:cloudformation:stack"


class AssemblyError(Exception):
    """The directory is not a readable cloud assembly."""


@dataclass(frozen=True, order=True)
class Acknowledgement:
    """One acknowledged compliance finding on one construct."""

    path: str
    finding: str
    reason: str


@dataclass(frozen=True)
class StackArtifact:
    name: str
    template: Mapping[str, Any]
    acknowledgements: frozenset[Acknowledgement]
    region: str | None = None
    """From the stack's environment (``aws://<account>/<region>``); None when agnostic."""


Environments = dict[str, dict[str, StackArtifact]]


def read_assembly(directory: Path) -> Environments:
    """Environment (stage display name) -> stack name -> stack, from ``manifest.json``."""
    manifest = _json(directory / "manifest.json")
    environments: Environments = {}
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != NESTED_ASSEMBLY:
            continue
        properties = artifact.get("properties", {})
        name = properties.get("displayName") or artifact_id.removeprefix("assembly-")
        nested = directory / properties.get("directoryName", artifact_id)
        environments[name] = {stack.name: stack for stack in _stacks(nested)}
    return environments


def read_top_level_stacks(directory: Path) -> dict[str, StackArtifact]:
    """Stack name -> stack of the stacks outside any stage (e.g. the deployment pipeline)."""
    return {stack.name: stack for stack in _stacks(directory)}


def _stacks(directory: Path) -> Iterator[StackArtifact]:
    manifest = _json(directory / "manifest.json")
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != STACK:
            continue
        properties = artifact.get("properties", {})
        metadata: dict[str, list[Any]] = dict(artifact.get("metadata", {}))
        if extra := artifact.get("additionalMetadataFile"):
            for path, entries in _json(directory / extra).items():
                metadata[path] = [*metadata.get(path, []), *entries]
        yield StackArtifact(
            name=properties.get("stackName") or artifact_id,
            template=_json(directory / properties.get("templateFile", f"{artifact_id}.json")),
            acknowledgements=acknowledgements(metadata),
            region=_region(str(artifact.get("environment", ""))),
        )


def _region(environment: str) -> str | None:
    """``aws://111111111111/eu-west-1`` -> ``eu-west-1``; None for unknown-region."""
    region = environment.rpartition("/")[2]
    return region if region and not region.startswith("unknown-") else None


def acknowledgements(metadata: Mapping[str, list[Any]]) -> frozenset[Acknowledgement]:
    """Acknowledgements in a stack's metadata (construct path -> metadata entries)."""
    found: set[Acknowledgement] = set()
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") != ACKNOWLEDGED_RULES_METADATA_KEY:
                continue
            for finding, reason in (entry.get("data") or {}).items():
                found.add(
                    Acknowledgement(
                        path=path.lstrip("/"),
                        finding=finding.removeprefix(ANNOTATION_NAMESPACE),
                        reason=str(reason),
                    )
                )
    return frozenset(found)


def _json(path: Path) -> dict[str, Any]:
    """A manifest, metadata file or template: a JSON object, else :class:`AssemblyError`."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AssemblyError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        found = _JSON_TYPES.get(type(data), type(data).__name__)
        raise AssemblyError(f"cannot read {path}: it is {found}, not a JSON object")
    return data
