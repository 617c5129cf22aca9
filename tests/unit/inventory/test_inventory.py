"""``make inventory`` on a small hand-written assembly (fast), and on the session synth of the
fixture environments (slow: every service of every environment is listed with its cost)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_tools.cost.cli import estimate_assembly
from mlops_tools.cost.prices import PriceBook
from mlops_tools.inventory.cli import main
from mlops_tools.inventory.read import EnvironmentInventory, read_inventory
from tests.helpers import Synthesized
from tests.unit.inventory.assembly import write_assembly


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    return write_assembly(tmp_path / "cdk.out")


@pytest.fixture
def dev(assembly: Path) -> EnvironmentInventory:
    (env,) = read_inventory(assembly)
    return env


def test_foundation_network_key_and_bucket(dev: EnvironmentInventory) -> None:
    assert dev.name == "dev"
    assert dev.region == "eu-west-1"
    foundation = dev.foundation
    assert foundation is not None
    assert foundation.stacks == ("dev-Foundation",)
    assert foundation.network == (
        "VPC 10.10.0.0/16, 2 subnets",
        "interface endpoints: sagemaker.runtime",
    )
    assert [(k.name, k.detail) for k in foundation.keys] == [
        ("Encryption/Key", "ML hosting data key (dev), rotation on")
    ]
    assert [(b.name, b.detail) for b in foundation.buckets] == [
        ("Artifacts/Bucket", "versioning enabled")
    ]


def test_service_stacks_resource_counts_models_and_prefixes(dev: EnvironmentInventory) -> None:
    (churn,) = dev.services
    assert churn.name == "churn"
    assert churn.stacks == ("dev-churn-Registry", "dev-churn")  # deploy order
    counts = dict(churn.resources)
    assert counts["AWS::SageMaker::Model"] == 2
    assert counts["AWS::CloudWatch::Alarm"] == 2
    assert counts["AWS::ECR::Repository"] == 1
    assert "AWS::CDK::Metadata" not in counts
    assert churn.resource_count == sum(counts.values())
    assert [(m.name, m.detail) for m in churn.models] == [
        ("churn-v1", "repository:1.0.0"),
        ("churn-v2", "sagemaker-xgboost:1.7-1"),
    ]
    assert [r.detail for r in churn.repositories] == ["tags immutable"]
    assert churn.prefixes == ("baselines/churn/", "data-capture/churn/", "models/churn/")


def test_endpoint_variants_weights_shares_and_scaling(dev: EnvironmentInventory) -> None:
    (endpoint,) = dev.services[0].endpoints
    assert endpoint.name == "dev-churn"
    assert endpoint.mode == "real-time"
    assert endpoint.details == ("blue/green canary, 1 rollback alarm(s)", "data capture 20 %")
    champion, challenger = endpoint.variants
    assert (champion.name, champion.model, champion.capacity) == (
        "champion", "churn-v1", "2 x ml.m5.large"
    )  # fmt: skip
    assert (champion.weight, champion.share, challenger.share) == ("3", "75 %", "25 %")
    assert champion.scaling == "2-4 instances, SageMakerVariantInvocationsPerInstance target 100"
    assert challenger.scaling == "none"


def test_batch_job_with_its_schedule(dev: EnvironmentInventory) -> None:
    (job,) = dev.services[0].batch_jobs
    assert (job.name, job.model, job.instances) == (
        "dev-churn-nightly",
        "churn-v1",
        "2 x ml.m5.large",
    )
    assert job.schedule == "cron(0 2 * * ? *) Europe/Dublin"
    assert job.timeout == "60 min"


def test_alarms_say_where_they_notify(dev: EnvironmentInventory) -> None:
    churn = dev.services[0]
    alarms = {alarm.name: alarm for alarm in churn.alarms}
    latency = alarms["Alarms/Variant-champion/Latency"]
    assert latency.description == "champion: ModelLatency p99 above 500 ms"
    assert (latency.metric, latency.condition) == ("AWS/SageMaker ModelLatency", "> 500000")
    assert latency.notifies == ("topic AlarmTopic",)
    assert alarms["Alarms/Quality-auc"].notifies == (
        "topic AlarmTopic",
        "function Retraining/Default/Function",
    )
    assert [(t.name, t.detail) for t in churn.topics] == [
        ("AlarmTopic", "ML endpoint alarms: email oncall@example.com")
    ]


def test_costs_are_make_costs_figures(assembly: Path, dev: EnvironmentInventory) -> None:
    (cost,) = estimate_assembly(assembly, prices=PriceBook.load())
    assert dev.cost is not None
    assert dev.problems == ()
    assert (dev.cost.idle, dev.cost.expected, dev.cost.peak) == (
        cost.idle, cost.expected, cost.peak
    )  # fmt: skip
    churn = cost.part("churn")
    assert dev.services[0].cost is not None
    assert dev.services[0].cost.expected == churn.expected > 0


def test_text_output(assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(assembly)]) == 0
    out = capsys.readouterr().out
    assert "Environment dev (eu-west-1)" in out
    assert "Service churn" in out
    assert "endpoint dev-churn: real-time; blue/green canary" in out
    assert "champion    production  churn-v1  2 x ml.m5.large" in out
    assert (
        "alarms: 2, notifying function Retraining/Default/Function (1), topic AlarmTopic (2)" in out
    )
    assert "|" not in out  # no Markdown in the terminal


def test_markdown_output_for_one_service(
    assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(assembly), "--markdown", "--service", "churn", "--env", "dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Inventory\n")
    assert "## Environment dev (eu-west-1)" in out
    assert "### Foundation" not in out  # only the service asked for
    assert "| champion | production | churn-v1 | 2 x ml.m5.large | 3 | 75 % |" in out
    assert (
        "| dev-churn-nightly | churn-v1 | 2 x ml.m5.large | cron(0 2 * * ? *) Europe/Dublin |"
        in out
    )
    assert "- **bucket prefixes**: baselines/churn/, data-capture/churn/, models/churn/" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "prod"], "inventory: unknown environment 'prod' in"),
        (["--service", "fraud"], "inventory: unknown service 'fraud' (services here: churn)"),
        (["--bogus"], "inventory: unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    assembly: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(assembly), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_missing_assembly_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nothing")]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.xdist_group("environments")  # shares the session synth of every environment
def test_fixture_environments_list_every_service_with_endpoint_and_cost(
    synthesized: Synthesized,
) -> None:
    inventories = {env.name: env for env in read_inventory(synthesized.outdir)}
    for env_name, stage in synthesized.stages.items():
        env = inventories[env_name]
        assert env.cost is not None, env.problems
        assert env.foundation is not None
        assert env.foundation.network
        assert {p.name for p in env.services} == set(stage.services)
        for part in env.services:
            assert part.cost is not None
            assert part.cost.expected > 0
            assert part.endpoints or part.batch_jobs, part.name
            assert part.alarms, part.name
            assert all(alarm.notifies for alarm in part.alarms), part.name
