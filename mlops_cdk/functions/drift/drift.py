"""Scheduled drift check of one model service: reads the last window of SageMaker data
capture, compares each feature with the service's baseline, and publishes CloudWatch metrics.

Data capture layout ("Capture data from real-time endpoint", Amazon SageMaker Developer Guide):
objects ``<capture prefix><endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``, one JSON record per
line: ``{"captureData": {"endpointInput": {"observedContentType", "mode", "data", "encoding"},
"endpointOutput": {...}}, "eventMetadata": {"eventId", "inferenceTime"}, "eventVersion"}``.
``encoding`` is ``CSV`` or ``JSON`` for the content types the endpoint config lists
(``CaptureContentTypeHeader``) and ``BASE64`` otherwise. Each request is parsed as what it was
captured as: CSV or JSON, a BASE64 one by its ``observedContentType`` when that is text/csv or
application/json, else as ``CONTENT_TYPE`` says.

The window is the last ``WINDOW_HOURS`` whole hours before the current hour (the current hour's
files are still being written). Objects are streamed line by line, so memory stays bounded by
the baseline, not by the window. Every run ends in one summary log line (JSON); problems that
would recur on every retry (no baseline, an unreadable one, malformed lines) are logged and
counted, never raised, so the schedule does not retry them in a loop.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import ClientError  # type: ignore[import-untyped, unused-ignore]
from drift_stats import Accumulator, Baseline, BaselineError, accumulator, parse_baseline

CONTENT_TYPES = ("text/csv", "application/json")
MAX_BASELINE_BYTES = 20 * 1024 * 1024
SAMPLE_CHARS = 500
METRICS_PER_CALL = 500
# Metric names: the same as mlops_cdk/aws/facts.py, which the alarm and dashboard use
# (a test compares).
PSI_METRIC = "PSI"
KS_METRIC = "KS"
SHARE_METRIC = "DriftedFeatureShare"
RECORDS_METRIC = "RecordsUsed"
MALFORMED_METRIC = "MalformedRecords"
BASELINE_METRIC = "BaselineUnavailable"

_clients: dict[str, Any] = {}


class ConfigError(Exception):
    """The function's environment configuration is invalid."""


class MalformedError(ValueError):
    """A capture line this check cannot use."""


@dataclass(frozen=True)
class Settings:
    bucket: str
    capture_prefix: str
    endpoint_name: str
    baseline_key: str
    window_hours: int
    min_records: int
    features: tuple[str, ...]
    psi_threshold: float
    content_type: str
    namespace: str


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


def load_settings() -> Settings:
    """Read and validate the environment configuration."""
    content_type = _env("CONTENT_TYPE")
    if content_type not in CONTENT_TYPES:
        raise ConfigError(f"CONTENT_TYPE must be one of {CONTENT_TYPES}, got {content_type!r}")
    prefix = _env("CAPTURE_PREFIX")
    features = os.environ.get("FEATURES", "").strip()
    return Settings(
        bucket=_env("BUCKET"),
        capture_prefix=prefix if prefix.endswith("/") else f"{prefix}/",
        endpoint_name=_env("ENDPOINT_NAME"),
        baseline_key=_env("BASELINE_KEY"),
        window_hours=_number("WINDOW_HOURS", int, 1),
        min_records=_number("MIN_RECORDS", int, 1),
        features=tuple(f.strip() for f in features.split(",") if f.strip()),
        psi_threshold=_number("PSI_THRESHOLD", float, 0),
        content_type=content_type,
        namespace=_env("METRICS_NAMESPACE"),
    )


def _log(level: str, message: str, **fields: Any) -> None:
    print(
        json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True),
        flush=True,
    )


# --- the window ------------------------------------------------------------------------------


