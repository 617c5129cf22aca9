"""Drift statistics in pure Python (the Lambda runtime has no numpy): the per-feature baseline
(its JSON form, schema version 1), Population Stability Index and the two-sample
Kolmogorov-Smirnov statistic, computed in one streaming pass with memory bounded by the
baseline's size (not by the number of records).

Numeric features are binned on the baseline's quantile edges: bin ``i`` holds the values
``edges[i-1] < v <= edges[i]`` (``-inf`` / ``+inf`` outside), plus a ``missing`` bucket for
empty or non-finite values. Categorical features have one bucket per baseline category, an
``other`` bucket for categories outside the baseline (unseen ones, and the long tail beyond
``MAX_CATEGORIES``) and a ``missing`` bucket.

PSI = sum over buckets of ``(a - e) * ln(a / e)`` with ``e`` the baseline and ``a`` the current
proportion. A bucket that is empty on one side would make the logarithm infinite, so both
proportions are floored at ``PSI_EPSILON`` (1e-4) first: an empty bucket then contributes a
large but finite amount (about ``p * ln(p / 1e-4)`` for a bucket holding share ``p`` on the
other side), and disjoint distributions give a large finite PSI instead of infinity. Buckets
empty on both sides contribute nothing.

KS is the exact two-sample statistic ``sup |F_current - F_baseline|`` between the window's
values and the baseline's reference sample (every training value when there are at most
``MAX_KS_POINTS`` distinct ones, else ``MAX_KS_POINTS`` evenly spaced order statistics, which
approximates the training distribution within ``1 / MAX_KS_POINTS``). It is computed from
counts per interval of the reference sample, so the window's values are never stored.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

SCHEMA_VERSION = 1
PSI_EPSILON = 1e-4
DEFAULT_BINS = 10
MAX_BINS = 100
MAX_CATEGORIES = 100
MAX_KS_POINTS = 1000
OTHER = "__other__"


class BaselineError(ValueError):
    """The baseline document is not a valid baseline (the message says what is wrong)."""


def parse_number(value: Any) -> float | None:
    """A finite float, or None for a missing value (empty, null, NaN, infinite or beyond the
    float range, non-numeric text). Booleans are not numbers."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # a JSON integer beyond the float range, as "1e400" reads as inf
            return None
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def category(value: Any) -> str | None:
    """The category label of a value (strings as they are, JSON scalars as JSON writes them),
    or None when missing."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def quantile(sorted_values: Sequence[float], p: float) -> float:
    """The ``p`` quantile by linear interpolation between order statistics (numpy's default
    method): position ``(n - 1) * p``."""
    if not sorted_values:
        raise ValueError("quantile of no values")
    position = (len(sorted_values) - 1) * p
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def bin_edges(sorted_values: Sequence[float], bins: int) -> tuple[float, ...]:
    """Inner edges at the ``i / bins`` quantiles, duplicates removed (a feature with few
    distinct values gets fewer bins)."""
    if bins < 2:
        raise ValueError("at least 2 bins")
    edges: list[float] = []
    for i in range(1, bins):
        edge = quantile(sorted_values, i / bins)
        if not edges or edge > edges[-1]:
            edges.append(edge)
    return tuple(edges)


def bin_index(edges: Sequence[float], value: float) -> int:
    """The bin of ``value``: the first ``i`` with ``value <= edges[i]``, ``len(edges)`` above
    the last edge (numpy ``searchsorted(edges, value, side='left')``)."""
    return bisect_left(edges, value)


def shares(counts: Sequence[int]) -> list[float]:
    """Counts as proportions of their total (all zero when the total is zero)."""
    total = sum(counts)
    return [c / total if total else 0.0 for c in counts]


def psi(expected: Sequence[float], actual: Sequence[float], epsilon: float = PSI_EPSILON) -> float:
    """Population Stability Index of ``actual`` against ``expected`` proportions (same
    buckets); each proportion is floored at ``epsilon`` (see the module docstring)."""
    if len(expected) != len(actual):
        raise ValueError("expected and actual need the same buckets")
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e_, a_ = max(e, epsilon), max(a, epsilon)
        total += (a_ - e_) * math.log(a_ / e_)
    return total


def ks_statistic(sample_a: Sequence[float], sample_b: Sequence[float]) -> float:
    """The two-sample Kolmogorov-Smirnov statistic ``sup |F_a - F_b|`` of two samples."""
    if not sample_a or not sample_b:
        raise ValueError("KS needs two non-empty samples")
    a, b = sorted(sample_a), sorted(sample_b)
    i = j = 0
    best = 0.0
    while i < len(a) and j < len(b):
        x = min(a[i], b[j])
        while i < len(a) and a[i] == x:
            i += 1
        while j < len(b) and b[j] == x:
            j += 1
        best = max(best, abs(i / len(a) - j / len(b)))
    return best


def ks_reference(
    sorted_values: Sequence[float], max_points: int = MAX_KS_POINTS
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The reference sample for KS as (distinct values, cumulative share of values <= each).

    All values when there are at most ``max_points`` distinct ones; otherwise ``max_points``
    order statistics at the ``(k + 0.5) / max_points`` positions, each weighing the same."""
    n = len(sorted_values)
    if n == 0:
        return (), ()
    distinct = len(set(sorted_values))
    sample = (
        list(sorted_values)
        if distinct <= max_points
        else [sorted_values[min(n - 1, int((k + 0.5) * n / max_points))] for k in range(max_points)]
    )
    values: list[float] = []
    cdf: list[float] = []
    for index, value in enumerate(sample):
        if values and values[-1] == value:
            cdf[-1] = (index + 1) / len(sample)
        else:
            values.append(value)
            cdf.append((index + 1) / len(sample))
    return tuple(values), tuple(cdf)


