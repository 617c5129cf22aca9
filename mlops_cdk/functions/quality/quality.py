"""Scheduled quality check of one model service: joins the endpoint's captured predictions
with the ground-truth labels the business delivers, computes the configured metrics and
publishes them to CloudWatch (the service's quality alarms watch them).

Ground truth (docs/concepts/quality.md): JSON Lines files under
``<LABELS_PREFIX>yyyy/mm/dd/hh/<any name>`` (the hour the labels were delivered, UTC, like data
capture's layout), one record per line, either ours::

    {"inference_id": "order-1234", "label": 1}

or SageMaker Model Monitor's ground-truth record ("Ingest Ground Truth labels and merge them
with predictions", https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-merge.html)::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "order-1234"}, "eventVersion": "0"}

A label is matched to a captured request by id: the ``InferenceId`` the caller passed to
InvokeEndpoint, which SageMaker adds to the captured record as ``eventMetadata.inferenceId``
(InvokeEndpoint "InferenceId", SageMaker API Reference,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html),
else the ``eventMetadata.eventId`` SageMaker generates, as Model Monitor merges them. A label
delivered twice keeps its latest delivery; a label matches one prediction (the first variant
read).

Capture layout and record format as in ``functions/drift/drift.py``: the prediction is the
response (``captureData.endpointOutput``): a number, a string, a one-element list, ``[p0, p1]``
probabilities (binary: p1), or an object with one of ``predictions``, ``prediction``,
``score``, ``probability``, ``predicted_label``, ``label`` (the first one present, unwrapped
recursively); a CSV response's first value. An object with ``predicted_label`` and
``probability`` (the probability of the predicted label, as SageMaker Autopilot writes it),
and none of the keys before ``probability``, is read as a whole: binary p1 = ``probability``
when the predicted label is 1, else 1 - ``probability``; multiclass and regression
``predicted_label``. With ``probabilities`` and ``labels`` lists as well (or instead of
``probability``), binary takes the probability of label 1, multiclass the most probable label.

The run reads the labels delivered in the last ``WINDOW_HOURS`` whole hours, then the capture
of the last ``WINDOW_HOURS + LABEL_DELAY_HOURS`` hours (a label arrives after its prediction).
It always publishes ``MatchedLabels`` (labels joined to a prediction), ``NewMatchedLabels``
(those delivered in the last ``PERIOD_HOURS``: the label heartbeat), ``UnmatchedLabels`` and
``MalformedRecords``; the metrics themselves only from ``MIN_LABELS`` matched labels on. Memory
follows the labels of the window, not the capture: capture files are streamed line by line.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from quality_metrics import (
    BINARY_METRICS,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    compute,
    publishable,
)

PROBLEMS = {
    "binary": BINARY_METRICS,
    "multiclass": MULTICLASS_METRICS,
    "regression": REGRESSION_METRICS,
}
# CloudWatch metric names (the same as mlops_cdk/props/quality.py; a test compares).
METRIC_NAMES = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "auc": "AUC",
    "rmse": "RMSE",
    "mae": "MAE",
}
MATCHED_METRIC = "MatchedLabels"
NEW_MATCHED_METRIC = "NewMatchedLabels"
UNMATCHED_METRIC = "UnmatchedLabels"
MALFORMED_METRIC = "MalformedRecords"
PREDICTION_KEYS = ("predictions", "prediction", "score", "probability", "predicted_label", "label")
_KEYS_BEFORE_PROBABILITY = PREDICTION_KEYS[: PREDICTION_KEYS.index("probability")]
METRICS_PER_CALL = 500
_INFERENCE_ID = re.compile(rb'"inferenceId"\s*:\s*"([^"]*)"')
_EVENT_ID = re.compile(rb'"eventId"\s*:\s*"([^"]*)"')
SAMPLE_CHARS = 500
# A decimal number with an integer value: sign, the digits without leading zeros, ".0..."
_INTEGRAL = re.compile(r"([+-]?)0*([0-9]+?)(?:\.0*)?")

_clients: dict[str, Any] = {}


class ConfigError(Exception):
    """The function's environment configuration is invalid."""


class MalformedError(ValueError):
    """A label or capture line this check cannot use."""


@dataclass(frozen=True)
class Settings:
    bucket: str
    capture_prefix: str
    labels_prefix: str
    endpoint_name: str
    variants: tuple[str, ...]
    window_hours: int
    label_delay_hours: int
    period_hours: int
    problem: str
    metrics: tuple[str, ...]
    threshold: float
    min_labels: int
    namespace: str
    dimensions: dict[str, str]


