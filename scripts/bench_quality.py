"""Benchmark of the quality check: 100,000 labelled predictions (``make bench-quality``).

Generates one window of data capture (binary churn scores as JSON responses, 1,000 records per
file over 2 variants and 48 hours, every request with an InferenceId) plus twice as many
unlabelled captured requests as labelled ones (most predictions never get a label), and the
labels (JSON Lines, ours and Model Monitor's format alternating) delivered over the last 24
hours. Runs the handler end to end against an in-memory S3 (the function's own cost: listing,
streaming, parsing, joining, the metrics) and reports the median time, records per second and
the peak memory the run allocates (tracemalloc) for 10,000 and 100,000 labels; once through
moto's S3 (adds moto's emulation).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "mlops_cdk" / "functions" / "quality"))

import quality  # noqa: E402
from botocore.response import StreamingBody  # type: ignore[import-untyped, unused-ignore]  # noqa: E402

BUCKET = "bench"
ENDPOINT = "bench-churn"
CAPTURE_PREFIX = "data-capture/churn/"
LABELS_PREFIX = "ground-truth/churn/"
NOW = datetime(2026, 5, 1, 10, 5, tzinfo=UTC)
LINES_PER_FILE = 1000
UNLABELLED_PER_LABELLED = 2


class MemoryS3:
    """The S3 calls the function makes (and PutMetricData), over objects held in memory."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.keys = sorted(objects)

    def get_paginator(self, name: str) -> MemoryS3:
        assert name == "list_objects_v2"  # noqa: S101 - a benchmark stub
        return self

    def paginate(self, Bucket: str, Prefix: str, Delimiter: str | None = None) -> Iterator[Any]:  # noqa: N803
        keys = [k for k in self.keys if k.startswith(Prefix)]
        if Delimiter:
            common = sorted(
                {Prefix + k[len(Prefix) :].split(Delimiter)[0] + Delimiter for k in keys}
            )
            yield {"CommonPrefixes": [{"Prefix": p} for p in common]}
        else:
            yield {"Contents": [{"Key": k} for k in keys]}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        data = self.objects[Key]
        return {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentLength": len(data)}

    def put_metric_data(self, **_: Any) -> None:
        return None


def capture_line(index: int, score: float, labelled: bool) -> str:
    identifier = f"req-{index}" if labelled else f"unlabelled-{index}"
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": f"{index % 72},{score * 100:.1f},1,0,3",
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": json.dumps({"score": round(score, 4)}),
                    "encoding": "JSON",
                },
            },
            "eventMetadata": {
                "eventId": f"event-{identifier}",
                "inferenceId": identifier,
                "inferenceTime": "2026-05-01T09:30:00Z",
            },
            "eventVersion": "0",
        },
        separators=(",", ":"),
    )


def label_line(index: int, label: int) -> str:
    if index % 2:
        return json.dumps({"inference_id": f"req-{index}", "label": label})
    return json.dumps(
        {
            "groundTruthData": {"data": str(label), "encoding": "CSV"},
            "eventMetadata": {"eventId": f"req-{index}"},
            "eventVersion": "0",
        }
    )


