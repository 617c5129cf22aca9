"""PipelinePassesJobRolesOnly: the pipeline's role may pass only the roles its steps run as."""

from __future__ import annotations

from tests.unit.compliance.sagemaker.pack_helpers import findings, rules_for, stack
from tests.unit.compliance.sagemaker.rules.pipeline_helpers import job_role, pipeline

RULE = "PipelinePassesJobRolesOnly"


def test_passing_the_job_role_only_is_compliant() -> None:
    s = stack()
    pipeline(s)
    assert RULE not in rules_for(s, "S/Pipeline")


def test_passing_any_role_fails() -> None:
    s = stack()
    pipeline(s, pass_resources=["*"])
    assert RULE in rules_for(s, "S/Pipeline")


def test_passing_another_role_fails() -> None:
    s = stack()
    other = job_role(s, "Other")
    pipeline(s, pass_resources=[other.role_arn])
    assert RULE in rules_for(s, "S/Pipeline")


def test_the_retraining_pipeline_construct_passes_every_pipeline_rule() -> None:
    from tests.unit.constructs.test_retraining_pipeline import build, spec

    s, _ = build(spec(spot=True))
    found = {rule for rule, _ in findings(s)}
    assert not found & {RULE, "PipelineJobsProtected", "PipelineSpotCheckpointed"}
