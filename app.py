#!/usr/bin/env python3
"""CDK entry point: the only place that reads context or the environment.

npx cdk synth                 # every environment in config/
npx cdk synth -c env=dev      # only dev
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mlops_cdk.app_builder import add_environments, create_app
from mlops_cdk.config import ConfigError, load_environments

# MLOPS_CONFIG_DIR points at another folder of <env>.yaml files (tests, forks).
CONFIG_DIR = Path(os.environ.get("MLOPS_CONFIG_DIR") or Path(__file__).resolve().parent / "config")


def main() -> int:
    app = create_app()
    env_name = app.node.try_get_context("env")  # `-c env=dev`; none means every environment
    try:
        configs = load_environments(CONFIG_DIR, only=env_name or None)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return 2
    add_environments(app, configs)
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
