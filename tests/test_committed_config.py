"""The committed config/ files, whatever environments a user keeps there, are valid and
synthesizable offline (the suite synthesizes fixtures in tests/fixtures/; `make synth`, run by
`make lint` in CI, synthesizes config/ itself with every gate)."""

from __future__ import annotations

from mlops_cdk.config import load_environments, load_pipeline
from mlops_cdk.config.context import context_problems
from tests.helpers import COMMITTED_CONFIG_DIR, CONFIG_DIR, cdk_context


def test_committed_environments_and_pipeline_validate() -> None:
    environments = load_environments(COMMITTED_CONFIG_DIR)
    assert environments, "config/ has no environment"
    for env in environments:
        for service in env.services:
            assert env.endpoint_name(service) == f"{env.name}-{service}"
    load_pipeline(COMMITTED_CONFIG_DIR, environments)


def test_cdk_context_answers_every_committed_environments_lookups() -> None:
    """A new environment (README, "Add an environment") needs its zones in cdk.context.json."""
    environments = load_environments(COMMITTED_CONFIG_DIR)
    assert context_problems(environments, cdk_context().get, lambda name: name) == []


def test_fixture_stage_and_prod_host_two_services_and_exercise_every_path() -> None:
    by_name = {env.name: env for env in load_environments(CONFIG_DIR)}
    for name in ("stage", "prod"):
        services = by_name[name].services
        assert len(services) >= 2, name
        assert any(len(s.variants) >= 2 for s in services.values())  # champion/challenger
        assert any(len(s.variants) == 1 for s in services.values())
