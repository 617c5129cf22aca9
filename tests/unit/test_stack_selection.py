"""scripts/stack_selection.py: what `make deploy`, `make diff` and `make destroy` select (and
the environment of `make synth ENV=`) is checked against the configuration before the CDK starts
(the fixture environments; a copy where a test needs another file)."""

from __future__ import annotations

import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest

from mlops_cdk.config import load_environments
from mlops_cdk.config.loader import environment_file
from scripts import stack_selection
from tests.helpers import CONFIG_DIR, Synthesized, run_make

SERVICES = {config.name: list(config.services) for config in load_environments(CONFIG_DIR)}


def problem(env: str, *, service: str | None = None, stack: str | None = None) -> str | None:
    return stack_selection.problem(CONFIG_DIR, env, service=service, stack=stack)


@pytest.mark.parametrize("env", sorted(SERVICES))
def test_every_service_and_stack_of_an_environment_is_selected(env: str) -> None:
    assert problem(env) is None
    for service in SERVICES[env]:
        assert problem(env, service=service) is None
        assert problem(env, stack=service) is None
        assert problem(env, stack=f"{service}-Registry") is None
    assert problem(env, stack="Foundation") is None


def test_the_names_are_the_stacks_each_stage_holds(synthesized: Synthesized) -> None:
    for env, stage in synthesized.stages.items():
        stacks = [child.node.id for child in stage.node.children if isinstance(child, cdk.Stack)]
        assert sorted(stack_selection.stack_names(SERVICES[env])) == sorted(stacks)


def test_an_unknown_environment_is_the_loaders_line() -> None:
    known = ", ".join(SERVICES)  # in promotion order, as the loader lists them
    assert problem("prdo") == f"ENV=prdo: unknown environment 'prdo'; known environments: {known}"
    assert problem("pipeline") is not None  # config/pipeline.yaml is not an environment


def test_an_unknown_service_names_the_file_and_its_services() -> None:
    services = ", ".join(SERVICES["prod"])
    assert problem("prod", service="chrun") == (
        f"SERVICE=chrun: {environment_file(CONFIG_DIR, 'prod')} has no service 'chrun' "
        f"(its services: {services})"
    )


def test_a_stack_name_is_matched_exactly() -> None:
    line = problem("dev", stack="churn-registry")
    assert line is not None
    assert line.startswith("STACK=churn-registry: dev has no stack 'churn-registry' (its stacks: ")
    assert "Foundation, churn-Registry, churn" in line
    assert problem("dev", stack="foundation") is not None


def test_a_production_environment_is_refused_whatever_its_name(tmp_path: Path) -> None:
    shutil.copy(CONFIG_DIR / "prod.yaml", tmp_path / "live.yaml")
    shutil.copy(CONFIG_DIR / "dev.yaml", tmp_path / "sandbox.yaml")
    assert stack_selection.problem(tmp_path, "live") is None  # deploy and diff may select it
    assert stack_selection.problem(tmp_path, "live", not_production=True) == (
        f"ENV=live: {environment_file(tmp_path, 'live')} says production: true "
        "(refused: a production environment)"
    )
    assert stack_selection.problem(tmp_path, "sandbox", not_production=True) is None


def test_a_file_that_does_not_validate_is_left_to_the_app(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").write_text("name: dev\nservices: [\n", encoding="utf-8")
    assert stack_selection.problem(tmp_path, "dev", service="churn") is None
    assert stack_selection.problem(tmp_path, "dev", not_production=True) is None
    assert stack_selection.problem(tmp_path, "qa") is not None  # no file: still refused


def test_main_prints_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--env", "dev", "--config-dir", str(CONFIG_DIR)]
    assert stack_selection.main(args) == 0
    assert stack_selection.main([*args, "--service", "churn"]) == 0
    assert capsys.readouterr().err == ""
    assert stack_selection.main([*args, "--service", "nope"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_main_reads_the_folder_the_app_reads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_CONFIG_DIR", str(CONFIG_DIR))
    assert stack_selection.main(["--env", "dev", "--stack", "churn-Registry"]) == 0
    assert stack_selection.main(["--env", "dev", "--stack", "fraud"]) == 2  # stage has fraud
    assert "STACK=fraud: dev has no stack 'fraud'" in capsys.readouterr().err


def test_service_and_stack_together_are_refused() -> None:
    with pytest.raises(SystemExit) as exit_:
        stack_selection.main(["--env", "dev", "--service", "a", "--stack", "b"])
    assert exit_.value.code == 2


@pytest.fixture(scope="module")
def with_live(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture environments and ``live``, a production one by another name than prod."""
    folder = tmp_path_factory.mktemp("config")
    for path in CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    shutil.copy(CONFIG_DIR / "prod.yaml", folder / "live.yaml")
    return folder


# One case per recipe line that checks (each starts Python: about 0.6 s); the script's own
# tests above cover every message.
@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["deploy", "ENV=dev", "SERVICE=chrun"], "SERVICE=chrun: "),
        (["diff", "ENV=dev", "STACK=fraud"], "STACK=fraud: "),
        (["destroy", "ENV=live"], "ENV=live: "),
        (["destroy", "ENV=live", "SERVICE=churn"], "ENV=live: "),
        (["destroy", "ENV=dev", "SERVICE=churn", "STACK=x"], "make destroy: give SERVICE= or"),
        (["destroy", "ENV=dev", "SERVICE=chrun"], "SERVICE=chrun: "),
        (["synth", "ENV=prdo"], "ENV=prdo: unknown environment"),
    ],
)
def test_the_make_targets_stop_before_the_cdk_starts(
    args: list[str], line: str, with_live: Path
) -> None:
    """Nothing reaches `npx cdk` (no credentials here: it would fail later, after a synth), and
    `make synth` keeps the cdk.out it has (make echoes each command before running it)."""
    done = run_make(*args, env={"MLOPS_CONFIG_DIR": str(with_live)})
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines()[0].startswith(line), done.stderr
    assert "npx cdk" not in done.stdout
    assert "rm -rf" not in done.stdout
