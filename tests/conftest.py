"""Session fixtures: each environment is synthesized once per test session."""

from __future__ import annotations

import gc
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.loaders
import botocore.session
import pytest

from mlops_cdk.config import EnvConfig, load_environments
from tests.helpers import CONFIG_DIR, ROOT, Synthesized, cdk_context, config_reading_modules
from tests.untraced import coverage_tracer
from tests.untraced import install as install_untraced

if TYPE_CHECKING:
    from mlops_cdk.compliance import AcknowledgementRecord


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_loader() -> Iterator[None]:
    """One botocore data loader per test process instead of one per boto3 Session.

    The tools and handlers under test create a Session per run (role assumption, fresh
    clients), and each new Session re-parses the service models it touches (SageMaker's
    alone is several MB of JSON): about 0.25 s per client, most of the moto tests' time.
    The loader only reads botocore's packaged data, so sharing it changes no behaviour."""
    shared = cache(botocore.loaders.create_loader)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared)
        yield


@pytest.fixture(scope="session")
def env_configs() -> dict[str, EnvConfig]:
    return {config.name: config for config in load_environments(CONFIG_DIR)}


@pytest.fixture(scope="session")
def synthesized(
    tmp_path_factory: pytest.TempPathFactory, env_configs: dict[str, EnvConfig]
) -> Synthesized:
    """Every environment, all compliance packs enforced (a finding fails this fixture)."""
    from mlops_cdk.app.builder import build_app  # here: tests without it need no jsii

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stages = build_app(list(env_configs.values()), outdir=str(outdir), context=cdk_context())
    app.synth()
    return Synthesized(outdir=outdir, stages=stages)


@dataclass(frozen=True)
class SecondSynth:
    """The same commit synthesized again, with acknowledgements recorded but not applied, in
    another Python run optimized (``python -O``, as cdk.json runs the app: no jsii type checks,
    no asserts).

    Acknowledgements are construct metadata, never template content, so its templates must be
    byte-identical to the first synth's (determinism, and optimized mode changes nothing), and
    its validation report shows which acknowledged findings still fire (the acknowledgement
    audit).

    Without aws-cdk-lib's built-in CloudFormation Validate plugin (CDK_VALIDATION=false): the
    first synth runs it on these same templates (byte-identical, above), plugins cannot change
    an assembly, and no acknowledgement of ours names its findings (the audit checks that). It
    took about 5 s of this synth's 11 s of CPU."""

    outdir: Path
    records: list[AcknowledgementRecord]
    fired: set[tuple[str, str]]


@pytest.fixture(scope="session")
def second_synth(tmp_path_factory: pytest.TempPathFactory) -> SecondSynth:
    from mlops_cdk.compliance import AcknowledgementRecord
    from tests.second_synth import RECORDS

    outdir = tmp_path_factory.mktemp("second-synth")
    done = subprocess.run(
        [sys.executable, "-O", "-m", "tests.second_synth", str(outdir)],
        cwd=ROOT, env={**os.environ, "CDK_VALIDATION": "false"},
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-6000:]
    records = json.loads((outdir / RECORDS).read_text())
    report = json.loads((outdir / "validation-report.json").read_text())
    fired = {
        (construct["constructPath"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    return SecondSynth(
        outdir=outdir, records=[AcknowledgementRecord(**r) for r in records], fired=fired
    )


# Which tests `make test-fast` skips (marker ``slow``) follows from where a test lives and what
# it uses, never from a list of test names:
# - every test in a SLOW_FOLDERS folder (tests/unit/app: each module synthesizes stacks);
# - every test using a SLOW_FIXTURES fixture, directly or through another fixture;
# - modules and tests that say so themselves: ``pytestmark = pytest.mark.slow`` (a module-scoped
#   synth of its own) or ``@pytest.mark.slow  # a subprocess``.
# A test that is not marked slow and still starts a Python, Node, CDK CLI, make or git process
# fails with a line saying to mark it (pytest_runtest_setup below), so the rule keeps holding.
SLOW_FOLDERS = (Path(__file__).parent / "unit" / "app",)
SLOW_FIXTURES = frozenset({"synthesized", "second_synth"})
# Tests sharing the session synth run on one xdist worker, so it is built once per run.
SYNTH_GROUP = "environments"
HEAVY_PROGRAMS = frozenset({"node", "npx", "npm", "cdk", "make", "git", "pip", "uv"})
# The xdist groups handed out first (pyproject: --no-loadscopereorder, so xdist gives out work in
# collection order): the longest chains of one worker start at once, on different workers, and
# everything else fills in around them. add-environment (a copy, a synth, then the config-reading
# tests in the copy) is the longest; the session synth and the tests reading it next; then the
# installed package of the examples. Measured with `pytest --durations` (issue 26).
FIRST_GROUPS = ("add-environment", SYNTH_GROUP, "examples")


def _groups(item: pytest.Item) -> list[str]:
    """The item's xdist_group names, as pytest-xdist reads them."""
    marks = item.iter_markers("xdist_group")
    return sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks})


def _rank(item: pytest.Item) -> int:
    groups = _groups(item)
    return min((FIRST_GROUPS.index(g) for g in groups if g in FIRST_GROUPS), default=99)


def _pin_to_group(item: pytest.Item, groups: list[str]) -> None:
    """What pytest-xdist's --dist loadgroup does on a worker, on pytest 9.2's structured node ids.

    xdist 3.8 suffixes ``@<group>`` to ``item._nodeid``, which pytest 9.2 no longer reads (it keeps
    a ``NodeId`` in ``item._id``): every group was silently spread over both workers, and the
    session synth built on each (pytest-dev/pytest-xdist#1386, fix pending in #1388). The suffix
    goes on the structured id instead; nothing changes where xdist or pytest did it already."""
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest < 9.2: xdist's own suffix works
        return
    suffix = f"@{'_'.join(groups)}"
    current: object = getattr(item, "_id", None)
    if isinstance(current, NodeId) and not item.nodeid.endswith(suffix):
        item._id = NodeId.parse(item.nodeid + suffix)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        if uses & SLOW_FIXTURES or any(item.path.is_relative_to(f) for f in SLOW_FOLDERS):
            item.add_marker(pytest.mark.slow)
        if uses & SLOW_FIXTURES:
            item.add_marker(pytest.mark.fixture_synth)
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group(SYNTH_GROUP))
    items.sort(key=_rank)  # stable: the rest keep their order
    if getattr(config.option, "loadgroup", False):  # set on xdist workers under --dist loadgroup
        for item in items:
            if groups := _groups(item):
                _pin_to_group(item, groups)


