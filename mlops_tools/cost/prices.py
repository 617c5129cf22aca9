"""List prices from ``prices.csv``: one row per (service, item, region) with its unit, USD
amount, date and source. A price that is not in the file is an error naming what needed it,
never a silent zero."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

PRICES_FILE = "prices.csv"
COLUMNS = ("service", "item", "region", "unit", "usd", "date", "source")


class CostError(Exception):
    """The estimate cannot be made: one line that says why."""


class PriceFileError(CostError):
    """The price file is unreadable or has a malformed row."""


class MissingPrice(CostError):  # noqa: N818 - read as "a price is missing"
    """No row for what a resource needs, e.g. ``AWS::SageMaker::Endpoint`` on ``ml.p5.48xlarge``."""

    def __init__(self, resource_type: str, what: str, key: PriceKey, source: str) -> None:
        self.resource_type, self.what, self.key = resource_type, what, key
        super().__init__(
            f"no price for {resource_type} {what}: {key.service} {key.item!r} in {key.region} "
            f"is not in {source} (add a row with its unit, date and source)"
        )


@dataclass(frozen=True, order=True)
class PriceKey:
    service: str
    item: str
    region: str


@dataclass(frozen=True)
class Price:
    key: PriceKey
    unit: str
    usd: float
    date: date
    source: str


class PriceBook:
    """Prices by (service, item, region). ``rate`` checks the unit the caller computes in, so a
    row whose unit changed cannot be multiplied by the wrong quantity."""

    def __init__(self, prices: Iterable[Price], *, source: str = PRICES_FILE) -> None:
        self.source = source
        self.prices: dict[PriceKey, Price] = {}
        for price in prices:
            if price.key in self.prices:
                raise PriceFileError(f"{source}: {price.key} is listed twice")
            self.prices[price.key] = price

    @classmethod
    def load(cls, path: Path | None = None) -> PriceBook:
        """The packaged ``prices.csv``, or the file at ``path``."""
        try:
            if path is None:
                text = resources.files(__package__).joinpath(PRICES_FILE).read_text()
                source = f"mlops_tools/cost/{PRICES_FILE}"
            else:
                text, source = path.read_text(), str(path)
        except OSError as exc:
            raise PriceFileError(f"cannot read the price file: {exc}") from exc
        return cls(parse_prices(text, source), source=source)

    def rate(self, key: PriceKey, unit: str, *, resource_type: str, what: str) -> Price:
        """The price of ``key`` per ``unit``; :class:`MissingPrice` names ``resource_type`` and
        ``what`` (an instance type, a dashboard) when there is none."""
        price = self.prices.get(key)
        if price is None:
            raise MissingPrice(resource_type, what, key, self.source)
        if price.unit != unit:
            raise PriceFileError(
                f"{self.source}: {key.service} {key.item!r} in {key.region} is per "
                f"{price.unit!r}; the estimate computes per {unit!r}"
            )
        return price

    def used(self, keys: Iterable[PriceKey]) -> list[Price]:
        """The rows behind ``keys``, sorted (for a report's list of sources)."""
        return [self.prices[key] for key in sorted(set(keys)) if key in self.prices]


def parse_prices(text: str, source: str = PRICES_FILE) -> list[Price]:
    """Rows of a price file; every problem names its line."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise PriceFileError(f"{source}: the header must be {','.join(COLUMNS)}")
    prices = []
    for row in reader:
        prices.append(_price(row, f"{source}:{reader.line_num}"))
    return prices


def _price(row: Mapping[str, str | None], where: str) -> Price:
    values = {column: (row.get(column) or "").strip() for column in COLUMNS}
    empty = [column for column, value in values.items() if not value]
    if empty:
        raise PriceFileError(f"{where}: empty {', '.join(empty)}")
    try:
        usd = float(values["usd"])
    except ValueError:
        raise PriceFileError(f"{where}: usd {values['usd']!r} is not a number") from None
    if not usd >= 0 or usd == float("inf"):
        raise PriceFileError(f"{where}: usd must be a finite number >= 0")
    try:
        day = date.fromisoformat(values["date"])
    except ValueError:
        raise PriceFileError(f"{where}: date {values['date']!r} is not YYYY-MM-DD") from None
    return Price(
        key=PriceKey(values["service"], values["item"], values["region"]),
        unit=values["unit"],
        usd=usd,
        date=day,
        source=values["source"],
    )
