#!/usr/bin/env python3
"""Per-environment review reports of the working tree against a git ref (`make review`).

    python scripts/review.py --base origin/main [--out review]

Synthesizes the base ref (in a temporary git worktree outside the repository, always removed,
also on Ctrl-C or SIGTERM, with the synth processes) and the working tree, offline, with this
interpreter and the Node next to it, then writes <out>/<env>.md for every environment on either
side, grouped per service: a table of every stack (<env>-Foundation, <env>-<service>-Registry,
<env>-<service>), then one section per service and one for the Foundation
(mlops_tools/review/report.py). <out> then holds exactly this run's reports (a new folder next to
it replaces it; a failed or interrupted run removes the earlier reports); it must be new or hold
reports only. Exit codes: 0 reports written (also when they show replacements: the reports are
informational), 1 a side failed to synthesize, 2 usage or git errors, 130 / 143 interrupted
(SIGINT / SIGTERM). Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYNTH_TIMEOUT_SECONDS = 1800
# Variables that would make both sides synthesize the same thing or write to the same place.
SCRUBBED_ENV = ("MLOPS_CONFIG_DIR", "PYTHONPATH", "CDK_OUTDIR", "CDK_CONTEXT_JSON", "CDK_CONTEXT")
REPORT_HEADING = "# Review of `"  # the first line of every report (mlops_tools/review/report.py)


class ReviewError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Terminated(BaseException):
    """SIGTERM (a CI cancellation), raised like KeyboardInterrupt so that cleanups run."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum


def _terminated(signum: int, _frame: FrameType | None) -> NoReturn:
    signal.signal(signum, signal.SIG_IGN)  # a second one must not cut the cleanup short
    raise Terminated(signum)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ReviewError(f"{message}; {self.format_usage().strip()}", 2)


def git(*args: str) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise ReviewError(f"cannot run git: {exc}", 2) from exc
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ReviewError(f"git {' '.join(args)} failed: {detail}", 2)
    return result.stdout.strip()


def resolve(ref: str) -> str:
    """The commit a ref names, or a one-line error."""
    git("rev-parse", "--git-dir")  # not a repository -> git's own message
    if not ref or ref.startswith("-"):
        raise ReviewError(f"unknown git ref {ref!r}", 2)
    try:
        return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except ReviewError:
        raise ReviewError(f"unknown git ref {ref!r}", 2) from None


def has_app(commit: str) -> bool:
    try:
        git("cat-file", "-e", f"{commit}:app.py")
    except ReviewError:
        return False
    return True


def context_json(tree: Path) -> str:
    """What `cdk synth` passes the app: the tree's cdk.json context and committed lookups."""
    context: dict[str, object] = {}
    for name, key in (("cdk.json", "context"), ("cdk.context.json", None)):
        path = tree / name
        if path.exists():
            data = json.loads(path.read_text())
            context.update(data.get(key, {}) if key else data)
    context["@aws-cdk/core:failSynthOnValidationErrors"] = False
    return json.dumps(context)