def window_hours(now: datetime, hours: int) -> list[datetime]:
    """The start of each whole hour of the window, oldest first."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=h) for h in range(hours, 0, -1)]


def _list(s3: Any, bucket: str, prefix: str, delimiter: str | None = None) -> Iterator[Any]:
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    if delimiter:
        kwargs["Delimiter"] = delimiter
    yield from s3.get_paginator("list_objects_v2").paginate(**kwargs)


def capture_keys(s3: Any, settings: Settings, now: datetime) -> Iterator[str]:
    """Keys of the window's capture files, variant by variant, hour by hour."""
    endpoint_prefix = f"{settings.capture_prefix}{settings.endpoint_name}/"
    variants = [
        str(common["Prefix"])
        for page in _list(s3, settings.bucket, endpoint_prefix, "/")
        for common in page.get("CommonPrefixes", [])
    ]
    for variant_prefix in sorted(variants):
        for hour in window_hours(now, settings.window_hours):
            for page in _list(s3, settings.bucket, f"{variant_prefix}{hour:%Y/%m/%d/%H}/"):
                for item in page.get("Contents", []):
                    yield str(item["Key"])


# --- parsing ---------------------------------------------------------------------------------


Row = Sequence[Any] | Mapping[str, Any]
# What each capture encoding holds: the endpoint config captures text/csv as CSV and
# application/json as JSON (CaptureContentTypeHeader, mlops_cdk/constructs/endpoint.py), any
# other content type as BASE64 ("Capture data from real-time endpoint", SageMaker Developer
# Guide, https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html).
ENCODING_TYPES = {"CSV": "text/csv", "JSON": "application/json"}


def media_type(content_type: Any) -> str:
    """The media type of a Content-Type value, without parameters such as ``; charset=utf-8``
    and in lower case (type and subtype are case-insensitive: RFC 9110, section 8.3.1,
    https://www.rfc-editor.org/rfc/rfc9110#section-8.3.1)."""
    return str(content_type or "").split(";", 1)[0].strip().lower()


def payload_text(line: bytes, content_type: str) -> tuple[str, str]:
    """The request payload of one capture line, decoded, and its media type: the record's
    ``encoding`` (CSV or JSON) says it; a BASE64 record's ``observedContentType`` does when it
    is text/csv or application/json, else it is ``content_type`` (CONTENT_TYPE)."""
    try:
        record = json.loads(line)
        captured = record["captureData"]["endpointInput"]
        data, encoding = captured["data"], str(captured.get("encoding", "")).upper()
        observed = media_type(captured.get("observedContentType"))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        # RecursionError: CPython's json parser raises it for a document nested too deeply.
        raise MalformedError(f"not a capture record with endpointInput ({err})") from None
    if not isinstance(data, str):
        raise MalformedError("endpointInput.data is not a string")
    if encoding in ENCODING_TYPES:
        return data, ENCODING_TYPES[encoding]
    if encoding == "BASE64":
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise MalformedError(f"endpointInput.data is not base64 UTF-8 ({err})") from None
        return text, observed if observed in CONTENT_TYPES else content_type
    raise MalformedError(f"unknown endpointInput.encoding {encoding!r}")


def csv_rows(text: str, width: int) -> list[Sequence[str]]:
    """Rows of a CSV payload (one per line, no header), each ``width`` values wide."""
    if '"' in text:
        try:
            rows: list[Sequence[str]] = [r for r in csv.reader(io.StringIO(text)) if r]
        except csv.Error as err:  # e.g. a field larger than csv.field_size_limit()
            raise MalformedError(f"CSV payload cannot be read ({err})") from None
    else:
        rows = [line.split(",") for line in text.splitlines() if line.strip()]
    if not rows:
        raise MalformedError("empty CSV payload")
    for row in rows:
        if len(row) != width:
            raise MalformedError(f"CSV row has {len(row)} values, the baseline has {width}")
    return rows


