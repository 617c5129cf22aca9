"""Whether the environment's VPC flow log is delivering: the Foundation creates it (all traffic
to a KMS-encrypted log group, through a role of its own), but a flow log whose delivery fails
keeps its ``ACTIVE`` status and records nothing, and nobody is told.

EC2 DescribeFlowLogs reports each flow log's ``DeliverLogsStatus`` ("The status of the logs
delivery (SUCCESS | FAILED)") and ``DeliverLogsErrorMessage``: "Rate limited indicates that
CloudWatch Logs throttling has been applied for one or more network interfaces, or that you've
reached the limit on the number of log groups that you can create. Access error indicates that
the IAM role associated with the flow log does not have sufficient permissions to publish to
CloudWatch Logs. Unknown error indicates an internal error." (botocore's EC2 model, shape
``FlowLog``). The flow log is found by the Foundation's output :data:`FLOW_LOG_OUTPUT`.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from mlops_cdk.aws.names import FLOW_LOG_OUTPUT
from mlops_tools.smoke import CheckResult, aws_error, describe_stack, read_output

CHECK = "flow-logs"
# What to look at for each documented delivery error.
CAUSES = {
    "Access error": "the flow log's role or the log group's KMS key refuses the delivery "
    "(the role's logs:CreateLogStream and logs:PutLogEvents, the key policy's CloudWatch Logs "
    "statement)",
    "Rate limited": "CloudWatch Logs throttles the delivery, or the account has reached its "
    "quota of log groups",
}


def check_flow_log(ec2: Any, cloudformation: Any, stack_name: str) -> CheckResult:
    """FAIL when the Foundation's flow log is gone or its delivery FAILED; WARN when the stack
    has no :data:`FLOW_LOG_OUTPUT` (deployed before it existed)."""
    described = describe_stack(cloudformation, stack_name)
    flow_log, unread = read_output(CHECK, stack_name, described, FLOW_LOG_OUTPUT)
    if unread is not None:
        return unread
    try:
        found = ec2.describe_flow_logs(FlowLogIds=[flow_log]).get("FlowLogs", [])
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(CHECK, False, aws_error("DescribeFlowLogs", exc))
    if not found:
        return CheckResult(
            CHECK,
            False,
            f"flow log {flow_log} of {stack_name} does not exist: the VPC's traffic is not "
            "recorded. It was deleted outside CloudFormation, which does not recreate it (aws "
            f"cloudformation detect-stack-drift --stack-name {stack_name} shows it)",
        )
    return _delivery(found[0])


def _delivery(flow_log: dict[str, Any]) -> CheckResult:
    name = f"flow log {flow_log.get('FlowLogId')} of {flow_log.get('ResourceId')}"
    if flow_log.get("DeliverLogsStatus") == "FAILED":
        message = str(flow_log.get("DeliverLogsErrorMessage") or "no error message")
        cause = CAUSES.get(message, "see the flow log in the EC2 console")
        return CheckResult(
            CHECK, False, f"{name} records nothing: delivery FAILED ({message}): {cause}"
        )
    destination = flow_log.get("LogGroupName") or flow_log.get("LogDestination") or "?"
    return CheckResult(
        CHECK,
        True,
        f"{name} is {flow_log.get('FlowLogStatus')}, delivering to {destination}",
    )
