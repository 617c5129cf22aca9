"""Run the retraining Lambda locally against moto with a sample alarm sequence.

No AWS account needed: SageMaker is mocked in-process. Usage:
    python scripts/retrain_demo.py [-v]   (-v also prints the raw JSON/EMF log lines)
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = ROOT / "mlops_cdk" / "functions" / "retrain"
sys.path.insert(0, str(LAMBDA_DIR))

REGION = "eu-west-1"
PIPELINE_NAME = "mlops-retrain-demo"
ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-pipeline-demo"
PIPELINE_DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [
        {"Name": name, "Type": "String", "DefaultValue": ""}
        for name in ("AlarmName", "EndpointName", "Reason")
    ],
    "Steps": [],
}


def _configure_env() -> None:
    """Fake credentials and the function's configuration (pipeline mode)."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "RETRAIN_MODE": "pipeline",
            "PIPELINE_NAME": PIPELINE_NAME,
            "ENDPOINT_NAME": "mlops-endpoint",
            "COOLDOWN_SECONDS": "3600",
        }
    )
    os.environ.pop("AWS_PROFILE", None)


def _scenario(alarm: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(label, event, expected decision) for the demo sequence."""
    ok = copy.deepcopy(alarm)
    ok["alarmData"]["state"]["value"] = "OK"
    malformed = {"source": "aws.cloudwatch", "alarmData": {"alarmName": 42}}
    return [
        ("ALARM", alarm, "started"),
        ("same ALARM again", alarm, "duplicate"),
        ("OK", ok, "ignored"),
        ("malformed event", malformed, "rejected"),
    ]


def main(argv: list[str]) -> int:
    """Run the sequence and print one readable line per decision."""
    verbose = "-v" in argv or "--verbose" in argv
    _configure_env()

    import boto3
    import retrain
    from moto import mock_aws

    alarm = json.loads((LAMBDA_DIR / "events" / "alarm.json").read_text())
    mismatches = 0
    with mock_aws():
        retrain.reset_client()
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        sagemaker.create_pipeline(
            PipelineName=PIPELINE_NAME,
            PipelineDefinition=json.dumps(PIPELINE_DEFINITION),
            RoleArn=ROLE_ARN,
        )
        print(f"moto SageMaker pipeline {PIPELINE_NAME!r} created; cooldown 3600s\n")
        for number, (label, event, expected) in enumerate(_scenario(alarm), start=1):
            logs = io.StringIO()
            with contextlib.redirect_stdout(logs):
                result = retrain.handler(event, None)
            detail = result.get("pipeline_execution_arn") or result.get("reason", "")
            mark = "ok" if result["decision"] == expected else f"UNEXPECTED (want {expected})"
            mismatches += result["decision"] != expected
            print(f"{number}. {label:<18} -> {result['decision']:<10} {detail}  [{mark}]")
            if verbose:
                for line in logs.getvalue().splitlines():
                    print(f"     log: {line}")
        executions = sagemaker.list_pipeline_executions(PipelineName=PIPELINE_NAME)
        count = len(executions["PipelineExecutionSummaries"])
        print(f"\npipeline executions started: {count}")
        retrain.reset_client()
    return 1 if mismatches or count != 1 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
