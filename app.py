#!/usr/bin/env python3
"""CDK entry point: the only place that reads context or the environment.

npx cdk synth                       # every environment in config/
npx cdk synth -c env=dev            # only dev
npx cdk synth -c pipeline=true      # the deployment pipeline stack (config/pipeline.yaml)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mlops_cdk.config import ConfigError
from mlops_cdk.config.context import context_problems
from mlops_cdk.config.loader import environment_file, load_config_dir, unknown_environment

# MLOPS_CONFIG_DIR points at another folder of <env>.yaml files (tests, forks).
CONFIG_DIR = Path(os.environ.get("MLOPS_CONFIG_DIR") or Path(__file__).resolve().parent / "config")


def main() -> int:
    if "CDK_OUTDIR" not in os.environ:
        # Run directly, the app would miss cdk.json's feature flags and cdk.context.json's
        # lookups that the CLI passes (and write to a temporary folder): refuse clearly.
        print(
            "run the app through the CDK CLI: `make synth` or `npx cdk synth` "
            "(python app.py alone would synthesize without cdk.json's feature flags)",
            file=sys.stderr,
        )
        return 2
    # The files first: a configuration error is reported before the CDK (Node, jsii) starts.
    try:
        all_configs, pipeline = load_config_dir(CONFIG_DIR)
    except ConfigError as exc:
        return _report(exc)
    from mlops_cdk.app.builder import (  # noqa: PLC0415 - starts jsii: only once the files are valid
        add_environments,
        add_pipeline,
        create_app,
    )

    app = create_app()
    env_name = app.node.try_get_context("env")  # `-c env=dev`; none means every environment
    pipeline_mode = str(app.node.try_get_context("pipeline") or "").lower() in ("true", "1")
    try:
        if pipeline_mode and env_name:
            raise ConfigError(["-c pipeline=true builds every stage: drop -c env"])
        if pipeline_mode and pipeline is None:
            raise ConfigError([f"-c pipeline=true needs {CONFIG_DIR.name}/pipeline.yaml"])
        known = [c.name for c in all_configs]
        if env_name and (unknown := unknown_environment(str(env_name), known)):
            raise ConfigError([unknown])
        configs = [c for c in all_configs if c.name == env_name] if env_name else all_configs
        lookups = context_problems(
            all_configs if pipeline_mode else configs,
            app.node.try_get_context,
            lambda name: environment_file(CONFIG_DIR, name),
        )
        if lookups:
            raise ConfigError(lookups)
    except ConfigError as exc:
        return _report(exc)
    if pipeline_mode and pipeline is not None:
        add_pipeline(app, pipeline, all_configs)
    else:
        add_environments(app, configs, pipeline_account=pipeline.account if pipeline else None)
    try:
        app.synth()
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
        print(
            "compliance gates failed: unacknowledged findings are listed above and in "
            f"{app.outdir}/validation-report.json",
            file=sys.stderr,
        )
        return 3
    return 0


def _report(exc: ConfigError) -> int:
    for problem in exc.problems:
        print(f"configuration error: {problem}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
