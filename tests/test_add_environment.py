"""The runbook "Add an environment" (README; docs/runbooks/add-environment.md once the docs
site holds it), followed literally on a copy of the repository: copy config/stage.yaml to
config/qa.yaml, make the edits the steps name, add the cdk.context.json entry and the pipeline
stage, commit, then `make synth ENV=qa` and every test module that reads config/ pass there.
Where the repository has a `qa` already (a user who followed the runbook with its example name),
the copy gets the next free name, account and VPC range instead (new_environment).

How that proves the whole suite stays green with the new environment: every test module that
reads config/ runs in the copy (whole modules, the review's end-to-end run of both sides of
every environment included); the other modules do not read config/ (READS_CONFIG in
tests/helpers.py), and the tests of the session synth read tests/fixtures/ only, which the steps
leave unchanged (checked), so their result in this run stands for the copy. The new environment
passes every gate, aws-cdk-lib's built-in CloudFormation Validate plugin included, in step 5
(`make diagram`); the review's end-to-end run in the copy leaves that plugin out
(CDK_VALIDATION=false, see that test: the reports read templates and acknowledgements, the same
either way). In a session that runs the copy, that end-to-end test runs there only, not also in
this checkout (tests/conftest.py IN_THE_COPY_ONLY): the copy's run covers this one.

Slow (a synth and the review's end-to-end test in the copy, about 45 s of CPU): `make
test-fast` skips all but the checks of the runbook's text and of that selection.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from ipaddress import ip_network
from itertools import chain, count
from pathlib import Path
from typing import Any, cast

import pytest

from mlops_cdk.config import load_environments
from mlops_cdk.config.context import availability_zones_key
from tests.conftest import IN_THE_COPY_ONLY, run_in_the_copy_only
from tests.helpers import ADD_ENVIRONMENT_TEST, CONFIG_DIR, MAKE, config_reading_modules

# One worker builds the copy once for the tests using it (pytest-xdist --dist loadgroup); the
# group goes out first (tests/conftest.py FIRST_GROUPS). The long test comes first and the quick
# check of the runbook's text is not in the group: xdist gives a worker more work when a test of
# its group ends, and that work would wait behind the long one.
IN_THE_COPY = pytest.mark.xdist_group("add-environment")

ROOT = Path(__file__).resolve().parents[1]
GIT = shutil.which("git") or "git"
TIMEOUT = 1800


@dataclass(frozen=True)
class NewEnvironment:
    """What the steps ask for: the values of the environment being added."""

    name: str = "qa"
    source: str = "stage"
    account: str = "555555555555"
    region: str = "eu-west-1"
    cidr: str = "10.40.0.0/16"
    alarm_email: str = "ml-qa-alerts@example.com"
    zones: tuple[str, ...] = ("eu-west-1a", "eu-west-1b", "eu-west-1c")


def new_environment(config_dir: Path) -> NewEnvironment:
    """The runbook's example (``qa``, with the values above) where ``config_dir`` has no such
    environment yet; else the next free name (``qa2``, ...), account and VPC range, with that
    name's alarm address. A user who has followed the runbook with its example name keeps the
    suite green: this test adds another environment beside theirs."""
    existing = load_environments(config_dir)
    names = {env.name for env in existing}
    accounts = {env.account for env in existing}
    ranges = [ip_network(env.network.new_vpc.cidr) for env in existing if env.network.new_vpc]
    example = NewEnvironment()
    candidates = chain([example.name], (f"qa{i}" for i in count(2)))
    name = next(n for n in candidates if n not in names)
    account = next(a for a in (str(int(example.account) + i) for i in count()) if a not in accounts)
    cidr = next(
        c
        for c in (f"10.{i}.0.0/16" for i in range(int(example.cidr.split(".")[1]), 256))
        if not any(ip_network(c).overlaps(r) for r in ranges)
    )
    return NewEnvironment(
        name=name, account=account, cidr=cidr, alarm_email=f"ml-{name}-alerts@example.com"
    )


def run(command: list[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
    return result


def runbook() -> str:
    """The steps as written: the docs site's runbook once it exists, else the README's."""
    docs = ROOT / "docs" / "runbooks" / "add-environment.md"
    if docs.exists():
        return docs.read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Add an environment\n")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def copy_repository(target: Path) -> Path:
    """This working tree's files (tracked or not ignored), committed in a repository of their
    own, with this checkout's installed .venv and node_modules."""
    listed = run([GIT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT)
    for name in listed.stdout.split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for folder in (".venv", "node_modules"):
        (target / folder).symlink_to(ROOT / folder)
    commit(target, "the repository")
    return target


def commit(repo: Path, message: str) -> None:
    git = [GIT, "-c", "user.name=t", "-c", "user.email=t@example.com"]
    if not (repo / ".git").exists():
        run([*git, "init", "--quiet"], repo)
    run([*git, "add", "--all"], repo)
    run([*git, "commit", "--quiet", "--no-verify", "-m", message], repo)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name}: {old!r} not found"
    path.write_text(text.replace(old, new), encoding="utf-8")


