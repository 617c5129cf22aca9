"""Reading an ``AWS::SageMaker::Pipeline`` definition from a template, for the pack's pipeline
rules: ``PipelineDefinition.PipelineDefinitionBody`` as a literal or an ``Fn::Join`` (each
reference becomes a placeholder ``\\0ref<i>\\0``), its steps (those under a ``Condition``
step's ``IfSteps`` / ``ElseSteps`` included; SageMaker pipeline definition JSON schema,
https://aws-sagemaker-mlops.github.io/sagemaker-model-building-pipeline-definition-JSON-schema/).
A definition in S3 (``PipelineDefinitionS3Location``) or not JSON is unreadable."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mlops_cdk.compliance.sagemaker.definitions import (
    UnreadableDefinition,
    parse_definition,
    reference,
)
from mlops_cdk.compliance.sagemaker.index import Resource

__all__ = [
    "PIPELINE_TYPE",
    "UnreadableDefinition",
    "definition_of",
    "reference",
    "steps",
]

PIPELINE_TYPE = "AWS::SageMaker::Pipeline"


def definition_of(pipeline: Resource) -> tuple[dict[str, Any], list[Any]]:
    """The pipeline's definition and the references its placeholders stand for."""
    holder = pipeline.properties.get("PipelineDefinition")
    body = holder.get("PipelineDefinitionBody") if isinstance(holder, Mapping) else None
    return parse_definition(body, "PipelineDefinitionBody")


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
