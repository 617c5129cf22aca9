"""Run the drift check locally against moto (S3 and CloudWatch) on generated data.

Builds a baseline from generated training data the way ``make baseline`` does, writes data
capture files in SageMaker's layout for a steady and a drifted window, runs the handler and
prints each feature's PSI (and KS), then the quiet-window and missing-baseline cases. No AWS
account needed. Usage: python scripts/drift_demo.py [-v]  (-v also prints the log lines)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "mlops_cdk" / "functions" / "drift"))
sys.path.insert(0, str(ROOT))  # scripts.baseline, scripts.drift_data

REGION = "eu-west-1"
BUCKET = "demo-artifacts"
SERVICE = "churn"
ENDPOINT = f"dev-{SERVICE}"
NOW = datetime(2026, 5, 1, 10, 5, tzinfo=UTC)
SETTINGS = {
    "BUCKET": BUCKET,
    "CAPTURE_PREFIX": f"data-capture/{SERVICE}/",
    "ENDPOINT_NAME": ENDPOINT,
    "BASELINE_KEY": f"baselines/{SERVICE}/baseline.json",
    "WINDOW_HOURS": "3",
    "MIN_RECORDS": "100",
    "FEATURES": "",
    "PSI_THRESHOLD": "0.2",
    "CONTENT_TYPE": "text/csv",
    "METRICS_NAMESPACE": "MlopsCdk/Drift",
}


def _configure_env() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            **SETTINGS,
        }
    )
    os.environ.pop("AWS_PROFILE", None)


def _write_window(s3: Any, data: list[Any], label: str) -> None:
    """The window's records over its three hours and two variants, as capture files."""
    from scripts import drift_data

    hours = [NOW.replace(minute=0) - timedelta(hours=h) for h in (3, 2, 1)]
    chunks = [data[i::6] for i in range(6)]
    for index, chunk in enumerate(chunks):
        variant = ("champion", "challenger")[index % 2]
        hour = hours[index % 3]
        key = (f"{SETTINGS['CAPTURE_PREFIX']}{ENDPOINT}/{variant}/{hour:%Y/%m/%d/%H}/"
               f"{label}-{index}.jsonl")  # fmt: skip
        body = "\n".join(drift_data.capture_line(drift_data.csv_text(r)) for r in chunk)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body + "\n")


def _clear_window(s3: Any) -> None:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=SETTINGS["CAPTURE_PREFIX"])
    for item in listed.get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def _run(verbose: bool) -> dict[str, Any]:
    import drift

    logs = io.StringIO()
    with contextlib.redirect_stdout(logs):
        result: dict[str, Any] = drift.handler({}, None)
    if verbose:
        for line in logs.getvalue().splitlines():
            print(f"     log: {line}")
    return result


def _print_scores(result: dict[str, Any], kinds: dict[str, str]) -> None:
    print(f"   {'feature':<16} {'type':<12} {'PSI':>8} {'KS':>8}")
    for name, score in result["scores"].items():
        ks = f"{score['ks']:.3f}" if "ks" in score else "-"
        mark = "  drifted" if name in result["drifted"] else ""
        print(f"   {name:<16} {kinds[name]:<12} {score['psi']:>8.3f} {ks:>8}{mark}")
    print(f"   {result['records']} records, {result['malformed']} malformed; drifted share "
          f"{result['drifted_share']:.0%}")  # fmt: skip


def main(argv: list[str]) -> int:
    verbose = "-v" in argv or "--verbose" in argv
    _configure_env()

    import boto3  # type: ignore[import-untyped, unused-ignore]
    import drift
    from moto import mock_aws

    from scripts import baseline as baseline_script
    from scripts import drift_data

    drift._now = lambda: NOW  # a fixed clock: the window is 07:00-10:00
    problems = 0
    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        drift.reset_clients()
        train = Path(tmp) / "train.csv"
        train.write_text(drift_data.csv_file(drift_data.COLUMNS, drift_data.rows(5000, seed=1)))
        baseline = baseline_script.build(service=SERVICE, path=train)
        kinds = {name: ref.kind for name, ref in baseline.features.items()}
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(
            Bucket=BUCKET, Key=SETTINGS["BASELINE_KEY"], Body=json.dumps(baseline.to_json())
        )
        print(f"baseline: {baseline.row_count} training rows, features "
              f"{', '.join(f'{n} ({k})' for n, k in kinds.items())}\n")  # fmt: skip

        for number, (label, drift_amount) in enumerate((("steady", 0.0), ("drifted", 0.8)), 1):
            _clear_window(s3)
            _write_window(s3, drift_data.rows(3000, seed=10 + number, drift=drift_amount), label)
            print(f"{number}. {label} traffic (3 hours, 2 variants, 3000 requests):")
            result = _run(verbose)
            _print_scores(result, kinds)
            expected_drift = drift_amount > 0
            problems += bool(result["drifted"]) != expected_drift
            print()

        _clear_window(s3)
        _write_window(s3, drift_data.rows(40, seed=20), "quiet")
        result = _run(verbose)
        print(f"3. quiet window: {result['status']} ({result['records']} records < "
              f"{SETTINGS['MIN_RECORDS']}: only RecordsUsed is published)")  # fmt: skip
        problems += result["status"] != "insufficient_records"

        s3.delete_object(Bucket=BUCKET, Key=SETTINGS["BASELINE_KEY"])
        result = _run(verbose)
        print(f"4. no baseline: {result['status']} ({result['reason']}); "
              "BaselineUnavailable = 1, no exception")  # fmt: skip
        problems += result["status"] != "baseline_unavailable"
        drift.reset_clients()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