def _now() -> datetime:
    """The current time (UTC); tests monkeypatch this."""
    return datetime.now(UTC)


def _client(name: str) -> Any:
    client = _clients.get(name)
    if client is None:
        client = boto3.client(name, config=Config(retries={"mode": "standard", "max_attempts": 5}))
        _clients[name] = client
    return client


def reset_clients() -> None:
    """Forget the cached clients (for tests)."""
    _clients.clear()


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required")
    return value


def _number(name: str, kind: type[int] | type[float], low: float) -> Any:
    raw = _env(name)
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {kind.__name__}, got {raw!r}") from None
    if not math.isfinite(value):  # float() reads "nan" and "inf" too; "nan" < low is False
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    if value < low:
        raise ConfigError(f"{name} must be >= {low}, got {raw!r}")
    return value


def _prefix(name: str) -> str:
    value = _env(name)
    return value if value.endswith("/") else f"{value}/"


def load_settings() -> Settings:
    """Read and validate the environment configuration."""
    problem = _env("PROBLEM")
    if problem not in PROBLEMS:
        raise ConfigError(f"PROBLEM must be one of {', '.join(PROBLEMS)}, got {problem!r}")
    metrics = tuple(m.strip() for m in _env("METRICS").split(",") if m.strip())
    unknown = [m for m in metrics if m not in PROBLEMS[problem]]
    if unknown:
        raise ConfigError(f"METRICS: {', '.join(unknown)} not defined for {problem} problems")
    try:
        dimensions = json.loads(_env("DIMENSIONS"))
    except ValueError as err:
        raise ConfigError(f"DIMENSIONS is not JSON ({err})") from None
    if not isinstance(dimensions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in dimensions.items()
    ):
        raise ConfigError("DIMENSIONS must be a JSON object of strings")
    variants = os.environ.get("VARIANTS", "").strip()
    return Settings(
        bucket=_env("BUCKET"),
        capture_prefix=_prefix("CAPTURE_PREFIX"),
        labels_prefix=_prefix("LABELS_PREFIX"),
        endpoint_name=_env("ENDPOINT_NAME"),
        variants=tuple(v.strip() for v in variants.split(",") if v.strip()),
        window_hours=_number("WINDOW_HOURS", int, 1),
        label_delay_hours=_number("LABEL_DELAY_HOURS", int, 0),
        period_hours=_number("PERIOD_HOURS", int, 1),
        problem=problem,
        metrics=metrics,
        threshold=_number("THRESHOLD", float, 0),
        min_labels=_number("MIN_LABELS", int, 1),
        namespace=_env("METRICS_NAMESPACE"),
        dimensions=dimensions,
    )


def _log(level: str, message: str, **fields: Any) -> None:
    print(
        json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True),
        flush=True,
    )


# --- listing ---------------------------------------------------------------------------------