def _heavy(args: Any) -> str | None:
    """The program of a subprocess command line when it is one a fast test must not start."""
    argv = shlex.split(args) if isinstance(args, str) else [os.fspath(a) for a in args]
    if not argv or any(a.endswith("jsii-runtime.js") for a in argv):  # jsii's own Node
        return None
    program = Path(argv[0]).name
    if program.startswith("python") or argv[0] == sys.executable or program in HEAVY_PROGRAMS:
        return " ".join(argv[:4])
    return None


_CURRENT: list[pytest.Item] = []


def _guarded(execute_child: Callable[..., None]) -> Callable[..., None]:
    def execute(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        command = _heavy(args)
        if _CURRENT and command is not None:
            pytest.fail(
                f"{_CURRENT[0].nodeid} starts `{command}`: mark it @pytest.mark.slow "
                "(`make test-fast` runs no subprocesses)",
                pytrace=False,
            )
        execute_child(self, args, *rest, **kwargs)

    return execute


def pytest_configure(config: pytest.Config) -> None:
    controller = config.getoption("numprocesses", None) and not hasattr(config, "workerinput")
    if coverage_tracer() is not None and not controller:
        install_untraced()  # tests/untraced.py: coverage pauses inside jsii, botocore and moto
    popen: Any = subprocess.Popen
    popen._execute_child = _guarded(popen._execute_child)
    # Full (generation 2) garbage collections walk every object the imports made (aws_cdk, boto3,
    # moto, pydantic: millions): at Python's default (700, 10, 10) they took 2-3 s of CPU per
    # ~900 tests. Ten times rarer, and none of the collection-time objects (gc.freeze below).
    gc.set_threshold(700, 10, 100)


# A test marked reruns_config_tests (tests/test_add_environment.py) runs every test module that
# reads config/ again, in a copy of this checkout with one environment more. In a session that
# runs it, the end-to-end tests (marker e2e) of those modules run there only: the copy holds these
# same files, so its run covers this one, and each such run synthesizes every environment twice
# (the review's: about 23 s of CPU). Without that test (`pytest tests/unit/review`, `-k review`,
# or the copy deselected), they run here as always.
IN_THE_COPY_ONLY = (
    "runs in the add-environment copy (tests/test_add_environment.py) with every environment "
    "of config/ and one more"
)


def run_in_the_copy_only(items: list[pytest.Item]) -> list[pytest.Item]:
    if not any(item.get_closest_marker("reruns_config_tests") for item in items):
        return []
    rerun = set(config_reading_modules(ROOT))
    return [item for item in items if item.get_closest_marker("e2e") and item.path in rerun]


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in run_in_the_copy_only(session.items):  # the selected tests, -m and -k applied
        item.add_marker(pytest.mark.skip(reason=IN_THE_COPY_ONLY))
    gc.freeze()  # what import and collection made lives for the whole run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """From setup to teardown of a test not marked slow, heavy subprocesses fail it."""
    if item.get_closest_marker("slow") is None:
        _CURRENT[:] = [item]
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield
    _CURRENT.clear()
