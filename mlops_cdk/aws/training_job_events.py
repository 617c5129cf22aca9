"""The event of a SageMaker training job that ended without a model: its pattern.

Plain Python (no aws_cdk): :meth:`mlops_cdk.constructs.retraining.RetrainingFunction.
notify_failures` builds its rule from :func:`training_job_failure_pattern`, and tests match an
event of the documented shape with it offline.

SageMaker sends ``source`` ``aws.sagemaker``, ``detail-type`` ``SageMaker Training Job State
Change`` to the default event bus ("Amazon SageMaker AI events", EventBridge events reference,
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-sagemaker.html; SageMaker developer
guide, "Events that Amazon SageMaker AI sends to Amazon EventBridge"), its ``detail`` shaped as
DescribeTrainingJob's answer: ``TrainingJobName``, ``TrainingJobArn``, ``TrainingJobStatus``,
``SecondaryStatus`` (aws-cdk-lib's generated ``SageMakerTrainingJobStateChange`` pattern names
the same fields). A job ends ``Completed``, ``Failed`` or ``Stopped`` (``TrainingJobStatus``:
``InProgress | Completed | Failed | Stopping | Stopped``, API reference DescribeTrainingJob);
``Stopped`` includes a job that ran past ``MaxRuntimeInSeconds`` (secondary status
``MaxRuntimeExceeded``). "SageMaker AI may send multiple events to EventBridge for each state
change": a failure may be announced twice.
"""

from __future__ import annotations

from typing import Any

DETAIL_TYPE = "SageMaker Training Job State Change"
UNSUCCESSFUL_STATUSES = ("Failed", "Stopped")


def training_job_failure_pattern(job_prefix: str) -> dict[str, Any]:
    """The event pattern (as EventBridge reads it) of training jobs named ``<job_prefix>-...``
    that ended ``Failed`` or ``Stopped``."""
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "TrainingJobName": [{"prefix": f"{job_prefix}-"}],
            "TrainingJobStatus": list(UNSUCCESSFUL_STATUSES),
        },
    }
