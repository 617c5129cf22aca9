"""The quality check against moto S3 and CloudWatch: capture files as SageMaker writes them
(one folder per variant and hour, InferenceId in eventMetadata), labels in both documented
formats, the metrics published (values checked against the metrics module), the label
heartbeat count, and each failure path (too few labels, malformed lines, bad configuration)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import quality
import quality_metrics as qm
from moto import mock_aws

from mlops_cdk.props import quality as props

REGION = "eu-west-1"
BUCKET = "artifacts"
ENDPOINT = "dev-churn"
CAPTURE_PREFIX = "data-capture/churn/"
LABELS_PREFIX = "ground-truth/churn/"
NAMESPACE = "MlopsCdk/ModelQuality"
NOW = datetime(2026, 5, 1, 10, 17, tzinfo=UTC)
HOUR = NOW.replace(minute=0, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def quality_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "BUCKET": BUCKET,
        "CAPTURE_PREFIX": CAPTURE_PREFIX,
        "LABELS_PREFIX": LABELS_PREFIX,
        "ENDPOINT_NAME": ENDPOINT,
        "VARIANTS": "champion,challenger",
        "WINDOW_HOURS": "6",
        "LABEL_DELAY_HOURS": "12",
        "PERIOD_HOURS": "1",
        "PROBLEM": "binary",
        "METRICS": "auc,accuracy,f1",
        "THRESHOLD": "0.5",
        "MIN_LABELS": "5",
        "METRICS_NAMESPACE": NAMESPACE,
        "DIMENSIONS": json.dumps({"Service": "churn"}),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(quality, "_now", lambda: NOW)
    quality.reset_clients()
    yield
    quality.reset_clients()


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield s3, boto3.client("cloudwatch", region_name=REGION)


def capture(
    event_id: str,
    output: str,
    *,
    inference_id: str | None = None,
    encoding: str = "JSON",
) -> str:
    metadata = {"eventId": event_id, "inferenceTime": "2026-05-01T09:30:00Z"}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    data = base64.b64encode(output.encode()).decode() if encoding == "BASE64" else output
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": "1,2,3",
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": data,
                    "encoding": encoding,
                },
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        }
    )


def put_lines(s3: Any, key: str, lines: list[str]) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body="\n".join(lines).encode())


def capture_key(variant: str, hours_ago: int, name: str = "part.jsonl") -> str:
    hour = HOUR - timedelta(hours=hours_ago)
    return f"{CAPTURE_PREFIX}{ENDPOINT}/{variant}/{hour:%Y/%m/%d/%H}/{name}"


def label_key(hours_ago: int, name: str = "labels.jsonl") -> str:
    hour = HOUR - timedelta(hours=hours_ago)
    return f"{LABELS_PREFIX}{hour:%Y/%m/%d/%H}/{name}"


def published(cloudwatch: Any) -> dict[str, float]:
    """{metric name: value} of what the check put (one datum each), checking dimensions."""
    values: dict[str, float] = {}
    for metric in cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]:
        assert metric["Dimensions"] == [{"Name": "Service", "Value": "churn"}]
        stats = cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=metric["MetricName"],
            Dimensions=metric["Dimensions"],
            StartTime=NOW - timedelta(hours=1),
            EndTime=NOW + timedelta(hours=1),
            Period=3600,
            Statistics=["Maximum", "SampleCount"],
        )
        (point,) = stats["Datapoints"]
        assert point["SampleCount"] == 1
        values[metric["MetricName"]] = point["Maximum"]
    return values


def test_joins_labels_by_inference_id_and_publishes_the_metrics(aws: tuple[Any, Any]) -> None:
    s3, cloudwatch = aws
    truth = [1, 0, 1, 1, 0, 0, 1, 0]
    scores = [0.9, 0.2, 0.4, 0.8, 0.6, 0.1, 0.7, 0.3]
    # Predictions 14 hours ago (within window + delay), on both variants, in the response
    # shapes the check reads; labels delivered 2 hours ago (not the last hour: not "new").
    outputs = [
        json.dumps({"churn_probability": 0.5, "score": scores[0]}),
        json.dumps([scores[1]]),
        json.dumps({"predictions": [{"score": scores[2]}]}),
        json.dumps([1 - scores[3], scores[3]]),
        str(scores[4]),
        json.dumps(scores[5]),
    ]
    put_lines(
        s3,
        capture_key("champion", 14),
        [capture(f"e{i}", out, inference_id=f"order-{i}") for i, out in enumerate(outputs)]
        + [capture("unlabelled", "0.5", inference_id="nobody")],
    )
    put_lines(
        s3,
        capture_key("challenger", 3),
        [
            capture("e6", f"{scores[6]},x", inference_id="order-6", encoding="CSV"),
            capture("e7", json.dumps({"score": scores[7]}), encoding="BASE64"),
        ],
    )
    # Ours, and Model Monitor's format keyed by the eventId (no InferenceId was passed for e7).
    put_lines(
        s3,
        label_key(2),
        [json.dumps({"inference_id": f"order-{i}", "label": truth[i]}) for i in range(7)]
        + [
            json.dumps(
                {
                    "groundTruthData": {"data": str(truth[7]), "encoding": "CSV"},
                    "eventMetadata": {"eventId": "e7"},
                    "eventVersion": "0",
                }
            )
        ],
    )

    result = quality.handler({}, None)

    expected = qm.compute("binary", ["auc", "accuracy", "f1"], truth, scores)
    assert result["status"] == "checked"
    assert result["matched"] == 8
    assert result["unmatched"] == 0
    assert result["scores"] == pytest.approx(expected)
    assert published(cloudwatch) == pytest.approx(
        {
            "AUC": expected["auc"],
            "Accuracy": expected["accuracy"],
            "F1": expected["f1"],
            "MatchedLabels": 8,
            "NewMatchedLabels": 0,
            "UnmatchedLabels": 0,
            "MalformedRecords": 0,
        }
    )


def test_new_labels_feed_the_heartbeat_and_a_later_delivery_wins(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    put_lines(
        s3,
        capture_key("champion", 2),
        [capture(f"e{i}", "0.9", inference_id=f"id-{i}") for i in range(6)],
    )
    put_lines(
        s3, label_key(3), [json.dumps({"inference_id": f"id-{i}", "label": 0}) for i in range(6)]
    )
    # Corrections of two labels delivered in the last hour: they win and count as new.
    put_lines(
        s3, label_key(1), [json.dumps({"inference_id": f"id-{i}", "label": 1}) for i in (0, 1)]
    )

    result = quality.handler({}, None)

    assert result["matched"] == 6
    assert result["new_matched"] == 2
    assert result["scores"]["accuracy"] == pytest.approx(2 / 6)


def test_labels_outside_the_window_and_captures_outside_the_delay_are_not_read(
    aws: tuple[Any, Any],
) -> None:
    s3, cloudwatch = aws
    put_lines(s3, capture_key("champion", 19), [capture("old", "0.9", inference_id="old")])
    put_lines(s3, capture_key("champion", 0), [capture("now", "0.9", inference_id="now")])
    put_lines(s3, label_key(7), [json.dumps({"inference_id": "late", "label": 1})])
    put_lines(
        s3,
        label_key(1),
        [json.dumps({"inference_id": i, "label": 1}) for i in ("old", "now")],
    )

    result = quality.handler({}, None)

    # 19 h ago is beyond 6 + 12 hours; the current hour is still being written.
    assert result == {**result, "status": "insufficient_labels", "matched": 0, "unmatched": 2}
    values = published(cloudwatch)
    assert values == {
        "MatchedLabels": 0,
        "NewMatchedLabels": 0,
        "UnmatchedLabels": 2,
        "MalformedRecords": 0,
    }


def test_only_the_configured_variants_are_scored(
    aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, _ = aws
    monkeypatch.setenv("MIN_LABELS", "1")
    put_lines(s3, capture_key("shadow", 2), [capture("s", "0.1", inference_id="x")])
    put_lines(s3, capture_key("champion", 2), [capture("c", "0.9", inference_id="x")])
    put_lines(s3, label_key(1), [json.dumps({"inference_id": "x", "label": 1})])
    monkeypatch.setenv("VARIANTS", "champion")
    assert quality.handler({}, None)["scores"]["accuracy"] == 1.0
    monkeypatch.setenv("VARIANTS", "")  # every variant: the first read wins (champion)
    quality.reset_clients()
    assert quality.handler({}, None)["matched"] == 1


def test_malformed_lines_are_counted_and_skipped(
    aws: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    s3, cloudwatch = aws
    put_lines(
        s3,
        capture_key("champion", 2),
        ["not json", capture("e1", '{"nothing": 1}', inference_id="a")]
        + [capture(f"e{i}", "0.8", inference_id=f"ok-{i}") for i in range(5)],
    )
    put_lines(
        s3,
        label_key(2),
        [
            '{"inference_id": "b"}',
            json.dumps({"inference_id": "c", "label": 2}),
            json.dumps({"something": "else"}),
            json.dumps({"inference_id": "a", "label": 1}),
        ]
        + [json.dumps({"inference_id": f"ok-{i}", "label": 1}) for i in range(5)],
    )

    result = quality.handler({}, None)

    assert result["malformed_labels"] == 3
    assert result["malformed_captures"] == 2
    assert result["matched"] == 5
    assert result["unmatched"] == 1  # "a": its prediction was malformed
    assert published(cloudwatch)["MalformedRecords"] == 5
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    warnings = [entry for entry in logs if entry["level"] == "warning"]
    assert [w["kind"] for w in warnings] == ["label", "capture"]


def test_regression_and_multiclass_problems(
    aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, _ = aws
    monkeypatch.setenv("MIN_LABELS", "3")
    monkeypatch.setenv("PROBLEM", "regression")
    monkeypatch.setenv("METRICS", "rmse,mae")
    put_lines(
        s3,
        capture_key("champion", 2),
        [
            capture(f"e{i}", json.dumps({"prediction": v}), inference_id=f"r{i}")
            for i, v in enumerate([1.0, 2.0, 4.0])
        ],
    )
    put_lines(
        s3, label_key(2), [json.dumps({"inference_id": f"r{i}", "label": 2.0}) for i in range(3)]
    )
    scores = quality.handler({}, None)["scores"]
    assert scores == pytest.approx({"rmse": (5 / 3) ** 0.5, "mae": 1.0})

    monkeypatch.setenv("PROBLEM", "multiclass")
    monkeypatch.setenv("METRICS", "accuracy")
    put_lines(
        s3,
        capture_key("champion", 2),
        [
            capture("m0", json.dumps({"predicted_label": "gold"}), inference_id="r0"),
            capture("m1", json.dumps([0.1, 0.7, 0.2]), inference_id="r1"),
            capture("m2", "2", inference_id="r2", encoding="CSV"),
        ],
    )
    put_lines(
        s3,
        label_key(2),
        [
            json.dumps({"inference_id": "r0", "label": "gold"}),
            json.dumps({"inference_id": "r1", "label": 1}),
            json.dumps({"inference_id": "r2", "label": 2.0}),
        ],
    )
    assert quality.handler({}, None)["scores"] == {"accuracy": 1.0}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PROBLEM", "ranking", "PROBLEM must be one of"),
        ("METRICS", "auc,rmse", "METRICS: rmse not defined for binary"),
        ("DIMENSIONS", "[1]", "DIMENSIONS must be a JSON object of strings"),
        ("DIMENSIONS", "{", "DIMENSIONS is not JSON"),
        ("WINDOW_HOURS", "0", "WINDOW_HOURS must be >= 1"),
        ("THRESHOLD", "high", "THRESHOLD must be a float"),
        ("THRESHOLD", "nan", "THRESHOLD must be a finite number"),
        ("THRESHOLD", "inf", "THRESHOLD must be a finite number"),
        ("BUCKET", "", "BUCKET is required"),
    ],
)
def test_bad_configuration_is_one_logged_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(quality.ConfigError, match=message):
        quality.handler({}, None)
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["message"] == "configuration error"


def test_ids_are_found_without_parsing_unless_escaped() -> None:
    line = capture("e-1", "0.5", inference_id="order-1").encode()
    assert quality.quick_ids(line) == ("order-1", "e-1")
    assert quality.quick_ids(capture("e-2", "0.5").encode()) == (None, "e-2")
    # An id with an escaped quote: parsed as JSON instead.
    assert quality.quick_ids(capture("e-3", "0.5", inference_id='a"b').encode()) is None
    # A payload that mentions inferenceId is part of a string: its quotes are escaped.
    payload = json.dumps({"inferenceId": "not-me", "score": 0.5})
    assert quality.quick_ids(capture("e-4", payload).encode()) == (None, "e-4")


def test_metric_names_match_the_props() -> None:
    assert quality.METRIC_NAMES == props.METRIC_NAMES
    assert (
        quality.MATCHED_METRIC,
        quality.NEW_MATCHED_METRIC,
        quality.UNMATCHED_METRIC,
        quality.MALFORMED_METRIC,
    ) == props.COUNT_METRICS
    assert {k: tuple(v) for k, v in quality.PROBLEMS.items()} == props.PROBLEM_METRICS


# --- responses, labels and values that used to be misread or crash the run -------------------


def prediction(response: Any, problem: str) -> Any:
    """The prediction the check reads from a captured JSON response."""
    return quality.parse_prediction(json.loads(capture("e", json.dumps(response))), problem)


@pytest.mark.parametrize(
    ("response", "problem", "expected"),
    [
        # SageMaker Autopilot: probability is that of predicted_label, not of class 1.
        ({"predictions": [{"predicted_label": "0", "probability": 0.9}]}, "binary", 0.1),
        ({"predicted_label": "1", "probability": 0.8}, "binary", 0.8),
        ({"predicted_label": 1.0, "probability": 0.8}, "binary", 0.8),
        ({"predicted_label": "gold", "probability": 0.6}, "multiclass", "gold"),
        ({"predicted_label": "2", "probability": 0.6}, "multiclass", "2"),
        ({"predicted_label": 3.5, "probability": 0.6}, "regression", 3.5),
        (
            {"predicted_label": "0", "probabilities": [0.3, 0.7], "labels": ["1", "0"]},
            "binary",
            0.3,
        ),
        (
            {
                "predicted_label": "b",
                "probability": 0.5,
                "probabilities": [0.2, 0.5, 0.3],
                "labels": ["a", "b", "c"],
            },
            "multiclass",
            "b",
        ),
        # Otherwise the key order is kept: a key before "probability" wins.
        ({"score": 0.3, "predicted_label": 1, "probability": 0.9}, "binary", 0.3),
        ({"probability": 0.9}, "binary", 0.9),
        ({"predicted_label": "1"}, "binary", 1.0),
    ],
)
def test_predicted_label_with_its_probability(response: Any, problem: str, expected: Any) -> None:
    assert prediction(response, problem) == pytest.approx(expected)


@pytest.mark.parametrize(
    "response",
    [
        {"predicted_label": "yes", "probability": 0.9},  # binary labels are 0/1
        {"predicted_label": "1", "probability": 1.5},
        {"predicted_label": "1", "probabilities": [0.5], "labels": ["0", "1"]},
        {"predicted_label": "1", "probabilities": [0.5, 0.5], "labels": ["0", "0"]},
    ],
)
def test_unreadable_predicted_label_responses_are_malformed(response: Any) -> None:
    with pytest.raises(quality.MalformedError):
        prediction(response, "binary")


def test_autopilot_binary_responses_score_a_perfect_model_perfectly(aws: tuple[Any, Any]) -> None:
    s3, cloudwatch = aws
    truth = [i % 2 for i in range(10)]
    responses = [{"predictions": [{"predicted_label": str(t), "probability": 0.9}]} for t in truth]
    put_lines(
        s3,
        capture_key("champion", 2),
        [capture(f"e{i}", json.dumps(r), inference_id=f"a{i}") for i, r in enumerate(responses)],
    )
    put_lines(
        s3,
        label_key(2),
        [json.dumps({"inference_id": f"a{i}", "label": t}) for i, t in enumerate(truth)],
    )
    result = quality.handler({}, None)
    assert result["scores"] == {"auc": 1.0, "accuracy": 1.0, "f1": 1.0}
    assert published(cloudwatch)["Accuracy"] == 1.0


def test_a_decimal_string_with_an_integer_value_is_that_class() -> None:
    def label(raw: Any) -> Any:
        return quality.typed(raw, "multiclass", "label")

    assert label("1.0") == label(1) == label(1.0) == label("1") == label(" 1.00 ") == "1"
    assert label("-2.0") == label(-2) == "-2"
    assert label("-0.0") == label(0) == "0"
    assert label("+3") == "3"
    for other in ("1.5", "gold", "1.0.0", "0x1", "1_0", "inf", "nan"):
        assert label(other) == other


def test_multiclass_label_1_0_matches_prediction_1(
    aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, _ = aws
    monkeypatch.setenv("PROBLEM", "multiclass")
    monkeypatch.setenv("METRICS", "accuracy")
    put_lines(
        s3,
        capture_key("champion", 2),
        [capture(f"e{i}", "1", inference_id=f"m{i}", encoding="CSV") for i in range(5)],
    )
    put_lines(
        s3, label_key(2), [json.dumps({"inference_id": f"m{i}", "label": "1.0"}) for i in range(5)]
    )
    assert quality.handler({}, None)["scores"] == {"accuracy": 1.0}


def test_deeply_nested_and_oversized_lines_are_malformed_not_raised(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    deep = "[" * 100_000 + "]" * 100_000
    put_lines(
        s3,
        capture_key("champion", 2),
        [
            deep,  # no ids: parsed, and nested too deeply
            capture("e-deep", deep, inference_id="deep"),
            capture("e-big", json.dumps({"score": 10**400}), inference_id="big"),
        ]
        + [capture(f"e{i}", "0.8", inference_id=f"ok-{i}") for i in range(5)],
    )
    put_lines(
        s3,
        label_key(2),
        [deep, json.dumps({"inference_id": "huge", "label": 10**400})]
        + [json.dumps({"inference_id": i, "label": 1}) for i in ("deep", "big")]
        + [json.dumps({"inference_id": f"ok-{i}", "label": 1}) for i in range(5)],
    )

    result = quality.handler({}, None)

    assert (result["status"], result["matched"]) == ("checked", 5)
    assert (result["malformed_labels"], result["malformed_captures"]) == (2, 3)
    with pytest.raises(quality.MalformedError):
        quality.parse_label(deep.encode(), "binary")


def test_a_blown_up_regression_model_publishes_the_largest_value_cloudwatch_takes(
    aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, cloudwatch = aws
    monkeypatch.setenv("PROBLEM", "regression")
    monkeypatch.setenv("METRICS", "rmse,mae")
    put_lines(
        s3,
        capture_key("champion", 2),
        [capture(f"e{i}", "1e200", inference_id=f"r{i}", encoding="CSV") for i in range(5)],
    )
    put_lines(
        s3, label_key(2), [json.dumps({"inference_id": f"r{i}", "label": 0}) for i in range(5)]
    )

    result = quality.handler({}, None)

    assert result["scores"] == pytest.approx({"rmse": 1e200, "mae": 1e200})
    values = published(cloudwatch)
    assert values["RMSE"] == values["MAE"] == qm.CLOUDWATCH_MAX
