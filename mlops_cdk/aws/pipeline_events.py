"""The event of a SageMaker pipeline execution that ended without a new model: its pattern.

Plain Python (no aws_cdk): :meth:`mlops_cdk.constructs.retraining_pipeline.RetrainingPipeline.
notify_failures` builds its rule from :func:`execution_failure_pattern`, and tests match the
documented event with it offline.

SageMaker sends ``source`` ``aws.sagemaker``, ``detail-type`` ``SageMaker Model Building
Pipeline Execution Status Change`` with ``detail.pipelineArn``, ``detail.pipelineExecutionArn``,
``detail.currentPipelineExecutionStatus``, ``detail.previousPipelineExecutionStatus``,
``detail.executionStartTime`` and ``detail.executionEndTime`` (SageMaker developer guide,
"Events that Amazon SageMaker AI sends to Amazon EventBridge", "Pipeline execution state
change",
https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html#eventbridge-pipeline).
An execution ends ``Succeeded``, ``Failed`` or ``Stopped`` (``PipelineExecutionStatus``:
``Executing | Stopping | Stopped | Failed | Succeeded``, API reference DescribePipelineExecution,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribePipelineExecution.html).

The guide's example event shows ``pipeline/myPipeline-123`` while SageMaker pipeline ARNs carry
the lower-cased name (as the retraining function's IAM statements assume): the pattern compares
``pipelineArn`` ignoring case (EventBridge "equals-ignore-case", "Comparison operators for use in
event patterns in Amazon EventBridge",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html), so
it matches either spelling.
"""

from __future__ import annotations

from typing import Any

DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"
# The end states without a registered model: a step failed (or the Fail step ran: the model
# missed its threshold), or someone stopped the execution.
UNSUCCESSFUL_STATUSES = ("Failed", "Stopped")


def execution_failure_pattern(pipeline_arn: str) -> dict[str, Any]:
    """The event pattern (as EventBridge reads it) of executions of ``pipeline_arn`` that
    ended ``Failed`` or ``Stopped``."""
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "pipelineArn": [{"equals-ignore-case": pipeline_arn}],
            "currentPipelineExecutionStatus": list(UNSUCCESSFUL_STATUSES),
        },
    }
