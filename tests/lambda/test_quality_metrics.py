"""The quality check's pure-Python metrics against hand-computed cases and against independent
reference implementations (numpy for the confusion-matrix and regression metrics, scipy's
Mann-Whitney U for AUC), over many random data sets including ties and imbalanced classes."""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np
import pytest
import quality_metrics as qm


def test_hand_computed_binary_case() -> None:
    labels = [1, 1, 1, 0, 0, 0, 0, 1]
    scores = [0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.4, 0.7]
    predicted = [1 if s >= 0.5 else 0 for s in scores]  # 1 1 0 1 0 0 0 1
    assert qm.accuracy(labels, predicted) == 6 / 8
    # tp=3 (0.9, 0.8, 0.7), fp=1 (0.6), fn=1 (0.3)
    assert qm.binary_counts(labels, predicted) == (3, 1, 1)
    precision, recall, f1 = qm.precision_recall_f1(labels, predicted)
    assert (precision, recall) == (0.75, 0.75)
    assert f1 == pytest.approx(0.75)
    # Of the 16 (positive, negative) pairs, the positive scores higher in all but 0.3 vs 0.6
    # and 0.3 vs 0.4: 14 / 16.
    assert qm.auc(labels, scores) == 14 / 16


def test_auc_counts_ties_as_one_half() -> None:
    assert qm.auc([1, 0], [0.5, 0.5]) == 0.5
    assert qm.auc([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1]) == (1 + 1 + 0.5 + 1) / 4
    assert qm.auc([0, 0, 1], [0.1, 0.2, 0.3]) == 1.0
    assert qm.auc([1, 1, 0], [0.1, 0.2, 0.3]) == 0.0


def test_auc_is_undefined_for_one_class() -> None:
    assert qm.auc([1, 1, 1], [0.1, 0.5, 0.9]) is None
    assert qm.compute("binary", ["auc", "accuracy"], [0, 0], [0.2, 0.7]) == {
        "auc": None,
        "accuracy": 0.5,
    }


def test_ratios_with_nothing_predicted_are_zero() -> None:
    # No positive prediction: precision 0 (zero_division=0), recall 0, F1 0.
    assert qm.precision_recall_f1([1, 0, 1], [0, 0, 0]) == (0.0, 0.0, 0.0)


def test_hand_computed_multiclass_macro() -> None:
    labels = ["a", "a", "b", "c"]
    predicted = ["a", "b", "b", "b"]
    # a: p=1/1 r=1/2; b: p=1/3 r=1/1; c: p=0 (none predicted) r=0/1
    precision, recall, f1 = qm.precision_recall_f1(labels, predicted, average="macro")
    assert precision == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert recall == pytest.approx((0.5 + 1 + 0) / 3)
    assert f1 == pytest.approx((2 * 0.5 / 1.5 + 2 * (1 / 3) / (4 / 3) + 0) / 3)
    assert qm.accuracy(labels, predicted) == 0.5


def test_hand_computed_regression() -> None:
    labels, predicted = [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 6.0]
    assert qm.mae(labels, predicted) == (0.5 + 0 + 1 + 2) / 4
    assert qm.rmse(labels, predicted) == math.sqrt((0.25 + 0 + 1 + 4) / 4)


