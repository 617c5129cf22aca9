"""The project's own pack for SageMaker hosting (the public packs only check the endpoint-config
KMS key). Runs on every synth beside cdk-nag's AwsSolutions, HIPAA and NIST 800-53 r5; its
findings (``MlopsSageMaker-<Rule>``) are acknowledged like any other pack's.

- :mod:`.pack`: the validation plugin (:class:`SageMakerChecks`), reading the synthesized
  templates.
- :mod:`.rules`: one module per rule (the list and what each checks is in its docstring).
- :mod:`.rule`: what a rule is; :mod:`.index`: a stack's resources and lookups across a stage;
  :mod:`.endpoints`, :mod:`.alarms`: lookups several rules share.
- :mod:`.metrics`: the AWS facts rules check against (metric names, namespaces, step limits).
"""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.pack import PACK_NAME, Finding, SageMakerChecks
from mlops_cdk.compliance.sagemaker.rule import Compliance, Rule
from mlops_cdk.compliance.sagemaker.rules import RULES

__all__ = ["PACK_NAME", "RULES", "Compliance", "Finding", "Rule", "SageMakerChecks"]
