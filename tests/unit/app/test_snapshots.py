"""Per-environment template snapshots: a template change shows up as a reviewable diff.

Update deliberately with `pytest --snapshot-update` and commit the .json files.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.helpers import ENVIRONMENTS, SERVICES, Synthesized, normalize_asset_hashes

# Tests that share the session synth of every environment run on one xdist worker.
pytestmark = pytest.mark.xdist_group("environments")


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


STACKS = [
    *((env, "foundation") for env in ENVIRONMENTS),
    *((env, f"{service}-registry") for env, service in SERVICES),
    *SERVICES,
]


@pytest.mark.parametrize(("env", "stack"), STACKS)
def test_template_snapshot(
    synthesized: Synthesized, snapshot_json: SnapshotAssertion, env: str, stack: str
) -> None:
    template = normalize_asset_hashes(synthesized.template_json(env, stack))
    assert template == snapshot_json
