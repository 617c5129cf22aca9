"""``make cost``: monthly estimates per environment and service from a cloud assembly.

    python -m mlops_tools.cost [cdk.out] [--env dev ...] [--summary] [--requests-per-month N]

Reads ``manifest.json`` -> each stage's nested assembly -> its templates (the synthesized
templates, not the YAML), plus stacks outside any stage (the deployment pipeline, when the
assembly is the pipeline's). Exit codes: 0 printed; 1 an estimate failed (each missing price
or unreadable value on its own line); 2 usage, an unreadable assembly or an unknown environment.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import NoReturn

from mlops_tools.arguments import non_negative
from mlops_tools.cost.assumptions import Assumptions
from mlops_tools.cost.estimate import EnvironmentCost, EstimateError, estimate_environment
from mlops_tools.cost.prices import CostError, PriceBook
from mlops_tools.cost.render import render
from mlops_tools.review.assembly import (
    AssemblyError,
    StackArtifact,
    read_assembly,
    read_top_level_stacks,
)

TOP_LEVEL = "top-level"


class UsageError(Exception):
    """Exit 2: bad arguments, an unreadable assembly, an unknown environment."""


def environment_name(display_name: str) -> str:
    """``MlopsPipeline/dev`` (a stage inside the pipeline) -> ``dev``."""
    return display_name.rsplit("/", 1)[-1]


def region_of(environment: str, stacks: Mapping[str, StackArtifact]) -> str:
    regions = {stack.region for stack in stacks.values()}
    if None in regions:
        agnostic = sorted(name for name, stack in stacks.items() if stack.region is None)
        raise CostError(
            f"{environment}: stack {agnostic[0]} has no region (environment-agnostic): prices "
            "are per region"
        )
    if len(regions) != 1:
        raise CostError(
            f"{environment}: stacks in several regions ({', '.join(sorted(map(str, regions)))})"
        )
    (region,) = regions
    return str(region)


def assembly_environments(directory: Path) -> dict[str, Mapping[str, StackArtifact]]:
    """Environment name -> its stacks; stacks outside any stage under ``top-level``."""
    found: dict[str, Mapping[str, StackArtifact]] = {
        environment_name(name): stacks for name, stacks in read_assembly(directory).items()
    }
    top_level = read_top_level_stacks(directory)
    if top_level:
        found[TOP_LEVEL] = top_level
    return found


def estimate_assembly(
    directory: Path,
    *,
    prices: PriceBook,
    assumptions: Assumptions | None = None,
    environments: Sequence[str] = (),
) -> list[EnvironmentCost]:
    """Estimates of the assembly's environments (all, or those named), in name order."""
    try:
        available = assembly_environments(directory)
    except AssemblyError as exc:
        raise UsageError(str(exc)) from exc
    unknown = [name for name in environments if name not in available]
    if unknown:
        known = ", ".join(sorted(available)) or "none"
        raise UsageError(f"unknown environment {unknown[0]!r} in {directory} (it has: {known})")
    wanted = sorted(environments or available)
    costs, problems = [], []
    for name in wanted:
        stacks = available[name]
        try:
            costs.append(
                estimate_environment(
                    name,
                    {stack_name: stack.template for stack_name, stack in stacks.items()},
                    region=region_of(name, stacks),
                    prices=prices,
                    assumptions=assumptions,
                )
            )
        except EstimateError as exc:
            problems += exc.problems
        except CostError as exc:
            problems.append(str(exc))
    if problems:
        raise EstimateError(problems)
    return costs


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line: the usage of some twenty assumption flags spans as many lines
        raise UsageError(f"{message} (python -m mlops_tools.cost --help lists the options)")


def _parser() -> _Parser:
    parser = _Parser(prog="cost", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("assembly", nargs="?", default="cdk.out", type=Path)
    parser.add_argument("--env", action="append", default=[], help="an environment (repeatable)")
    parser.add_argument("--summary", action="store_true", help="totals per part only")
    parser.add_argument("--prices", type=Path, help="another price file (same columns)")
    defaults = Assumptions()
    for spec in fields(Assumptions):
        parser.add_argument(
            f"--{spec.name.replace('_', '-')}",
            type=non_negative,
            default=getattr(defaults, spec.name),
            help=f"assumption (default {getattr(defaults, spec.name):g})",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        prices = PriceBook.load(args.prices)
        assumptions = Assumptions(
            **{spec.name: getattr(args, spec.name) for spec in fields(Assumptions)}
        )
        costs = estimate_assembly(
            args.assembly, prices=prices, assumptions=assumptions, environments=args.env
        )
    except UsageError as exc:
        print(f"cost: {exc}", file=sys.stderr)
        return 2
    except EstimateError as exc:
        for problem in exc.problems:
            print(f"cost: {problem}", file=sys.stderr)
        return 1
    except CostError as exc:
        print(f"cost: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(render(costs, prices, details=not args.summary))
    return 0
