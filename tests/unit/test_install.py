"""Every install path works with the pip each supported Python bundles (issue 20, 1): Python
3.11's pip 23.2.1 refuses a hashed requirement reached through an extra (``coverage[toml]``), so
every virtualenv the Makefile makes gets the pinned, hashed pip of ``requirements-pip.lock``
before anything else. CI (``.ci/run``) runs ``make test`` with the machine's ``python3`` (3.11,
the oldest supported) and its bundled pip, which exercises the whole path."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_make

MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def _rule(target: str) -> str:
    """The prerequisites line and recipe of a Makefile rule."""
    match = re.search(rf"^{re.escape(target)}:.*?(?=^\S|\Z)", MAKEFILE, re.M | re.S)
    assert match, f"no rule {target}"
    return match.group(0)


def test_the_pip_lock_pins_a_pip_with_hashes() -> None:
    lock = (ROOT / "requirements-pip.lock").read_text(encoding="utf-8")
    version = re.search(r"^pip==(\d+)\.(\d+)", lock, re.M)
    assert version, "requirements-pip.lock pins no pip"
    assert (int(version.group(1)), int(version.group(2))) >= (24, 0)
    assert "--hash=sha256:" in lock


def test_every_virtualenv_gets_the_pinned_pip_before_any_lock() -> None:
    assert "$(STAMP_PIP)" in _rule("$(STAMP_DEPS)").splitlines()[0]
    assert "--require-hashes -r requirements-pip.lock" in _rule("$(STAMP_PIP)")
    scan = _rule("$(STAMP_SCAN)").split("\n", 1)[1]  # the recipe
    assert scan.index("-r requirements-pip.lock") < scan.index("-r requirements-scan.lock")
    # Every `python -m venv` in the Makefile is followed by the pinned pip or the stamp.
    assert MAKEFILE.count("-m venv") == 2


def test_the_oldest_supported_python_is_the_one_ci_and_the_locks_target() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["requires-python"] == ">=3.11"
    assert "--python-version 3.11" in MAKEFILE
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_project_installs_compile_nothing() -> None:
    # pip would compile every file it installs, one after another, most of them never imported:
    # Python compiles what it imports, once (the next test).
    assert re.search(
        r"^PIP_INSTALL := -m pip install .*--no-compile --require-hashes$", MAKEFILE, re.M
    )
    for stamp, lock in (("$(STAMP_DEPS)", "requirements.lock"),
                        ("$(STAMP_DEV)", "requirements-dev.lock")):  # fmt: skip
        recipe = _rule(stamp).split("\n", 1)[1]
        assert f"$(PY) $(PIP_INSTALL) -r {lock}" in recipe
        assert "compileall" not in recipe


@pytest.mark.slow  # make in a subprocess
def test_every_python_the_makefile_runs_writes_bytecode(tmp_path: Path) -> None:
    """Where the machine sets PYTHONDONTWRITEBYTECODE (this one and its CI do), the Pythons that
    make starts still keep what they compile, plain and optimized (cdk.json runs the app with -O),
    so that the next run reads it instead of compiling it again."""
    module = tmp_path / "probe_module.py"
    module.write_text("VALUE = 1\n")
    probe = f'import sys; sys.path.insert(0, "{tmp_path}"); import probe_module'
    recipe = f"probe: ; @$(PY) -c '{probe}' && $(PY) -O -c '{probe}'"
    result = run_make("--eval", recipe, "probe", env={"PYTHONDONTWRITEBYTECODE": "1"}, timeout=60)
    assert result.returncode == 0, result.stderr
    cached = sorted(p.name for p in (tmp_path / "__pycache__").iterdir())
    tag = sys.implementation.cache_tag
    assert cached == [f"probe_module.{tag}.opt-1.pyc", f"probe_module.{tag}.pyc"]


def test_install_dev_installs_checkovs_virtualenv_alongside() -> None:
    assert _rule("installed-dev").splitlines()[0].split(":", 1)[1].split() == [
        "install",
        "$(STAMP_DEV)",
        "$(STAMP_SCAN)",
    ]
    # Side by side when this make is not one job of a parallel make already.
    assert "$(if $(filter -j%,$(MAKEFLAGS)),,-j2 --output-sync=line) installed-dev" in _rule(
        "install-dev"
    )