def _json_items(text: str) -> list[Any]:
    """The row items of a JSON payload (see json_rows)."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as err:  # RecursionError: nested too deeply
        raise MalformedError(f"payload is not JSON ({err})") from None
    if isinstance(document, dict) and isinstance(document.get("instances"), list):
        document = document["instances"]
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list) and document:
        if all(isinstance(i, dict | list) for i in document):
            return document
        return [document]  # one row of values
    raise MalformedError("JSON payload has no rows")


def json_rows(text: str, columns: Sequence[str]) -> list[Row]:
    """Rows of a JSON payload: an object of feature values (holding at least one of the
    baseline's ``columns``), a list of values (in the baseline's column order), a list of
    either, or ``{"instances": [...]}`` of either (``{"features": [...]}`` items too)."""
    rows: list[Row] = []
    for item in _json_items(text):
        row = (
            item["features"]
            if isinstance(item, dict) and isinstance(item.get("features"), list)
            else item
        )
        if isinstance(row, list) and len(row) != len(columns):
            raise MalformedError(f"JSON row has {len(row)} values, the baseline has {len(columns)}")
        if isinstance(row, dict) and not any(name in row for name in columns):
            # e.g. TF Serving's {"inputs": ...} or {"data": {...}}: not a row of missing values
            raise MalformedError("JSON object holds none of the baseline's columns")
        rows.append(row)
    return rows


def parse_line(line: bytes, content_type: str, columns: Sequence[str]) -> list[Row]:
    """The rows of one capture line, parsed as what its request was captured as."""
    text, media = payload_text(line, content_type)
    if media == "text/csv":
        return list(csv_rows(text, len(columns)))
    return json_rows(text, columns)


# --- the check -------------------------------------------------------------------------------


@dataclass
class WindowStats:
    records: int = 0
    malformed: int = 0
    objects: int = 0
    sample: dict[str, str] | None = None


def load_baseline(s3: Any, settings: Settings) -> Baseline:
    """The service's baseline; raises BaselineError with a one-line reason."""
    try:
        response = s3.get_object(Bucket=settings.bucket, Key=settings.baseline_key)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        location = f"s3://{settings.bucket}/{settings.baseline_key}"
        raise BaselineError(f"cannot read {location}: {code or err}") from None
    if int(response.get("ContentLength", 0)) > MAX_BASELINE_BYTES:
        raise BaselineError(f"larger than {MAX_BASELINE_BYTES} bytes")
    try:
        document = json.loads(response["Body"].read())
    except (ValueError, UnicodeDecodeError) as err:
        raise BaselineError(f"not JSON ({err})") from None
    return parse_baseline(document)


def checked_features(baseline: Baseline, settings: Settings) -> dict[str, Accumulator]:
    names = settings.features or tuple(baseline.features)
    unknown = [n for n in names if n not in baseline.features]
    if unknown:
        raise BaselineError(
            f"features {', '.join(unknown)} are configured but not in the baseline "
            f"(it has {', '.join(baseline.features)})"
        )
    return {name: accumulator(baseline.features[name]) for name in names}


def scan(
    s3: Any,
    settings: Settings,
    baseline: Baseline,
    features: Mapping[str, Accumulator],
    now: datetime,
) -> WindowStats:
    """Stream the window's capture lines into the accumulators."""
    stats = WindowStats()
    positions = {name: baseline.columns.index(name) for name in features}
    for key in capture_keys(s3, settings, now):
        stats.objects += 1
        body = s3.get_object(Bucket=settings.bucket, Key=key)["Body"]
        for line in body.iter_lines(chunk_size=1 << 16):
            if not line.strip():
                continue
            try:
                rows = parse_line(line, settings.content_type, baseline.columns)
            except MalformedError as err:
                stats.malformed += 1
                if stats.sample is None:
                    stats.sample = {
                        "object": key,
                        "reason": str(err),
                        "line": line[:SAMPLE_CHARS].decode("utf-8", "replace"),
                    }
                    _log(
                        "warning",
                        "malformed capture line skipped (first of the run)",
                        **stats.sample,
                    )
                continue
            for row in rows:
                if isinstance(row, Mapping):
                    for name, acc in features.items():
                        acc.add(row.get(name))
                else:
                    for name, acc in features.items():
                        acc.add(row[positions[name]])
            stats.records += len(rows)
    return stats


