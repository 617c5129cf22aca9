"""Session fixtures: each environment is synthesized once per test session."""

from __future__ import annotations

import pytest

from mlops_cdk.app_builder import build_app
from mlops_cdk.config import EnvConfig, load_environments
from tests.helpers import CONFIG_DIR, Synthesized, cdk_context


@pytest.fixture(scope="session")
def env_configs() -> dict[str, EnvConfig]:
    return {config.name: config for config in load_environments(CONFIG_DIR)}


@pytest.fixture(scope="session")
def synthesized(
    tmp_path_factory: pytest.TempPathFactory, env_configs: dict[str, EnvConfig]
) -> Synthesized:
    """Every environment, all compliance packs enforced (a finding fails this fixture)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stages = build_app(list(env_configs.values()), outdir=str(outdir), context=cdk_context())
    app.synth()
    return Synthesized(outdir=outdir, stages=stages)
