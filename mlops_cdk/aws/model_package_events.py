"""The approval event of a model package version, and the command that promotes it.

Plain Python (no aws_cdk): :class:`mlops_cdk.constructs.promotion.ApprovalNotification` builds
its rule from :func:`approval_event_pattern`, and the tools and the loop demo match events with
it offline.

SageMaker sends ``source`` ``aws.sagemaker``, ``detail-type`` ``SageMaker Model Package State
Change`` with ``detail.ModelPackageGroupName``, ``detail.ModelPackageVersion`` (a number),
``detail.ModelPackageArn`` and ``detail.ModelApprovalStatus`` (SageMaker developer guide,
"Events that Amazon SageMaker AI sends to Amazon EventBridge", "Model package state change",
https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html#eventbridge-model-package;
status values ``Approved`` | ``Rejected`` | ``PendingManualApproval``, API reference
ModelPackageSummary).
"""

from __future__ import annotations

from typing import Any

DETAIL_TYPE = "SageMaker Model Package State Change"
APPROVED = "Approved"


def approval_event_pattern(group_name: str) -> dict[str, Any]:
    """The event pattern (as EventBridge reads it) of approvals in ``group_name``."""
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [DETAIL_TYPE],
        "detail": {"ModelPackageGroupName": [group_name], "ModelApprovalStatus": [APPROVED]},
    }


def promotion_command(env: str, service: str, version: str) -> str:
    """The command that writes the promotion of ``version`` (``mlops_tools.promote``)."""
    return f"make promote ENV={env} SERVICE={service} VERSION={version}"
