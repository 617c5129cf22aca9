"""Build the CDK app from validated configuration (shared by app.py, tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk

from mlops_cdk.app.scanner_skips import add_scanner_skips
from mlops_cdk.app.stage import MlopsStage
from mlops_cdk.aws.names import PIPELINE_STACK_ID
from mlops_cdk.compliance import enable_compliance_gates
from mlops_cdk.config import EnvConfig, PipelineConfig

if TYPE_CHECKING:
    from mlops_cdk.app.pipeline import PipelineStack


def create_app(
    *,
    outdir: str | None = None,
    context: dict[str, Any] | None = None,
    compliance_gates: bool = True,
    fail_on_findings: bool = True,
) -> cdk.App:
    """An App whose compliance findings fail synthesis, also under the CDK CLI.

    The CLI passes ``failSynthOnValidationErrors=false`` in the app's context and then does not
    fail on findings in stage assemblies, so a finding would only be written to
    validation-report.json while ``cdk synth`` reports success. ``post_cli_context`` wins over
    the CLI's context. ``fail_on_findings=False`` only writes the report (for audits).
    """
    app = cdk.App(
        outdir=outdir,
        context=context,
        post_cli_context={
            "@aws-cdk/core:failSynthOnValidationErrors": compliance_gates and fail_on_findings
        },
    )
    if compliance_gates:
        enable_compliance_gates(app)
    # Other IaC scanners read their skips from template metadata (scanner_skips.py).
    add_scanner_skips(app)
    return app


def add_environments(
    app: cdk.App, configs: Sequence[EnvConfig], *, pipeline_account: str | None = None
) -> dict[str, MlopsStage]:
    """One stage per environment, named after it (``dev/Foundation`` -> ``dev-Foundation``).

    ``pipeline_account`` is the pipeline's tooling account: passing it here as well keeps a
    manual deploy's templates identical to the pipeline's."""
    return {
        config.name: MlopsStage(app, config.name, config=config, pipeline_account=pipeline_account)
        for config in configs
    }


def add_pipeline(
    app: cdk.App, pipeline: PipelineConfig, environments: Sequence[EnvConfig]
) -> PipelineStack:
    """The deployment pipeline stack (``-c pipeline=true``), with its stages inside it.

    Imported here: aws_cdk.pipelines and the CodePipeline/CodeBuild modules it pulls in cost
    about 0.3 s of Python imports that an environments-only synth does not need."""
    from mlops_cdk.app.pipeline import PipelineStack  # noqa: PLC0415

    return PipelineStack(app, PIPELINE_STACK_ID, config=pipeline, environments=environments)


def build_app(
    configs: Sequence[EnvConfig],
    *,
    outdir: str | None = None,
    context: dict[str, Any] | None = None,
    compliance_gates: bool = True,
    fail_on_findings: bool = True,
    pipeline_account: str | None = None,
) -> tuple[cdk.App, dict[str, MlopsStage]]:
    """``create_app`` plus ``add_environments``."""
    app = create_app(
        outdir=outdir,
        context=context,
        compliance_gates=compliance_gates,
        fail_on_findings=fail_on_findings,
    )
    return app, add_environments(app, configs, pipeline_account=pipeline_account)
