"""A read-only role another account (the pipeline's) assumes for the pre-deploy check."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_wildcard_resource
from mlops_cdk.constructs.roles import list_under
from mlops_cdk.props.fields import checked_arguments

PREFLIGHT_ROLE_PATH = "/mlops-preflight/"
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ACCOUNT = re.compile(r"^\d{12}$")


def one_role_of(account: str, role_name: str, partition: str) -> iam.IPrincipal:
    """Trust for exactly one role of another account (the pipeline's CodeBuild role of one
    step), not for every principal there: the account, with ``aws:PrincipalArn`` equal to the
    role's ARN. For a role session that key is the role's ARN ("AWS global condition context
    keys", IAM User Guide: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    Unlike a role ARN as the principal, the condition does not need the role to exist when this
    policy is created and keeps working when that role is re-created."""
    if not _ACCOUNT.match(account):
        raise ValueError(f"trusted account {account!r} is not a 12-digit account id")
    if not _ROLE_NAME.match(role_name):
        raise ValueError(f"trusted role name {role_name!r} is not an IAM role name")
    role_arn = f"arn:{partition}:iam::{account}:role/{role_name}"
    return iam.AccountPrincipal(account).with_conditions(
        {"ArnEquals": {"aws:PrincipalArn": role_arn}}
    )


def checked_role_path(path: str, base: str, construct: str) -> str:
    """``path`` when it is ``base`` or a path below it (``/a/b/``), else a one-line error."""
    if not (path.startswith(base) and path.endswith("/") and "//" not in path):
        raise ValueError(f"{construct}: role_path {path!r} must be {base!r} or a path below it")
    return path


class PreflightAccess(Construct):
    """Role under ``role_path`` (``/mlops-preflight/`` or a path below it, e.g. per service),
    trusted by one role only: ``trusted_role_name`` (path-less) in ``trusted_account``, the
    pipeline's CodeBuild role of this check (see ``one_role_of``), that can only read what
    ``python -m mlops_tools.preflight`` checks before the Serving stack is deployed:

    - ``ecr:DescribeImages`` on ``repository`` (does the image tag/digest exist);
    - ``s3:ListBucket`` on ``bucket``, for keys under ``model_artifacts_prefix`` and
      ``package_artifact_prefixes`` only (does the model archive exist: a registered package's
      may be where the retraining pipeline wrote it). Deliberately no ``s3:GetObject`` /
      ``HeadObject``: listing needs no ``kms:Decrypt`` on the SSE-KMS bucket, so the role is
      not named in the key policy;
    - ``lambda:GetAccountSettings`` (unreserved concurrency; the action takes no resource);
    - ``servicequotas:ListServiceQuotas`` and ``ListAWSDefaultServiceQuotas`` (SageMaker's
      instance quotas, applied and default; no resource either);
    - ``cloudformation:DescribeStacks`` on the stack this construct is in and on the stacks
      named in ``output_stacks`` (e.g. the environment's Foundation stack), whose outputs name
      the bucket and the repository;
    - ``sagemaker:DescribePipeline`` on each of ``retraining_pipelines`` (the service's
      retraining pipeline: does it exist, does it declare the parameters the retraining
      function passes), when given;
    - ``ecr:DescribeImages`` on each of ``aws_image_repositories`` (ARNs of the repositories of
      images AWS provides that the service's models use: does the pinned tag exist), when
      given;
    - ``sagemaker:DescribeModelPackage`` on each of ``model_packages`` (ARNs of the versioned
      packages the service's models are created from: approved, image and artifact), when
      given;
    - ``cloudtrail:DescribeTrails`` (no resource: it lists the region's trails) and
      ``cloudtrail:GetTrailStatus`` and ``GetEventSelectors`` on each of ``trails`` (ARNs of the
      trail change detection relies on: is it logging this region's write events), when
      given."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: ecr.IRepository,
        bucket: s3.IBucket,
        model_artifacts_prefix: str,
        trusted_account: str,
        trusted_role_name: str,
        role_path: str = PREFLIGHT_ROLE_PATH,
        output_stacks: Sequence[str] = (),
        retraining_pipelines: Sequence[str] = (),
        aws_image_repositories: Sequence[str] = (),
        model_packages: Sequence[str] = (),
        package_artifact_prefixes: Sequence[str] = (),
        trails: Sequence[str] = (),
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
            path=checked_role_path(role_path, PREFLIGHT_ROLE_PATH, "PreflightAccess"),
            description=f"Read-only pre-deploy check of {stack.stack_name}'s images and models",
            assumed_by=one_role_of(trusted_account, trusted_role_name, stack.partition),
            max_session_duration=cdk.Duration.hours(1),
        )
        prefixes = list(dict.fromkeys([model_artifacts_prefix, *package_artifact_prefixes]))
        self.policy = self._policy(repository, bucket, prefixes, other_stacks, retraining_pipelines)
        if aws_image_repositories:
            self.policy.add_statements(
                iam.PolicyStatement(
                    sid="DescribeAwsImages",
                    actions=["ecr:DescribeImages"],
                    resources=sorted(set(aws_image_repositories)),
                )
            )
        if model_packages:
            self.policy.add_statements(
                iam.PolicyStatement(
                    sid="DescribeModelPackages",
                    actions=["sagemaker:DescribeModelPackage"],
                    resources=sorted(set(model_packages)),
                )
            )
        if trails:
            self.policy.add_statements(*_read_trails(trails))
        self._acknowledge(other_stacks, trails)
        self.role_arn_output = cdk.CfnOutput(
            self, "RoleArn", value=self.role.role_arn, description="Pre-deploy check role"
        )

    def _policy(
        self,
        repository: ecr.IRepository,
        bucket: s3.IBucket,
        artifact_prefixes: Sequence[str],
        other_stacks: Sequence[str],
        retraining_pipelines: Sequence[str],
    ) -> iam.ManagedPolicy:
        """The role's only permissions: the read-only calls the pre-deploy check makes."""
        stack = cdk.Stack.of(self)
        return iam.ManagedPolicy(
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
                list_under("ListModelArtifacts", bucket, artifact_prefixes),
                iam.PolicyStatement(
                    sid="LambdaAccountSettings",
                    actions=["lambda:GetAccountSettings"],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="SageMakerInstanceQuotas",
                    actions=[
                        "servicequotas:ListAWSDefaultServiceQuotas",
                        "servicequotas:ListServiceQuotas",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="DescribeOutputStacks",
                    actions=["cloudformation:DescribeStacks"],
                    resources=[stack.stack_id, *other_stacks],
                ),
                *_describe_pipelines(stack, retraining_pipelines),
            ],
        )

    def _acknowledge(self, other_stacks: Sequence[str], trails: Sequence[str]) -> None:
        """The policy's wildcards: stack ids CloudFormation generates, a trail known by name
        only, and '*' for the actions that take no resource."""
        for arn in sorted({t for t in trails if "*" in t}):
            acknowledge_wildcard_resource(
                self.policy,
                arn,
                "The trail is named, but not its account and Region: an organization trail "
                "belongs to the management account, a multi-region trail to its home Region. "
                "Only its status and event selectors are read.",
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
            "Only lambda:GetAccountSettings, Service Quotas' two list actions and "
            "cloudtrail:DescribeTrails use '*': they read the account's concurrency limits, "
            "SageMaker's quotas and the region's trails and take no resource ARN. Every other "
            "statement names one repository, one bucket prefix, one trail or this stack.",
        )


def _read_trails(trails: Sequence[str]) -> list[iam.PolicyStatement]:
    """Find the trails (DescribeTrails lists a region's trails; it takes no resource ARN), then
    read these trails' status and event selectors."""
    return [
        iam.PolicyStatement(
            sid="DescribeTrails", actions=["cloudtrail:DescribeTrails"], resources=["*"]
        ),
        iam.PolicyStatement(
            sid="ReadChangeTrail",
            actions=["cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"],
            resources=sorted(set(trails)),
        ),
    ]


def _describe_pipelines(stack: cdk.Stack, names: Sequence[str]) -> list[iam.PolicyStatement]:
    """``sagemaker:DescribePipeline`` on exactly these pipelines (none: no statement). SageMaker
    pipeline ARNs use the lower-cased name, as for the retraining function's
    StartPipelineExecution grant (mlops_cdk/constructs/retraining.py)."""
    if not names:
        return []
    arns = [
        stack.format_arn(service="sagemaker", resource="pipeline", resource_name=name.lower())
        for name in names
    ]
    return [
        iam.PolicyStatement(
            sid="DescribeRetrainingPipelines",
            actions=["sagemaker:DescribePipeline"],
            resources=arns,
        )
    ]
