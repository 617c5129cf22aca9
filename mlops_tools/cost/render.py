"""Plain-text tables of environment estimates (``make cost``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mlops_tools.cost.assumptions import HOURS_PER_MONTH
from mlops_tools.cost.estimate import EnvironmentCost
from mlops_tools.cost.prices import PriceBook

SUMMARY_HEADER = ("part", "idle", "expected", "peak")
ITEM_HEADER = ("stack / resource", "item", "idle", "expected", "peak", "assumption")


def usd(value: float) -> str:
    return f"{value:,.2f}"


def text_table(
    header: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]
) -> list[str]:
    """Columns padded to their widest cell; ``numeric`` columns right-aligned."""
    body = [list(row) for row in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *body, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if index in numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return [line(header), line(["-" * width for width in widths]), *(line(row) for row in body)]


def render_environment(cost: EnvironmentCost, *, details: bool = True) -> list[str]:
    lines = [f"== {cost.environment} ({cost.region}) ==", ""]
    rows = [[part.label, usd(part.idle), usd(part.expected), usd(part.peak)] for part in cost.parts]
    rows.append(["total", usd(cost.idle), usd(cost.expected), usd(cost.peak)])
    lines += [*text_table(SUMMARY_HEADER, rows, {1, 2, 3}), ""]
    if details:
        for part in cost.parts:
            item_rows = [
                [
                    f"{item.stack}/{item.resource}",
                    item.description,
                    usd(item.idle),
                    usd(item.expected),
                    usd(item.peak),
                    item.assumption,
                ]
                for item in part.items
            ]
            lines += [f"{part.label}:", *text_table(ITEM_HEADER, item_rows, {2, 3, 4}), ""]
    lines += [f"note: {note}" for note in cost.notes]
    if cost.not_estimated:
        lines.append(f"not estimated (no cost model): {', '.join(cost.not_estimated)}")
    if cost.notes or cost.not_estimated:
        lines.append("")
    return lines


def render(costs: Sequence[EnvironmentCost], prices: PriceBook, *, details: bool = True) -> str:
    lines = [
        f"Monthly cost estimate in USD ({HOURS_PER_MONTH} hours a month), on-demand list prices "
        f"from {prices.source}; no free tier, discounts, data transfer between AZs or tax.",
        "idle: autoscaling minimums (scheduled actions over their share of the week) and "
        "standing charges; expected: initial instance counts plus request-driven charges at the "
        "stated assumptions; peak: autoscaling maximums.",
        "",
    ]
    for cost in costs:
        lines += render_environment(cost, details=details)
    used = prices.used(key for cost in costs for key in cost.price_keys())
    if used:
        lines.append("prices used (USD per unit, date; sources in the price file):")
        lines += [
            f"  {p.key.service} {p.key.item} ({p.key.region}): {p.usd:g} per {p.unit}, {p.date}"
            + (" [estimate]" if p.source.startswith("estimate") else "")
            for p in used
        ]
    return "\n".join(lines) + "\n"
