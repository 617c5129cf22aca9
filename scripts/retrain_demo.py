"""Run the retraining Lambda locally against moto with a sample alarm sequence, then walk the
whole retraining loop (issue 25) on moto:

labels in -> quality metric below its threshold -> the quality alarm fires -> the retraining
function starts the pipeline -> the pipeline registers a model package (its RegisterModel step,
simulated with CreateModelPackage, PendingManualApproval) -> a person approves it
(UpdateModelPackage) -> the approval event matches the service's rule and carries the promotion
command -> ``make promote`` writes the configuration change into a temporary copy of config/
-> the diff is printed (what the pull request would contain).

The quality check's metric is published directly (simulated): the scheduled check itself
(mlops_cdk/functions/quality) needs captured inferences and labels; its own tests and
``make bench-quality`` run it.

No AWS account needed: SageMaker, CloudWatch and S3 are mocked in-process. Usage:
    python scripts/retrain_demo.py [-v]   (-v also prints the raw JSON/EMF log lines)
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = ROOT / "mlops_cdk" / "functions" / "retrain"
sys.path.insert(0, str(LAMBDA_DIR))
sys.path.insert(0, str(ROOT))

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

    import boto3  # type: ignore[import-untyped, unused-ignore]
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
                try:
                    result = retrain.handler(event, None)
                except retrain.MalformedEventError as err:  # raised: retried, then the queue
                    result = {"decision": "rejected", "reason": f"raised: {err}"}
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
    with mock_aws():
        retrain.reset_client()
        loop_ok = walk_the_loop(alarm)
        retrain.reset_client()
    return 1 if mismatches or count != 1 or not loop_ok else 0


# -- the whole loop ----------------------------------------------------------------------------

ENV, SERVICE = "stage", "churn"
NAMESPACE, METRIC, THRESHOLD = "MlopsCdk/ModelQuality", "AUC", 0.75
REGISTRY = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"


def _step(number: int, text: str) -> None:
    print(f"{number}. {text}")


def walk_the_loop(alarm_template: dict[str, Any]) -> bool:
    """Labels -> metric -> alarm -> pipeline -> package -> approval -> promotion diff."""
    import boto3  # type: ignore[import-untyped, unused-ignore]
    import retrain
    from moto.events.models import EventPattern

    from mlops_cdk.aws.model_package_events import approval_event_pattern, promotion_command
    from mlops_cdk.aws.names import model_package_group_name
    from mlops_tools import promote

    print("\n--- the retraining loop, end to end (moto) ---")
    group = model_package_group_name(ENV, SERVICE)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(
        Bucket="demo-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    labels = "".join(
        json.dumps({"inference_id": f"req-{i}", "label": i % 2}) + "\n" for i in range(200)
    )
    s3.put_object(
        Bucket="demo-artifacts",
        Key=f"ground-truth/{SERVICE}/2026/12/01/09/labels.jsonl",
        Body=labels.encode(),
    )
    _step(1, f"200 labels delivered under s3://demo-artifacts/ground-truth/{SERVICE}/")
    cloudwatch.put_metric_alarm(
        AlarmName=f"{ENV}-{SERVICE}-quality-auc",
        Namespace=NAMESPACE,
        MetricName=METRIC,
        Dimensions=[{"Name": "Service", "Value": SERVICE}],
        Statistic="Minimum",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=THRESHOLD,
        ComparisonOperator="LessThanThreshold",
    )
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": METRIC,
                "Value": 0.68,
                "Dimensions": [{"Name": "Service", "Value": SERVICE}],
            }
        ],
    )
    _step(2, f"quality check (simulated) publishes {NAMESPACE} {METRIC} = 0.68 < {THRESHOLD}")
    reason = f"Threshold Crossed: 1 datapoint [0.68] was less than the threshold ({THRESHOLD})."
    cloudwatch.set_alarm_state(
        AlarmName=f"{ENV}-{SERVICE}-quality-auc", StateValue="ALARM", StateReason=reason
    )
    state = cloudwatch.describe_alarms(AlarmNames=[f"{ENV}-{SERVICE}-quality-auc"])
    _step(3, f"alarm {ENV}-{SERVICE}-quality-auc -> {state['MetricAlarms'][0]['StateValue']}")
    sagemaker.create_pipeline(
        PipelineName=PIPELINE_NAME,
        PipelineDefinition=json.dumps(PIPELINE_DEFINITION),
        RoleArn=ROLE_ARN,
    )
    event = copy.deepcopy(alarm_template)
    event["alarmData"]["alarmName"] = f"{ENV}-{SERVICE}-quality-auc"
    event["alarmData"]["state"]["reason"] = reason
    with contextlib.redirect_stdout(io.StringIO()):
        started = retrain.handler(event, None)
    _step(
        4, f"retraining function: {started['decision']} {started.get('pipeline_execution_arn', '')}"
    )
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    for version in (1, 2, 3, 4):
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved" if version < 4 else "PendingManualApproval",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": f"{REGISTRY}/{ENV}-{SERVICE}:1.{version}.0",
                        "ModelDataUrl": f"s3://demo-artifacts/models/{SERVICE}/1.{version}.0/"
                        "model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
    packages = sagemaker.list_model_packages(ModelPackageGroupName=group)
    newest = max(packages["ModelPackageSummaryList"], key=lambda p: p["ModelPackageVersion"])
    version, arn = newest["ModelPackageVersion"], newest["ModelPackageArn"]
    _step(5, f"pipeline registers {arn} ({newest['ModelApprovalStatus']}); simulated RegisterModel")
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    status = sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]
    _step(6, f"a reviewer approves version {version}: {status}")
    approval: EventMessageType = {
        "version": "0",
        "id": "demo",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-12-01T10:00:00Z",
        "region": REGION,
        "resources": [arn],
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version,
            "ModelPackageArn": arn,
            "ModelApprovalStatus": status,
        },
    }
    matched = EventPattern.load(json.dumps(approval_event_pattern(group))).matches_event(approval)
    command = promotion_command(ENV, SERVICE, str(approval["detail"]["ModelPackageVersion"]))
    _step(7, f"approval event matches the {group} rule: {matched}; the topic receives: {command}")
    with tempfile.TemporaryDirectory() as scratch:
        config_dir = Path(scratch) / "config"
        shutil.copytree(ROOT / "config", config_dir)
        _step(8, f"{command} (into a temporary copy of config/):\n")
        code = promote.main(
            [
                "--config-dir",
                str(config_dir),
                "--env",
                ENV,
                "--service",
                SERVICE,
                "--version",
                str(version),
            ]
        )
    return bool(matched) and started["decision"] == "started" and code == 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
