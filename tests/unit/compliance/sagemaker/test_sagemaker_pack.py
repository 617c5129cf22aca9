"""The SageMaker pack as every synth runs it: registered by the gates, reading the synthesized
templates, findings failing synth unless acknowledged; one module (and one test module) per
rule."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sagemaker as sm

from mlops_cdk.compliance import acknowledge
from mlops_cdk.compliance.sagemaker import (
    PACK_NAME,
    RULES,
    Compliance,
    Rule,
    SageMakerChecks,
    rules,
)
from mlops_cdk.compliance.sagemaker.index import MODEL_TYPE, Resource, StackIndex
from tests.helpers import TEST_ENV, cdk_context
from tests.unit.compliance.sagemaker.pack_helpers import (
    ROLE,
    alarm,
    app,
    blue_green,
    endpoint,
    findings,
    model,
    sibling,
    stack,
    stage_stack,
    variant_dimensions,
)

RULE_TESTS = Path(__file__).parent / "rules"


def test_the_pack_runs_on_every_synth_and_fails_it() -> None:
    """Registered by the project's gates: an isolated-less model fails a gated synth."""
    from mlops_cdk.app.builder import create_app

    gated = create_app(context=cdk_context())
    s = cdk.Stack(gated, "Gated", env=TEST_ENV)
    model(s, vpc=True, isolation=False)
    with pytest.raises(RuntimeError, match="MlopsSageMaker-ModelNetworkIsolation"):
        gated.synth()


def test_new_rules_fail_a_gated_synth() -> None:
    from mlops_cdk.app.builder import create_app

    gated = create_app(context=cdk_context())
    s = cdk.Stack(gated, "Gated", env=TEST_ENV)
    endpoint(s, deployment=blue_green("ALL_AT_ONCE", wait=0, rollback_alarms=("errors",)))
    with pytest.raises(RuntimeError, match="MlopsSageMaker-RollbackBakingPeriod"):
        gated.synth()


def test_an_acknowledged_finding_passes_and_is_reported_as_acknowledged(tmp_path: Path) -> None:
    from mlops_cdk.app.builder import create_app

    gated = create_app(outdir=str(tmp_path), context=cdk_context())
    s = cdk.Stack(gated, "Gated", env=TEST_ENV)
    model(s, vpc=True, isolation=False)
    acknowledge(
        s.node.find_child("Model"),
        "MlopsSageMaker-ModelNetworkIsolation",
        "A test model whose container must reach a license server; egress is restricted.",
    )
    gated.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == PACK_NAME]
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []
    (suppressed,) = plugin["suppressedViolations"]
    assert suppressed["ruleName"] == "MlopsSageMaker-ModelNetworkIsolation"
    assert suppressed["acknowledgedAt"] == "Gated/Model"
    assert [c["constructPath"] for c in suppressed["violatingConstructs"]] == ["Gated/Model"]


def test_stage_index_is_built_lazily_once_per_stage() -> None:
    root = app()
    quiet = stage_stack(root, "dev")
    sm.CfnModel(quiet, "Model", execution_role_arn=ROLE)
    serving = stage_stack(root, "prod")
    endpoint(serving)
    monitoring = sibling(serving, "Monitoring")
    for i in range(3):
        alarm(
            monitoring,
            f"A{i}",
            namespace="AWS/SageMaker",
            metric="Invocations",
            dimensions=variant_dimensions(),
        )
    pack = SageMakerChecks()
    found = findings(root, pack=pack)
    assert not [rule for rule, _ in found if rule == "AlarmMetricPublished"]
    assert list(pack._stages) == ["prod"]  # dev has no alarm: its stage was never walked


def test_a_rule_that_raises_is_a_finding_of_that_rule() -> None:
    """As in cdk-nag: the resource is reported (and can be acknowledged), synth goes on."""

    def broken(resource: Resource, index: StackIndex) -> Compliance:
        raise KeyError(resource.logical_id)

    s = stack()
    model(s, vpc=True, isolation=True)
    rule = Rule("Broken", "info", "explanation", broken, frozenset({MODEL_TYPE}))
    pack = SageMakerChecks(rules=[rule])
    assert findings(s, pack=pack) == {("Broken", "S/Model")}


def test_rule_ids_name_every_rule_once() -> None:
    ids = SageMakerChecks().rule_ids or []
    assert ids == [f"{PACK_NAME}-{rule.rule_id}" for rule in RULES]
    assert len(set(ids)) == len(ids) == 47


def test_one_module_and_one_test_module_per_rule() -> None:
    modules = [m.name for m in pkgutil.iter_modules(rules.__path__)]
    defined = [importlib.import_module(f"{rules.__name__}.{name}").RULE for name in modules]
    assert sorted(r.rule_id for r in defined) == sorted(r.rule_id for r in RULES)
    for name in modules:
        test_module = RULE_TESTS / f"test_rule_{name}.py"
        assert test_module.exists(), f"{name}: no {test_module.name}"
