"""``make diagram``: the SVG of an environment, from a small hand-written assembly (fast); the
committed pictures in docs/images/ against the committed configuration (fast: every environment
of config/ has one naming each of its services); the fixture environments' pictures (slow)."""

from __future__ import annotations

# The SVG parsed is our own output, not untrusted input.
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlops_cdk.config import EnvConfig, load_environments
from mlops_tools.diagram import TEXT_COLUMNS, main, render_svg, write_diagrams
from mlops_tools.inventory.read import read_inventory
from tests.helpers import COMMITTED_CONFIG_DIR, ROOT, Synthesized
from tests.unit.inventory.assembly import write_assembly

SVG = "{http://www.w3.org/2000/svg}"
IMAGES = ROOT / "docs" / "images"


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # noqa: S314
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def cards(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # noqa: S314
    return [g.attrib["data-name"] for g in root.iter(f"{SVG}g")]


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    return write_assembly(tmp_path / "cdk.out")


def test_picture_has_the_foundation_and_a_card_per_service(assembly: Path) -> None:
    (env,) = read_inventory(assembly)
    svg = render_svg(env)
    assert cards(svg) == ["Foundation (shared by every service)", "Service churn"]
    shown = "\n".join(texts(svg))
    for expected in (
        "Environment dev (eu-west-1): 1 service(s);",
        "VPC 10.10.0.0/16, 2 subnets",  # networking
        "Encryption/Key: ML hosting data key (dev),",  # key
        "ModelImagesRepository (tags immutable)",  # repository (no construct path: logical id)
        "churn-v1: repository:1.0.0",  # models
        "dev-churn: real-time (blue/green canary,",  # endpoint
        "dev-churn-nightly: 2 x ml.m5.large,",  # batch job
        "champion: 2-4 instances,",  # scaling
        "-> topic AlarmTopic (2)",  # alarms and where they notify
        "Retraining/Default/Function: Starts SageMaker",  # functions
        "baselines/churn/, data-capture/churn/,",  # bucket prefixes
    ):
        assert expected in shown, expected


def test_same_assembly_same_bytes(assembly: Path, tmp_path: Path) -> None:
    first = write_diagrams(assembly, tmp_path / "a")
    second = write_diagrams(assembly, tmp_path / "b")
    assert [p.name for p in first] == ["dev.svg"]
    assert first[0].read_bytes() == second[0].read_bytes()


def test_text_is_escaped_and_lines_fit_the_card(assembly: Path) -> None:
    (env,) = read_inventory(assembly)
    svg = render_svg(env)
    ET.fromstring(svg)  # noqa: S314 - well-formed: "<" and "&" in descriptions are escaped
    body = texts(svg)[2:]  # after the title and the note
    assert body
    assert max(len(t) for t in body) <= TEXT_COLUMNS + 2


def test_command_writes_one_file_per_environment(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "images"
    assert main([str(assembly), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["dev.svg"]
    assert capsys.readouterr().out == f"diagram: wrote {out / 'dev.svg'}\n"
    assert main([str(assembly), "--out", str(out), "--env", "prod"]) == 2
    assert capsys.readouterr().err.startswith("diagram: unknown environment 'prod'")


def test_check_names_each_missing_or_different_picture_and_writes_nothing(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "images"
    assert main([str(assembly), "--out", str(out), "--check"]) == 1
    assert not out.exists()
    assert capsys.readouterr().err == f"diagram: {out / 'dev.svg'} is missing: run make diagram\n"
    assert main([str(assembly), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main([str(assembly), "--out", str(out), "--check"]) == 0
    assert capsys.readouterr().out == (
        f"diagram: 1 pictures in {out} show what {assembly} deploys\n"
    )
    picture = out / "dev.svg"
    drawn = picture.read_text()
    picture.write_text(drawn.replace("1 service(s)", "2 service(s)"))
    assert main([str(assembly), "--out", str(out), "--check"]) == 1
    assert capsys.readouterr().err == (
        f"diagram: {picture} does not show what {assembly} deploys: run make diagram\n"
    )
    assert picture.read_text() != drawn  # --check writes nothing


def test_make_lint_checks_the_committed_pictures() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "lint-diagrams" in makefile.split("lint-templates:", 1)[1].splitlines()[0]
    assert "-m mlops_tools.diagram cdk.out --out docs/images --check" in makefile


@pytest.mark.parametrize("env", load_environments(COMMITTED_CONFIG_DIR), ids=lambda env: env.name)
def test_committed_picture_of_each_environment_shows_each_service(env: EnvConfig) -> None:
    """docs/images/<env>.svg is made by `make diagram` from config/ (run it after changing
    an environment's services, or adding an environment)."""
    path = IMAGES / f"{env.name}.svg"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run make diagram"
    svg = path.read_text()
    services = set(env.services)
    shown = {card.removeprefix("Service ") for card in cards(svg) if card.startswith("Service ")}
    assert shown == services, f"{path.relative_to(ROOT)} is stale: run make diagram"


@pytest.mark.xdist_group("environments")  # shares the session synth of every environment
def test_fixture_environments_are_drawn(synthesized: Synthesized, tmp_path: Path) -> None:
    written = write_diagrams(synthesized.outdir, tmp_path)
    assert sorted(p.stem for p in written) == sorted(synthesized.stages)
    for path in written:
        svg = path.read_text()
        stage = synthesized.stages[path.stem]
        assert sorted(cards(svg)) == sorted(
            ["Foundation (shared by every service)", *(f"Service {s}" for s in stage.services)]
        )
        assert "USD/month expected" in svg