def objects_for(labels: int) -> dict[str, bytes]:
    rng = random.Random(7)  # noqa: S311 - benchmark data, not a secret
    truth = [1 if rng.random() < 0.3 else 0 for _ in range(labels)]
    scores = [min(1.0, max(0.0, rng.gauss(0.35 + 0.3 * t, 0.2))) for t in truth]
    capture_hours = [NOW.replace(minute=0) - timedelta(hours=h) for h in range(48, 0, -1)]
    label_hours = capture_hours[-24:]
    lines = [capture_line(i, scores[i], True) for i in range(labels)]
    lines += [capture_line(i, rng.random(), False) for i in range(labels * UNLABELLED_PER_LABELLED)]
    rng.shuffle(lines)
    objects: dict[str, bytes] = {}
    for index, start in enumerate(range(0, len(lines), LINES_PER_FILE)):
        variant = ("champion", "challenger")[index % 2]
        hour = capture_hours[index % len(capture_hours)]
        key = f"{CAPTURE_PREFIX}{ENDPOINT}/{variant}/{hour:%Y/%m/%d/%H}/part-{index:05d}.jsonl"
        objects[key] = ("\n".join(lines[start : start + LINES_PER_FILE]) + "\n").encode()
    for index, start in enumerate(range(0, labels, LINES_PER_FILE)):
        hour = label_hours[index % len(label_hours)]
        key = f"{LABELS_PREFIX}{hour:%Y/%m/%d/%H}/labels-{index:05d}.jsonl"
        end = min(labels, start + LINES_PER_FILE)
        objects[key] = (
            "\n".join(label_line(i, truth[i]) for i in range(start, end)) + "\n"
        ).encode()
    return objects


def configure() -> None:
    os.environ.update(
        {
            "BUCKET": BUCKET,
            "CAPTURE_PREFIX": CAPTURE_PREFIX,
            "LABELS_PREFIX": LABELS_PREFIX,
            "ENDPOINT_NAME": ENDPOINT,
            "VARIANTS": "champion,challenger",
            "WINDOW_HOURS": "24",
            "LABEL_DELAY_HOURS": "24",
            "PERIOD_HOURS": "1",
            "PROBLEM": "binary",
            "METRICS": "auc,accuracy,precision,recall,f1",
            "THRESHOLD": "0.5",
            "MIN_LABELS": "100",
            "METRICS_NAMESPACE": "MlopsCdk/ModelQuality",
            "DIMENSIONS": '{"Service": "churn"}',
        }
    )
    quality._now = lambda: NOW


def run_in_memory(objects: dict[str, bytes], repeats: int) -> tuple[float, int, dict[str, Any]]:
    stub = MemoryS3(objects)
    quality._clients.update({"s3": stub, "cloudwatch": stub})
    times = []
    result: dict[str, Any] = {}
    for _ in range(repeats):
        start = time.perf_counter()
        result = quality.handler({}, None)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    quality.handler({}, None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak, result


def run_moto(objects: dict[str, bytes]) -> float:
    import boto3  # type: ignore[import-untyped, unused-ignore]
    from moto import mock_aws

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    with mock_aws():
        quality.reset_clients()
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        for key, body in objects.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        start = time.perf_counter()
        quality.handler({}, None)
        elapsed = time.perf_counter() - start
        quality.reset_clients()
    return elapsed


def quietly(function: Any, *args: Any) -> Any:
    """Run without the handler's log lines."""
    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-moto", action="store_true")
    args = parser.parse_args(argv)
    configure()
    print(
        f"quality check (binary: AUC, accuracy, precision, recall, F1), {UNLABELLED_PER_LABELLED} "
        f"unlabelled captured requests per label, median of {args.repeats} runs:"
    )
    for labels in sorted({10_000, args.labels}):
        objects = objects_for(labels)
        size = sum(len(v) for v in objects.values()) / 1e6
        captured = labels * (1 + UNLABELLED_PER_LABELLED)
        seconds, peak, result = quietly(run_in_memory, objects, args.repeats)
        assert result["matched"] == labels, result  # noqa: S101
        print(
            f"  {labels:>7,} labels, {captured:>7,} captured ({size:5.1f} MB): {seconds:6.2f} s, "
            f"{labels / seconds:>8,.0f} labels/s, {captured / seconds:>8,.0f} captured/s, "
            f"peak {peak / 1e6:6.2f} MB; AUC {result['scores']['auc']:.3f}"
        )
    if not args.no_moto:
        objects = objects_for(args.labels)
        seconds = quietly(run_moto, objects)
        print(f"  through moto S3 ({args.labels:,} labels): {seconds:.2f} s")
    quality.reset_clients()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
