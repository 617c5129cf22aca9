"""The drift statistics against reference implementations (numpy, scipy) on generated data:
identical, shifted and disjoint distributions, empty bins; and the baseline document."""

from __future__ import annotations

import copy
import math
from types import ModuleType
from typing import Any

import drift_stats as ds
import numpy as np
import pytest

RNG_SEED = 20260501


def numpy_psi(expected: np.ndarray, actual: np.ndarray, eps: float = ds.PSI_EPSILON) -> float:
    e = np.clip(expected, eps, None)
    a = np.clip(actual, eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def numpy_bucket_shares(edges: tuple[float, ...], values: np.ndarray) -> np.ndarray:
    """Shares per bin (numpy searchsorted, side='left') plus an empty missing bucket."""
    counts = np.bincount(np.searchsorted(np.array(edges), values, side="left"),
                         minlength=len(edges) + 1)  # fmt: skip
    return np.append(counts / counts.sum(), 0.0)


def window_psi_and_ks(reference: ds.NumericReference, values: np.ndarray) -> tuple[float, float]:
    acc = ds.NumericAccumulator(reference)
    for value in values.tolist():
        acc.add(value)
    ks = acc.ks()
    assert ks is not None
    return acc.psi(), ks


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


@pytest.fixture(scope="module")
def training(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(50.0, 10.0, 5000)


@pytest.fixture(scope="module")
def reference(training: np.ndarray) -> ds.NumericReference:
    return ds.numeric_reference(training.tolist(), bins=10)


# --- building blocks -------------------------------------------------------------------------


def test_quantiles_and_edges_match_numpy(training: np.ndarray) -> None:
    ordered = sorted(training.tolist())
    for p in (0.0, 0.1, 0.25, 0.5, 0.9, 1.0):
        assert ds.quantile(ordered, p) == pytest.approx(float(np.quantile(training, p)), abs=1e-12)
    edges = ds.bin_edges(ordered, 10)
    expected = np.quantile(training, np.arange(1, 10) / 10)
    assert edges == pytest.approx(expected.tolist(), abs=1e-12)


def test_few_distinct_values_get_fewer_bins() -> None:
    values = [0.0] * 70 + [1.0] * 30
    edges = ds.bin_edges(sorted(values), 10)
    # Deciles 1-6 are all 0, 8-9 are all 1, the 7th interpolates: 4 bins instead of 10.
    assert edges == pytest.approx((0.0, 0.3, 1.0))
    assert list(edges) == pytest.approx(np.unique(np.quantile(values, np.arange(1, 10) / 10)))
    reference = ds.numeric_reference(values)
    assert reference.proportions == pytest.approx((0.7, 0.0, 0.3, 0.0))


def test_bin_index_matches_numpy_searchsorted(training: np.ndarray) -> None:
    edges = ds.bin_edges(sorted(training.tolist()), 10)
    probe = [edges[0], edges[3], -1e9, 1e9, *training[:200].tolist()]
    assert [ds.bin_index(edges, v) for v in probe] == np.searchsorted(
        np.array(edges), probe, side="left"
    ).tolist()


def test_parse_number_and_category() -> None:
    assert ds.parse_number("1.5") == 1.5
    assert ds.parse_number(3) == 3.0
    for missing in ("", "  ", None, "nan", "inf", "abc", True, float("nan")):
        assert ds.parse_number(missing) is None, missing
    assert ds.category(" a ") == "a"
    assert ds.category(True) == "true"
    assert ds.category(5411) == "5411"
    assert ds.category("") is None
    assert ds.category(None) is None


def test_an_integer_beyond_the_float_range_is_missing_not_a_crash() -> None:
    # json.loads reads a 400-digit number as an int, which float() refuses (OverflowError).
    assert ds.parse_number(10**400) is None
    assert ds.parse_number(-(10**400)) is None
    assert ds.parse_number(2**53) == 2.0**53


# --- PSI against numpy -----------------------------------------------------------------------


def test_identical_distribution_has_zero_psi() -> None:
    shares = [0.1, 0.2, 0.3, 0.4, 0.0]
    assert ds.psi(shares, shares) == 0.0
    assert numpy_psi(np.array(shares), np.array(shares)) == 0.0


def test_same_distribution_new_sample_has_small_psi(
    rng: np.random.Generator, reference: ds.NumericReference
) -> None:
    window = rng.normal(50.0, 10.0, 5000)
    psi, _ = window_psi_and_ks(reference, window)
    assert psi == pytest.approx(
        numpy_psi(np.array(reference.expected()), numpy_bucket_shares(reference.edges, window)),
        rel=1e-9,
    )
    assert psi < 0.02  # sampling noise only


@pytest.mark.parametrize("shift", [2.0, 5.0, 10.0])
def test_shifted_distribution_matches_numpy(
    rng: np.random.Generator, reference: ds.NumericReference, shift: float
) -> None:
    window = rng.normal(50.0 + shift, 10.0, 3000)
    psi, _ = window_psi_and_ks(reference, window)
    assert psi == pytest.approx(
        numpy_psi(np.array(reference.expected()), numpy_bucket_shares(reference.edges, window)),
        rel=1e-9,
    )


def test_psi_grows_with_the_shift(rng: np.random.Generator, reference: ds.NumericReference) -> None:
    psis = [window_psi_and_ks(reference, rng.normal(50 + s, 10, 3000))[0] for s in (0, 3, 6, 12)]
    assert psis == sorted(psis)
    assert psis[-1] > 0.25 > psis[0]  # the usual "significant shift" line


def test_disjoint_distributions_give_large_finite_psi(reference: ds.NumericReference) -> None:
    window = np.full(1000, 1e6)  # every value above the top edge: only the last bin
    psi, ks = window_psi_and_ks(reference, window)
    assert math.isfinite(psi)
    assert psi == pytest.approx(
        numpy_psi(np.array(reference.expected()), numpy_bucket_shares(reference.edges, window)),
        rel=1e-9,
    )
    assert psi > 5
    assert ks == 1.0


def test_empty_bins_are_floored_at_epsilon() -> None:
    expected = [0.5, 0.5, 0.0, 0.0]
    actual = [0.0, 0.5, 0.5, 0.0]
    value = ds.psi(expected, actual)
    assert value == pytest.approx(numpy_psi(np.array(expected), np.array(actual)), rel=1e-12)
    # Each one-sided empty bin contributes about p * ln(p / eps); both-empty bins nothing.
    one_sided = (0.5 - ds.PSI_EPSILON) * math.log(0.5 / ds.PSI_EPSILON)
    assert value == pytest.approx(2 * one_sided, rel=1e-12)


def test_psi_needs_the_same_buckets() -> None:
    with pytest.raises(ValueError, match="same buckets"):
        ds.psi([0.5, 0.5], [1.0])


def test_missing_values_count_as_their_own_bucket(reference: ds.NumericReference) -> None:
    acc = ds.NumericAccumulator(reference)
    for value in [50.0] * 50 + [""] * 50:
        acc.add(value)
    assert acc.missing == 50
    assert acc.count == 100
    assert acc.psi() > 1  # half the window missing, none in training


# --- KS against scipy ------------------------------------------------------------------------


@pytest.mark.xdist_group("scipy")  # one worker imports scipy (conftest scipy_stats)
@pytest.mark.parametrize("shift", [0.0, 1.0, 4.0, 15.0])
def test_streaming_ks_equals_scipy_on_the_reference_sample(
    rng: np.random.Generator, training: np.ndarray, shift: float, scipy_stats: ModuleType
) -> None:
    reference = ds.numeric_reference(training.tolist(), max_ks_points=5000)
    window = rng.normal(50.0 + shift, 10.0, 2000)
    _, ks = window_psi_and_ks(reference, window)
    # All 5000 training values are distinct: the reference sample is the training data.
    assert ks == pytest.approx(scipy_stats.ks_2samp(training, window).statistic, abs=1e-12)


@pytest.mark.xdist_group("scipy")  # one worker imports scipy (conftest scipy_stats)
def test_streaming_ks_with_ties_equals_scipy(
    rng: np.random.Generator, scipy_stats: ModuleType
) -> None:
    training = rng.integers(0, 20, 3000).astype(float)
    window = rng.integers(3, 25, 1500).astype(float)
    reference = ds.numeric_reference(training.tolist())
    _, ks = window_psi_and_ks(reference, window)
    assert ks == pytest.approx(scipy_stats.ks_2samp(training, window).statistic, abs=1e-12)
    assert ds.ks_statistic(training.tolist(), window.tolist()) == pytest.approx(ks, abs=1e-12)


@pytest.mark.xdist_group("scipy")  # one worker imports scipy (conftest scipy_stats)
def test_sketched_reference_approximates_the_training_ks(
    rng: np.random.Generator, training: np.ndarray, scipy_stats: ModuleType
) -> None:
    reference = ds.numeric_reference(training.tolist(), max_ks_points=500)
    assert len(reference.ks_values) == 500
    window = rng.normal(53.0, 10.0, 2000)
    _, ks = window_psi_and_ks(reference, window)
    assert ks == pytest.approx(scipy_stats.ks_2samp(training, window).statistic, abs=2 / 500)


def test_ks_statistic_of_identical_and_disjoint_samples() -> None:
    assert ds.ks_statistic([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == 0.0
    assert ds.ks_statistic([1.0, 2.0], [5.0, 6.0]) == 1.0
    with pytest.raises(ValueError, match="non-empty"):
        ds.ks_statistic([], [1.0])


def test_ks_is_none_without_values(reference: ds.NumericReference) -> None:
    acc = ds.NumericAccumulator(reference)
    acc.add(None)
    assert acc.ks() is None


# --- categorical -----------------------------------------------------------------------------


def test_categorical_psi_matches_numpy() -> None:
    training = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    reference = ds.categorical_reference(training)
    assert dict(reference.frequencies) == {"a": 0.5, "b": 0.3, "c": 0.2}
    acc = ds.CategoricalAccumulator(reference)
    for value in ["a"] * 20 + ["b"] * 30 + ["z"] * 40 + [None] * 10:
        acc.add(value)
    assert (acc.other, acc.missing, acc.count) == (40, 10, 100)
    expected = np.array([0.5, 0.3, 0.2, 0.0, 0.0])
    actual = np.array([0.2, 0.3, 0.0, 0.4, 0.1])
    assert acc.psi() == pytest.approx(numpy_psi(expected, actual), rel=1e-12)
    assert acc.ks() is None


def test_long_tail_of_categories_goes_to_other() -> None:
    training = [f"c{i:03d}" for i in range(150) for _ in range(2)] + ["top"] * 100
    reference = ds.categorical_reference(training, max_categories=10)
    assert len(reference.frequencies) == 10
    assert "top" in reference.frequencies
    assert reference.other == pytest.approx(1 - sum(reference.frequencies.values()))


# --- the baseline document -------------------------------------------------------------------


def baseline_document(training: np.ndarray) -> dict[str, Any]:
    baseline = ds.Baseline(
        service="churn",
        columns=("tenure", "plan"),
        features={
            "tenure": ds.numeric_reference(training.tolist()),
            "plan": ds.categorical_reference(["basic", "pro", "basic", None]),
        },
        row_count=len(training),
        created="2026-05-01T00:00:00+00:00",
        source="train.csv",
        source_sha256="0" * 64,
    )
    return baseline.to_json()


def test_baseline_round_trips(training: np.ndarray) -> None:
    document = baseline_document(training)
    parsed = ds.parse_baseline(document)
    assert parsed.to_json() == document
    assert parsed.schema_version == ds.SCHEMA_VERSION
    assert isinstance(parsed.features["plan"], ds.CategoricalReference)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema_version=2), "schema_version 2 is not supported"),
        (lambda d: d.update(columns=[]), "columns"),
        (lambda d: d.update(columns=["tenure", "tenure"]), "columns"),
        (lambda d: d.update(features={}), "features"),
        (lambda d: d.update(row_count=0), "row_count"),
        (lambda d: d.update(source=None), "source"),
        (lambda d: d["features"]["tenure"].update(type="text"), "features.tenure.type"),
        (lambda d: d["features"]["tenure"].update(edges=[2.0, 1.0]), "strictly increasing"),
        (lambda d: d["features"]["tenure"].update(edges=["x"]), "finite numbers"),
        (lambda d: d["features"]["tenure"].update(proportions=[1.0]), "bins"),
        (lambda d: d["features"]["tenure"].update(missing=0.5), "add up to"),
        (lambda d: d["features"]["tenure"].update(ks_cdf=[0.5]), "ks_cdf"),
        (lambda d: d["features"]["plan"].update(frequencies=[]), "frequencies"),
        (lambda d: d["features"]["plan"].update(other=2), "proportion"),
        (lambda d: d["features"].update(extra={"type": "numeric"}), "not one of the columns"),
    ],
)
def test_invalid_baselines_are_refused(training: np.ndarray, change: Any, message: str) -> None:
    document = copy.deepcopy(baseline_document(training))
    change(document)
    with pytest.raises(ds.BaselineError, match=message):
        ds.parse_baseline(document)


def test_baseline_must_be_an_object() -> None:
    with pytest.raises(ds.BaselineError, match="JSON object"):
        ds.parse_baseline([1, 2])
