"""AsyncOutputEncrypted: an asynchronous endpoint config's results, failures or notifications
are not encrypted with a KMS key, or its results leave the environment's buckets.

"AsyncInferenceOutputConfig" (SageMaker API reference,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AsyncInferenceOutputConfig.html):
``KmsKeyId`` encrypts the output in S3; ``S3OutputPath`` / ``S3FailurePath`` are where results
and failures go. A path is inside the environment when it names a bucket of this app (a ``Ref``
to a bucket of the stack, or an imported export such as the Foundation bucket's name), not a
literal bucket name. A notification topic must be a topic of the stack with ``KmsMasterKeyId``.
"""

from __future__ import annotations

from typing import Any

from mlops_cdk.aws.cfn_values import as_list, referenced_logical_id
from mlops_cdk.compliance.sagemaker.index import (
    ENDPOINT_CONFIG_TYPE,
    TOPIC_TYPE,
    Resource,
    StackIndex,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

BUCKET_TYPE = "AWS::S3::Bucket"


def _names_app_bucket(path: Any, index: StackIndex) -> bool:
    """``Fn::Join`` of ``s3://`` and a bucket of this app (imported or of this stack)."""
    if not isinstance(path, dict) or "Fn::Join" not in path:
        return False
    parts = as_list(path["Fn::Join"][1]) if len(path["Fn::Join"]) == 2 else []
    for part in parts:
        if isinstance(part, dict) and "Fn::ImportValue" in part:
            return True
        logical_id = referenced_logical_id(part)
        if logical_id is not None and index.type_of(logical_id) == BUCKET_TYPE:
            return True
    return False


def _encrypted_topic(arn: Any, index: StackIndex) -> bool:
    logical_id = referenced_logical_id(arn)
    topic = index.by_logical_id(logical_id) if logical_id else None
    return (
        topic is not None
        and topic.type == TOPIC_TYPE
        and bool(topic.properties.get("KmsMasterKeyId"))
    )


def async_output_encrypted(config: Resource, index: StackIndex) -> Compliance:
    settings = config.properties.get("AsyncInferenceConfig")
    if not settings:
        return NOT_APPLICABLE
    output = settings.get("OutputConfig") or {}
    if not output.get("KmsKeyId"):
        return NON_COMPLIANT
    for name in ("S3OutputPath", "S3FailurePath"):
        if not _names_app_bucket(output.get(name), index):
            return NON_COMPLIANT
    notification = output.get("NotificationConfig") or {}
    for name in ("SuccessTopic", "ErrorTopic"):
        topic = notification.get(name)
        if topic is not None and not _encrypted_topic(topic, index):
            return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "AsyncOutputEncrypted",
    "Asynchronous inference results, failures or notifications are not KMS-encrypted inside "
    "the environment.",
    "Results and failures of an asynchronous endpoint hold the model's answers and the "
    "callers' data: give AsyncInferenceConfig.OutputConfig a KmsKeyId, write S3OutputPath and "
    "S3FailurePath under a bucket of this app (the environment bucket), and send notifications "
    "only to KMS-encrypted topics of the stack.",
    async_output_encrypted,
    frozenset({ENDPOINT_CONFIG_TYPE}),
)
