"""Acknowledgement audit: every acknowledgement in every environment is listed and checked.

Fails when an acknowledgement has no reason of substance, sits at app or stage scope,
acknowledges a finding that no longer fires (stale), or bypasses ``compliance.acknowledge``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import pytest

from mlops_cdk.compliance import MIN_REASON_LENGTH
from mlops_cdk.config import EnvConfig
from tests.conftest import SecondSynth
from tests.helpers import Synthesized

# Tests that share the session synth of every environment run on one xdist worker.
pytestmark = pytest.mark.xdist_group("environments")

# aws-cdk-lib acknowledges findings of its own built-in template validator; listed, not ours.
CDK_BUILT_IN_PREFIX = "CloudFormation-Validate::"
PLACEHOLDER_REASONS = ("n/a", "not needed", "false positive", "todo", "tbd", "ignore", "ok")


@dataclass(frozen=True)
class Acknowledgement:
    path: str
    finding_id: str
    reason: str
    construct: cdk.IConstruct


def acknowledgements(root: cdk.IConstruct) -> list[Acknowledgement]:
    found = []
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for finding_id, reason in dict(entry.data).items():
                    found.append(
                        Acknowledgement(construct.node.path, finding_id, reason, construct)
                    )
    return found


@pytest.fixture(scope="module")
def applied(synthesized: Synthesized) -> list[Acknowledgement]:
    root = next(iter(synthesized.stages.values())).node.root
    return acknowledgements(root)


@pytest.fixture(scope="module")
def ours(applied: list[Acknowledgement]) -> list[Acknowledgement]:
    return [a for a in applied if not a.finding_id.startswith(CDK_BUILT_IN_PREFIX)]


def test_the_audit_lists_acknowledgements_in_every_environment(
    ours: list[Acknowledgement], env_configs: dict[str, EnvConfig]
) -> None:
    listing = sorted(f"{a.path}: {a.finding_id}" for a in ours)
    for env in env_configs:
        assert any(line.startswith(f"{env}/") for line in listing), env
    assert len(listing) == len(set(listing)), "an acknowledgement is made twice"


def test_reasons_have_substance(ours: list[Acknowledgement]) -> None:
    for ack in ours:
        reason = ack.reason.strip()
        assert len(reason) >= MIN_REASON_LENGTH, ack
        assert reason.lower().rstrip(".") not in PLACEHOLDER_REASONS, ack


def test_no_acknowledgement_at_app_stage_or_stack_scope(applied: list[Acknowledgement]) -> None:
    for ack in applied:
        assert not isinstance(ack.construct, cdk.Stage), ack  # App is a Stage too
        if not ack.finding_id.startswith(CDK_BUILT_IN_PREFIX):
            assert not isinstance(ack.construct, cdk.Stack), ack


def test_one_finding_per_acknowledgement(ours: list[Acknowledgement]) -> None:
    for ack in ours:
        assert "," not in ack.finding_id
        assert "*" not in ack.finding_id.split("[")[0], ack  # no rule wildcards


def test_no_acknowledgement_is_stale(second_synth: SecondSynth) -> None:
    records, fired = second_synth.records, second_synth.fired
    assert records
    # The second synth runs without aws-cdk-lib's built-in validator (tests/conftest.py), so
    # none of its findings fire there: an acknowledgement of one would need it back.
    assert not [r for r in records if r.finding_id.startswith(CDK_BUILT_IN_PREFIX)]
    stale = [
        r
        for r in records
        if not any(
            rule == r.finding_id.split("::", 1)[1]
            and (path == r.path or path.startswith(f"{r.path}/"))
            for path, rule in fired
        )
    ]
    assert stale == [], "acknowledged findings that no longer fire:\n" + "\n".join(
        f"  {r.path}: {r.finding_id}" for r in stale
    )


def test_every_acknowledgement_goes_through_the_helper(
    ours: list[Acknowledgement], second_synth: SecondSynth
) -> None:
    records = second_synth.records
    assert sorted((a.path, a.finding_id) for a in ours) == sorted(
        (r.path, r.finding_id) for r in records
    )
