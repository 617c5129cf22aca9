"""Reading an ``AWS::SageMaker::Pipeline`` definition from a template, for the pack's pipeline
rules: ``PipelineDefinition.PipelineDefinitionBody`` as a literal or an ``Fn::Join`` (each
reference becomes a placeholder ``\\0ref<i>\\0``), its steps (those under a ``Condition``
step's ``IfSteps`` / ``ElseSteps`` included; SageMaker pipeline definition JSON schema,
https://aws-sagemaker-mlops.github.io/sagemaker-model-building-pipeline-definition-JSON-schema/).
A definition in S3 (``PipelineDefinitionS3Location``) or not JSON is unreadable."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_cdk.compliance.sagemaker.index import Resource

PIPELINE_TYPE = "AWS::SageMaker::Pipeline"
_MARK = "\u0000ref{}\u0000"


class UnreadableDefinition(ValueError):  # noqa: N818 - "the definition is unreadable"
    """The pipeline's definition is not in the template as JSON."""


def definition_of(pipeline: Resource) -> tuple[dict[str, Any], list[Any]]:
    """The pipeline's definition and the references its placeholders stand for."""
    holder = pipeline.properties.get("PipelineDefinition")
    body = holder.get("PipelineDefinitionBody") if isinstance(holder, Mapping) else None
    refs: list[Any] = []
    if isinstance(body, Mapping) and "Fn::Join" in body:
        separator, parts = body["Fn::Join"]
        pieces = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
            else:
                pieces.append(_MARK.format(len(refs)))
                refs.append(part)
        body = separator.join(pieces)
    if not isinstance(body, str):
        raise UnreadableDefinition("PipelineDefinitionBody is neither a string nor an Fn::Join")
    try:
        parsed = json.loads(body.replace("\u0000", "\\u0000"))
    except json.JSONDecodeError as exc:
        raise UnreadableDefinition(str(exc)) from exc
    if not isinstance(parsed, dict):
        raise UnreadableDefinition("the definition is not an object")
    return parsed, refs


def steps(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every step, those a Condition step runs included."""
    pending = list(definition.get("Steps") or [])
    while pending:
        step = pending.pop(0)
        if not isinstance(step, Mapping):
            continue
        yield step
        arguments = step.get("Arguments")
        if step.get("Type") == "Condition" and isinstance(arguments, Mapping):
            pending += list(arguments.get("IfSteps") or []) + list(arguments.get("ElseSteps") or [])


def arguments_of(step: Mapping[str, Any]) -> Mapping[str, Any]:
    arguments = step.get("Arguments")
    return arguments if isinstance(arguments, Mapping) else {}


def reference(value: Any, refs: list[Any]) -> Any:
    """The template value a placeholder stands for (or the value itself)."""
    if isinstance(value, str) and value.startswith("\u0000ref") and value.endswith("\u0000"):
        index = value[4:-1]
        if index.isdigit() and int(index) < len(refs):
            return refs[int(index)]
    return value
