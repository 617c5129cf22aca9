#!/usr/bin/env python3
"""CDK entry point: the only place that reads context or the environment.

    npx cdk synth                 # every environment in config/
    npx cdk synth -c env=dev      # only dev
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

from mlops_cdk.app_builder import build_app
from mlops_cdk.config import ConfigError, load_environments

CONFIG_DIR = Path(__file__).resolve().parent / "config"


def main() -> int:
    # Context is read once, from a throwaway App: `-c env=dev` or none for every environment.
    env_name = cdk.App().node.try_get_context("env")
    try:
        configs = load_environments(CONFIG_DIR, only=env_name or None)
    except ConfigError as exc:
        print(f"configuration error: {exc}".replace("\n", "\nconfiguration error: "), file=sys.stderr)
        return 2
    app, _ = build_app(configs)
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


if __name__ == "__main__":
    sys.exit(main())