def _np_binary(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float, float]:
    tp = float(np.sum((predicted == 1) & (labels == 1)))
    fp = float(np.sum((predicted == 1) & (labels == 0)))
    fn = float(np.sum((predicted == 0) & (labels == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(np.mean(labels == predicted)), precision, recall, f1


@pytest.mark.xdist_group("scipy")  # one worker imports scipy (conftest scipy_stats)
@pytest.mark.parametrize("seed", range(40))
def test_binary_metrics_match_the_references(seed: int, scipy_stats: ModuleType) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    labels = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(int)
    # Rounded scores: many ties, as real models produce.
    scores = np.clip(labels * rng.uniform(0, 0.4) + rng.random(n) * 0.8, 0, 1).round(
        int(rng.integers(1, 4))
    )
    threshold = float(rng.uniform(0.1, 0.9))
    got = qm.compute(
        "binary",
        ["accuracy", "precision", "recall", "f1", "auc"],
        labels.tolist(),
        scores.tolist(),
        threshold=threshold,
    )
    predicted = (scores >= threshold).astype(int)
    accuracy, precision, recall, f1 = _np_binary(labels, predicted)
    assert got["accuracy"] == pytest.approx(accuracy)
    assert got["precision"] == pytest.approx(precision)
    assert got["recall"] == pytest.approx(recall)
    assert got["f1"] == pytest.approx(f1)
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if len(positives) and len(negatives):
        u = scipy_stats.mannwhitneyu(positives, negatives, alternative="two-sided").statistic
        assert got["auc"] == pytest.approx(u / (len(positives) * len(negatives)))
    else:
        assert got["auc"] is None


@pytest.mark.parametrize("seed", range(20))
def test_multiclass_macro_metrics_match_numpy(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n, k = int(rng.integers(1, 300)), int(rng.integers(2, 6))
    labels = rng.integers(0, k, n)
    predicted = np.where(rng.random(n) < 0.6, labels, rng.integers(0, k + 1, n))
    classes = np.union1d(labels, predicted)
    precisions, recalls, f1s = [], [], []
    for c in classes:
        tp = np.sum((predicted == c) & (labels == c))
        p = tp / np.sum(predicted == c) if np.sum(predicted == c) else 0.0
        r = tp / np.sum(labels == c) if np.sum(labels == c) else 0.0
        precisions.append(p)
        recalls.append(r)
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    got = qm.compute(
        "multiclass",
        ["accuracy", "precision", "recall", "f1"],
        [str(v) for v in labels],
        [str(v) for v in predicted],
    )
    assert got["accuracy"] == pytest.approx(float(np.mean(labels == predicted)))
    assert got["precision"] == pytest.approx(float(np.mean(precisions)))
    assert got["recall"] == pytest.approx(float(np.mean(recalls)))
    assert got["f1"] == pytest.approx(float(np.mean(f1s)))


@pytest.mark.parametrize("seed", range(10))
def test_regression_metrics_match_numpy(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    labels = rng.normal(50, 10, 500)
    predicted = labels + rng.normal(0, rng.uniform(0.1, 5), 500)
    got = qm.compute("regression", ["rmse", "mae"], labels.tolist(), predicted.tolist())
    assert got["rmse"] == pytest.approx(float(np.sqrt(np.mean((labels - predicted) ** 2))))
    assert got["mae"] == pytest.approx(float(np.mean(np.abs(labels - predicted))))


def test_wrong_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="not defined for regression"):
        qm.compute("regression", ["auc"], [1.0], [1.0])
    with pytest.raises(ValueError, match="unknown problem"):
        qm.compute("ranking", ["auc"], [1], [1])
    with pytest.raises(ValueError, match="2 labels but 1 predictions"):
        qm.accuracy([1, 0], [1])
    with pytest.raises(ValueError, match="no labelled predictions"):
        qm.rmse([], [])
    with pytest.raises(ValueError, match="binary or macro"):
        qm.precision_recall_f1([1], [1], average="micro")


def test_huge_errors_give_huge_values_not_overflow_errors() -> None:
    assert qm.rmse([0.0], [1e200]) == 1e200
    assert qm.rmse([0.0, 0.0, 1.0], [1e200, -1e200, 1.0]) == pytest.approx(1e200 * math.sqrt(2 / 3))
    assert qm.rmse([-1.7e308], [1.7e308]) == math.inf  # the error itself is beyond a float
    assert qm.compute("regression", ["rmse"], [0.0], [1e300]) == {"rmse": 1e300}


def test_publishable_values_are_within_cloudwatch_range() -> None:
    assert qm.CLOUDWATCH_MAX == 2.0**359
    for value in (0.0, 0.5, -3.0, 1e100, qm.CLOUDWATCH_MAX, qm.CLOUDWATCH_MIN):
        assert qm.publishable(value) == value
    assert qm.publishable(1e200) == qm.publishable(math.inf) == qm.CLOUDWATCH_MAX
    assert qm.publishable(-math.inf) == -qm.CLOUDWATCH_MAX
    assert qm.publishable(1e-200) == qm.publishable(-1e-200) == 0.0
    with pytest.raises(ValueError, match="NaN"):
        qm.publishable(math.nan)
