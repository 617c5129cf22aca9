"""A role another account (the pipeline's) assumes to smoke-test one endpoint."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct, IDependable

from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.constructs.preflight_access import checked_role_path, one_role_of
from mlops_cdk.props.fields import checked_arguments

SMOKE_ROLE_PATH = "/mlops-smoke/"


class SmokeTestAccess(Construct):
    """Role under ``role_path`` (``/mlops-smoke/`` or a path below it, e.g. per service, so the
    pipeline can be allowed to assume exactly these roles without knowing generated names),
    trusted by one role only: ``trusted_role_name`` (path-less) in ``trusted_account``, the
    pipeline's CodeBuild role of this smoke test (see ``one_role_of``); allowed only to
    describe and invoke ``endpoint_name`` and to read this stack's outputs (DescribeStacks on this
    stack's ARN: the deployed endpoint configuration), and with ``alarm_topic`` to list that
    topic's subscriptions (are the alarm e-mails confirmed). Outputs the role ARN and the
    endpoint name."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: EndpointName,
        trusted_account: str,
        trusted_role_name: str,
        role_path: str = SMOKE_ROLE_PATH,
        depends_on: IDependable | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=endpoint_name.lower()
        )
        self.role = iam.Role(
            self,
            "Role",
            path=checked_role_path(role_path, SMOKE_ROLE_PATH, "SmokeTestAccess"),
            description=f"Post-deployment smoke test of {endpoint_name}",
            assumed_by=one_role_of(trusted_account, trusted_role_name, stack.partition),
            max_session_duration=cdk.Duration.hours(1),
        )
        iam.ManagedPolicy(
            self,
            "Policy",
            description="Describe and invoke one endpoint",
            roles=[self.role],
            statements=_statements(stack, endpoint_arn, alarm_topic),
        )
        if depends_on is not None:
            self.node.add_dependency(depends_on)
        self.role_arn_output = cdk.CfnOutput(
            self, "RoleArn", value=self.role.role_arn, description="Smoke-test role"
        )
        self.endpoint_name_output = cdk.CfnOutput(
            self, "EndpointName", value=endpoint_name, description="Endpoint to smoke-test"
        )


def _statements(
    stack: cdk.Stack, endpoint_arn: str, alarm_topic: sns.ITopic | None
) -> list[iam.PolicyStatement]:
    """Describe and invoke the endpoint; read this stack's outputs (the smoke test compares
    its EndpointConfigName with the endpoint's: this stack only, by its ARN); list the alarm
    topic's subscriptions, if any (are the alarm e-mails confirmed)."""
    statements = [
        iam.PolicyStatement(
            sid="SmokeTestEndpoint",
            actions=["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"],
            resources=[endpoint_arn],
        ),
        iam.PolicyStatement(
            sid="DescribeOwnStack",
            actions=["cloudformation:DescribeStacks"],
            resources=[stack.stack_id],
        ),
    ]
    if alarm_topic is not None:
        statements.append(
            iam.PolicyStatement(
                sid="ListAlarmSubscriptions",
                actions=["sns:ListSubscriptionsByTopic"],
                resources=[alarm_topic.topic_arn],
            )
        )
    return statements
