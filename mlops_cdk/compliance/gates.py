"""Compliance gates: the packs every synth runs; an unacknowledged finding fails synthesis."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from mlops_cdk.compliance.sagemaker import SageMakerChecks

PACKS = (AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks)


def enable_compliance_gates(app: cdk.App) -> None:
    """Run every pack on every stack of ``app`` at synth; a finding fails synthesis.

    The project's SageMaker pack applies its production rules to stages whose ``production``
    attribute is true (``MlopsStage`` takes it from the environment's config)."""
    for pack in PACKS:
        cdk.Validations.of(app).add_plugins(pack(app))
    cdk.Validations.of(app).add_plugins(SageMakerChecks(app))
