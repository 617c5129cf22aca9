"""Benchmark of the drift check: one window of 100,000 captured requests (``make bench-drift``).

Measures the handler end to end on generated data (5 features: 3 numeric, 2 categorical; 100
capture files of 1,000 lines over 2 variants and 3 hours), CSV and JSON payloads, against an
in-memory S3 (the function's own cost: listing, streaming, parsing, statistics) and, once,
against moto (adds moto's S3 emulation). Reports the median of several runs, records per second
and the peak memory the run allocates (tracemalloc), for 10,000 and 100,000 records: memory
follows the baseline, not the window.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "mlops_cdk" / "functions" / "drift"))
sys.path.insert(0, str(ROOT))  # scripts.baseline, scripts.drift_data

import drift  # noqa: E402
from botocore.response import StreamingBody  # type: ignore[import-untyped, unused-ignore]  # noqa: E402

from scripts import baseline as baseline_script  # noqa: E402
from scripts import drift_data  # noqa: E402

BUCKET = "bench"
ENDPOINT = "bench-churn"
PREFIX = "data-capture/churn/"
BASELINE_KEY = "baselines/churn/baseline.json"
NOW = datetime(2026, 5, 1, 10, 5, tzinfo=UTC)
LINES_PER_FILE = 1000


class MemoryS3:
    """The three S3 calls the function makes, over objects held in memory."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_paginator(self, name: str) -> MemoryS3:
        assert name == "list_objects_v2"  # noqa: S101 - a benchmark stub
        return self

    def paginate(self, Bucket: str, Prefix: str, Delimiter: str | None = None) -> Iterator[Any]:  # noqa: N803
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
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


def capture_objects(records: int, content_type: str) -> dict[str, bytes]:
    data = drift_data.rows(records, seed=7, drift=0.3)
    hours = [NOW.replace(minute=0) - timedelta(hours=h) for h in (3, 2, 1)]
    objects: dict[str, bytes] = {}
    for index, start in enumerate(range(0, records, LINES_PER_FILE)):
        variant = ("champion", "challenger")[index % 2]
        hour = hours[index % 3]
        key = f"{PREFIX}{ENDPOINT}/{variant}/{hour:%Y/%m/%d/%H}/part-{index:04d}.jsonl"
        if content_type == "text/csv":
            lines = [
                drift_data.capture_line(drift_data.csv_text(r))
                for r in data[start : start + LINES_PER_FILE]
            ]
        else:
            lines = [
                drift_data.capture_line(
                    json.dumps(dict(zip(drift_data.COLUMNS, r, strict=True))), content_type, "JSON"
                )
                for r in data[start : start + LINES_PER_FILE]
            ]
        objects[key] = ("\n".join(lines) + "\n").encode()
    return objects


def baseline_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        train = Path(tmp) / "train.csv"
        train.write_text(drift_data.csv_file(drift_data.COLUMNS, drift_data.rows(20000, seed=1)))
        return json.dumps(baseline_script.build(service="churn", path=train).to_json()).encode()


def configure(content_type: str) -> None:
    os.environ.update(
        {
            "BUCKET": BUCKET,
            "CAPTURE_PREFIX": PREFIX,
            "ENDPOINT_NAME": ENDPOINT,
            "BASELINE_KEY": BASELINE_KEY,
            "WINDOW_HOURS": "3",
            "MIN_RECORDS": "100",
            "FEATURES": "",
            "PSI_THRESHOLD": "0.2",
            "CONTENT_TYPE": content_type,
            "METRICS_NAMESPACE": "MlopsCdk/Drift",
        }
    )
    drift._now = lambda: NOW


def run_in_memory(objects: dict[str, bytes], repeats: int) -> tuple[float, int, dict[str, Any]]:
    stub = MemoryS3(objects)
    drift._clients.update({"s3": stub, "cloudwatch": stub})
    times = []
    result: dict[str, Any] = {}
    for _ in range(repeats):
        start = time.perf_counter()
        result = drift.handler({}, None)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    drift.handler({}, None)
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
        drift.reset_clients()
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        for key, body in objects.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        start = time.perf_counter()
        drift.handler({}, None)
        elapsed = time.perf_counter() - start
        drift.reset_clients()
    return elapsed


def quietly(function: Any, *args: Any) -> Any:
    """Run without the handler's log lines."""
    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-moto", action="store_true")
    args = parser.parse_args(argv)
    baseline = baseline_bytes()
    print(f"drift check, one window of {args.records:,} records (5 features), "
          f"median of {args.repeats} runs:")  # fmt: skip
    for content_type in ("text/csv", "application/json"):
        configure(content_type)
        for records in sorted({10_000, args.records}):
            objects = capture_objects(records, content_type)
            objects[BASELINE_KEY] = baseline
            size = sum(len(v) for v in objects.values()) / 1e6
            seconds, peak, result = quietly(run_in_memory, objects, args.repeats)
            assert result["records"] == records, result  # noqa: S101
            print(
                f"  {content_type:<17} {records:>7,} records ({size:5.1f} MB capture): "
                f"{seconds:6.2f} s, {records / seconds:>9,.0f} records/s, peak {peak / 1e6:5.2f} MB"
            )
    if not args.no_moto:
        configure("text/csv")
        objects = capture_objects(args.records, "text/csv")
        objects[BASELINE_KEY] = baseline
        seconds = quietly(run_moto, objects)
        print(f"  through moto S3 (text/csv, {args.records:,} records): {seconds:.2f} s")
    drift.reset_clients()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
