"""scripts/review.py: one-line errors, and one end-to-end run against a changed config."""

from __future__ import annotations

import copy
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_cdk.config import known_environments
from tests.helpers import yaml_data, yaml_text

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "review.py"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
GIT = shutil.which("git") or "git"
pytestmark = pytest.mark.slow  # scripts/review.py in subprocesses


def review(
    cwd: Path, *args: str, timeout: int = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "scripts/review.py", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        [GIT, "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_an_unknown_ref_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = review(ROOT, "--base", "no-such-ref-xyz", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr == "review: unknown git ref 'no-such-ref-xyz'\n"
    assert not (tmp_path / "out").exists()


def test_a_usage_error_is_one_line_and_exit_2() -> None:
    result = review(ROOT)
    assert result.returncode == 2
    assert result.stderr.startswith("review: the following arguments are required: --base")
    assert result.stderr.count("\n") == 1


def test_a_base_without_the_app_says_so(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    git(repo, "init", "--quiet")
    (repo / "README.md").write_text("before the app\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "--quiet", "-m", "no app yet")
    shutil.copy2(SCRIPT, repo / "scripts" / "review.py")
    result = review(repo, "--base", "HEAD")
    assert result.returncode == 1
    assert result.stderr == "review: base 'HEAD' has no app.py: nothing to synthesize\n"


def test_a_base_that_fails_to_synthesize_says_so(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    git(repo, "init", "--quiet")
    (repo / "app.py").write_text("import sys\nsys.exit('broken app')\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "--quiet", "-m", "broken")
    shutil.copy2(SCRIPT, repo / "scripts" / "review.py")
    result = review(repo, "--base", "HEAD")
    assert result.returncode == 1
    assert result.stderr == "review: base 'HEAD' failed to synthesize (exit 1): broken app\n"
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def table_rows(markdown: str, heading: str) -> list[str]:
    """The table rows (without header) right under ``heading``."""
    lines = markdown.splitlines()
    start = lines.index(heading) + 4  # heading, blank, header, separator
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def overview(markdown: str) -> dict[str, str]:
    """Stack -> the rest of its row, from the table of every stack at the top of a report."""
    lines = markdown.splitlines()
    start = lines.index("| stack | service | change | added | removed | replaced | updated |")
    found = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        stack, rest = line.split(" | ", 1)
        found[stack.strip("| `")] = rest
    return found


def section(markdown: str, heading: str) -> str:
    """The text from ``heading`` (a ``## `` line) up to the next ``## `` line."""
    start = markdown.index(f"\n{heading}\n") + 1
    end = markdown.find("\n## ", start)
    return markdown[start : end if end != -1 else None]


@pytest.mark.e2e
def test_changes_are_grouped_per_service(tmp_path: Path) -> None:
    """stage: one service's weight changes; dev: a service is added; prod: nothing."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(ROOT), str(clone))
    # The clone is HEAD; bring this working tree's code along (the review tools, the cost
    # estimate its report uses, and the package they read facts and configuration from): it may
    # be uncommitted, or moved since HEAD.
    for package in ("mlops_tools", "mlops_cdk"):
        shutil.rmtree(clone / package)
        shutil.copytree(
            ROOT / package, clone / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy2(SCRIPT, clone / "scripts" / "review.py")
    shutil.copy2(ROOT / "app.py", clone / "app.py")

    stage_file = clone / "config" / "stage.yaml"
    stage = yaml_data(stage_file.read_text())
    names = sorted(stage["services"])
    assert len(names) >= 2, "stage needs two services for this test"
    changed = names[-1]
    variant = stage["services"][changed]["variants"][0]
    old = variant["initial_weight"]
    new = old + 2
    variant["initial_weight"] = new
    stage_file.write_text(yaml_text(stage, sort_keys=False))

    dev_file = clone / "config" / "dev.yaml"
    dev = yaml_data(dev_file.read_text())
    existing = sorted(dev["services"])
    added = "review-added"
    service = copy.deepcopy(dev["services"][existing[0]])
    # Its artifacts under its own prefix: every model_data_key, of a model or of a container.
    service["models"] = yaml_data(
        yaml_text(service["models"]).replace(f"models/{existing[0]}/", f"models/{added}/")
    )
    dev["services"][added] = service
    dev_file.write_text(yaml_text(dev, sort_keys=False))

    out = tmp_path / "review"
    # Both sides without aws-cdk-lib's built-in CloudFormation Validate plugin (CDK_VALIDATION=
    # false, a WebAssembly engine: about 7 s of CPU per side): the review reads the templates and
    # the acknowledgements in the assembly's metadata, which are the same with it or without it
    # (only validation-report.json loses that plugin's entry), and the synth still fails on any
    # compliance finding. The fixture environments pass that validator in the session synth
    # (tests/test_gates.py), the committed ones in `make synth`.
    environ = {**os.environ, "CDK_VALIDATION": "false"}
    result = review(clone, "--base", "HEAD", "--out", str(out), timeout=900, env=environ)

    assert result.returncode == 0, result.stderr
    # One report per environment of config/, however many there are (README "Add an
    # environment"): dev and stage changed above, every other one is unchanged.
    environments = known_environments(clone / "config")
    assert {"dev", "stage", "prod"} <= set(environments)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{env}.md" for env in environments)

    # stage: only the changed service's serving stack changes; one section per part.
    report = (out / "stage.md").read_text()
    assert report.startswith("# Review of `stage` against `HEAD`\n")
    stacks = ["stage-Foundation"]
    for name in names:
        stacks += [f"stage-{name}-Registry", f"stage-{name}"]
    rows = overview(report)
    assert list(rows) == stacks
    # The endpoint config is replaced; the endpoint is updated, and so is the change-detection
    # rule where there is one (its pattern names the endpoint config).
    updated = 1 + (1 if stage.get("change_detection") else 0)
    assert rows[f"stage-{changed}"] == f"`{changed}` | **changed** | 0 | 0 | 1 | {updated} |"
    for stack in stacks:
        if stack != f"stage-{changed}":
            assert "| unchanged |" in rows[stack], stack
    assert section(report, "## Foundation").startswith("## Foundation\n\nNo changes in")
    for name in names[:-1]:
        assert section(report, f"## Service `{name}`").splitlines()[2] == (
            f"No changes in `stage-{name}-Registry`, `stage-{name}`."
        )
    service_section = section(report, f"## Service `{changed}`")
    heading = next(h for h in service_section.splitlines() if h.endswith("before → after"))
    (row,) = [
        r for r in table_rows(service_section, heading) if r.startswith(f"| `{variant['name']}` |")
    ]
    assert f"| **{old} → {new}** |" in row
    (replaced,) = table_rows(service_section, "#### Replaced (1)")
    assert "`AWS::SageMaker::EndpointConfig`" in replaced
    assert "`ProductionVariants` (create-only)" in replaced
    updated_rows = table_rows(service_section, f"#### Updated ({updated})")
    assert any("`AWS::SageMaker::Endpoint`" in row for row in updated_rows)
    if updated == 2:
        assert any("`AWS::Events::Rule`" in row for row in updated_rows)
    assert "[!CAUTION]" not in report

    # dev: the new service is one line at the top and collapsed below; the rest is unchanged.
    report = (out / "dev.md").read_text()
    top = report[: report.index("\n## ")]
    (line,) = [line for line in top.splitlines() if line.startswith("- ")]
    assert line.startswith(
        f"- **service `{added}` added**: stacks `dev-{added}-Registry`, `dev-{added}` ("
    )
    rows = overview(report)
    assert rows[f"dev-{added}"].startswith(f"`{added}` | **new** |")
    assert rows[f"dev-{added}-Registry"].startswith(f"`{added}` | **new** |")
    for name in ["Foundation", *(f"{n}-Registry" for n in existing), *existing]:
        assert "| unchanged |" in rows[f"dev-{name}"], name
    assert "[!CAUTION]" not in report
    assert "[!WARNING]" not in report
    # The cost section prices the new service and leaves the rest unchanged.
    cost = section(report, "## Cost")
    assert f"| `{added}` | new: " in cost
    assert "| Foundation | " in cost
    new_service = section(report, f"## Service `{added}`")
    assert "\n<details>\n" in new_service
    assert "`AWS::SageMaker::Endpoint`" in new_service.split("<details>", 1)[1]

    for env in set(environments) - {"dev", "stage"}:
        report = (out / f"{env}.md").read_text()
        assert "**No changes**" in report, env
        assert "### Resources" not in report, env
    # The base's worktree is gone again.
    assert git(clone, "worktree", "list", "--porcelain").count("worktree ") == 1


# A stand-in for app.py: a cloud assembly with one empty stage per name in environments.txt.
STUB_APP = """\
import json, os, pathlib
out = pathlib.Path(os.environ["CDK_OUTDIR"])
artifacts = {}
for env in pathlib.Path("environments.txt").read_text().split():
    (out / env).mkdir(parents=True)
    (out / env / "manifest.json").write_text('{"artifacts": {}}')
    properties = {"directoryName": env, "displayName": env}
    artifacts[env] = {"type": "cdk:cloud-assembly", "properties": properties}
(out / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
"""


def stub_repo(tmp_path: Path, app: str, environments: str = "dev") -> Path:
    """A repository whose HEAD has ``app`` as app.py, with scripts/review.py of this tree."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    git(repo, "init", "--quiet")
    (repo / "app.py").write_text(app)
    (repo / "environments.txt").write_text(environments)
    git(repo, "add", "app.py", "environments.txt")
    git(repo, "commit", "--quiet", "-m", "stub app")
    shutil.copy2(SCRIPT, repo / "scripts" / "review.py")
    return repo


def stub_review(repo: Path, out: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    """scripts/review.py of ``repo`` against HEAD, the review tools from this tree."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environ}
    return review(repo, "--base", "HEAD", "--out", str(out), env=env)


def test_the_output_holds_exactly_the_last_runs_reports(tmp_path: Path) -> None:
    repo = stub_repo(tmp_path, STUB_APP)
    out = tmp_path / "reports" / "review"
    (repo / "environments.txt").write_text("dev sandbox")
    result = stub_review(repo, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["dev.md", "sandbox.md"]
    assert result.stdout == f"review: wrote {out}/dev.md\nreview: wrote {out}/sandbox.md\n"

    (repo / "environments.txt").write_text("dev")  # sandbox removed again
    result = stub_review(repo, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["dev.md"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["review"]  # no staging folder left

    (repo / "app.py").write_text("import sys\nsys.exit('broken app')\n")
    result = stub_review(repo, out)
    assert result.returncode == 1
    assert result.stderr == "review: the working tree failed to synthesize (exit 1): broken app\n"
    assert list(out.parent.iterdir()) == []  # no report of an earlier run passes for this one's


def test_an_output_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    repo = stub_repo(tmp_path, STUB_APP)
    out = tmp_path / "docs"
    out.mkdir()
    (out / "index.md").write_text("# Hand-written\n")
    (out / "dev.md").write_text("# Review of `dev` against `HEAD`\n")
    result = stub_review(repo, out)
    assert result.returncode == 2
    assert result.stderr == (
        f"review: --out: {out} holds index.md, which is not a review report: "
        "give a new folder or one of review reports only (it is replaced as a whole)\n"
    )
    assert sorted(p.name for p in out.iterdir()) == ["dev.md", "index.md"]
    assert (out / "index.md").read_text() == "# Hand-written\n"
    result = stub_review(repo, out / "index.md")
    assert result.returncode == 2
    assert result.stderr == f"review: --out: {out}/index.md is a file, not a folder\n"


# A synthesis that takes its time and has a child of its own (as jsii's Node process is): says
# they started (a file named by each process id), then sleeps.
SLOW_APP = """\
import os, pathlib, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
for pid in (child.pid, os.getpid()):
    pathlib.Path(os.environ["REVIEW_TEST_STARTED"], str(pid)).touch()
time.sleep(300)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_sigterm_removes_the_worktree_the_temporary_folders_and_the_synths(
    tmp_path: Path,
) -> None:
    """As a CI cancellation does: SIGTERM to the review process alone, mid-synthesis."""
    repo = stub_repo(tmp_path, SLOW_APP)
    started, temp, out = tmp_path / "started", tmp_path / "tmp", tmp_path / "review"
    started.mkdir()
    temp.mkdir()
    out.mkdir()
    (out / "dev.md").write_text("# Review of `dev` against `HEAD`\n")  # an earlier run's
    env = {**os.environ, "TMPDIR": str(temp), "REVIEW_TEST_STARTED": str(started)}
    process = subprocess.Popen(
        [PYTHON, "scripts/review.py", "--base", "HEAD", "--out", str(out)],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    synths: list[int] = []
    try:
        assert wait_until(lambda: len(list(started.iterdir())) == 4, 60), process.poll()
        synths = [int(p.name) for p in started.iterdir()]
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 128 + signal.SIGTERM, stderr
        assert stderr == ""
        assert wait_until(lambda: not any(alive(pid) for pid in synths), 10)
        assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
        assert list(temp.iterdir()) == []
        assert list(tmp_path.glob(".review*")) == []  # no staging folder next to the output
        assert not out.exists()  # the earlier run's report does not pass for this one's
    finally:
        process.kill()
        process.wait()
        for pid in synths:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
