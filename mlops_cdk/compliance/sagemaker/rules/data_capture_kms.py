"""DataCaptureKms: data capture is enabled without a KMS key."""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.index import ENDPOINT_CONFIG_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def data_capture_kms(config: Resource, index: StackIndex) -> Compliance:
    del index
    capture = config.properties.get("DataCaptureConfig")
    if not capture or capture.get("EnableCapture") is False:
        return NOT_APPLICABLE
    return COMPLIANT if capture.get("KmsKeyId") else NON_COMPLIANT


RULE = Rule(
    "DataCaptureKms",
    "Data capture is not encrypted with a KMS key.",
    "Captured requests and responses may contain personal data.",
    data_capture_kms,
    frozenset({ENDPOINT_CONFIG_TYPE}),
)
