"""``make docs``: the generated reference pages (scripts/docs_reference.py) cover every field of
the schemas, every rule of the SageMaker pack and every Control Tower exception, and the site's
navigation (mkdocs.yml) names every page once."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from mlops_cdk.compliance.control_tower import load_exceptions
from mlops_cdk.compliance.sagemaker.rules import RULES
from mlops_cdk.config.loader import known_environments, load_environments
from tests.helpers import CONFIG_DIR, ROOT

SCHEMAS = ROOT / "config" / "schema"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "docs_reference_script", ROOT / "scripts" / "docs_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["docs_reference_script"] = module
    spec.loader.exec_module(module)
    return module


script = load_script()


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    result: dict[str, str] = script.pages()
    return result


def property_names(node: Any) -> Iterator[str]:
    """Every property name anywhere in a schema, found independently of the generator."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            yield from property_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from property_names(item)


def documented_paths(page: str) -> set[str]:
    return set(re.findall(r"^\| `([^`]+)` \|", page, flags=re.MULTILINE))


@pytest.mark.parametrize(
    ("schema_file", "page"),
    [("environment.schema.json", "configuration.md"), ("pipeline.schema.json", "pipeline.md")],
)
def test_every_schema_field_has_a_row(pages: dict[str, str], schema_file: str, page: str) -> None:
    schema = json.loads((SCHEMAS / schema_file).read_text("utf-8"))
    paths = documented_paths(pages[page])
    last_segments = {re.split(r"[.\[\]]+", p.replace("[]", ""))[-1] for p in paths}
    missing = set(property_names(schema)) - last_segments
    assert not missing, f"fields without a row in {page}: {sorted(missing)}"


def test_nested_fields_have_their_full_path_type_default_bounds_and_description(
    pages: dict[str, str],
) -> None:
    page = pages["configuration.md"]
    paths = documented_paths(page)
    for path in (
        "network.new_vpc.cidr",
        "services.<name>.variants[].instance.instance_type",
        "services.<name>.variants[].instance.autoscaling.scheduled[].schedule",
        "services.<name>.async_inference.scaling.min_capacity",
        "services.<name>.batch_jobs[].schedule",
        "services.<name>.models[].containers[].hostname",
    ):
        assert path in paths, path
    (row,) = [line for line in page.splitlines() if line.startswith("| `budget.monthly_usd` |")]
    assert row == (
        "| `budget.monthly_usd` | number | required | &gt; 0; &lt;= 1000000000 | "
        "Monthly cost limit in USD (the budget amount). |"
    )
    (row,) = [line for line in page.splitlines() if line.startswith("| `production` |")]
    assert "| boolean | `false` |" in row


def test_a_description_with_placeholders_stays_visible() -> None:
    """``<env>`` outside code would be an HTML tag and vanish; inside code it is kept."""
    assert script._md("endpoint <env>-<service>, or `<env>-x`") == (
        "endpoint &lt;env&gt;-&lt;service&gt;, or `<env>-x`"
    )
    assert script._md("see :class:`~mlops_cdk.X` and ``code``") == "see mlops_cdk.X and `code`"
    assert script._cell("a | b\nc") == "a \\| b c"


def test_every_rule_of_the_pack_has_a_section_with_its_finding_and_fix(
    pages: dict[str, str],
) -> None:
    page = pages["sagemaker-rules.md"]
    assert f"has {len(RULES)} rules" in page
    for rule in RULES:
        assert f"\n## {rule.rule_id}\n" in page, rule.rule_id
        assert f"[`{rule.rule_id}`](#{rule.rule_id.lower()})" in page
        assert f"`MlopsSageMaker-{rule.rule_id}`" in page
        assert (
            " ".join(rule.explanation.split())[:60].replace("<", "&lt;").replace(">", "&gt;")
            in page
        )


def test_a_rule_cites_the_aws_documentation_of_its_module() -> None:
    (rule,) = [r for r in RULES if r.rule_id == "ShadowVariantLimits"]
    assert script.rule_docs(rule) == [
        "https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-exclusions.html"
    ]


def test_every_control_tower_exception_has_a_row(pages: dict[str, str]) -> None:
    page = pages["control-tower.md"]
    exceptions = load_exceptions(script.EXCEPTIONS)
    assert f"{len(exceptions)} exceptions:" in page
    rows = [line for line in page.splitlines() if line.startswith("| CT.")]
    assert len(rows) == len(exceptions)
    for row, exception in zip(rows, exceptions, strict=True):
        assert row.startswith(f"| {exception.control} | `{exception.resource_type}` |")
        assert exception.user_action[:40] in row


def test_main_writes_every_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert script.main(["--out", str(tmp_path / "reference")]) == 0
    written = sorted(p.name for p in (tmp_path / "reference").iterdir())
    assert written == sorted(script.pages())
    assert capsys.readouterr().out.startswith("docs: generated configuration.md")


class MkDocsLoader(yaml.SafeLoader):
    """Safe, and reads mkdocs.yml's ``!!python/name:`` tags as nothing (they name functions)."""


MkDocsLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)


def nav_files(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from nav_files(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from nav_files(value)


def test_the_site_navigation_names_every_page_once_and_only_pages_that_exist() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text("utf-8"), Loader=MkDocsLoader)  # noqa: S506
    nav = list(nav_files(config["nav"]))
    assert len(nav) == len(set(nav))
    generated = {f"reference/{name}" for name in script.pages()}
    written = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    written -= {p for p in written if p.startswith("reference/")}
    assert set(nav) == written | generated


def yaml_blocks(path: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", path.read_text("utf-8"), flags=re.DOTALL)


def test_the_first_model_of_the_readme_and_the_tutorial_is_a_valid_environment(
    tmp_path: Path,
) -> None:
    """The smallest environment both documents show, and the README's variant, batch job and
    asynchronous endpoint added to it, load as they are written: as ``sandbox.yaml`` beside
    dev, stage and prod (the fixture copies of the committed files), where both documents tell
    a newcomer to create it, so the checks across files run too (a network range another
    environment already uses, an address naming another environment)."""
    readme, tutorial = yaml_blocks(ROOT / "README.md"), yaml_blocks(ROOT / "docs" / "tutorial.md")
    assert readme[0] == tutorial[0]
    base, variant, batch, asynchronous = readme[:4]
    head = base.split("services:\n")[0] + batch.split("services:\n")[0]
    jobs = batch.split("batch_jobs:\n")[1]
    full = f"{head}services:\n  churn:\n{variant}    batch_jobs:\n{jobs}{asynchronous}"
    neighbours = sorted(CONFIG_DIR.glob("*.yaml"))
    for name, text in (("first", base), ("sandbox", full)):
        folder = tmp_path / name
        folder.mkdir()
        for path in neighbours:
            shutil.copyfile(path, folder / path.name)
        (folder / "sandbox.yaml").write_text(text, encoding="utf-8")
        loaded = {env.name: env for env in load_environments(folder)}
        assert sorted(loaded) == sorted([*known_environments(CONFIG_DIR), "sandbox"])
    services = loaded["sandbox"].services
    assert sorted(services) == ["churn", "documents"]
    assert [v.name for v in services["churn"].variants] == ["main", "challenger"]
    assert [j.name for j in services["churn"].batch_jobs] == ["nightly"]
    assert services["documents"].async_inference is not None


def test_every_relative_link_of_the_readme_exists() -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    relative = [link for link in links if "://" not in link]
    assert relative
    assert [link for link in relative if not (ROOT / link).exists()] == []
