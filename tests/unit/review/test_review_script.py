"""scripts/review.py: one-line errors, and one end-to-end run against a changed config."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "review.py"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)
GIT = shutil.which("git") or "git"


def review(cwd: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "scripts/review.py", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
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


@pytest.mark.e2e
def test_a_weight_change_replaces_the_endpoint_config_in_dev_only(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(ROOT), str(clone))
    # The clone is HEAD; bring this working tree's review code along (it may be uncommitted).
    shutil.copytree(
        ROOT / "mlops_cdk" / "review",
        clone / "mlops_cdk" / "review",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy2(SCRIPT, clone / "scripts" / "review.py")
    config_file = clone / "config" / "dev.yaml"
    config = yaml.safe_load(config_file.read_text())
    variant = config["serving"]["variants"][0]
    old = variant["initial_weight"]
    new = old + 2
    variant["initial_weight"] = new
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))

    out = tmp_path / "review"
    result = review(clone, "--base", "HEAD", "--out", str(out), timeout=900)

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["dev.md", "prod.md", "stage.md"]
    dev = (out / "dev.md").read_text()
    assert dev.startswith("# Review of `dev` against `HEAD`\n")
    (row,) = [
        r
        for r in table_rows(dev, next(h for h in dev.splitlines() if h.endswith("before → after")))
        if r.startswith(f"| `{variant['name']}` |")
    ]
    assert f"| **{old} → {new}** |" in row
    (replaced,) = table_rows(dev, "### Replaced (1)")
    assert "`AWS::SageMaker::EndpointConfig`" in replaced
    assert "`ProductionVariants` (create-only)" in replaced
    (updated,) = table_rows(dev, "### Updated (1)")
    assert "`AWS::SageMaker::Endpoint`" in updated
    assert "[!CAUTION]" not in dev
    for environment in ("stage", "prod"):
        report = (out / f"{environment}.md").read_text()
        assert "**No changes**" in report
        assert "## Resources" not in report
    # The base's worktree is gone again.
    assert git(clone, "worktree", "list", "--porcelain").count("worktree ") == 1
