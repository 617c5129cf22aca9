"""scripts/assembly_current.py: whether cdk.out shows what the working tree deploys now, so that
`make inventory`, `make controls` and `make scan` synthesize again instead of reading an
assembly of another configuration (a hand-built checkout and assembly; the session synth for the
manifest's real shape)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scripts import assembly_current
from tests.helpers import Synthesized

WRITTEN = 1_700_000_000  # the assembly's time; inputs are before or after it


def touch(path: Path, when: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (when, when))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A checkout with dev, stage and prod, all written before the assembly."""
    root = tmp_path / "checkout"
    for name in ("config/dev.yaml", "config/stage.yaml", "config/prod.yaml",
                 "config/pipeline.yaml", "app.py", "cdk.json", "cdk.context.json",
                 "mlops_cdk/constructs/endpoint.py", "mlops_cdk/functions/drift/drift.py",
                 "requirements.lock"):  # fmt: skip
        touch(root / name, WRITTEN - 60)
    return root


def assembly(root: Path, *envs: str, name: str = "cdk.out") -> Path:
    out = root / name
    out.mkdir()
    artifacts: dict[str, dict[str, str]] = {
        f"assembly-{env}": {"type": "cdk:cloud-assembly"} for env in envs
    }
    artifacts["Tree"] = {"type": "cdk:tree"}
    (out / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    os.utime(out / "manifest.json", (WRITTEN, WRITTEN))
    return out


def test_an_assembly_of_every_environment_written_after_its_inputs_is_current(root: Path) -> None:
    out = assembly(root, "dev", "stage", "prod")
    assert assembly_current.out_of_date(out, root, None) is None
    assert assembly_current.out_of_date(out, root, "stage") is None


def test_a_missing_assembly_is_out_of_date(root: Path) -> None:
    reason = assembly_current.out_of_date(root / "cdk.out", root, None)
    assert reason == f"{root / 'cdk.out'} has no cloud assembly"


def test_an_assembly_of_one_environment_lacks_the_others(root: Path) -> None:
    out = assembly(root, "dev")  # `make synth ENV=dev` wrote it
    assert assembly_current.out_of_date(out, root, None) == f"{out} has dev, not prod, stage"
    assert assembly_current.out_of_date(out, root, "prod") == f"{out} has dev, not prod"
    assert assembly_current.out_of_date(out, root, "dev") is None


def test_an_environment_removed_from_config_makes_the_whole_assembly_out_of_date(
    root: Path,
) -> None:
    out = assembly(root, "dev", "stage", "prod", "sandbox")  # before config/sandbox.yaml went
    reason = assembly_current.out_of_date(out, root, None)
    assert reason == f"{out} has sandbox, which config/ no longer has"
    assert assembly_current.out_of_date(out, root, "dev") is None  # dev's part is still dev's


@pytest.mark.parametrize(
    "changed",
    ["config/stage.yaml", "config/pipeline.yaml", "app.py", "cdk.json", "cdk.context.json",
     "mlops_cdk/constructs/endpoint.py", "mlops_cdk/functions/drift/drift.py",
     "requirements.lock"],
)  # fmt: skip
def test_an_input_changed_after_the_synth_makes_it_out_of_date(root: Path, changed: str) -> None:
    out = assembly(root, "dev", "stage", "prod")
    touch(root / changed, WRITTEN + 5)
    assert assembly_current.out_of_date(out, root, None) == f"{out} is older than {changed}"


def test_the_message_names_the_first_changed_input_and_counts_the_others(root: Path) -> None:
    out = assembly(root, "dev", "stage", "prod")
    for name in ("mlops_cdk/constructs/endpoint.py", "config/prod.yaml", "app.py"):
        touch(root / name, WRITTEN + 5)
    reason = assembly_current.out_of_date(out, root, "dev")
    assert reason == f"{out} is older than app.py and 2 more"


def test_what_a_synth_does_not_read_changes_nothing(root: Path) -> None:
    out = assembly(root, "dev", "stage", "prod")
    for name in ("mlops_cdk/constructs/__pycache__/endpoint.cpython-311.pyc", "README.md",
                 "docs/tutorial.md", "tests/unit/test_x.py", "config/schema/env.json"):  # fmt: skip
        touch(root / name, WRITTEN + 5)
    assert assembly_current.out_of_date(out, root, None) is None


def test_the_pipeline_assembly_is_checked_for_its_inputs_only(root: Path) -> None:
    out = assembly(root, name="cdk.out.pipeline")  # no environment of its own
    assert assembly_current.out_of_date(out, root, None, pipeline=True) is None
    touch(root / "config" / "pipeline.yaml", WRITTEN + 5)
    reason = assembly_current.out_of_date(out, root, None, pipeline=True)
    assert reason == f"{out} is older than config/pipeline.yaml"


def test_main_says_why_in_one_line_and_exits_1_when_out_of_date(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = assembly(root, "dev")
    argv = [str(out), "--root", str(root), "--label", "inventory"]
    assert assembly_current.main([*argv, "--env", "prod"]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        f"inventory: {out} has dev, not prod: synthesizing it again\n",
    )
    assert assembly_current.main([*argv, "--env", "dev"]) == 0
    assert capsys.readouterr() == ("", "")


def test_an_unknown_environment_stops_the_caller_before_a_synth_removes_cdk_out(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = assembly(root, "dev", "stage", "prod")
    argv = [str(out), "--root", str(root), "--label", "inventory", "--env", "prdo"]
    assert assembly_current.main(argv) == 2  # the Makefile synthesizes on 1 only
    assert capsys.readouterr().err == (
        "inventory: unknown environment 'prdo'; known environments: dev, stage, prod\n"
    )


def test_env_and_pipeline_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        assembly_current.main(["--env", "dev", "--pipeline"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.xdist_group("environments")  # shares the session synth of every environment
def test_the_environments_of_a_real_assembly_are_its_stages(synthesized: Synthesized) -> None:
    assert assembly_current.environments(synthesized.outdir) == set(synthesized.stages)