def write_environment_file(config: Path, new: NewEnvironment) -> None:
    """Steps 1 and 2: copy the source environment's file, then edit what belongs to the new
    environment."""
    source = load_environments(config, only=new.source)[0]
    # 1. Copy the file.
    shutil.copy(config / f"{new.source}.yaml", config / f"{new.name}.yaml")
    path = config / f"{new.name}.yaml"
    # 2. Edit what belongs to the new environment: the account id wherever it appears (the
    #    account and every ARN of it: operators, in-account publishers), the region, the
    #    VPC range and the alarm e-mails.
    replace(path, source.account, new.account)
    replace(path, f"region: {source.region}", f"region: {new.region}")
    assert source.network.new_vpc is not None
    replace(path, f"cidr: {source.network.new_vpc.cidr}", f"cidr: {new.cidr}")
    assert source.monitoring is not None
    for address in source.monitoring.alarm_emails:
        replace(path, address, new.alarm_email)


def follow_the_steps(repo: Path, new: NewEnvironment) -> None:
    """Every step of the runbook, in its order, as a person would type it."""
    config = repo / "config"
    write_environment_file(config, new)  # steps 1 and 2
    # 3. cdk.context.json: the new account's zones in its region.
    context_file = repo / "cdk.context.json"
    context = json.loads(context_file.read_text(encoding="utf-8"))
    context[availability_zones_key(new.account, new.region)] = list(new.zones)
    context_file.write_text(json.dumps(context, indent=2) + "\n", encoding="utf-8")
    # 4. config/pipeline.yaml: the new stage, after the one it was copied from.
    pipeline = config / "pipeline.yaml"
    stages = re.search(r"^stages: \[(.*)\]$", pipeline.read_text(), re.MULTILINE)
    assert stages is not None
    names = [s.strip() for s in stages.group(1).split(",")]
    names.insert(names.index(new.source) + 1, new.name)
    replace(pipeline, stages.group(0), f"stages: [{', '.join(names)}]")
    # 5. `make diagram ENV=<name>`: synthesizes it (as `make synth ENV=<name>`) with every gate
    #    and draws its committed picture; `-o install`: the copy's .venv and node_modules are
    #    this checkout's, installed already. Then commit it all.
    # Not the outer make's variables either (under `make test` a nested make would print
    # "Entering/Leaving directory" lines and inherit its flags).
    # CDK_VALIDATION: every gate, the built-in template validation too, whatever the caller set.
    outer = {"PYTHONPATH", "VIRTUAL_ENV", "MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES",
             "CDK_VALIDATION"}  # fmt: skip
    environ = {k: v for k, v in os.environ.items() if k not in outer}
    run([MAKE, "-o", "install", "diagram", f"ENV={new.name}"], repo, env=environ)
    commit(repo, f"add environment {new.name}")


def test_the_runbook_names_every_field_and_file_the_steps_edit() -> None:
    steps = runbook()
    for named in (
        "cp config/stage.yaml config/<name>.yaml",
        "`account`",
        "`region`",
        "`network.new_vpc.cidr`",
        "`operators`",
        "`publishers`",
        "`monitoring.alarm_emails`",
        "`change_detection`",
        "`production`",
        "cdk.context.json",
        '"availability-zones:account=<account>:region=<region>"',
        "config/pipeline.yaml",
        "`stages`",
        "make synth ENV=<name>",
        "make diagram ENV=<name>",
        "make test",
    ):
        assert named in steps, named


