"""The drift check against moto S3 and CloudWatch: real capture-format files (JSON Lines,
``captureData.endpointInput``, CSV / JSON / BASE64 encodings, one folder per variant and hour),
the published metrics, and each failure path (malformed lines, too few records, no baseline)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import drift
import drift_stats as ds
import numpy as np
import pytest
from moto import mock_aws

from scripts.drift_data import capture_line

REGION = "eu-west-1"
BUCKET = "artifacts"
ENDPOINT = "dev-churn"
CAPTURE_PREFIX = "data-capture/churn/"
BASELINE_KEY = "baselines/churn/baseline.json"
NAMESPACE = "MlopsCdk/Drift"
NOW = datetime(2026, 5, 1, 10, 17, tzinfo=UTC)
COLUMNS = ("tenure", "charges", "plan")


@pytest.fixture(autouse=True)
def drift_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "BUCKET": BUCKET,
        "CAPTURE_PREFIX": CAPTURE_PREFIX,
        "ENDPOINT_NAME": ENDPOINT,
        "BASELINE_KEY": BASELINE_KEY,
        "WINDOW_HOURS": "3",
        "MIN_RECORDS": "50",
        "FEATURES": "",
        "PSI_THRESHOLD": "0.2",
        "CONTENT_TYPE": "text/csv",
        "METRICS_NAMESPACE": NAMESPACE,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(drift, "_now", lambda: NOW)
    drift.reset_clients()
    yield
    drift.reset_clients()


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield s3, boto3.client("cloudwatch", region_name=REGION)


def training_rows(n: int = 2000, seed: int = 1) -> list[tuple[float, float, str]]:
    rng = np.random.default_rng(seed)
    plans = rng.choice(["basic", "pro", "family"], n, p=[0.5, 0.3, 0.2])
    return list(
        zip(
            rng.normal(24, 6, n).round(2).tolist(),
            rng.normal(70, 15, n).round(2).tolist(),
            plans.tolist(),
            strict=True,
        )
    )


def put_baseline(s3: Any, rows: list[tuple[float, float, str]]) -> ds.Baseline:
    baseline = ds.Baseline(
        service="churn",
        columns=COLUMNS,
        features={
            "tenure": ds.numeric_reference([r[0] for r in rows]),
            "charges": ds.numeric_reference([r[1] for r in rows]),
            "plan": ds.categorical_reference([r[2] for r in rows]),
        },
        row_count=len(rows),
        created="2026-04-30T00:00:00+00:00",
        source="train.csv",
        source_sha256="0" * 64,
    )
    s3.put_object(Bucket=BUCKET, Key=BASELINE_KEY, Body=json.dumps(baseline.to_json()))
    return baseline


def capture_key(variant: str, hour: datetime, name: str = "part") -> str:
    return f"{CAPTURE_PREFIX}{ENDPOINT}/{variant}/{hour:%Y/%m/%d/%H}/{name}.jsonl"


def put_capture(s3: Any, key: str, lines: list[str]) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body="\n".join(lines) + "\n")


def csv_payload(row: tuple[float, float, str]) -> str:
    return ",".join(str(v) for v in row)


def metric(cloudwatch: Any, name: str, feature: str | None = None) -> float | None:
    dimensions = [{"Name": "EndpointName", "Value": ENDPOINT}]
    if feature is not None:
        dimensions.append({"Name": "Feature", "Value": feature})
    points = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=name,
        Dimensions=dimensions,
        StartTime=NOW - timedelta(minutes=5),
        EndTime=NOW + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert len(points) <= 1
    return float(points[0]["Maximum"]) if points else None


def logs(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


HOURS = [datetime(2026, 5, 1, h, tzinfo=UTC) for h in (7, 8, 9)]  # the 3-hour window at 10:17


def test_window_is_the_last_whole_hours() -> None:
    assert drift.window_hours(NOW, 3) == HOURS


def test_csv_window_publishes_psi_ks_share_and_counts(
    aws: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    s3, cloudwatch = aws
    rows = training_rows()
    baseline = put_baseline(s3, rows)
    window = training_rows(300, seed=2)
    shifted = [(t + 12, c, "family") for t, c, _ in window[:150]]  # drifts tenure and plan
    used = window[150:] + shifted
    put_capture(
        s3,
        capture_key("champion", HOURS[0]),
        [capture_line(csv_payload(r)) for r in window[150:250]],
    )
    put_capture(
        s3, capture_key("champion", HOURS[2]), [capture_line(csv_payload(r)) for r in window[250:]]
    )
    put_capture(
        s3, capture_key("challenger", HOURS[1]), [capture_line(csv_payload(r)) for r in shifted]
    )
    # Outside the window: the current (still written) hour and the hour before the window.
    outside = [capture_line(csv_payload((999.0, 999.0, "x")))] * 40
    put_capture(s3, capture_key("champion", NOW), outside)
    put_capture(s3, capture_key("champion", HOURS[0] - timedelta(hours=1)), outside)

    result = drift.handler({}, None)

    assert result["status"] == "checked"
    assert result["records"] == 300
    assert result["objects"] == 3
    expected: dict[str, float] = {}
    for index, name in enumerate(COLUMNS):
        acc = ds.accumulator(baseline.features[name])
        for row in used:
            acc.add(str(row[index]))
        expected[name] = acc.psi()
        assert metric(cloudwatch, "PSI", name) == pytest.approx(expected[name])
    assert expected["tenure"] >= 0.2
    assert expected["plan"] >= 0.2 > expected["charges"]
    assert metric(cloudwatch, "KS", "tenure") == pytest.approx(result["scores"]["tenure"]["ks"])
    assert metric(cloudwatch, "KS", "plan") is None  # categorical: PSI only
    assert metric(cloudwatch, "DriftedFeatureShare") == pytest.approx(2 / 3)
    assert metric(cloudwatch, "RecordsUsed") == 300
    assert metric(cloudwatch, "MalformedRecords") == 0
    assert metric(cloudwatch, "BaselineUnavailable") == 0
    (summary,) = logs(capsys)
    assert summary["status"] == "checked"
    assert summary["drifted"] == ["plan", "tenure"]


def test_undrifted_window_has_no_drifted_features(aws: tuple[Any, Any]) -> None:
    s3, cloudwatch = aws
    put_baseline(s3, training_rows())
    same = training_rows(1000, seed=3)
    put_capture(s3, capture_key("champion", HOURS[1]), [capture_line(csv_payload(r)) for r in same])
    result = drift.handler({}, None)
    assert result["drifted"] == []
    assert metric(cloudwatch, "DriftedFeatureShare") == 0


def test_configured_features_only(aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    s3, cloudwatch = aws
    put_baseline(s3, training_rows())
    monkeypatch.setenv("FEATURES", "charges")
    rows = training_rows(100, seed=4)
    put_capture(s3, capture_key("champion", HOURS[1]), [capture_line(csv_payload(r)) for r in rows])
    result = drift.handler({}, None)
    assert set(result["scores"]) == {"charges"}
    assert metric(cloudwatch, "PSI", "tenure") is None


@pytest.mark.parametrize(
    ("make_payload", "encoding"),
    [
        (lambda r: json.dumps({"tenure": r[0], "charges": r[1], "plan": r[2]}), "JSON"),
        (lambda r: json.dumps({"instances": [[r[0], r[1], r[2]]]}), "JSON"),
        (lambda r: json.dumps({"instances": [{"features": [r[0], r[1], r[2]]}]}), "JSON"),
        (lambda r: json.dumps([r[0], r[1], r[2]]), "BASE64"),
    ],
)
def test_json_payloads(
    aws: tuple[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    make_payload: Callable[[tuple[float, float, str]], str],
    encoding: str,
) -> None:
    s3, cloudwatch = aws
    baseline = put_baseline(s3, training_rows())
    monkeypatch.setenv("CONTENT_TYPE", "application/json")
    rows = training_rows(120, seed=5)
    lines = [capture_line(make_payload(r), "application/json", encoding) for r in rows]
    put_capture(s3, capture_key("champion", HOURS[1]), lines)
    result = drift.handler({}, None)
    assert result["records"] == 120
    acc = ds.accumulator(baseline.features["charges"])
    for row in rows:
        acc.add(row[1])
    assert metric(cloudwatch, "PSI", "charges") == pytest.approx(acc.psi())


def test_csv_payload_with_several_rows_and_quotes(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    put_baseline(s3, training_rows())
    batch = "\n".join(csv_payload(r) for r in training_rows(60, seed=6))
    quoted = '24.5,70.1,"pro"'
    put_capture(s3, capture_key("champion", HOURS[1]), [capture_line(batch), capture_line(quoted)])
    assert drift.handler({}, None)["records"] == 61


def test_malformed_lines_are_counted_logged_once_and_skipped(
    aws: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    s3, cloudwatch = aws
    put_baseline(s3, training_rows())
    good = [capture_line(csv_payload(r)) for r in training_rows(80, seed=7)]
    bad = [
        "{not json",
        json.dumps({"captureData": {"endpointOutput": {}}}),
        capture_line("1,2"),  # two values, the baseline has three
        capture_line("%%%", encoding="BASE64"),
        capture_line("1,2,3", encoding="XML"),
    ]
    put_capture(s3, capture_key("champion", HOURS[1]), good[:40] + bad + good[40:])
    result = drift.handler({}, None)
    assert result["records"] == 80
    assert result["malformed"] == 5
    assert metric(cloudwatch, "MalformedRecords") == 5
    lines = logs(capsys)
    warnings = [line for line in lines if line["level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["line"] == "{not json"
    assert warnings[0]["object"].endswith(".jsonl")


def test_too_few_records_publish_the_count_only(
    aws: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    s3, cloudwatch = aws
    put_baseline(s3, training_rows())
    rows = training_rows(49, seed=8)
    put_capture(s3, capture_key("champion", HOURS[1]), [capture_line(csv_payload(r)) for r in rows])
    result = drift.handler({}, None)
    assert result["status"] == "insufficient_records"
    assert metric(cloudwatch, "RecordsUsed") == 49
    assert metric(cloudwatch, "DriftedFeatureShare") is None
    assert metric(cloudwatch, "PSI", "tenure") is None
    (line,) = logs(capsys)
    assert line["status"] == "insufficient_records"


def test_empty_window(aws: tuple[Any, Any]) -> None:
    s3, cloudwatch = aws
    put_baseline(s3, training_rows())
    result = drift.handler({}, None)
    assert (result["status"], result["records"], result["objects"]) == (
        "insufficient_records",
        0,
        0,
    )
    assert metric(cloudwatch, "RecordsUsed") == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "cannot read s3://artifacts/baselines/churn/baseline.json: NoSuchKey"),
        (b"{broken", "not JSON"),
        (json.dumps({"schema_version": 99}).encode(), "schema_version 99 is not supported"),
    ],
)
def test_missing_or_unreadable_baseline_is_one_error_and_a_metric(
    aws: tuple[Any, Any], capsys: pytest.CaptureFixture[str], body: bytes | None, reason: str
) -> None:
    s3, cloudwatch = aws
    if body is not None:
        s3.put_object(Bucket=BUCKET, Key=BASELINE_KEY, Body=body)
    result = drift.handler({}, None)  # no exception: the schedule does not retry in a loop
    assert result["status"] == "baseline_unavailable"
    assert reason in result["reason"]
    assert metric(cloudwatch, "BaselineUnavailable") == 1
    assert metric(cloudwatch, "RecordsUsed") is None
    (line,) = logs(capsys)
    assert line["level"] == "error"
    assert line["error"] == "baseline_unavailable"
    assert reason in line["reason"]


def test_configured_feature_missing_from_the_baseline(
    aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, cloudwatch = aws
    put_baseline(s3, training_rows())
    monkeypatch.setenv("FEATURES", "tenure,age")
    result = drift.handler({}, None)
    assert result["status"] == "baseline_unavailable"
    assert "features age are configured but not in the baseline" in result["reason"]
    assert metric(cloudwatch, "BaselineUnavailable") == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BUCKET", "", "BUCKET is required"),
        ("CONTENT_TYPE", "text/xml", "CONTENT_TYPE must be one of"),
        ("WINDOW_HOURS", "two", "WINDOW_HOURS must be a int"),
        ("MIN_RECORDS", "0", "MIN_RECORDS must be >= 1"),
    ],
)
def test_configuration_errors_raise(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(drift.ConfigError, match=message):
        drift.handler({}, None)
    (line,) = logs(capsys)
    assert line["level"] == "error"


def test_capture_prefix_without_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTURE_PREFIX", "data-capture/churn")
    assert drift.load_settings().capture_prefix == CAPTURE_PREFIX


# --- each record parsed as it was captured; lines that cannot be rows -------------------------


def b64_line(payload: str, observed: str) -> str:
    """A record captured as BASE64 (a content type the endpoint config does not list)."""
    return capture_line(payload, observed, "BASE64")


@pytest.mark.parametrize("content_type", ["text/csv", "application/json"])
def test_each_record_is_parsed_as_its_capture_says(
    aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch, content_type: str
) -> None:
    s3, cloudwatch = aws
    baseline = put_baseline(s3, training_rows())
    monkeypatch.setenv("CONTENT_TYPE", content_type)
    rows = training_rows(200, seed=9)

    def as_json(r: tuple[float, float, str]) -> str:
        return json.dumps(dict(zip(COLUMNS, r, strict=True)))

    fallback = csv_payload if content_type == "text/csv" else as_json
    lines = (
        [capture_line(csv_payload(r)) for r in rows[:50]]
        + [capture_line(as_json(r), "application/json", "JSON") for r in rows[50:100]]
        + [b64_line(as_json(r), "Application/JSON; charset=utf-8") for r in rows[100:130]]
        + [b64_line(csv_payload(r), "text/csv;charset=utf-8") for r in rows[130:160]]
        # Another content type: its base64 payload is read as CONTENT_TYPE says.
        + [b64_line(fallback(r), "application/octet-stream") for r in rows[160:]]
    )
    put_capture(s3, capture_key("champion", HOURS[1]), lines)

    result = drift.handler({}, None)

    assert (result["records"], result["malformed"]) == (200, 0)
    for index, name in enumerate(COLUMNS):
        acc = ds.accumulator(baseline.features[name])
        for row in rows:
            acc.add(row[index])
        assert metric(cloudwatch, "PSI", name) == pytest.approx(acc.psi())
    assert result["drifted"] == []


def test_payload_text_says_the_media_type() -> None:
    payload = '{"tenure": 1}'
    assert drift.payload_text(capture_line(payload, "text/csv", "JSON").encode(), "text/csv") == (
        payload,
        "application/json",
    )
    observed = b64_line(payload, " application/json ; charset=UTF-8").encode()
    assert drift.payload_text(observed, "text/csv") == (payload, "application/json")
    other = b64_line("1,2,x", "application/x-npy").encode()
    assert drift.payload_text(other, "text/csv") == ("1,2,x", "text/csv")


@pytest.mark.parametrize(
    "make_payload",
    [
        lambda r: json.dumps({"inputs": [[r[0], r[1], r[2]]]}),  # TF Serving's columnar format
        lambda r: json.dumps({"data": dict(zip(COLUMNS, r, strict=True))}),
        lambda r: json.dumps({"instances": [{"Tenure": r[0], "Charges": r[1]}]}),
    ],
)
def test_json_object_without_a_baseline_column_is_malformed(
    aws: tuple[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    make_payload: Callable[[tuple[float, float, str]], str],
) -> None:
    s3, cloudwatch = aws
    put_baseline(s3, training_rows())
    monkeypatch.setenv("CONTENT_TYPE", "application/json")
    rows = training_rows(60, seed=10)
    # Some columns missing is a legal row: those features count as missing.
    partial = [json.dumps({"tenure": r[0], "plan": r[2]}) for r in rows]
    lines = [capture_line(p, "application/json", "JSON") for p in partial]
    lines += [capture_line(make_payload(r), "application/json", "JSON") for r in rows]
    put_capture(s3, capture_key("champion", HOURS[1]), lines)

    result = drift.handler({}, None)

    assert (result["records"], result["malformed"]) == (60, 60)
    assert metric(cloudwatch, "MalformedRecords") == 60


def test_oversized_csv_field_and_deeply_nested_json_are_malformed_lines(
    aws: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    s3, cloudwatch = aws
    put_baseline(s3, training_rows())
    good = [capture_line(csv_payload(r)) for r in training_rows(80, seed=11)]
    deep = "[" * 100_000 + "]" * 100_000
    bad = [
        capture_line('1,2,"' + "x" * 200_000 + '"'),  # over csv.field_size_limit() (128 KiB)
        capture_line(deep, "application/json", "JSON"),
        deep,  # the capture line itself
        capture_line(json.dumps({"tenure": 10**400, "plan": "pro"}), "application/json", "JSON"),
    ]
    put_capture(s3, capture_key("champion", HOURS[1]), good[:40] + bad + good[40:])

    result = drift.handler({}, None)  # no exception

    # The last bad line is a row: its 400-digit tenure is beyond the float range, so missing.
    assert (result["status"], result["records"], result["malformed"]) == ("checked", 81, 3)
    assert metric(cloudwatch, "MalformedRecords") == 3
    with pytest.raises(drift.MalformedError, match="CSV payload cannot be read"):
        drift.csv_rows('1,2,"' + "x" * 200_000 + '"', 3)
    with pytest.raises(drift.MalformedError, match="not JSON"):
        drift.json_rows(deep, COLUMNS)
    assert [line["level"] for line in logs(capsys)] == ["warning", "info"]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "infinity"])
def test_a_non_finite_psi_threshold_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PSI_THRESHOLD", value)
    with pytest.raises(drift.ConfigError, match="PSI_THRESHOLD must be a finite number"):
        drift.load_settings()


def test_a_window_of_only_malformed_lines_is_an_error_not_a_quiet_window(
    aws: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    s3, cloudwatch = aws
    put_baseline(s3, training_rows())
    two_values = [capture_line(f"{r[0]},{r[1]}") for r in training_rows(70, seed=12)]
    put_capture(s3, capture_key("champion", HOURS[1]), two_values)

    result = drift.handler({}, None)  # no exception: the next run would fail the same way

    assert (result["status"], result["records"], result["malformed"]) == (
        "unreadable_capture",
        0,
        70,
    )
    assert metric(cloudwatch, "RecordsUsed") == 0
    assert metric(cloudwatch, "MalformedRecords") == 70
    assert metric(cloudwatch, "BaselineUnavailable") == 0
    assert metric(cloudwatch, "DriftedFeatureShare") is None
    warning, summary = logs(capsys)
    assert warning["level"] == "warning"
    assert (summary["level"], summary["status"]) == ("error", "unreadable_capture")
    assert "every captured line in the window was malformed" in summary["message"]
