#!/usr/bin/env python3
"""Benchmarks (run with `make bench`): numbers, not a timed test.

1. Synth: the full app (every environment, every compliance pack) against an empty CDK app,
   same interpreter and Node, runs alternating in one invocation; prints the median ratio.
   Target: <= 3.0.
2. Import: `import retrain` (the retraining handler) against a bare `import boto3`, alternating.
   Target: <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMPTY_APP = "import aws_cdk as cdk\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"
SYNTH_TARGET = 3.0
IMPORT_TARGET = 1.2


def cli_context() -> str:
    """What `cdk synth` passes an app: cdk.json flags, committed lookups, and the CLI's own
    failSynthOnValidationErrors=false (our app overrides it; the empty app needs it because
    an empty stack fails CDK's built-in template validation)."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update(json.loads((ROOT / "cdk.context.json").read_text()))
    context["@aws-cdk/core:failSynthOnValidationErrors"] = False
    return json.dumps(context)


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"benchmark command failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    return elapsed


def alternate(
    a: tuple[str, list[str]], b: tuple[str, list[str]], *, env: dict[str, str], runs: int
) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` (label, command) in turn, ``runs`` times each, after a warm-up."""
    (label_a, cmd_a), (label_b, cmd_b) = a, b
    a_times: list[float] = []
    b_times: list[float] = []
    timed(cmd_a, env)  # warm-up: file caches, .pyc
    timed(cmd_b, env)
    for i in range(runs):
        a_times.append(timed(cmd_a, env))
        b_times.append(timed(cmd_b, env))
        print(f"  run {i + 1}/{runs}: {label_a} {a_times[-1]:.2f}s  {label_b} {b_times[-1]:.3f}s")
    return a_times, b_times


def report(name: str, a: list[float], b: list[float], target: float) -> bool:
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    ratio = statistics.median(ratios)
    ok = ratio <= target
    print(
        f"{name}: median {statistics.median(a):.3f}s vs {statistics.median(b):.3f}s, "
        f"median ratio {ratio:.2f} (target <= {target}) {'OK' if ok else 'ABOVE TARGET'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="alternating synth runs (default 5)")
    parser.add_argument("--import-runs", type=int, default=15, help="import runs (default 15)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when above a target")
    args = parser.parse_args()

    python = sys.executable
    env = dict(os.environ)
    env["PATH"] = f"{Path(python).parent}{os.pathsep}{env.get('PATH', '')}"
    node = subprocess.run(
        ["node", "--version"], env=env, capture_output=True, text=True, check=False
    )
    print(f"python {sys.version.split()[0]}, node {node.stdout.strip() or 'not found'}")

    with tempfile.TemporaryDirectory() as out:
        env["CDK_OUTDIR"] = out
        env["CDK_CONTEXT_JSON"] = cli_context()
        print("synth: full app (all environments, all packs) vs empty app")
        full, empty = alternate(
            ("full", [python, "app.py"]),
            ("empty", [python, "-c", EMPTY_APP]),
            env=env,
            runs=args.runs,
        )
    ok = report("synth", full, empty, SYNTH_TARGET)

    env["PYTHONPATH"] = str(ROOT / "lambda" / "retrain")
    print("import: retrain handler vs bare boto3")
    handler, boto = alternate(
        ("retrain", [python, "-c", "import retrain"]),
        ("boto3", [python, "-c", "import boto3"]),
        env=env,
        runs=args.import_runs,
    )
    ok = report("import", handler, boto, IMPORT_TARGET) and ok
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