# --- the baseline document -------------------------------------------------------------------


@dataclass(frozen=True)
class NumericReference:
    """A numeric feature's reference: quantile bin edges, each bin's share, the missing share,
    and the KS reference sample."""

    edges: tuple[float, ...]
    proportions: tuple[float, ...]
    missing: float
    ks_values: tuple[float, ...]
    ks_cdf: tuple[float, ...]

    kind = "numeric"

    def expected(self) -> list[float]:
        return [*self.proportions, self.missing]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "edges": list(self.edges),
            "proportions": list(self.proportions),
            "missing": self.missing,
            "ks_values": list(self.ks_values),
            "ks_cdf": list(self.ks_cdf),
        }


@dataclass(frozen=True)
class CategoricalReference:
    """A categorical feature's reference: each category's share, the share of other
    categories, and the missing share."""

    frequencies: Mapping[str, float]
    other: float
    missing: float

    kind = "categorical"

    def expected(self) -> list[float]:
        return [*self.frequencies.values(), self.other, self.missing]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "frequencies": dict(self.frequencies),
            "other": self.other,
            "missing": self.missing,
        }


Reference = NumericReference | CategoricalReference


@dataclass(frozen=True)
class Baseline:
    """What ``make baseline`` writes: the payload's columns in order, the reference of each
    checked feature, and where it came from."""

    service: str
    columns: tuple[str, ...]
    features: Mapping[str, Reference]
    row_count: int
    created: str
    source: str
    source_sha256: str
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "service": self.service,
            "created": self.created,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "row_count": self.row_count,
            "columns": list(self.columns),
            "features": {name: ref.to_json() for name, ref in self.features.items()},
        }


def numeric_reference(
    values: Iterable[float | None], *, bins: int = DEFAULT_BINS, max_ks_points: int = MAX_KS_POINTS
) -> NumericReference:
    """The reference of a numeric column (None for missing values)."""
    present: list[float] = []
    missing = 0
    for value in values:
        if value is None:
            missing += 1
        else:
            present.append(value)
    if not present:
        raise ValueError("no numeric values")
    present.sort()
    edges = bin_edges(present, bins)
    counts = [0] * (len(edges) + 1)
    for value in present:
        counts[bin_index(edges, value)] += 1
    total = len(present) + missing
    ks_values, ks_cdf = ks_reference(present, max_ks_points)
    return NumericReference(
        edges=edges,
        proportions=tuple(c / total for c in counts),
        missing=missing / total,
        ks_values=ks_values,
        ks_cdf=ks_cdf,
    )


