"""The inventory as terminal text or Markdown: one document model, two renderers.

Per environment a heading with the monthly total, then the Foundation and each service: its
stacks and cost, what it is made of (network, key, buckets, repository, models, bucket
prefixes, topics, functions), its endpoints with their variants (and inference components),
batch jobs, alarms with where they notify, and its resources counted by type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from mlops_tools.cost.assumptions import HOURS_PER_MONTH
from mlops_tools.cost.render import text_table, usd
from mlops_tools.inventory.read import Cost, EnvironmentInventory, Named, Part
from mlops_tools.review.markdown import plain, table


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Line:
    """``label: text`` (no label: a paragraph)."""

    label: str
    text: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()


Block = Heading | Line | Table

VARIANT_HEADER = ("variant", "role", "model", "capacity", "weight", "share", "scaling")
COMPONENT_HEADER = ("component", "model", "copies", "needs", "scaling")
JOB_HEADER = ("batch job", "model", "instances", "schedule", "timeout")
ALARM_HEADER = ("alarm", "metric", "condition", "notifies")


def cost_text(cost: Cost | None) -> str:
    if cost is None:
        return "not estimated"
    return f"idle {usd(cost.idle)}, expected {usd(cost.expected)}, peak {usd(cost.peak)} USD/month"


def document(inventories: Sequence[EnvironmentInventory]) -> list[Block]:
    blocks: list[Block] = [
        Line(
            "",
            f"What each environment deploys, read from the synthesized templates. Cost: `make "
            f"cost`'s estimate in USD per month of {HOURS_PER_MONTH} hours (idle: autoscaling "
            "minimums; expected: initial counts and assumed requests; peak: maximums).",
        )
    ]
    for env in inventories:
        blocks += environment_blocks(env)
    return blocks


def environment_blocks(env: EnvironmentInventory) -> list[Block]:
    region = f" ({env.region})" if env.region else ""
    blocks: list[Block] = [
        Heading(1, f"Environment {env.name}{region}"),
        Line(
            "",
            f"{len(env.services)} service(s), "
            f"{sum(len(p.stacks) for p in env.parts)} stacks, "
            f"{sum(p.resource_count for p in env.parts)} resources; cost {cost_text(env.cost)}",
        ),
    ]
    blocks += [Line("cost problem", problem) for problem in env.problems]
    for part in env.parts:
        blocks += part_blocks(part, env)
    return blocks


def part_blocks(part: Part, env: EnvironmentInventory) -> list[Block]:
    title = "Foundation" if part is env.foundation else f"Service {part.name}"
    if part not in env.services and part is not env.foundation:
        title = f"Stack {part.name}"
    blocks: list[Block] = [
        Heading(2, title),
        Line("stacks", ", ".join(part.stacks)),
        Line("cost", cost_text(part.cost)),
    ]
    blocks += _lines("network", part.network)
    blocks += _named("key", part.keys)
    blocks += _named("buckets", part.buckets)
    blocks += _named("repository", part.repositories)
    blocks += _named("models", part.models)
    if part.prefixes:
        blocks.append(Line("bucket prefixes", ", ".join(part.prefixes)))
    for endpoint in part.endpoints:
        details = f"; {'; '.join(endpoint.details)}" if endpoint.details else ""
        blocks.append(Line(f"endpoint {endpoint.name}", f"{endpoint.mode}{details}"))
        blocks.append(
            Table(
                VARIANT_HEADER,
                tuple(
                    (v.name, v.role, v.model or "-", v.capacity, v.weight, v.share, v.scaling)
                    for v in endpoint.variants
                ),
            )
        )
        if endpoint.components:
            rows = tuple(
                (c.name, c.model, c.copies, c.requirements, c.scaling) for c in endpoint.components
            )
            blocks.append(Table(COMPONENT_HEADER, rows))
    if part.batch_jobs:
        rows = tuple((j.name, j.model, j.instances, j.schedule, j.timeout) for j in part.batch_jobs)
        blocks.append(Table(JOB_HEADER, rows))
    blocks += _alarm_blocks(part)
    blocks += _named("topics", part.topics)
    blocks += _named("functions", part.functions)
    blocks.append(Line(f"resources ({part.resource_count})", _resource_counts(part)))
    return blocks


def _alarm_blocks(part: Part) -> list[Block]:
    if not part.alarms:
        return []
    targets = Counter(target for alarm in part.alarms for target in alarm.notifies)
    where = ", ".join(f"{t} ({n})" for t, n in sorted(targets.items())) or "nowhere"
    silent = sum(1 for alarm in part.alarms if not alarm.notifies)
    summary = f"{len(part.alarms)}, notifying {where}"
    if silent:
        summary += f"; {silent} without actions"
    rows = tuple((a.name, a.metric, a.condition, ", ".join(a.notifies) or "-") for a in part.alarms)
    return [Line("alarms", summary), Table(ALARM_HEADER, rows)]


def _lines(label: str, texts: Sequence[str]) -> Iterator[Block]:
    if texts:
        yield Line(label, "; ".join(texts))


def _named(label: str, items: Sequence[Named]) -> Iterator[Block]:
    if items:
        yield Line(
            label, "; ".join(f"{i.name} ({i.detail})" if i.detail else i.name for i in items)
        )


def _resource_counts(part: Part) -> str:
    return ", ".join(
        f"{kind.removeprefix('AWS::')} x{count}" if count > 1 else kind.removeprefix("AWS::")
        for kind, count in part.resources
    )


# -- renderers --------------------------------------------------------------------------------


def render_text(blocks: Iterable[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            rule = "=" if block.level == 1 else "-"
            lines += ["", block.text, rule * len(block.text)]
        elif isinstance(block, Line):
            lines.append(f"{block.label}: {block.text}" if block.label else block.text)
        else:
            lines += [
                "",
                *("  " + row for row in text_table(block.header, block.rows, set(block.numeric))),
                "",
            ]
    return "\n".join(_squeeze(lines)).strip("\n") + "\n"


def render_markdown(blocks: Iterable[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += ["", f"{'#' * (block.level + 1)} {plain(block.text)}", ""]
        elif isinstance(block, Line):
            if block.label:
                lines.append(f"- **{plain(block.label)}**: {plain(block.text)}")
            else:
                lines += ["", block.text, ""]
        else:
            rows = [[plain(cell) for cell in row] for row in block.rows]
            lines += ["", *table(list(block.header), rows), ""]
    return "# Inventory\n\n" + "\n".join(_squeeze(lines)).strip("\n") + "\n"


def _squeeze(lines: list[str]) -> Iterator[str]:
    """No two blank lines in a row."""
    blank = False
    for line in lines:
        if line == "" and blank:
            continue
        blank = line == ""
        yield line
