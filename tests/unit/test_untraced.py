"""tests/untraced.py: pausing coverage inside library calls changes nothing coverage records.

A sample is run twice under ``coverage run --branch`` (the C tracer, as under pytest-cov): once
calling a "library" plainly and once through :func:`untraced`, with the library's callbacks into
measured code wrapped in :func:`traced`. The measured module's lines and arcs must be the same,
the library must have run untraced and the callbacks traced.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from tests.helpers import ROOT
from tests.untraced import JSII_CALLS, install, untraced

MEASURED = """\
def outer(library, callback, failing):
    total = library(callback, 2)
    if total > 1:
        total += 1
    try:
        failing()
    except ValueError:
        total += 10
    for step in range(2):
        total += library(callback, step)
    return total


def callback(library, again, value):
    if value:
        inner = library(again, value - 1)
        return inner * 2 + value
    return 0
"""

LIBRARY = """\
import sys

STATES = []


def library(callback, value):
    STATES.append(("library", sys.gettrace() is None))
    return callback(library, value)


def failing():
    STATES.append(("failing", sys.gettrace() is None))
    raise ValueError("from the library")
"""

RUN = """\
import json, sys
sys.path[:0] = [sys.argv[2], sys.argv[3]]
import lib
import measured
from tests.untraced import traced, untraced

wrap = sys.argv[1] == "wrapped"
library = untraced(lib.library) if wrap else lib.library
failing = untraced(lib.failing) if wrap else lib.failing


def callback(_library, value):  # into measured code, which calls the library again
    lib.STATES.append(("callback", sys.gettrace() is None))
    return measured.callback(library, again, value)


again = traced(callback) if wrap else callback
result = measured.outer(library, again, failing)
print(json.dumps({"result": result, "states": lib.STATES}))
"""


def run_sample(tmp_path: Path, mode: str) -> tuple[dict[str, object], coverage.CoverageData]:
    source, library = tmp_path / "src", tmp_path / "lib"
    for folder, name, text in ((source, "measured.py", MEASURED), (library, "lib.py", LIBRARY)):
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(text)
    (tmp_path / "run.py").write_text(RUN)
    data_file = tmp_path / f".coverage.{mode}"
    done = subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data_file}",
         f"--include={source}/*", str(tmp_path / "run.py"), mode, str(source), str(library)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "COVERAGE_CORE": "ctrace"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    return json.loads(done.stdout), data


@pytest.mark.slow  # coverage runs in subprocesses
def test_coverage_records_the_same_lines_and_arcs_with_the_library_untraced(
    tmp_path: Path,
) -> None:
    plain, plain_data = run_sample(tmp_path, "plain")
    wrapped, wrapped_data = run_sample(tmp_path, "wrapped")
    assert wrapped["result"] == plain["result"] == 16
    measured = str(tmp_path / "src" / "measured.py")
    assert plain_data.measured_files() == wrapped_data.measured_files() == {measured}
    assert wrapped_data.lines(measured) == plain_data.lines(measured)
    assert wrapped_data.arcs(measured) == plain_data.arcs(measured)
    # Lines after each library call, and the callbacks' lines (called from inside it), counted.
    assert {4, 8, 10, 11, 16, 17, 18} <= set(wrapped_data.lines(measured) or [])
    # Plainly, the tracer runs everywhere; wrapped, not in the library, again in its callbacks.
    assert {untraced_ for _, untraced_ in plain["states"]} == {False}  # type: ignore[attr-defined]
    assert {(where, untraced_) for where, untraced_ in wrapped["states"]} == {  # type: ignore[attr-defined]
        ("library", True),
        ("failing", True),
        ("callback", False),
    }


def test_the_library_runs_without_a_tracer_and_its_result_comes_back() -> None:
    # Under `make test` coverage's tracer is paused for the call; under test-fast there is none.
    def library(value: int) -> int:
        assert sys.gettrace() is None
        return value + 1

    assert untraced(library)(1) == 2
    assert untraced(library).__wrapped__ is library  # type: ignore[attr-defined]


def test_install_wraps_jsiis_kernel_calls_and_callbacks_and_botocores_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3.session
    import botocore.client
    import jsii
    import jsii._kernel

    before = {name: getattr(jsii, name) for name in JSII_CALLS}
    callback = jsii._kernel._handle_callback  # type: ignore[attr-defined]
    call = botocore.client.BaseClient._make_api_call
    install(monkeypatch.setattr)
    for name in JSII_CALLS:
        assert getattr(jsii, name).__wrapped__ is before[name]
        assert getattr(jsii, name).__code__.co_name == "paused"
    assert jsii._kernel._handle_callback.__wrapped__ is callback  # type: ignore[attr-defined]
    assert jsii._kernel._handle_callback.__code__.co_name == "resumed"  # type: ignore[attr-defined]
    assert botocore.client.BaseClient._make_api_call.__wrapped__ is call  # type: ignore[attr-defined]
    assert boto3.session.Session.client.__code__.co_name == "paused"