def categorical_reference(
    values: Iterable[str | None], *, max_categories: int = MAX_CATEGORIES
) -> CategoricalReference:
    """The reference of a categorical column: the ``max_categories`` most frequent categories
    (ties by label), the rest as ``other``."""
    counts: dict[str, int] = {}
    missing = total = 0
    for value in values:
        total += 1
        if value is None:
            missing += 1
        else:
            counts[value] = counts.get(value, 0) + 1
    if total == 0:
        raise ValueError("no values")
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[:max_categories])
    other = sum(count for _, count in ranked[max_categories:])
    return CategoricalReference(
        frequencies={name: count / total for name, count in sorted(kept.items())},
        other=other / total,
        missing=missing / total,
    )


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _number_list(value: Any, where: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value
    ):
        raise BaselineError(f"{where}: expected a list of finite numbers")
    return tuple(float(v) for v in value)


def _share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise BaselineError(f"{where}: expected a proportion between 0 and 1")
    return float(value)


def _check_total(shares_: Iterable[float], where: str) -> None:
    total = sum(shares_)
    if abs(total - 1) > 1e-6:
        raise BaselineError(f"{where}: proportions add up to {total:.6f}, not 1")


def _numeric(data: Mapping[str, Any], where: str) -> NumericReference:
    edges = _number_list(data.get("edges"), f"{where}.edges")
    if any(b <= a for a, b in pairwise(edges)):
        raise BaselineError(f"{where}.edges: must be strictly increasing")
    proportions = tuple(
        _share(p, f"{where}.proportions") for p in _number_list(data.get("proportions"), where)
    )
    if len(proportions) != len(edges) + 1:
        raise BaselineError(f"{where}.proportions: expected {len(edges) + 1} bins")
    missing = _share(data.get("missing"), f"{where}.missing")
    _check_total([*proportions, missing], where)
    ks_values = _number_list(data.get("ks_values"), f"{where}.ks_values")
    ks_cdf = _number_list(data.get("ks_cdf"), f"{where}.ks_cdf")
    if not ks_values or len(ks_values) != len(ks_cdf):
        raise BaselineError(f"{where}.ks_cdf: one cumulative share per ks_values entry")
    if any(b <= a for a, b in pairwise(ks_values)) or any(b < a for a, b in pairwise(ks_cdf)):
        raise BaselineError(f"{where}.ks_values: must be increasing with their cdf")
    if abs(ks_cdf[-1] - 1) > 1e-9:
        raise BaselineError(f"{where}.ks_cdf: must end at 1")
    return NumericReference(edges, proportions, missing, ks_values, ks_cdf)


def _categorical(data: Mapping[str, Any], where: str) -> CategoricalReference:
    frequencies = data.get("frequencies")
    if not isinstance(frequencies, dict) or not all(isinstance(k, str) for k in frequencies):
        raise BaselineError(f"{where}.frequencies: expected an object of category: share")
    parsed = {k: _share(v, f"{where}.frequencies.{k}") for k, v in frequencies.items()}
    other = _share(data.get("other"), f"{where}.other")
    missing = _share(data.get("missing"), f"{where}.missing")
    _check_total([*parsed.values(), other, missing], where)
    return CategoricalReference(parsed, other, missing)


def _reference(name: str, ref: Any, columns: Sequence[str]) -> Reference:
    where = f"features.{name}"
    if name not in columns:
        raise BaselineError(f"{where}: not one of the columns")
    if not isinstance(ref, dict):
        raise BaselineError(f"{where}: expected an object")
    kind = ref.get("type")
    if kind == "numeric":
        return _numeric(ref, where)
    if kind == "categorical":
        return _categorical(ref, where)
    raise BaselineError(f"{where}.type: expected 'numeric' or 'categorical'")


