"""Session fixtures: each environment is synthesized once per test session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest

from mlops_cdk.app.builder import build_app
from mlops_cdk.compliance import AcknowledgementRecord, record_acknowledgements_only
from mlops_cdk.config import EnvConfig, load_environments
from tests.helpers import CONFIG_DIR, Synthesized, cdk_context


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_loader() -> Iterator[None]:
    """One botocore data loader per test process instead of one per boto3 Session.

    The tools and handlers under test create a Session per run (role assumption, fresh
    clients), and each new Session re-parses the service models it touches (SageMaker's
    alone is several MB of JSON): about 0.25 s per client, most of the moto tests' time.
    The loader only reads botocore's packaged data, so sharing it changes no behaviour."""
    shared = cache(botocore.loaders.create_loader)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared)
        yield


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


@dataclass(frozen=True)
class SecondSynth:
    """The same commit synthesized again, with acknowledgements recorded but not applied.

    Acknowledgements are construct metadata, never template content, so its templates must be
    byte-identical to the first synth's (determinism), and its validation report shows which
    acknowledged findings still fire (the acknowledgement audit)."""

    outdir: Path
    records: list[AcknowledgementRecord]
    fired: set[tuple[str, str]]


@pytest.fixture(scope="session")
def second_synth(
    env_configs: dict[str, EnvConfig], tmp_path_factory: pytest.TempPathFactory
) -> SecondSynth:
    outdir = tmp_path_factory.mktemp("second-synth")
    with record_acknowledgements_only() as records:
        app, _ = build_app(
            list(env_configs.values()),
            outdir=str(outdir),
            context=cdk_context(),
            fail_on_findings=False,
        )
        app.synth()
    report = json.loads((outdir / "validation-report.json").read_text())
    fired = {
        (construct["constructPath"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    return SecondSynth(outdir=outdir, records=list(records), fired=fired)


# Tests that synthesize whole environments (the session fixtures above, or an app of their
# own), run the CLI/app in a subprocess, or clone the repository: `make test-fast` skips them.
SLOW_FIXTURES = frozenset({"synthesized", "second_synth"})
SLOW_MODULES = frozenset(
    {
        "test_app_entrypoint.py",
        "test_documented_shapes.py",
        "test_gates.py",
        "test_pipeline.py",
        "test_review_script.py",
        "test_acknowledgement_audit.py",
        "test_existing_vpc.py",
        "test_service_scale.py",
        "test_blast_radius.py",
        "test_change_safety.py",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SLOW_FIXTURES or item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
