"""Model-quality metrics in pure Python (the Lambda runtime has no numpy).

Each function takes parallel sequences of true labels and predictions and returns a float, or
None where the metric is undefined for the data (AUC with a single class). The definitions are
the usual ones, checked against numpy/scipy in tests/lambda/test_quality_metrics.py:

- accuracy: share of predictions equal to the label;
- precision, recall, F1: for ``binary`` problems of the positive class (label 1); for
  ``multiclass`` the unweighted mean over every class seen in labels or predictions ("macro");
  a ratio whose denominator is 0 counts as 0 (scikit-learn's ``zero_division=0``);
- AUC: area under the ROC curve of binary scores, the Mann-Whitney U statistic over
  ``n_pos * n_neg`` with tied scores given their average rank (so ties count one half);
- RMSE and MAE: root mean squared and mean absolute error of regression predictions (huge
  errors give huge values, never an OverflowError; ``publishable`` brings a value into the
  range CloudWatch accepts).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

BINARY_METRICS = ("accuracy", "precision", "recall", "f1", "auc")
MULTICLASS_METRICS = ("accuracy", "precision", "recall", "f1")
REGRESSION_METRICS = ("rmse", "mae")


def _check(labels: Sequence[object], predictions: Sequence[object]) -> int:
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels but {len(predictions)} predictions")
    if not labels:
        raise ValueError("no labelled predictions")
    return len(labels)


def accuracy(labels: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    n = _check(labels, predicted)
    return sum(1 for t, p in zip(labels, predicted, strict=True) if t == p) / n


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def binary_counts(labels: Sequence[int], predicted: Sequence[int]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of the positive class 1."""
    _check(labels, predicted)
    tp = fp = fn = 0
    for t, p in zip(labels, predicted, strict=True):
        if p == 1:
            if t == 1:
                tp += 1
            else:
                fp += 1
        elif t == 1:
            fn += 1
    return tp, fp, fn


def precision_recall_f1(
    labels: Sequence[Hashable], predicted: Sequence[Hashable], *, average: str = "binary"
) -> tuple[float, float, float]:
    """Precision, recall and F1: of class 1 (``binary``) or macro-averaged (``macro``)."""
    if average == "binary":
        tp, fp, fn = binary_counts(labels, predicted)  # type: ignore[arg-type]
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        return precision, recall, _f1(precision, recall)
    if average != "macro":
        raise ValueError(f"average must be binary or macro, got {average!r}")
    _check(labels, predicted)
    classes = set(labels) | set(predicted)
    hits: dict[Hashable, int] = dict.fromkeys(classes, 0)
    n_true: dict[Hashable, int] = dict.fromkeys(classes, 0)
    n_pred: dict[Hashable, int] = dict.fromkeys(classes, 0)
    for t, p in zip(labels, predicted, strict=True):
        n_true[t] += 1
        n_pred[p] += 1
        if t == p:
            hits[t] += 1
    precisions = [_ratio(hits[c], n_pred[c]) for c in classes]
    recalls = [_ratio(hits[c], n_true[c]) for c in classes]
    f1s = [_f1(p, r) for p, r in zip(precisions, recalls, strict=True)]
    k = len(classes)
    return sum(precisions) / k, sum(recalls) / k, sum(f1s) / k


def auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """ROC AUC of ``scores`` for labels 0/1; None when only one class is present."""
    n = _check(labels, scores)
    order = sorted(range(n), key=scores.__getitem__)
    rank_sum_pos = 0.0
    n_pos = 0
    start = 0
    while start < n:
        end = start
        value = scores[order[start]]
        while end + 1 < n and scores[order[end + 1]] == value:
            end += 1
        average_rank = (start + end) / 2 + 1  # ranks start at 1; ties share their mean
        for index in order[start : end + 1]:
            if labels[index] == 1:
                rank_sum_pos += average_rank
                n_pos += 1
        start = end + 1
    n_neg = n - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    return (rank_sum_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def rmse(labels: Sequence[float], predicted: Sequence[float]) -> float:
    """Root mean squared error, without overflow: ``(t - p) ** 2`` raises OverflowError from
    about 1.3e154 on, math.hypot scales instead (infinite only when an error itself is)."""
    n = _check(labels, predicted)
    root_n = math.sqrt(n)
    return math.hypot(*((t - p) / root_n for t, p in zip(labels, predicted, strict=True)))


def mae(labels: Sequence[float], predicted: Sequence[float]) -> float:
    n = _check(labels, predicted)
    return sum(abs(t - p) for t, p in zip(labels, predicted, strict=True)) / n


# PutMetricData refuses NaN, infinities and "values that are either too small or too large":
# "Values must be in the range of -2^360 to 2^360" ("Value", MetricDatum, CloudWatch API
# Reference, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html).
# Earlier versions of that page gave magnitudes of 8.515920e-109 to 1.174271e+108 (2^-359 to
# 2^359; not verifiable offline): the published range is the narrower one.
CLOUDWATCH_MAX = 2.0**359
CLOUDWATCH_MIN = 2.0**-359


def publishable(value: float) -> float:
    """``value`` as CloudWatch accepts it: beyond +-2^359 (infinity included) the bound, so that
    an alarm still fires on a blown-up error; a non-zero magnitude below 2^-359 is 0."""
    if math.isnan(value):
        raise ValueError("NaN cannot be published")  # no metric here is ever NaN
    if abs(value) < CLOUDWATCH_MIN:
        return 0.0
    return max(-CLOUDWATCH_MAX, min(CLOUDWATCH_MAX, value))


def compute(
    problem: str,
    metrics: Sequence[str],
    labels: Sequence[Any],
    predictions: Sequence[Any],
    *,
    threshold: float = 0.5,
) -> dict[str, float | None]:
    """The configured ``metrics`` of ``problem`` (``binary``: labels 0/1 and scores, class 1
    when the score is at least ``threshold``; ``multiclass``: class labels; ``regression``:
    numbers). A metric that is undefined for the data maps to None."""
    allowed = {
        "binary": BINARY_METRICS,
        "multiclass": MULTICLASS_METRICS,
        "regression": REGRESSION_METRICS,
    }.get(problem)
    if allowed is None:
        raise ValueError(f"unknown problem {problem!r}")
    unknown = [m for m in metrics if m not in allowed]
    if unknown:
        raise ValueError(f"{', '.join(unknown)} not defined for {problem} problems")
    if problem == "regression":
        funcs = {"rmse": rmse, "mae": mae}
        return {m: funcs[m](labels, predictions) for m in metrics}
    scores = predictions
    predicted: Sequence[Any] = predictions
    if problem == "binary":
        predicted = [1 if float(s) >= threshold else 0 for s in scores]
    result: dict[str, float | None] = {}
    if "accuracy" in metrics:
        result["accuracy"] = accuracy(labels, predicted)
    if {"precision", "recall", "f1"} & set(metrics):
        average = "binary" if problem == "binary" else "macro"
        p, r, f = precision_recall_f1(labels, predicted, average=average)
        result.update({"precision": p, "recall": r, "f1": f})
    if "auc" in metrics:
        result["auc"] = auc(labels, scores)
    return {m: result[m] for m in metrics}