def test_the_steps_add_an_environment_beside_one_the_runbook_added_already(tmp_path: Path) -> None:
    """The runbook's example name, `qa`, then (where a user has added `qa`) the next free name,
    account and VPC range: the environments still load together, every cross-file check on."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)  # dev, stage, prod: none of the values below
    first = new_environment(config)
    assert first == NewEnvironment()
    write_environment_file(config, first)
    second = new_environment(config)
    assert (second.name, second.account, second.cidr, second.alarm_email) == (
        "qa2", "555555555556", "10.41.0.0/16", "ml-qa2-alerts@example.com"
    )  # fmt: skip
    write_environment_file(config, second)
    assert {env.name for env in load_environments(config)} >= {"qa", "qa2"}


@dataclass(frozen=True)
class Collected:
    """What run_in_the_copy_only reads of a collected test: its file and its markers."""

    path: Path
    markers: tuple[str, ...] = ()

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return getattr(pytest.mark, name).mark if name in self.markers else None


def in_the_copy_only(*items: Collected) -> list[Collected]:
    return cast(list[Collected], run_in_the_copy_only(cast(list[pytest.Item], list(items))))


def test_with_the_copy_in_the_session_the_e2e_tests_of_config_modules_run_there_only() -> None:
    review = ROOT / "tests" / "unit" / "review" / "test_review_script.py"
    other = ROOT / "tests" / "unit" / "review" / "test_review_report.py"
    rerun = config_reading_modules(ROOT)
    assert review in rerun
    assert other not in rerun
    copy = Collected(Path(__file__), ("slow", "reruns_config_tests"))
    e2e = Collected(review, ("slow", "e2e"))
    assert in_the_copy_only(copy, e2e, Collected(review, ("slow",))) == [e2e]
    assert in_the_copy_only(e2e, Collected(review, ("slow",))) == []  # no copy: runs here
    assert in_the_copy_only(copy, Collected(other, ("e2e",))) == []  # not run in the copy


def test_the_review_e2e_test_is_marked_and_the_skip_says_where_it_runs() -> None:
    from tests.unit.review import test_review_script

    marks = {m.name for m in test_review_script.test_changes_are_grouped_per_service.pytestmark}
    assert "e2e" in marks
    assert f"tests/{ADD_ENVIRONMENT_TEST}" in IN_THE_COPY_ONLY


@pytest.fixture(scope="module")
def added() -> NewEnvironment:
    return new_environment(ROOT / "config")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, added: NewEnvironment) -> Path:
    repo = copy_repository(tmp_path_factory.mktemp("repository"))
    follow_the_steps(repo, added)
    return repo


@pytest.mark.slow
@pytest.mark.reruns_config_tests
@IN_THE_COPY
def test_every_test_module_that_reads_config_passes_with_the_new_environment(repo: Path) -> None:
    assert Path(__file__).name == ADD_ENVIRONMENT_TEST  # left out: it would run itself
    modules = [str(path.relative_to(repo)) for path in config_reading_modules(repo)]
    assert "tests/test_committed_config.py" in modules
    assert "tests/unit/review/test_review_script.py" in modules  # its end-to-end run included
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH"}}
    # Not the tests of the session synth (marker fixture_synth, tests/conftest.py): they read
    # tests/fixtures/config only, which the steps leave as they are (checked: the runbook's
    # commit changes nothing there), so they pass there as they pass in this run; there they would
    # only synthesize the fixtures once more.
    run([GIT, "diff", "--quiet", "HEAD~1", "HEAD", "--", "tests/fixtures"], repo)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *modules, "-p", "no:cacheprovider", "--no-cov",
         "-m", "not fixture_synth", "-n", "0", "-q", "-rs",
         "--basetemp", str(repo.parent / "pytest-in-copy")],
        cwd=repo, env=environ, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-8000:]
    # The review's end-to-end run, which this session leaves to the copy, ran there.
    assert IN_THE_COPY_ONLY not in done.stdout, done.stdout[-8000:]


@pytest.mark.slow
@IN_THE_COPY
def test_the_new_environment_synthesizes_with_every_gate_and_has_its_picture(
    repo: Path, added: NewEnvironment
) -> None:
    assert (repo / "docs" / "images" / f"{added.name}.svg").is_file()
    assembly = repo / "cdk.out" / f"assembly-{added.name}"  # one stage per environment
    assert [p.name for p in (repo / "cdk.out").glob("assembly-*")] == [assembly.name]
    manifest = json.loads((assembly / "manifest.json").read_text())
    stacks = {
        artifact["properties"]["stackName"]: artifact
        for artifact in manifest["artifacts"].values()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert f"{added.name}-Foundation" in stacks
    for name, artifact in stacks.items():
        assert name.startswith(f"{added.name}-")
        assert artifact["environment"] == f"aws://{added.account}/{added.region}"
    foundation = stacks[f"{added.name}-Foundation"]["properties"]["templateFile"]
    template = json.loads((assembly / foundation).read_text())
    vpcs = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::VPC"]
    assert [vpc["Properties"]["CidrBlock"] for vpc in vpcs] == [added.cidr]
