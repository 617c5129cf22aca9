#!/usr/bin/env python3
"""AWS Control Tower proactive controls over the synthesized templates (`make controls`).

    python scripts/control_tower.py [FOLDER ...] [--exceptions FILE] [--jobs N] [--allow-stale]

Runs the cfn-guard that npm's @cdklabs/cdk-validator-cfnguard bundles (pinned in package.json,
installed by `npm ci`) with the package's Control Tower rules over every *.template.json under
the folders (default: cdk.out and cdk.out.pipeline, those present), once per job with many
--data files and the rule files that name a resource type the templates hold (the others can
only skip), and compares the failures with the committed exceptions
(mlops_cdk/compliance/control_tower_exceptions.yaml). Prints one line per unexpected failure
(template (stack): logical id, resource type, control id: cfn-guard's message) and one per
stale exception (an entry that covered nothing), then a summary with the time taken.

Exit codes: 0 every failure is an exception and no exception is stale; 1 unexpected failures or
stale exceptions; 2 usage, missing package or templates, bad exceptions file, cfn-guard error.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[1]


def _load_checker() -> ModuleType:
    """mlops_cdk/compliance/control_tower.py by its path: importing it through its package
    would run mlops_cdk.compliance's __init__, which starts jsii (aws_cdk) for nothing."""
    path = ROOT / "mlops_cdk" / "compliance" / "control_tower.py"
    spec = importlib.util.spec_from_file_location("control_tower_checker", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


ct = _load_checker()
DEFAULT_FOLDERS = ("cdk.out", "cdk.out.pipeline")
DEFAULT_EXCEPTIONS = ROOT / "mlops_cdk" / "compliance" / "control_tower_exceptions.yaml"
GUARD_TIMEOUT_SECONDS = 900


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}; {self.format_usage().strip()}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="cloud assembly folders")
    parser.add_argument("--exceptions", type=Path, default=DEFAULT_EXCEPTIONS)
    parser.add_argument("--package", type=Path, default=ROOT / "node_modules" / ct.PACKAGE)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--allow-stale",
        action="store_true",
        help="do not fail on exceptions that covered nothing (for a partial set of templates)",
    )
    return parser.parse_args(argv)


def run_guard(binary: Path, rules: list[Path], templates: list[Path]) -> list[dict[str, Any]]:
    result = subprocess.run(
        ct.guard_command(binary, rules, templates),
        capture_output=True,
        text=True,
        timeout=GUARD_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode not in ct.GUARD_OK_CODES:
        detail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"cfn-guard exited {result.returncode}: {detail}")
    records = json.loads(result.stdout or "[]")
    return records if isinstance(records, list) else [records]


def folders_to_check(given: list[Path]) -> list[Path]:
    if given:
        missing = [str(f) for f in given if not f.is_dir()]
        if missing:
            raise UsageError(f"no such folder: {', '.join(missing)}")
        return given
    present = [Path(f) for f in DEFAULT_FOLDERS if Path(f).is_dir()]
    if not present:
        raise UsageError(f"none of {', '.join(DEFAULT_FOLDERS)} exists: run make synth first")
    return present


def report(comparison: Any, *, allow_stale: bool) -> None:
    for failure in comparison.unexpected:
        print(f"UNEXPECTED {failure.line()}")
    if not allow_stale:
        for exception in comparison.stale:
            print(f"STALE exception {exception.describe()}: it covered no failure, remove it")


def main(argv: list[str]) -> int:
    started = time.monotonic()
    args = parse_args(argv)
    binary = ct.guard_binary(args.package)
    rules = args.package / ct.RULES_SUBDIR
    if not binary.is_file() or not rules.is_dir():
        raise UsageError(f"{binary} or {rules} missing: run `npm ci` (make install)")
    folders = folders_to_check(args.folders)
    templates = ct.find_templates(folders)
    if not templates.files:
        raise UsageError(f"no *.template.json under {', '.join(map(str, folders))}")
    exceptions = ct.load_exceptions(args.exceptions, known_controls=ct.known_controls(rules))
    resource_types = {str(t): ct.resource_types_of(t) for t in templates.files}
    rule_files = ct.rule_files_for(
        rules, {kind for kinds in resource_types.values() for kind in kinds.values()}
    )
    parts = ct.chunks(templates.files, args.jobs) if rule_files else []
    with ThreadPoolExecutor(max_workers=max(1, len(parts))) as pool:
        outputs = list(pool.map(lambda part: run_guard(binary, rule_files, part), parts))
    records = [record for output in outputs for record in output]
    failures = ct.parse_guard_output(
        records, stacks=templates.stacks, resource_types=resource_types
    )
    comparison = ct.compare(failures, exceptions)
    report(comparison, allow_stale=args.allow_stale)
    stale = 0 if args.allow_stale else len(comparison.stale)
    print(
        f"control tower: {len(templates.files)} templates in {', '.join(map(str, folders))}, "
        f"{len(failures)} failures: {len(comparison.covered)} covered by "
        f"{len(exceptions) - len(comparison.stale)} exceptions, "
        f"{len(comparison.unexpected)} unexpected, {stale} stale exceptions "
        f"({time.monotonic() - started:.1f} s, {len(parts)} cfn-guard runs, "
        f"{len(rule_files)} of the rule files: those naming a resource type deployed)"
    )
    return 0 if not comparison.unexpected and not stale else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (UsageError, ct.ExceptionsFileError, RuntimeError, FileNotFoundError) as error:
        print(f"control tower: {error}", file=sys.stderr)
        sys.exit(2)
    except subprocess.TimeoutExpired as error:
        print(f"control tower: cfn-guard took over {error.timeout} s", file=sys.stderr)
        sys.exit(2)
