"""PipelineSpotCheckpointed: a pipeline's training step uses managed spot training without a
wait of at least its run time, or without checkpoints.

StoppingCondition (SageMaker API reference,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html):
``MaxWaitTimeInSeconds`` is the time to wait for spot capacity plus the run time and "must be
equal to or greater than MaxRuntimeInSeconds" (which defaults to one day). An interrupted spot
job resumes from ``CheckpointConfig.S3Uri`` instead of starting over ("Managed Spot Training in
Amazon SageMaker AI"). Values given by a pipeline parameter (``{"Get": ...}``) cannot be
checked and are non-compliant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_cdk.compliance.sagemaker.index import Resource, StackIndex
from mlops_cdk.compliance.sagemaker.pipelines import (
    PIPELINE_TYPE,
    UnreadableDefinition,
    arguments_of,
    definition_of,
    steps,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

DEFAULT_MAX_RUNTIME_SECONDS = 86_400


def _seconds(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _checkpointed(args: Mapping[str, Any]) -> bool:
    stopping = args.get("StoppingCondition")
    stopping = stopping if isinstance(stopping, Mapping) else {}
    runtime = _seconds(stopping.get("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME_SECONDS))
    wait = _seconds(stopping.get("MaxWaitTimeInSeconds"))
    checkpoint = args.get("CheckpointConfig")
    has_checkpoint = isinstance(checkpoint, Mapping) and bool(checkpoint.get("S3Uri"))
    return runtime is not None and wait is not None and wait >= runtime and has_checkpoint


def pipeline_spot_checkpointed(pipeline: Resource, index: StackIndex) -> Compliance:
    try:
        definition, _ = definition_of(pipeline)
    except UnreadableDefinition:
        return NOT_APPLICABLE  # PipelineJobsProtected reports an unreadable definition
    # A parameter ({"Get": ...}) may turn spot on: checked like true.
    spot = [
        arguments_of(step)
        for step in steps(definition)
        if step.get("Type") == "Training"
        and arguments_of(step).get("EnableManagedSpotTraining", False) is not False
    ]
    if not spot:
        return NOT_APPLICABLE
    return COMPLIANT if all(_checkpointed(args) for args in spot) else NON_COMPLIANT


RULE = Rule(
    "PipelineSpotCheckpointed",
    "A SageMaker pipeline's training step uses managed spot training with MaxWaitTimeInSeconds "
    "missing or below MaxRuntimeInSeconds, or without CheckpointConfig.S3Uri.",
    "SageMaker refuses a spot training job whose MaxWaitTimeInSeconds (wait for capacity plus "
    "run time) is below MaxRuntimeInSeconds (default one day), and an interrupted job without "
    "checkpoints starts over: set both, as literal numbers, and a checkpoint location "
    "(TrainingSpec.spot in mlops_cdk.props.retraining_pipeline does).",
    pipeline_spot_checkpointed,
    frozenset({PIPELINE_TYPE}),
)
