"""Build the CDK app from validated configuration (shared by app.py, tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk

from mlops_cdk.compliance import enable_compliance_gates
from mlops_cdk.config import EnvConfig
from mlops_cdk.stage import MlopsStage


def build_app(
    configs: Sequence[EnvConfig],
    *,
    outdir: str | None = None,
    context: dict[str, Any] | None = None,
    compliance_gates: bool = True,
) -> tuple[cdk.App, dict[str, MlopsStage]]:
    """One stage per environment config; compliance packs enforced unless told otherwise."""
    # The CDK CLI sets failSynthOnValidationErrors=false in the context it passes to the app and
    # then does not fail on findings in stage assemblies: without this override a finding would
    # only be written to validation-report.json while `cdk synth` reports success.
    app = cdk.App(
        outdir=outdir,
        context=context,
        post_cli_context={"@aws-cdk/core:failSynthOnValidationErrors": compliance_gates},
    )
    stages = {config.name: MlopsStage(app, config.name, config=config) for config in configs}
    if compliance_gates:
        enable_compliance_gates(app)
    return app, stages
