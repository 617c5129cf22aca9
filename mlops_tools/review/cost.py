"""The review report's cost section: the monthly estimate of each part of the environment (the
Foundation, each service) before and after the change (:mod:`mlops_tools.cost`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_tools.cost.estimate import EnvironmentCost, EstimateError, PartCost, estimate_environment
from mlops_tools.cost.prices import CostError, PriceBook
from mlops_tools.cost.render import usd
from mlops_tools.review.batch import batch_cost_lines
from mlops_tools.review.markdown import code, plain, table

Templates = Mapping[str, Mapping[str, Any]]
HEADER = ("part", "idle", "expected", "peak")
FIGURES = ("idle", "expected", "peak")


def cost_section(
    environment: str,
    before: Templates,
    after: Templates,
    *,
    region: str,
    prices: PriceBook | None = None,
) -> list[str]:
    """``## Cost``: one row per part (the Foundation first, then services by name) with each
    figure ``before → after (+change)``, and the total. A side that cannot be estimated (a
    price missing) is said so, problem by problem, instead of a figure."""
    book = prices or PriceBook.load()
    lines = [
        "## Cost",
        "",
        f"Monthly USD at list prices in `{region}` (730 h/month; `make cost` shows every line "
        "item and the assumptions request-driven items rest on). idle: autoscaling minimums "
        "with scheduled scale-downs; expected: initial instance counts; peak: maximums.",
        "",
    ]
    sides: dict[str, EnvironmentCost | None] = {}
    for label, templates in (("base", before), ("working tree", after)):
        try:
            sides[label] = (
                estimate_environment(environment, templates, region=region, prices=book)
                if templates
                else None
            )
        except CostError as exc:
            problems = exc.problems if isinstance(exc, EstimateError) else [str(exc)]
            lines += [
                "> [!WARNING]",
                f"> The {label} could not be estimated:",
                *(f"> - {plain(problem)}" for problem in problems),
                "",
            ]
            return lines
    old, new = sides["base"], sides["working tree"]
    names = _part_names(old) | _part_names(new)
    rows = []
    for name in sorted(names, key=lambda n: (n != "Foundation", n)):
        old_part, new_part = _part(old, name), _part(new, name)
        label = "Foundation" if name == "Foundation" else code(name)
        rows.append([label, *(_change(old_part, new_part, figure) for figure in FIGURES)])
    rows.append(
        [
            "**total**",
            *(_change_values(_total(old, f), _total(new, f), bold=True) for f in FIGURES),
        ]
    )
    batch = batch_cost_lines(old, new, before, after)
    return [*lines, *table(HEADER, rows), "", *_leaving(old, new), *batch]


def _leaving(old: EnvironmentCost | None, new: EnvironmentCost | None) -> list[str]:
    """A line for the parts that leave the app: no deploy deletes their stacks, so their cost
    stays until someone does (the report's warning lists them)."""
    gone = sorted(_part_names(old) - _part_names(new))
    if not gone or new is None:
        return []
    names = ", ".join(code(name) for name in gone)
    return [
        f"The working tree's figures leave out {names}: no deploy deletes their stacks, so their "
        "cost stays until they are deleted (the warning above lists them).",
        "",
    ]


def _part_names(cost: EnvironmentCost | None) -> set[str]:
    if cost is None:
        return set()
    return {"Foundation" if p.kind == "foundation" else p.name for p in cost.parts}


def _part(cost: EnvironmentCost | None, name: str) -> PartCost | None:
    if cost is None:
        return None
    try:
        return cost.part(name)
    except KeyError:
        return None


def _total(cost: EnvironmentCost | None, figure: str) -> float | None:
    return None if cost is None else float(getattr(cost, figure))


def _change(old: PartCost | None, new: PartCost | None, figure: str) -> str:
    return _change_values(
        None if old is None else float(getattr(old, figure)),
        None if new is None else float(getattr(new, figure)),
    )


def _change_values(old: float | None, new: float | None, *, bold: bool = False) -> str:
    """``97.84`` when unchanged, ``97.84 → 120.00 (+22.16)``, ``new: 12.00``, ``removed``."""
    if old is None and new is None:
        return ""
    if old is None:
        text = f"new: {usd(new or 0)}"
    elif new is None:
        text = f"removed: {usd(old)} → 0"
    elif round(old, 2) == round(new, 2):
        return usd(new)
    else:
        delta = new - old
        sign = "+" if delta > 0 else "-"
        text = f"{usd(old)} → {usd(new)} ({sign}{usd(abs(delta))})"
    return f"**{text}**" if bold else text