def _metric(
    name: str, value: float, unit: str, dimensions: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    return {
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        "Value": value,
        "Unit": unit,
        "Timestamp": now,
    }


def publish(settings: Settings, metrics: list[dict[str, Any]]) -> None:
    cloudwatch = _client("cloudwatch")
    for start in range(0, len(metrics), METRICS_PER_CALL):
        cloudwatch.put_metric_data(
            Namespace=settings.namespace, MetricData=metrics[start : start + METRICS_PER_CALL]
        )


def _too_few(stats: WindowStats, min_records: int) -> tuple[str, str, str]:
    """(status, level, message) of a window with fewer than ``min_records`` records: an error
    when every captured line was malformed (the check is blind, e.g. the wrong content type),
    else a quiet window."""
    if stats.records == 0 and stats.malformed > 0:
        return (
            "unreadable_capture",
            "error",
            f"every captured line in the window was malformed ({stats.malformed}): drift is not "
            "checked; check the content type and the payload's columns against the baseline "
            "(the first malformed line is logged above)",
        )
    return (
        "insufficient_records",
        "info",
        f"{stats.records} records in the window, fewer than {min_records}: only the record "
        "count is published",
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
    endpoint = {"EndpointName": settings.endpoint_name}
    context_fields = {"endpoint_name": settings.endpoint_name, "request_id": request_id}
    s3 = _client("s3")
    try:
        baseline = load_baseline(s3, settings)
        features = checked_features(baseline, settings)
    except BaselineError as err:
        _log(
            "error",
            "baseline unavailable: drift not checked",
            error="baseline_unavailable",
            reason=str(err),
            baseline=f"s3://{settings.bucket}/{settings.baseline_key}",
            **context_fields,
        )
        publish(settings, [_metric(BASELINE_METRIC, 1, "Count", endpoint, now)])
        return {"status": "baseline_unavailable", "reason": str(err)}

    stats = scan(s3, settings, baseline, features, now)
    metrics = [
        _metric(BASELINE_METRIC, 0, "Count", endpoint, now),
        _metric(RECORDS_METRIC, stats.records, "Count", endpoint, now),
        _metric(MALFORMED_METRIC, stats.malformed, "Count", endpoint, now),
    ]
    summary: dict[str, Any] = {
        "records": stats.records,
        "malformed": stats.malformed,
        "objects": stats.objects,
        "window_hours": settings.window_hours,
    }
    if stats.records < settings.min_records:
        publish(settings, metrics)
        status, level, message = _too_few(stats, settings.min_records)
        _log(level, message, status=status, **summary, **context_fields)
        return {"status": status, **summary}

    scores: dict[str, dict[str, float]] = {}
    for name, acc in features.items():
        per_feature = {**endpoint, "Feature": name}
        scores[name] = {"psi": acc.psi()}
        metrics.append(_metric(PSI_METRIC, scores[name]["psi"], "None", per_feature, now))
        ks = acc.ks()
        if ks is not None:
            scores[name]["ks"] = ks
            metrics.append(_metric(KS_METRIC, ks, "None", per_feature, now))
    drifted = sorted(n for n, s in scores.items() if s["psi"] >= settings.psi_threshold)
    share = len(drifted) / len(scores)
    metrics.append(_metric(SHARE_METRIC, share, "None", endpoint, now))
    publish(settings, metrics)
    _log(
        "info",
        f"{len(drifted)} of {len(scores)} features drifted (PSI >= {settings.psi_threshold:g})",
        status="checked",
        drifted=drifted,
        drifted_share=share,
        scores=scores,
        **summary,
        **context_fields,
    )
    return {
        "status": "checked",
        "drifted": drifted,
        "drifted_share": share,
        "scores": scores,
        **summary,
    }
