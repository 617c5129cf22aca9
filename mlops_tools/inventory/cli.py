"""``make inventory``: what each environment and service deploys, from a cloud assembly.

    python -m mlops_tools.inventory [cdk.out] [--env dev ...] [--service churn ...] [--markdown]

Exit codes: 0 printed; 2 usage, an unreadable assembly, an unknown environment or service. A cost
that cannot be estimated (a price missing from the price file) is reported in the inventory,
not as a failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from mlops_tools.cost.prices import CostError, PriceBook
from mlops_tools.inventory.read import InventoryError, read_inventory
from mlops_tools.inventory.render import document, render_markdown, render_text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InventoryError(f"{message}; {' '.join(self.format_usage().split())}")


def _parser() -> _Parser:
    parser = _Parser(prog="inventory", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("assembly", nargs="?", default="cdk.out", type=Path)
    parser.add_argument("--env", action="append", default=[], help="an environment (repeatable)")
    parser.add_argument("--service", action="append", default=[], help="a service (repeatable)")
    parser.add_argument("--markdown", action="store_true", help="Markdown instead of text")
    parser.add_argument("--prices", type=Path, help="another price file (same columns)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        inventories = read_inventory(
            args.assembly,
            environments=args.env,
            services=args.service,
            prices=PriceBook.load(args.prices),
        )
    except (InventoryError, CostError) as exc:
        print(f"inventory: {exc}", file=sys.stderr)
        return 2
    blocks = document(inventories)
    sys.stdout.write(render_markdown(blocks) if args.markdown else render_text(blocks))
    return 0
