"""A role another account (the pipeline's) assumes to smoke-test one endpoint."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

SMOKE_ROLE_PATH = "/mlops-smoke/"


class SmokeTestAccess(Construct):
    """Role under the ``/mlops-smoke/`` path (so the pipeline can be allowed to assume exactly
    these roles without knowing generated names), trusted by ``trusted_account``, allowed only to
    describe and invoke ``endpoint_name``. Outputs the role ARN and the endpoint name."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        trusted_account: str,
        depends_on: IDependable | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=endpoint_name.lower()
        )
        self.role = iam.Role(
            self,
            "Role",
            path=SMOKE_ROLE_PATH,
            description=f"Post-deployment smoke test of {endpoint_name}",
            assumed_by=iam.AccountPrincipal(trusted_account),
            max_session_duration=cdk.Duration.hours(1),
        )
        iam.ManagedPolicy(
            self,
            "Policy",
            description="Describe and invoke one endpoint",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="SmokeTestEndpoint",
                    actions=["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"],
                    resources=[endpoint_arn],
                )
            ],
        )
        if depends_on is not None:
            self.node.add_dependency(depends_on)
        self.role_arn_output = cdk.CfnOutput(
            self, "RoleArn", value=self.role.role_arn, description="Smoke-test role"
        )
        self.endpoint_name_output = cdk.CfnOutput(
            self, "EndpointName", value=endpoint_name, description="Endpoint to smoke-test"
        )
