#!/usr/bin/env python3
"""Whether ``cdk.out`` shows what the working tree deploys now, for the tools that read it
without synthesizing first (``make inventory``, ``make controls``, ``make scan``).

It is out of date when it is missing, when it lacks an environment asked for (``--env``; all of
``config/``'s without it), when it holds an environment ``config/`` no longer has (without
``--env``; neither check for the pipeline's assembly, ``--pipeline``), or when an input of the
synth changed after it was written: a file of ``config/``, ``app.py``, ``cdk.json``,
``cdk.context.json``, the package ``mlops_cdk/`` (the Lambda sources included: they are assets)
or a lock file (the aws-cdk-lib version). Only file times, the manifest and the names of
``config/``'s files are read: it takes about a second at most.

Exit 0 when current; else one line on stderr saying why and exit 1 (the caller synthesizes);
exit 2 when ``--env`` names no environment of ``config/`` (the caller stops, leaving ``cdk.out``
as it is).

``python scripts/assembly_current.py [--env ENV | --pipeline] [--label WHAT] [cdk.out]``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the checkout's package, not an installed one
    sys.path.insert(0, str(ROOT))
INPUT_FILES = ("app.py", "cdk.json", "cdk.context.json")
INPUT_GLOBS = ("config/*.yaml", "mlops_cdk/**/*", "requirements*.lock")
STAGE_PREFIX = "assembly-"  # a cdk.Stage's nested assembly: one per environment


def inputs(root: Path) -> Iterator[Path]:
    """The files a synth reads, ``__pycache__`` left out."""
    for name in INPUT_FILES:
        path = root / name
        if path.is_file():
            yield path
    for pattern in INPUT_GLOBS:
        for path in root.glob(pattern):
            if path.is_file() and "__pycache__" not in path.parts:
                yield path


def environments(outdir: Path) -> set[str]:
    """The environments (stage assemblies) of the cloud assembly in ``outdir``."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    artifacts: dict[str, dict[str, object]] = manifest.get("artifacts", {})
    return {
        name.removeprefix(STAGE_PREFIX)
        for name, artifact in artifacts.items()
        if artifact.get("type") == "cdk:cloud-assembly" and name.startswith(STAGE_PREFIX)
    }


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "no environment"


def out_of_date(outdir: Path, root: Path, env: str | None, *, pipeline: bool = False) -> str | None:
    """Why ``outdir`` does not show what ``root`` deploys now (None: it does); ``pipeline``:
    the pipeline's assembly, which holds no environment of its own."""
    manifest = outdir / "manifest.json"
    if not manifest.is_file():
        return f"{outdir} has no cloud assembly"
    if not pipeline and (reason := _environments_differ(outdir, root, env)):
        return reason
    written = manifest.stat().st_mtime
    newer = [path for path in inputs(root) if path.stat().st_mtime > written]
    if newer:
        first = min(newer, key=lambda path: str(path.relative_to(root)))
        more = f" and {len(newer) - 1} more" if len(newer) > 1 else ""
        return f"{outdir} is older than {first.relative_to(root)}{more}"
    return None


def _environments_differ(outdir: Path, root: Path, env: str | None) -> str | None:
    # Here, not at the top: the pipeline's check needs no configuration (about 0.5 s to import).
    from mlops_cdk.config import known_environments

    held = environments(outdir)
    known = set(known_environments(root / "config"))
    wanted = {env} if env else known
    if missing := wanted - held:
        return f"{outdir} has {_names(held)}, not {_names(missing)}"
    if not env and (gone := held - known):
        return f"{outdir} has {_names(gone)}, which config/ no longer has"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", default="cdk.out", type=Path)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--env", help="the one environment needed (default: every one)")
    scope.add_argument("--pipeline", action="store_true", help="the pipeline's assembly")
    parser.add_argument("--label", default="cdk.out", help="who asks, for the message")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.env:
        from mlops_cdk.config.loader import known_environments, unknown_environment

        known = known_environments(args.root / "config")
        if unknown := unknown_environment(args.env, known):
            print(f"{args.label}: {unknown}", file=sys.stderr)
            return 2  # nothing to synthesize: cdk.out stays as it is
    reason = out_of_date(args.outdir, args.root, args.env or None, pipeline=args.pipeline)
    if reason is None:
        return 0
    print(f"{args.label}: {reason}: synthesizing it again", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