@dataclass
class Synth:
    label: str
    tree: Path
    outdir: Path
    process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONPATH"] = str(self.tree)
        env["CDK_OUTDIR"] = str(self.outdir)
        try:
            env["CDK_CONTEXT_JSON"] = context_json(self.tree)
        except (OSError, ValueError) as exc:
            raise ReviewError(f"{self.label}: cannot read its CDK context: {exc}", 1) from exc
        # As cdk.json runs it: optimized (-O), without jsii's Python-side type checks; in its
        # own process group, so that stop() ends its Node process too.
        self.process = subprocess.Popen(
            [sys.executable, "-O", "app.py"],
            cwd=self.tree,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def wait(self) -> None:
        if self.process is None:
            raise ReviewError(f"{self.label} was not started", 1)
        try:
            _, stderr = self.process.communicate(timeout=SYNTH_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise ReviewError(f"{self.label} did not synthesize within the time limit", 1) from None
        if self.process.returncode != 0:
            lines = [line.strip() for line in stderr.splitlines() if line.strip()]
            reason = lines[-1] if lines else "no output"
            raise ReviewError(
                f"{self.label} failed to synthesize (exit {self.process.returncode}): {reason}", 1
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def synthesize(base: str, commit: str, scratch: Path) -> tuple[Path, Path]:
    """Cloud assemblies of the base commit (in a worktree) and of the working tree."""
    worktree = scratch / "base"
    git("worktree", "add", "--detach", "--quiet", str(worktree), commit)
    sides = [
        Synth(f"base {base!r}", worktree, scratch / "base.out"),
        Synth("the working tree", ROOT, scratch / "head.out"),
    ]
    try:
        for side in sides:
            side.start()
        for side in sides:
            side.wait()
    finally:
        for side in sides:
            side.stop()
        remove_worktree(worktree)
    return sides[0].outdir, sides[1].outdir


def remove_worktree(worktree: Path) -> None:
    try:
        git("worktree", "remove", "--force", str(worktree))
    except ReviewError:
        shutil.rmtree(worktree, ignore_errors=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=False)


def write_reports(base: str, commit: str, base_out: Path, head_out: Path, out: Path) -> list[Path]:
    from mlops_tools.review.assembly import AssemblyError, read_assembly
    from mlops_tools.review.report import render_report

    try:
        before, after = read_assembly(base_out), read_assembly(head_out)
    except AssemblyError as exc:
        raise ReviewError(str(exc), 1) from exc
    written = []
    for environment in sorted(before.keys() | after.keys()):
        old, new = before.get(environment, {}), after.get(environment, {})
        markdown = render_report(
            environment,
            base,
            {name: stack.template for name, stack in old.items()},
            {name: stack.template for name, stack in new.items()},
            acknowledgements_before=[a for stack in old.values() for a in stack.acknowledgements],
            acknowledgements_after=[a for stack in new.values() for a in stack.acknowledgements],
            base_has_environment=environment in before,
            base_commit=commit[:12],
            region=next((s.region for s in [*new.values(), *old.values()] if s.region), None),
        )
        path = out / f"{environment}.md"
        try:
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(markdown)
        except OSError as exc:
            raise ReviewError(f"cannot write {path}: {exc.strerror or exc}", 2) from exc
        written.append(path)
    return written


def is_report(path: Path) -> bool:
    if path.suffix != ".md" or path.is_symlink() or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as file:
        return file.readline().startswith(REPORT_HEADING)


def check_out(out: Path) -> None:
    """``out`` is new or a folder of reports only: a run replaces it as a whole."""
    if out.exists() and not out.is_dir():
        raise ReviewError(f"--out: {out} is a file, not a folder", 2)
    if out.exists() and (other := next((p for p in out.iterdir() if not is_report(p)), None)):
        raise ReviewError(
            f"--out: {out} holds {other.name}, which is not a review report: give a new folder "
            "or one of review reports only (it is replaced as a whole)",
            2,
        )


def remove_reports(out: Path) -> None:
    """The reports in ``out``, then ``out`` when nothing else is left."""
    for path in out.iterdir() if out.is_dir() else ():
        if is_report(path):
            path.unlink(missing_ok=True)
    with suppress(OSError):
        out.rmdir()


@contextmanager
def replacing(out: Path) -> Iterator[Path]:
    """A new folder next to ``out`` for the reports, which replaces ``out`` when the block
    succeeds; when it fails (or is interrupted) ``out`` loses its earlier reports too, so
    none passes for this run's."""
    check_out(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # as a plain mkdir would (mkdtemp's is private)
    except OSError as exc:
        raise ReviewError(f"cannot write {out}: {exc.strerror or exc}", 2) from exc
    try:
        yield staging
        check_out(out)  # again: something else may have been put there meanwhile
        swap(staging, out)
    except BaseException:
        remove_reports(out)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap(staging: Path, out: Path) -> None:
    earlier = staging.with_name(f"{staging.name}.earlier")
    try:
        if out.exists():
            out.rename(earlier)
        staging.rename(out)
    except OSError as exc:
        raise ReviewError(f"cannot write {out}: {exc.strerror or exc}", 2) from exc
    finally:
        shutil.rmtree(earlier, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="review", description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="git ref to compare against")
    parser.add_argument("--out", default="review", type=Path, help="report folder (review/)")
    args = parser.parse_args(argv)

    with replacing(args.out) as staging:
        commit = resolve(args.base)
        if not has_app(commit):
            raise ReviewError(f"base {args.base!r} has no app.py: nothing to synthesize", 1)
        with tempfile.TemporaryDirectory(prefix="mlops-review-") as scratch:
            base_out, head_out = synthesize(args.base, commit, Path(scratch))
            written = write_reports(args.base, commit, base_out, head_out, staging)
    for path in written:
        print(f"review: wrote {args.out / path.name}")
    if not written:
        print("review: no environments on either side; nothing written")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    try:
        sys.exit(main())
    except ReviewError as error:
        print(f"review: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Terminated as terminated:
        sys.exit(terminated.exit_code)
