"""A read-only role another account (the pipeline's) assumes for the pre-deploy check."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.compliance import acknowledge_wildcard_resource

PREFLIGHT_ROLE_PATH = "/mlops-preflight/"


class PreflightAccess(Construct):
    """Role under the ``/mlops-preflight/`` path, trusted by ``trusted_account``, that can only
    read what ``python -m mlops_tools.preflight`` checks before the Serving stack is deployed:

    - ``ecr:DescribeImages`` on ``repository`` (does the image tag/digest exist);
    - ``s3:ListBucket`` on ``bucket``, for keys under ``model_artifacts_prefix`` only (does the
      model archive exist). Deliberately no ``s3:GetObject``/``HeadObject``: listing needs no
      ``kms:Decrypt`` on the SSE-KMS bucket, so the role is not named in the key policy;
    - ``lambda:GetAccountSettings`` (unreserved concurrency; the action takes no resource);
    - ``cloudformation:DescribeStacks`` on the stack this construct is in and on the stacks
      named in ``output_stacks`` (e.g. the environment's Foundation stack), whose outputs name
      the bucket and the repository."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: ecr.IRepository,
        bucket: s3.IBucket,
        model_artifacts_prefix: str,
        trusted_account: str,
        output_stacks: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        other_stacks = [
            stack.format_arn(service="cloudformation", resource="stack", resource_name=f"{name}/*")
            for name in output_stacks
        ]
        self.role = iam.Role(
            self,
            "Role",
            path=PREFLIGHT_ROLE_PATH,
            description=f"Read-only pre-deploy check of {stack.stack_name}'s images and models",
            assumed_by=iam.AccountPrincipal(trusted_account),
            max_session_duration=cdk.Duration.hours(1),
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Read-only: image and model-artifact existence, Lambda account settings",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="DescribeModelImages",
                    actions=["ecr:DescribeImages"],
                    resources=[repository.repository_arn],
                ),
                iam.PolicyStatement(
                    sid="ListModelArtifacts",
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={
                        "StringLike": {
                            "s3:prefix": [model_artifacts_prefix, f"{model_artifacts_prefix}*"]
                        }
                    },
                ),
                iam.PolicyStatement(
                    sid="LambdaAccountSettings",
                    actions=["lambda:GetAccountSettings"],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="DescribeOutputStacks",
                    actions=["cloudformation:DescribeStacks"],
                    resources=[stack.stack_id, *other_stacks],
                ),
            ],
        )
        for arn in other_stacks:
            acknowledge_wildcard_resource(
                self.policy,
                arn,
                "A stack ARN ends in an id CloudFormation generates; the name before it is "
                "fixed, so the statement covers exactly that one stack (read its outputs).",
            )
        acknowledge_wildcard_resource(
            self.policy,
            "*",
            "Only lambda:GetAccountSettings uses '*': it reads the account's concurrency limits "
            "and takes no resource ARN. Every other statement names one repository, one bucket "
            "prefix or this stack.",
        )
        self.role_arn_output = cdk.CfnOutput(
            self, "RoleArn", value=self.role.role_arn, description="Pre-deploy check role"
        )
