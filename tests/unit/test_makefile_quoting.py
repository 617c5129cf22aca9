"""The Makefile hands each value (ENV=, SERVICE=, VERSION=, ...) to its command as one
argument, as given: a quote in it neither breaks the shell's parsing of the command line nor adds
an option (``VERSION="4' --dry-run --version '5"`` once promoted version 5). Read from the argv
that a stand-in for the venv's Python (``PY=``) receives, the prerequisites not remade (``-o``);
where the real command runs, it stops at its first check (no AWS, nothing written)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.helpers import run_make

pytestmark = pytest.mark.slow  # make in a subprocess

QUOTED = "a'b\"c"  # both quotes: neither '...' nor "..." pasted around it would hold
INJECTION = "4' --dry-run --version '5"
# Values from the caller's environment (NAME is set on some systems) would add options here.
VARIABLES = ["ENV", "SERVICE", "VERSION", "PERCENT", "CHECK", "TIMEOUT", "ROLE_ARN"]
VARIABLES += ["ENDPOINT_NAME", "JOB", "INPUT", "NAME", "BUCKET", "WAIT", "REPOSITORY", "DATA"]
VARIABLES += ["EXCLUDE", "FEATURES", "CATEGORICAL", "OUT", "STACK", "MARKDOWN"]
CLEAN = dict.fromkeys(VARIABLES, "")


@pytest.fixture
def python(tmp_path: Path) -> Path:
    """A stand-in for the venv's Python that prints the arguments it was given."""
    path = tmp_path / "python"
    path.write_text(
        f"#!{sys.executable}\nimport json, sys\nprint('ARGV ' + json.dumps(sys.argv[1:]))\n"
    )
    path.chmod(0o755)
    return path


def commands(python: Path, *args: str) -> list[list[str]]:
    """The argv of each command the target ran with ``python`` as its Python."""
    done = run_make(*args, f"PY={python}", env=CLEAN, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line[5:]) for line in done.stdout.splitlines() if line.startswith("ARGV ")]


# target, the prerequisite not remade, its values, and the command's argv (a word that names a
# value stands for it).
CASES = [
    (
        "promote",
        "install-tools",
        {"ENV": "stage", "SERVICE": QUOTED, "VERSION": INJECTION, "PERCENT": QUOTED},
        "-m mlops_tools.promote --env ENV --service SERVICE --version VERSION "
        "--traffic-percent PERCENT",
    ),
    (
        "smoke",
        "install-tools",
        {"ENV": QUOTED, "SERVICE": INJECTION, "TIMEOUT": QUOTED, "ROLE_ARN": QUOTED}
        | {"ENDPOINT_NAME": QUOTED},
        "-m mlops_tools.smoke --env ENV --timeout-seconds TIMEOUT --service SERVICE "
        "--role-arn ROLE_ARN --endpoint-name ENDPOINT_NAME",
    ),
    (
        "batch-run",
        "install-tools",
        {"ENV": QUOTED, "SERVICE": QUOTED, "JOB": INJECTION, "INPUT": QUOTED, "NAME": QUOTED}
        | {"BUCKET": QUOTED, "ROLE_ARN": QUOTED},
        "-m mlops_tools.batch_run --env ENV --service SERVICE --job JOB --input INPUT "
        "--name NAME --bucket BUCKET --role-arn ROLE_ARN",
    ),
    (
        "preflight",
        "install-tools",
        {"ENV": INJECTION, "SERVICE": QUOTED, "ROLE_ARN": QUOTED, "BUCKET": QUOTED}
        | {"REPOSITORY": QUOTED},
        "-m mlops_tools.preflight --env ENV --service SERVICE --role-arn ROLE_ARN "
        "--bucket BUCKET --repository REPOSITORY",
    ),
    (
        "baseline",
        "install-dev",
        {"SERVICE": QUOTED, "DATA": INJECTION, "ENV": QUOTED, "EXCLUDE": QUOTED}
        | {"FEATURES": QUOTED, "CATEGORICAL": QUOTED, "BUCKET": QUOTED, "OUT": QUOTED},
        "scripts/baseline.py --service SERVICE --data DATA --env ENV --exclude EXCLUDE "
        "--features FEATURES --categorical CATEGORICAL --bucket BUCKET --out OUT",
    ),
    (
        "pipeline-check",
        "install-tools",
        {"ROLE_ARN": INJECTION},
        "-m mlops_tools.pipeline_check --role-arn ROLE_ARN",
    ),
    ("cost", "synth", {"ENV": INJECTION}, "-m mlops_tools.cost cdk.out --env ENV"),
    (
        "inventory",
        "install",
        {"ENV": QUOTED, "SERVICE": INJECTION},
        "-m mlops_tools.inventory cdk.out --env ENV --service SERVICE",
    ),
]


@pytest.mark.parametrize(
    ("target", "prerequisite", "values", "argv"), CASES, ids=[c[0] for c in CASES]
)
def test_each_value_reaches_the_command_as_one_argument(
    python: Path, target: str, prerequisite: str, values: dict[str, str], argv: str
) -> None:
    assignments = [f"{name}={value}" for name, value in values.items()]
    ran = commands(python, "-o", prerequisite, target, *assignments)
    assert ran[-1] == [values.get(word, word) for word in argv.split()]


def test_the_freshness_check_before_inventory_takes_env_as_given(python: Path) -> None:
    [check, _] = commands(python, "-o", "install", "inventory", f"ENV={QUOTED}")
    assert check[:4] == ["scripts/assembly_current.py", "cdk.out", "--env", QUOTED]


def test_review_takes_base_as_given_and_origin_main_by_default(python: Path) -> None:
    """BASE's default (BASE ?= in the Makefile) is exported with it: set -u finds it."""
    [review] = commands(python, "-o", "install-dev", "review", f"BASE={INJECTION}")
    assert review == ["scripts/review.py", "--base", INJECTION, "--out", "review"]
    if "BASE" not in os.environ:
        [review] = commands(python, "-o", "install-dev", "review")
        assert review == ["scripts/review.py", "--base", "origin/main", "--out", "review"]


def test_a_quoted_version_cannot_add_options_to_promote() -> None:
    """The real command: VERSION is one (bad) version, not --dry-run and version 5."""
    done = run_make("-o", "install-tools", "promote", "ENV=stage", "SERVICE=churn")
    assert done.returncode == 2  # the usage line: VERSION= missing
    done = run_make(
        "-o", "install-tools", "promote", "ENV=stage", "SERVICE=churn", f"VERSION={INJECTION}"
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines()[0] == (
        f"promote: VERSION {INJECTION!r} is not a package version (1, 2, ...)"
    )
    assert "+++ b/config/stage.yaml" not in done.stdout


def test_a_quote_in_env_is_an_unknown_environment_before_the_cdk() -> None:
    done = run_make("diff", "ENV=dev' --all '", env={"SERVICE": "", "STACK": ""})
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines()[0].startswith("ENV=dev' --all ': unknown environment")
    assert "npx cdk" not in done.stdout


def test_cost_refuses_service_before_the_synth() -> None:
    """The cost tool reports whole environments: SERVICE= would be ignored."""
    done = run_make("-o", "synth", "cost", "ENV=dev", "SERVICE=nonexistent", timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "SERVICE=nonexistent: make cost reports per environment" in line
    assert "mlops_tools.cost" not in done.stdout