def parse_baseline(data: Any) -> Baseline:
    """Validate a baseline document (parsed JSON); raises :class:`BaselineError`."""
    if not isinstance(data, dict):
        raise BaselineError("the baseline must be a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BaselineError(
            f"schema_version {version!r} is not supported (this function reads {SCHEMA_VERSION})"
        )
    columns = data.get("columns")
    if (
        not isinstance(columns, list)
        or not columns
        or not all(isinstance(c, str) and c for c in columns)
        or len(set(columns)) != len(columns)
    ):
        raise BaselineError("columns: expected a non-empty list of distinct names")
    features = data.get("features")
    if not isinstance(features, dict) or not features:
        raise BaselineError("features: expected a non-empty object")
    parsed = {name: _reference(name, ref, columns) for name, ref in features.items()}
    row_count = data.get("row_count")
    if isinstance(row_count, bool) or not isinstance(row_count, int) or row_count < 1:
        raise BaselineError("row_count: expected a positive integer")
    strings = {k: data.get(k) for k in ("service", "created", "source", "source_sha256")}
    for key, value in strings.items():
        if not isinstance(value, str):
            raise BaselineError(f"{key}: expected a string")
    return Baseline(
        service=str(strings["service"]),
        columns=tuple(columns),
        features=parsed,
        row_count=row_count,
        created=str(strings["created"]),
        source=str(strings["source"]),
        source_sha256=str(strings["source_sha256"]),
    )


# --- streaming accumulators ------------------------------------------------------------------


class NumericAccumulator:
    """Counts a window's values per PSI bin and per interval of the KS reference sample."""

    def __init__(self, reference: NumericReference) -> None:
        self.reference = reference
        self.bins = [0] * (len(reference.edges) + 1)
        self.missing = 0
        points = len(reference.ks_values)
        # below[k]: values strictly between ks_values[k-1] and ks_values[k] (k = points: above
        # the last); equal[k]: values equal to ks_values[k].
        self.below = [0] * (points + 1)
        self.equal = [0] * points

    def add(self, raw: Any) -> None:
        value = parse_number(raw)
        if value is None:
            self.missing += 1
            return
        self.bins[bin_index(self.reference.edges, value)] += 1
        ks_values = self.reference.ks_values
        k = bisect_left(ks_values, value)
        if k < len(ks_values) and ks_values[k] == value:
            self.equal[k] += 1
        else:
            self.below[k] += 1

    @property
    def count(self) -> int:
        return sum(self.bins) + self.missing

    def psi(self) -> float:
        return psi(self.reference.expected(), shares([*self.bins, self.missing]))

    def ks(self) -> float | None:
        """KS between the window's present values and the reference sample (None without
        values)."""
        n = sum(self.bins)
        if n == 0:
            return None
        best = 0.0
        seen = 0  # window values <= the previous reference point
        previous_cdf = 0.0
        for k, reference_cdf in enumerate(self.reference.ks_cdf):
            before = seen + self.below[k]  # values < ks_values[k]
            best = max(best, abs(before / n - previous_cdf))
            seen = before + self.equal[k]  # values <= ks_values[k]
            best = max(best, abs(seen / n - reference_cdf))
            previous_cdf = reference_cdf
        return best


class CategoricalAccumulator:
    """Counts a window's values per baseline category, ``other`` and missing."""

    def __init__(self, reference: CategoricalReference) -> None:
        self.reference = reference
        self.counts = dict.fromkeys(reference.frequencies, 0)
        self.other = 0
        self.missing = 0

    def add(self, raw: Any) -> None:
        value = category(raw)
        if value is None:
            self.missing += 1
        elif value in self.counts:
            self.counts[value] += 1
        else:
            self.other += 1

    @property
    def count(self) -> int:
        return sum(self.counts.values()) + self.other + self.missing

    def psi(self) -> float:
        return psi(
            self.reference.expected(), shares([*self.counts.values(), self.other, self.missing])
        )

    def ks(self) -> float | None:
        return None


Accumulator = NumericAccumulator | CategoricalAccumulator


def accumulator(reference: Reference) -> Accumulator:
    if isinstance(reference, NumericReference):
        return NumericAccumulator(reference)
    return CategoricalAccumulator(reference)