def window_hours(now: datetime, hours: int) -> list[datetime]:
    """The start of each whole hour of the window, oldest first."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=h) for h in range(hours, 0, -1)]


def _keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield str(item["Key"])


def _variant_prefixes(s3: Any, settings: Settings) -> list[str]:
    endpoint_prefix = f"{settings.capture_prefix}{settings.endpoint_name}/"
    if settings.variants:
        return [f"{endpoint_prefix}{v}/" for v in settings.variants]
    paginator = s3.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=settings.bucket, Prefix=endpoint_prefix, Delimiter="/")
    return sorted(str(c["Prefix"]) for page in pages for c in page.get("CommonPrefixes", []))


def _lines(s3: Any, bucket: str, key: str) -> Iterator[bytes]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for line in body.iter_lines(chunk_size=1 << 16):
        if line.strip():
            yield line


# --- parsing ---------------------------------------------------------------------------------


def _decode(captured: Any, where: str) -> tuple[str, str]:
    """(text, encoding) of a captured ``{"data", "encoding"}`` structure."""
    if not isinstance(captured, Mapping):
        raise MalformedError(f"{where} is missing")
    data, encoding = captured.get("data"), str(captured.get("encoding", "")).upper()
    if not isinstance(data, str):
        raise MalformedError(f"{where}.data is not a string")
    if encoding == "BASE64":
        try:
            return base64.b64decode(data, validate=True).decode("utf-8"), "BASE64"
        except (binascii.Error, UnicodeDecodeError) as err:
            raise MalformedError(f"{where}.data is not base64 UTF-8 ({err})") from None
    if encoding not in ("CSV", "JSON"):
        raise MalformedError(f"unknown {where}.encoding {encoding!r}")
    return data, encoding


def _scalar(text: str, encoding: str) -> Any:
    """A JSON document, else the first value of a CSV line (a number when it is one)."""
    stripped = text.strip()
    if encoding == "JSON" or stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except (ValueError, RecursionError):  # RecursionError: a document nested too deeply
            if encoding == "JSON":
                raise MalformedError("payload is not JSON") from None
    first = stripped.splitlines()[0].split(",")[0].strip() if stripped else ""
    if not first:
        raise MalformedError("empty payload")
    try:
        return float(first)
    except ValueError:
        return first


def _labelled(value: Mapping[str, Any]) -> bool:
    """Whether a response object is read by ``_from_labelled``: it holds ``predicted_label``
    with ``probability`` or with ``probabilities`` and ``labels``, and none of the keys that
    come before ``probability`` in PREDICTION_KEYS."""
    if "predicted_label" not in value or any(k in value for k in _KEYS_BEFORE_PROBABILITY):
        return False
    lists = isinstance(value.get("probabilities"), list) and isinstance(value.get("labels"), list)
    return "probability" in value or lists


def _from_lists(probabilities: list[Any], labels: list[Any], problem: str) -> Any:
    """Binary: the probability of label 1; multiclass: the label with the highest one."""
    if not labels or len(labels) != len(probabilities):
        raise MalformedError("probabilities and labels are not one per label")
    numbers = [_number_of(p, "probability") for p in probabilities]
    if problem == "multiclass":
        return labels[max(range(len(numbers)), key=numbers.__getitem__)]
    ones = [n for n, lb in zip(numbers, labels, strict=True) if typed(lb, problem, "label") == 1]
    if len(ones) != 1:
        raise MalformedError("labels do not hold class 1 once")
    return ones[0]


def _from_labelled(value: Mapping[str, Any], problem: str) -> Any:
    """The prediction of a SageMaker Autopilot style response: ``probability`` is the
    probability of ``predicted_label`` (not of class 1), ``probabilities`` those of ``labels``
    ("Configure inference output in generated containers", SageMaker Developer Guide,
    https://docs.aws.amazon.com/sagemaker/latest/dg/autopilot-automate-model-development-container-output.html).
    Binary: p(class 1); multiclass: the most probable label; regression: predicted_label."""
    probabilities, labels = value.get("probabilities"), value.get("labels")
    if problem == "regression":
        return value["predicted_label"]
    if isinstance(probabilities, list) and isinstance(labels, list):
        return _from_lists(probabilities, labels, problem)
    if problem == "multiclass":
        return value["predicted_label"]
    probability = _number_of(value["probability"], "probability")
    if not 0 <= probability <= 1:
        raise MalformedError(f"probability {probability!r} is not between 0 and 1")
    predicted_one = typed(value["predicted_label"], problem, "label") == 1
    return probability if predicted_one else 1 - probability


def _unwrap(value: Any, problem: str) -> Any:
    for _ in range(5):
        if isinstance(value, Mapping) and _labelled(value):
            return _from_labelled(value, problem)
        if isinstance(value, Mapping):
            key = next((k for k in PREDICTION_KEYS if k in value), None)
            if key is None:
                raise MalformedError(f"no prediction key ({', '.join(PREDICTION_KEYS)})")
            value = value[key]
        elif isinstance(value, list) and len(value) == 1:
            value = value[0]
        elif isinstance(value, list) and len(value) == 2 and problem == "binary":
            value = value[1]  # [p(0), p(1)]
        elif isinstance(value, list) and value and problem == "multiclass":
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
                raise MalformedError("a list prediction must be class probabilities")
            value = max(range(len(value)), key=value.__getitem__)  # the most probable class
        else:
            return value
    raise MalformedError("prediction nested too deeply")


def _class(value: Any) -> str:
    """A class label as text: 1, 1.0, "1" and "1.0" are one class (a decimal string with an
    integer value is that integer; other strings are as they are)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if not isinstance(value, int | float | str) or not str(value).strip():
        raise MalformedError(f"{value!r:.100} is not a class label")
    text = str(value).strip()
    integral = _INTEGRAL.fullmatch(text)
    if integral is None:
        return text
    sign, digits = integral.groups()
    return f"-{digits}" if sign == "-" and digits != "0" else digits


def _number_of(value: Any, what: str) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond float range
        raise MalformedError(f"{what} {value!r:.100} is not a number") from None
    if not math.isfinite(number):
        raise MalformedError(f"{what} {value!r} is not finite")
    return number


def typed(value: Any, problem: str, what: str) -> Any:
    """A label or prediction as the problem uses it: binary labels 0/1 and scores (floats),
    multiclass class labels (text), regression numbers."""
    if problem == "multiclass":
        return _class(value)
    number = _number_of(value, what)
    if problem == "binary" and what == "label":
        if number not in (0.0, 1.0):
            raise MalformedError(f"binary label {value!r} is not 0 or 1")
        return int(number)
    return number


def parse_label(line: bytes, problem: str) -> tuple[str, Any]:
    """(id, label) of one ground-truth line, in our format or Model Monitor's."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as err:  # RecursionError: a document nested too deeply
        raise MalformedError(f"not JSON ({err})") from None
    if not isinstance(record, dict):
        raise MalformedError("not a JSON object")
    if "inference_id" in record:
        identifier, raw = record.get("inference_id"), record.get("label")
        if raw is None:
            raise MalformedError("no label")
    elif "groundTruthData" in record:
        metadata = record.get("eventMetadata")
        identifier = metadata.get("eventId") if isinstance(metadata, Mapping) else None
        text, encoding = _decode(record["groundTruthData"], "groundTruthData")
        raw = _scalar(text, encoding)
    else:
        raise MalformedError("neither inference_id/label nor groundTruthData/eventMetadata")
    if not isinstance(identifier, str) or not identifier:
        raise MalformedError("the id is not a non-empty string")
    return identifier, typed(raw, problem, "label")


def capture_ids(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    metadata = record.get("eventMetadata")
    if not isinstance(metadata, Mapping):
        return None, None
    inference, event = metadata.get("inferenceId"), metadata.get("eventId")
    return (
        inference if isinstance(inference, str) else None,
        event if isinstance(event, str) else None,
    )


def parse_prediction(record: Mapping[str, Any], problem: str) -> Any:
    captured = record.get("captureData")
    output = captured.get("endpointOutput") if isinstance(captured, Mapping) else None
    text, encoding = _decode(output, "endpointOutput")
    return typed(_unwrap(_scalar(text, encoding), problem), problem, "prediction")


# --- the check -------------------------------------------------------------------------------


@dataclass
class Joined:
    labels: list[Any] = field(default_factory=list)
    predictions: list[Any] = field(default_factory=list)
    new_matched: int = 0
    unmatched: int = 0
    malformed_labels: int = 0
    malformed_captures: int = 0
    label_objects: int = 0
    capture_objects: int = 0
    samples: list[dict[str, str]] = field(default_factory=list)

    def malformed(self, kind: str, key: str, line: bytes, err: Exception) -> None:
        if kind == "label":
            self.malformed_labels += 1
        else:
            self.malformed_captures += 1
        if len(self.samples) < 2 and all(s["kind"] != kind for s in self.samples):
            sample = {
                "kind": kind,
                "object": key,
                "reason": str(err),
                "line": line[:SAMPLE_CHARS].decode("utf-8", "replace"),
            }
            self.samples.append(sample)
            _log("warning", f"malformed {kind} line skipped (first of the run)", **sample)


def read_labels(
    s3: Any, settings: Settings, now: datetime, joined: Joined
) -> tuple[dict[str, Any], set[str]]:
    """Labels delivered in the window by id (a later delivery wins), and the ids delivered in
    the last ``period_hours``."""
    labels: dict[str, Any] = {}
    new: set[str] = set()
    hours = window_hours(now, settings.window_hours)
    recent = hours[-settings.period_hours :]
    for hour in hours:
        for key in _keys(s3, settings.bucket, f"{settings.labels_prefix}{hour:%Y/%m/%d/%H}/"):
            joined.label_objects += 1
            for line in _lines(s3, settings.bucket, key):
                try:
                    identifier, label = parse_label(line, settings.problem)
                except MalformedError as err:
                    joined.malformed("label", key, line, err)
                    continue
                labels[identifier] = label
                if hour in recent:
                    new.add(identifier)
                else:
                    new.discard(identifier)
    return labels, new


def join(s3: Any, settings: Settings, now: datetime) -> Joined:
    """Stream the capture of the window (and the label delay) against the window's labels."""
    joined = Joined()
    labels, new = read_labels(s3, settings, now, joined)
    if labels:
        hours = window_hours(now, settings.window_hours + settings.label_delay_hours)
        for variant_prefix in _variant_prefixes(s3, settings):
            for hour in hours:
                for key in _keys(s3, settings.bucket, f"{variant_prefix}{hour:%Y/%m/%d/%H}/"):
                    joined.capture_objects += 1
                    _join_object(s3, settings, key, labels, new, joined)
    joined.unmatched = len(labels)
    return joined


def quick_ids(line: bytes) -> tuple[str | None, str | None] | None:
    """(inferenceId, eventId) found without parsing the line, or None when an id has escapes
    (then the line is parsed). Safe: inside a JSON string every quote is escaped, so
    ``"inferenceId":`` with bare quotes is a key of the record, never part of a payload."""
    found: list[str | None] = []
    for pattern in (_INFERENCE_ID, _EVENT_ID):
        match = pattern.search(line)
        if match is not None and b"\\" in match.group(1):
            return None
        found.append(match.group(1).decode("utf-8", "replace") if match else None)
    return found[0], found[1]


def _join_object(  # noqa: PLR0917 - the run's state, passed along
    s3: Any,
    settings: Settings,
    key: str,
    labels: dict[str, Any],
    new: set[str],
    joined: Joined,
) -> None:
    for line in _lines(s3, settings.bucket, key):
        ids = quick_ids(line)
        if ids not in (None, (None, None)) and ids[0] not in labels and ids[1] not in labels:
            continue  # most captured requests never get a label: skipped unparsed
        try:
            record = json.loads(line)
            inference, event = capture_ids(record)
        except (ValueError, AttributeError, RecursionError) as err:
            joined.malformed("capture", key, line, MalformedError(f"not a capture record ({err})"))
            continue
        identifier = inference if inference in labels else event if event in labels else None
        if identifier is None:
            continue
        try:
            prediction = parse_prediction(record, settings.problem)
        except MalformedError as err:
            joined.malformed("capture", key, line, err)
            continue
        joined.labels.append(labels.pop(identifier))
        joined.predictions.append(prediction)
        if identifier in new:
            joined.new_matched += 1


def _metric(name: str, value: float, unit: str, settings: Settings, now: datetime) -> Any:
    return {
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(settings.dimensions.items())],
        "Value": publishable(value),  # e.g. a blown-up RMSE: the bound, not a refused call
        "Unit": unit,
        "Timestamp": now,
    }


