"""Compliance: the gates every synth runs, reasoned acknowledgements, and the project's own
SageMaker pack.

- :mod:`~mlops_cdk.compliance.gates`: cdk-nag's AwsSolutions, HIPAA and NIST 800-53 r5 packs
  plus :mod:`~mlops_cdk.compliance.sagemaker` on every stack; an unacknowledged finding fails
  synthesis (``ValidationFailed``).
- :mod:`~mlops_cdk.aws.acknowledgements`: ``acknowledge`` one finding id on one
  construct with a concrete reason (and helpers for wildcard resources and several packs' ids).
- :mod:`~mlops_cdk.compliance.cdk_pipelines`: the acknowledgements of what CDK Pipelines
  generates inside the pipeline stack.
- :mod:`~mlops_cdk.compliance.sagemaker`: the SageMaker hosting pack, one module per rule in
  :mod:`~mlops_cdk.compliance.sagemaker.rules`.
"""

from __future__ import annotations

from mlops_cdk.aws.acknowledgements import (
    MIN_REASON_LENGTH,
    AcknowledgementRecord,
    acknowledge,
    acknowledge_all,
    acknowledge_wildcard_resource,
    nag_resource_string,
    qualified_finding_id,
    record_acknowledgements_only,
)
from mlops_cdk.compliance.gates import PACKS, enable_compliance_gates

__all__ = [
    "MIN_REASON_LENGTH",
    "PACKS",
    "AcknowledgementRecord",
    "acknowledge",
    "acknowledge_all",
    "acknowledge_wildcard_resource",
    "enable_compliance_gates",
    "nag_resource_string",
    "qualified_finding_id",
    "record_acknowledgements_only",
]
