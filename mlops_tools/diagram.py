"""``make diagram``: an SVG picture of what each environment deploys, from a cloud assembly.

    python -m mlops_tools.diagram [cdk.out] [--env dev ...] [--out docs/images]

Writes ``<out>/<environment>.svg`` per environment: the Foundation on top (network, key,
bucket, topics) and one card per service below it, linked to it, holding its image repository,
models, endpoint (mode, variants with capacity and traffic share, inference components) or
batch jobs, scaling, alarms and where they notify, functions and the bucket prefixes it uses,
with ``make cost``'s expected monthly cost. It draws the inventory of
:mod:`mlops_tools.inventory` with a small renderer of its own (plain SVG, no Graphviz, no
fonts to load): the same assembly always gives the same bytes, so the committed pictures can be
checked against a fresh synth. Exit codes: 0 written; 2 usage or an unreadable assembly.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from xml.sax.saxutils import escape, quoteattr

from mlops_tools.cost.cli import TOP_LEVEL
from mlops_tools.cost.prices import CostError, PriceBook
from mlops_tools.cost.render import usd
from mlops_tools.inventory.read import EnvironmentInventory, InventoryError, Part, read_inventory

FONT_SIZE = 11
CHAR_WIDTH = 6.7  # a monospace character at FONT_SIZE, generously
LINE_HEIGHT = 15
CARD_WIDTH = 330
GAP = 24
MARGIN = 20
PER_ROW = 4
TEXT_COLUMNS = int((CARD_WIDTH - 28) / CHAR_WIDTH)

# Section kind -> (fill, stroke): one colour per kind of thing, the same in every picture.
COLOURS = {
    "network": ("#e8eef7", "#5b7db1"),
    "key": ("#f3ecf9", "#8a5cb8"),
    "bucket": ("#eef6ea", "#5f9a4a"),
    "repository": ("#fdf1e4", "#d08a35"),
    "models": ("#fdf1e4", "#d08a35"),
    "endpoint": ("#e7f6f3", "#2f9a86"),
    "jobs": ("#efeafa", "#6f58c9"),
    "scaling": ("#e9f4fb", "#3b8bc2"),
    "alarms": ("#fcebea", "#c9453b"),
    "topics": ("#fcebea", "#c9453b"),
    "functions": ("#fbf6e1", "#b09019"),
}


@dataclass(frozen=True)
class Section:
    kind: str
    title: str
    lines: tuple[str, ...]

    @property
    def height(self) -> int:
        return LINE_HEIGHT * (len(self.lines) + 1) + 10


@dataclass(frozen=True)
class Card:
    title: str
    subtitle: str
    sections: tuple[Section, ...]

    @property
    def height(self) -> int:
        return 44 + sum(s.height + 8 for s in self.sections)


def _wrap(texts: Sequence[str]) -> tuple[str, ...]:
    lines: list[str] = []
    for text in texts:
        wrapped = textwrap.wrap(text, TEXT_COLUMNS, subsequent_indent="  ", break_on_hyphens=False)
        lines += wrapped or [""]
    return tuple(lines)


def _section(kind: str, title: str, texts: Sequence[str]) -> list[Section]:
    return [Section(kind, title, _wrap(texts))] if texts else []


def foundation_card(part: Part) -> Card:
    sections = [
        *_section("network", "Network", part.network),
        *_section("key", "Key", [f"{k.name}: {k.detail}" for k in part.keys]),
        *_section(
            "bucket",
            "Buckets",
            [
                *(f"{b.name}: {b.detail}" for b in part.buckets),
                *(["prefixes: " + ", ".join(part.prefixes)] if part.prefixes else []),
            ],
        ),
        *_section("topics", "Topics", [f"{t.name}: {t.detail}" for t in part.topics]),
    ]
    return Card("Foundation (shared by every service)", _cost_line(part), tuple(sections))


def service_card(part: Part) -> Card:
    endpoint_lines, scaling_lines = [], []
    for endpoint in part.endpoints:
        details = f" ({'; '.join(endpoint.details)})" if endpoint.details else ""
        endpoint_lines.append(f"{endpoint.name}: {endpoint.mode}{details}")
        for v in endpoint.variants:
            model = f" {v.model}" if v.model else ""
            endpoint_lines.append(f"- {v.name} [{v.role}]{model} {v.capacity}, {v.share}")
            if v.scaling != "none":
                scaling_lines.append(f"{v.name}: {v.scaling}")
        for c in endpoint.components:
            endpoint_lines.append(f"- component {c.name}: {c.model} x{c.copies} ({c.requirements})")
            if c.scaling != "none":
                scaling_lines.append(f"{c.name}: {c.scaling}")
    alarm_targets: dict[str, int] = {}
    for alarm in part.alarms:
        for target in alarm.notifies or ("no action",):
            alarm_targets[target] = alarm_targets.get(target, 0) + 1
    sections = [
        *_section(
            "repository", "Repository", [f"{r.name} ({r.detail})" for r in part.repositories]
        ),
        *_section("models", "Models", [f"{m.name}: {m.detail}" for m in part.models]),
        *_section("endpoint", "Endpoint", endpoint_lines),
        *_section(
            "jobs",
            "Batch jobs",
            [f"{j.name}: {j.instances}, {j.schedule}, model {j.model}" for j in part.batch_jobs],
        ),
        *_section("scaling", "Scaling", scaling_lines),
        *_section(
            "alarms",
            f"Alarms ({len(part.alarms)})",
            [f"-> {target} ({count})" for target, count in sorted(alarm_targets.items())],
        ),
        *_section("topics", "Topics", [f"{t.name}: {t.detail}" for t in part.topics]),
        *_section("functions", "Functions", [f"{f.name}: {f.detail}" for f in part.functions]),
        *_section("bucket", "Bucket prefixes", [", ".join(part.prefixes)] if part.prefixes else []),
    ]
    return Card(f"Service {part.name}", _cost_line(part), tuple(sections))


def _cost_line(part: Part) -> str:
    resources = f"{part.resource_count} resources"
    if part.cost is None:
        return f"{resources}; cost not estimated"
    return f"{resources}; {usd(part.cost.expected)} USD/month expected"


# -- SVG --------------------------------------------------------------------------------------


def render_svg(env: EnvironmentInventory) -> str:
    """The picture of one environment (deterministic: no dates, sorted inputs)."""
    cards = [service_card(part) for part in (*env.services, *env.others)]
    columns = max(1, min(PER_ROW, len(cards)))
    width = MARGIN * 2 + columns * CARD_WIDTH + (columns - 1) * GAP
    y = MARGIN + 44
    body: list[str] = []
    top = y
    if env.foundation is not None:
        foundation = foundation_card(env.foundation)
        x = (width - CARD_WIDTH * 2) // 2 if columns > 1 else MARGIN
        body += _card(foundation, x, y, CARD_WIDTH * 2 if columns > 1 else CARD_WIDTH)
        top = y + foundation.height
        y = top + GAP * 2
    for row_start in range(0, len(cards), PER_ROW):
        row = cards[row_start : row_start + PER_ROW]
        for index, card in enumerate(row):
            x = MARGIN + index * (CARD_WIDTH + GAP)
            if env.foundation is not None and row_start == 0:  # every row: same Foundation
                body.append(_link(width // 2, top, x + CARD_WIDTH // 2, y))
            body += _card(card, x, y, CARD_WIDTH)
        y += max(card.height for card in row) + GAP * 2
    height = y - GAP * 2 + MARGIN if cards else y + MARGIN
    region = f" ({env.region})" if env.region else ""
    cost = f"; {usd(env.cost.expected)} USD/month expected" if env.cost else ""
    title = f"Environment {env.name}{region}: {len(env.services)} service(s){cost}"
    note = "Generated by make diagram from the synthesized templates (cdk.out); do not edit."
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, '
            f'monospace" font-size="{FONT_SIZE}">',
            f"<title>{escape(title)}</title>",
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
            _text(MARGIN, MARGIN + 14, title, size=15, weight="bold"),
            _text(MARGIN, MARGIN + 32, note, fill="#666666"),
            *body,
            "</svg>",
            "",
        ]
    )


def _card(card: Card, x: int, y: int, width: int) -> Iterator[str]:
    yield f'<g class="card" data-name={quoteattr(card.title)}>'
    yield (
        f'<rect x="{x}" y="{y}" width="{width}" height="{card.height}" rx="8" '
        'fill="#fafafa" stroke="#444444" stroke-width="1.2"/>'
    )
    yield _text(x + 10, y + 18, card.title, size=13, weight="bold")
    yield _text(x + 10, y + 34, card.subtitle, fill="#555555")
    inner = y + 44
    for section in card.sections:
        fill, stroke = COLOURS[section.kind]
        yield (
            f'<rect x="{x + 8}" y="{inner}" width="{width - 16}" height="{section.height}" '
            f'rx="5" fill="{fill}" stroke="{stroke}"/>'
        )
        yield _text(x + 14, inner + 14, section.title, weight="bold", fill=stroke)
        for index, line in enumerate(section.lines, start=1):
            yield _text(x + 14, inner + 14 + index * LINE_HEIGHT, line)
        inner += section.height + 8
    yield "</g>"


def _link(x1: int, y1: int, x2: int, y2: int) -> str:
    middle = (y1 + y2) // 2
    return (
        f'<path d="M{x1},{y1} C{x1},{middle} {x2},{middle} {x2},{y2}" fill="none" '
        'stroke="#888888" stroke-width="1.2" stroke-dasharray="4 3"/>'
    )


def _text(
    x: float, y: float, text: str, *, size: int = FONT_SIZE, weight: str = "", fill: str = ""
) -> str:
    attributes = f' font-size="{size}"' if size != FONT_SIZE else ""
    attributes += f' font-weight="{weight}"' if weight else ""
    attributes += f' fill="{fill}"' if fill else ""
    return f'<text x="{x}" y="{y}"{attributes} xml:space="preserve">{escape(text)}</text>'


# -- command ----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InventoryError(f"{message}; {' '.join(self.format_usage().split())}")


def drawn_pictures(
    assembly: Path, out: Path, *, environments: Sequence[str] = (), prices: PriceBook | None = None
) -> Iterator[tuple[Path, str]]:
    """``(<out>/<environment>.svg, its picture)`` for each environment of the assembly (not
    the stacks outside any stage, such as the pipeline's)."""
    for env in read_inventory(assembly, environments=environments, prices=prices):
        if env.name != TOP_LEVEL:
            yield out / f"{env.name}.svg", render_svg(env)


def write_diagrams(
    assembly: Path, out: Path, *, environments: Sequence[str] = (), prices: PriceBook | None = None
) -> list[Path]:
    """Writes :func:`drawn_pictures`; the paths written."""
    written = []
    for path, svg in drawn_pictures(assembly, out, environments=environments, prices=prices):
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(svg)
        written.append(path)
    return written


def stale_diagrams(
    assembly: Path, out: Path, *, environments: Sequence[str] = (), prices: PriceBook | None = None
) -> tuple[list[Path], list[str]]:
    """The pictures in ``out`` that show what the assembly deploys (:func:`drawn_pictures`),
    and a line for each one that is missing or shows something else (``make lint``: the
    committed pictures cannot drift from the templates)."""
    current: list[Path] = []
    problems: list[str] = []
    for path, svg in drawn_pictures(assembly, out, environments=environments, prices=prices):
        if not path.is_file():
            problems.append(f"{path} is missing: run make diagram")
        elif path.read_text() != svg:
            problems.append(f"{path} does not show what {assembly} deploys: run make diagram")
        else:
            current.append(path)
    return current, problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="diagram", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("assembly", nargs="?", default="cdk.out", type=Path)
    parser.add_argument("--env", action="append", default=[], help="an environment (repeatable)")
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="output folder")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when a picture in --out is missing or out of date",
    )
    try:
        args = parser.parse_args(argv)
        if args.check:
            current, problems = stale_diagrams(args.assembly, args.out, environments=args.env)
        else:
            written = write_diagrams(args.assembly, args.out, environments=args.env)
    except (InventoryError, CostError) as exc:
        print(f"diagram: {exc}", file=sys.stderr)
        return 2
    if args.check:
        for line in problems:
            print(f"diagram: {line}", file=sys.stderr)
        if not problems:
            print(
                f"diagram: {len(current)} pictures in {args.out} show what {args.assembly} deploys"
            )
        return 1 if problems else 0
    for path in written:
        print(f"diagram: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
