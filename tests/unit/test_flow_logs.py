"""The flow-log line of preflight: each documented delivery error names its cause; an unknown
one points at the console; DescribeFlowLogs' own error is one line."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from mlops_tools.flow_logs import check_flow_log

STACK = "dev-Foundation"
FLOW_LOG = "fl-0123456789abcdef0"


def clients(flow_log: dict[str, Any] | None, error: str | None = None) -> tuple[Any, Any]:
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
    stacks = Stubber(cloudformation)
    stacks.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "CreationTime": "2026-12-01T00:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                    "Outputs": [{"OutputKey": "FlowLogId", "OutputValue": FLOW_LOG}],
                }
            ]
        },
    )
    stacks.activate()
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    flows = Stubber(ec2)
    if error is not None:
        flows.add_client_error("describe_flow_logs", error, "not allowed")
    else:
        flows.add_response("describe_flow_logs", {"FlowLogs": [flow_log] if flow_log else []})
    flows.activate()
    return ec2, cloudformation


def failed(message: str) -> dict[str, Any]:
    return {
        "FlowLogId": FLOW_LOG,
        "ResourceId": "vpc-0a1b2c3d",
        "FlowLogStatus": "ACTIVE",
        "DeliverLogsStatus": "FAILED",
        "DeliverLogsErrorMessage": message,
        "LogGroupName": "dev-flow-logs",
    }


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        ("Access error", "the flow log's role or the log group's KMS key refuses the delivery"),
        ("Rate limited", "CloudWatch Logs throttles the delivery, or the account has reached"),
        ("Unknown error", "see the flow log in the EC2 console"),
    ],
)
def test_each_delivery_error_names_its_cause(message: str, cause: str) -> None:
    result = check_flow_log(*clients(failed(message)), STACK)
    assert not result.passed
    assert result.line().startswith(
        f"FAIL flow-logs: flow log {FLOW_LOG} of vpc-0a1b2c3d records nothing: delivery FAILED "
        f"({message}): {cause}"
    )


def test_describe_flow_logs_refused_is_one_line() -> None:
    result = check_flow_log(*clients(None, error="UnauthorizedOperation"), STACK)
    assert result.line() == (
        "FAIL flow-logs: DescribeFlowLogs failed: UnauthorizedOperation: not allowed"
    )