def publish(settings: Settings, metrics: list[dict[str, Any]]) -> None:
    cloudwatch = _client("cloudwatch")
    for start in range(0, len(metrics), METRICS_PER_CALL):
        cloudwatch.put_metric_data(
            Namespace=settings.namespace, MetricData=metrics[start : start + METRICS_PER_CALL]
        )


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point (an EventBridge Scheduler invocation; the event is not used)."""
    del event
    request_id = getattr(context, "aws_request_id", None)
    try:
        settings = load_settings()
    except ConfigError as err:
        _log("error", "configuration error", error=str(err), request_id=request_id)
        raise
    now = _now()
    joined = join(_client("s3"), settings, now)
    matched = len(joined.labels)
    metrics = [
        _metric(MATCHED_METRIC, matched, "Count", settings, now),
        _metric(NEW_MATCHED_METRIC, joined.new_matched, "Count", settings, now),
        _metric(UNMATCHED_METRIC, joined.unmatched, "Count", settings, now),
        _metric(
            MALFORMED_METRIC,
            joined.malformed_labels + joined.malformed_captures,
            "Count",
            settings,
            now,
        ),
    ]
    summary: dict[str, Any] = {
        "matched": matched,
        "new_matched": joined.new_matched,
        "unmatched": joined.unmatched,
        "malformed_labels": joined.malformed_labels,
        "malformed_captures": joined.malformed_captures,
        "label_objects": joined.label_objects,
        "capture_objects": joined.capture_objects,
        "window_hours": settings.window_hours,
    }
    context_fields = {"endpoint_name": settings.endpoint_name, "request_id": request_id}
    if matched < settings.min_labels:
        publish(settings, metrics)
        _log(
            "info",
            f"{matched} labels matched a prediction, fewer than {settings.min_labels}: only the "
            "counts are published",
            status="insufficient_labels",
            **summary,
            **context_fields,
        )
        return {"status": "insufficient_labels", **summary}
    values = compute(
        settings.problem,
        settings.metrics,
        joined.labels,
        joined.predictions,
        threshold=settings.threshold,
    )
    scores = {name: value for name, value in values.items() if value is not None}
    metrics += [_metric(METRIC_NAMES[n], v, "None", settings, now) for n, v in scores.items()]
    publish(settings, metrics)
    undefined = sorted(set(values) - set(scores))
    _log(
        "info",
        f"quality of {matched} labelled predictions",
        status="checked",
        scores=scores,
        undefined=undefined,
        **summary,
        **context_fields,
    )
    return {"status": "checked", "scores": scores, "undefined": undefined, **summary}
