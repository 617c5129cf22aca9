"""``make pipeline-check``: whoever the deployment pipeline tells when it fails is told.

The pipeline (in the tooling account, ``config/pipeline.yaml``) reports failed executions and
actions and approvals that wait through a CodeStar Notifications rule to an encrypted SNS topic
that e-mails ``alarm_emails``. Neither half says when it stops working:

- ``pipeline-notifications``: the rule is ``ENABLED`` and its SNS target ``ACTIVE``
  (DescribeNotificationRule). CodeStar Notifications publishes no metric of failed
  deliveries: a target the service cannot publish to (the topic's or the key's policy) shows as
  ``UNREACHABLE`` in the Developer Tools console only ("If the target status shows as
  Unreachable, you might need to investigate", "View notification rule targets", Developer
  Tools console User Guide). FAIL unless ``ACTIVE``; ``PENDING`` (a new rule) is a WARN.
- ``pipeline-subscriptions``: each address of ``alarm_emails`` is a confirmed e-mail
  subscription of the topic; SNS deletes one left unconfirmed for 48 hours, and the stack does
  not notice (:func:`mlops_tools.smoke.email_subscriptions`).

Both read the pipeline stack's outputs (``NotificationRuleArn``, ``NotificationTopicArn``);
a stack deployed before they existed gets a WARN line saying so. Read-only; run with the
tooling account's credentials (or ``--role-arn``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import cache, partial
from pathlib import Path
from typing import Any

from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from mlops_cdk.aws.names import PIPELINE_RULE_OUTPUT, PIPELINE_STACK_ID, PIPELINE_TOPIC_OUTPUT
from mlops_cdk.config import ConfigError, PipelineConfig, load_environments, load_pipeline
from mlops_tools.arguments import non_empty
from mlops_tools.smoke import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CheckResult,
    StackRead,
    assumed_session,
    aws_error,
    describe_stack,
    described_topic_subscriptions,
    open_session,
    printed_step,
    stack_outputs_of,
)

NOTIFICATIONS = "pipeline-notifications"
SUBSCRIPTIONS = "pipeline-subscriptions"
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


def check_notification_rule(described: StackRead, notifications: Any, stack: str) -> CheckResult:
    """The rule the stack (``describe_stack``'s answer) outputs is enabled and every target of
    it is ACTIVE."""
    described_stack, error = described
    if error is not None:
        return CheckResult(NOTIFICATIONS, False, aws_error("DescribeStacks", error))
    arn = stack_outputs_of(described_stack).get(PIPELINE_RULE_OUTPUT) if described_stack else None
    if not arn:
        detail = f"not checked: stack {stack} has no output {PIPELINE_RULE_OUTPUT}"
        return CheckResult(NOTIFICATIONS, True, detail, warning=True)
    try:
        rule = notifications.describe_notification_rule(Arn=arn)
    except (ClientError, BotoCoreError) as exc:
        return CheckResult(NOTIFICATIONS, False, aws_error("DescribeNotificationRule", exc))
    if rule.get("Status") != "ENABLED":
        detail = (
            f"rule {arn} is {rule.get('Status', 'unknown')}: failures and approvals are not sent"
        )
        return CheckResult(NOTIFICATIONS, False, detail)
    targets = rule.get("Targets") or []
    statuses = {t.get("TargetAddress", "?"): t.get("TargetStatus", "unknown") for t in targets}
    broken = {a: s for a, s in statuses.items() if s not in ("ACTIVE", "PENDING")}
    if not targets or broken:
        where = ", ".join(f"{a} {s}" for a, s in broken.items()) or "no target"
        return CheckResult(
            NOTIFICATIONS,
            False,
            f"rule {arn}: {where}: failures and approvals reach nobody (check the topic's and its "
            "key's policies: CodeStar Notifications must be allowed to publish)",
        )
    shown = ", ".join(f"{a} {s}" for a, s in statuses.items())
    pending = "PENDING" in statuses.values()
    return CheckResult(NOTIFICATIONS, True, f"rule {arn} is ENABLED: {shown}", warning=pending)


def run(
    config: PipelineConfig, cloudformation: Any, notifications: Any, sns: Any
) -> list[CheckResult]:
    """Both checks, each line printed as it completes (an unexpected error is its one FAIL
    line: :func:`mlops_tools.smoke.printed_step`). The pipeline stack is read once for both."""
    pipeline_stack = cache(partial(describe_stack, cloudformation, PIPELINE_STACK_ID))
    return [
        printed_step(
            None,
            NOTIFICATIONS,
            lambda: check_notification_rule(pipeline_stack(), notifications, PIPELINE_STACK_ID),
        ),
        printed_step(
            None,
            SUBSCRIPTIONS,
            lambda: described_topic_subscriptions(
                SUBSCRIPTIONS,
                sns,
                PIPELINE_STACK_ID,
                pipeline_stack(),
                output=PIPELINE_TOPIC_OUTPUT,
                emails=config.alarm_emails,
                what="pipeline failures and approvals",
            ),
        ),
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_tools.pipeline_check",
        description="Read-only check that the deployment pipeline's notifications reach "
        "config/pipeline.yaml's alarm_emails: the notification rule's target is ACTIVE and "
        "each address is a confirmed subscription (tooling account credentials).",
    )
    parser.add_argument("--role-arn", type=non_empty, help="assume this role for the AWS calls")
    parser.add_argument(
        "--config-dir", type=Path, default=Path("config"), help="configuration folder"
    )
    return parser


def _load(config_dir: Path) -> PipelineConfig | str:
    """The pipeline's configuration, or the one line that says why not."""
    try:
        pipeline = load_pipeline(config_dir, load_environments(config_dir))
    except ConfigError as exc:
        return "\n".join(f"configuration error: {problem}" for problem in exc.problems)
    if pipeline is None:
        return f"{config_dir}/pipeline.yaml does not exist: there is no pipeline to check"
    return pipeline


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    pipeline = _load(args.config_dir)
    if isinstance(pipeline, str):
        print(pipeline, file=sys.stderr)
        return EXIT_USAGE
    region = pipeline.region
    via = f" as {args.role_arn}" if args.role_arn else ""
    print(
        f"pipeline check of {PIPELINE_STACK_ID} (account {pipeline.account}, region {region}){via}"
    )
    session = open_session(args.role_arn, "pipeline", region, _assume, _CLIENT_CONFIG)
    if session is None:
        return EXIT_FAILED
    clients = [
        session.client(name, region_name=region, config=_CLIENT_CONFIG)
        for name in ("cloudformation", "codestar-notifications", "sns")
    ]
    results = run(pipeline, *clients)
    failed = sum(1 for r in results if not r.passed)
    print(f"{len(results) - failed} of {len(results)} checks passed", flush=True)
    return EXIT_FAILED if failed else EXIT_OK


def _assume(sts: Any, role_arn: str, env: str, region: str) -> Any:
    return assumed_session(sts, role_arn, f"mlops-{env}-check", region)


if __name__ == "__main__":
    sys.exit(main())
