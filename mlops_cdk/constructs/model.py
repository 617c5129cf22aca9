"""A SageMaker model: registry image + artifact, in private subnets with its own security group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_wildcard_resource
from mlops_cdk.constructs.network import https_egress_only_group
from mlops_cdk.constructs.role_readiness import wait_for_role_policies
from mlops_cdk.constructs.roles import (
    ENDPOINT_LOGS_REASON,
    endpoint_log_group_arn,
    hosting_statements,
    image_pull_statements,
)


class HostedModel(Construct):
    """``AWS::SageMaker::Model`` with no physical name (CloudFormation generates one, so a new
    model version is a replacement, never a name collision).

    The image is ``image_uri``, or ``repository`` with ``image_tag`` or ``image_digest``. The
    model data is ``model_data_url``, or ``model_data_key`` in ``bucket``; none means the image
    carries the model.

    The execution role is ``execution_role`` (bring your own) or, without it, a role created
    here (``self.role``) that may write the endpoint's logs and metrics and, in a VPC, manage
    its network interfaces. The model waits for every policy attached to its role in this stack
    (:func:`~mlops_cdk.constructs.role_readiness.wait_for_role_policies`), since SageMaker checks
    the image and the artifact with the role when it creates the model. Whichever role it is,
    when given ``repository``, ``bucket`` and
    ``key``, this construct grants it exactly what the model needs, in one managed policy
    (``self.policy``): pulling from ``repository``; reading
    ``model_data_key`` (or every object under ``model_data_prefix``, which must contain the key);
    decrypting with ``key`` through S3 (SSE-KMS artifacts).

    With ``vpc``, the model runs in ``subnets`` (default: the VPC's isolated, else private
    subnets) behind ``security_groups`` or, by default, its own group that only allows HTTPS out
    (isolated subnets: that reaches the VPC endpoints and S3 only). Serverless endpoints
    support neither VPC config nor network isolation: pass ``vpc=None`` and
    ``network_isolation=False`` for them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image_uri: str | None = None,
        repository: ecr.IRepository | None = None,
        image_tag: str | None = None,
        image_digest: str | None = None,
        model_data_url: str | None = None,
        bucket: s3.IBucket | None = None,
        model_data_key: str | None = None,
        model_data_prefix: str | None = None,
        key: kms.IKey | None = None,
        execution_role: iam.IRole | None = None,
        environment: Mapping[str, str] | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        network_isolation: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.image_uri = _image(image_uri, repository, image_tag, image_digest)
        self.model_data_url = _model_data(model_data_url, bucket, model_data_key, model_data_prefix)
        stack = cdk.Stack.of(self)
        self.created_role: iam.Role | None = None
        self.role: iam.IRole = (
            execution_role if execution_role is not None else self._created_role()
        )
        self.policy = self._grants(
            stack,
            repository=repository,
            bucket=bucket,
            model_data_key=model_data_key,
            model_data_prefix=model_data_prefix,
            key=key,
            vpc=vpc,
        )
        self.security_group: ec2.SecurityGroup | None = None
        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=self.image_uri,
                model_data_url=self.model_data_url,
                environment=dict(sorted((environment or {}).items())) or None,
                mode="SingleModel",
            ),
            vpc_config=self._vpc_config(vpc, subnets, security_groups),
            enable_network_isolation=network_isolation,
        )
        # SageMaker checks the image and artifact with the role when it creates the model: the
        # model waits for every policy of the role (this construct's and any other's).
        wait_for_role_policies(self.model, self.role)
        self.model_name: str = self.model.attr_model_name

    def _created_role(self) -> iam.Role:
        """An execution role for this model only (``self.created_role``)."""
        self.created_role = iam.Role(
            self,
            "Role",
            description="SageMaker execution role of one model",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            ),
        )
        return self.created_role

    def _vpc_config(
        self,
        vpc: ec2.IVpc | None,
        subnets: Sequence[ec2.ISubnet] | None,
        security_groups: Sequence[ec2.ISecurityGroup] | None,
    ) -> sagemaker.CfnModel.VpcConfigProperty | None:
        """The model's subnets and groups; creates ``self.security_group`` if none is given."""
        if vpc is None:
            if security_groups:
                raise ValueError("HostedModel: security_groups need a vpc")
            return None
        groups: list[ec2.ISecurityGroup] = list(security_groups or [])
        if not groups:
            self.security_group = https_egress_only_group(
                self,
                "SecurityGroup",
                vpc=vpc,
                description="SageMaker model containers: HTTPS out to VPC and S3 endpoints",
                egress="HTTPS to VPC interface endpoints and the S3 gateway (isolated subnets)",
            )
            groups = [self.security_group]
        chosen = list(subnets) if subnets else list(vpc.isolated_subnets or vpc.private_subnets)
        if not chosen:
            raise ValueError("HostedModel: the VPC has no private or isolated subnets")
        return sagemaker.CfnModel.VpcConfigProperty(
            security_group_ids=[group.security_group_id for group in groups],
            subnets=[subnet.subnet_id for subnet in chosen],
        )

    def _grants(
        self,
        stack: cdk.Stack,
        *,
        repository: ecr.IRepository | None,
        bucket: s3.IBucket | None,
        model_data_key: str | None,
        model_data_prefix: str | None,
        key: kms.IKey | None,
        vpc: ec2.IVpc | None,
    ) -> iam.ManagedPolicy | None:
        """The managed policy with what the role needs for this model, or None."""
        statements: list[iam.PolicyStatement] = []
        wildcards: dict[str, str] = {}
        star: list[str] = []
        if self.created_role is not None:
            statements += hosting_statements(stack, vpc)
            wildcards[endpoint_log_group_arn(stack)] = ENDPOINT_LOGS_REASON
            star.append("cloudwatch:PutMetricData (limited to SageMaker's namespaces)")
            if vpc is not None:
                star.append("ec2:Describe* and the ENI actions (limited to this VPC)")
        if repository is not None:
            statements += image_pull_statements(repository)
            star.append("ecr:GetAuthorizationToken")
        if bucket is not None and model_data_key is not None:
            statements += self._read_statements(bucket, model_data_key, model_data_prefix)
            if model_data_prefix is not None:
                wildcards[bucket.arn_for_objects(f"{model_data_prefix}*")] = (
                    "Read-only access to the objects under this model's artifact prefix "
                    f"({model_data_prefix}), chosen by whoever builds the model."
                )
        if key is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="DecryptModelArtifacts",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}
                    }
                    if bucket is not None
                    else None,
                )
            )
        if not statements:
            return None
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="SageMaker model: its image, its artifact and their key",
            roles=[self.role],
            statements=statements,
        )
        if star:
            acknowledge_wildcard_resource(
                policy,
                "*",
                "Only actions that take no resource ARN use '*': " + ", ".join(star) + ".",
            )
        for resource, reason in wildcards.items():
            acknowledge_wildcard_resource(policy, resource, reason)
        return policy

    @staticmethod
    def _read_statements(
        bucket: s3.IBucket, model_data_key: str, model_data_prefix: str | None
    ) -> list[iam.PolicyStatement]:
        if model_data_prefix is None:
            return [
                iam.PolicyStatement(
                    sid="ReadModelArtifact",
                    actions=["s3:GetObject"],
                    resources=[bucket.arn_for_objects(model_data_key)],
                )
            ]
        return [
            iam.PolicyStatement(
                sid="ReadModelArtifacts",
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{model_data_prefix}*")],
            ),
            iam.PolicyStatement(
                sid="ListModelArtifacts",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={
                    "StringLike": {"s3:prefix": [model_data_prefix, f"{model_data_prefix}*"]}
                },
            ),
        ]


def _image(
    image_uri: str | None,
    repository: ecr.IRepository | None,
    image_tag: str | None,
    image_digest: str | None,
) -> str:
    if (image_uri is None) == (repository is None):
        raise ValueError("HostedModel: give image_uri or repository (with image_tag or digest)")
    if image_uri is not None:
        if image_tag is not None or image_digest is not None:
            raise ValueError("HostedModel: image_tag/image_digest go with repository")
        return image_uri
    assert repository is not None  # noqa: S101 - checked above
    if (image_tag is None) == (image_digest is None):
        raise ValueError("HostedModel: give exactly one of image_tag or image_digest")
    if image_digest is not None:
        return repository.repository_uri_for_digest(image_digest)
    return repository.repository_uri_for_tag(image_tag)


def _model_data(
    model_data_url: str | None,
    bucket: s3.IBucket | None,
    model_data_key: str | None,
    model_data_prefix: str | None,
) -> str | None:
    if model_data_url is not None:
        if bucket is not None or model_data_key is not None:
            raise ValueError("HostedModel: give model_data_url or bucket + model_data_key")
        if model_data_prefix is not None:
            raise ValueError("HostedModel: model_data_prefix goes with bucket + model_data_key")
        return model_data_url
    if (bucket is None) != (model_data_key is None):
        raise ValueError("HostedModel: bucket and model_data_key go together")
    if bucket is None or model_data_key is None:
        if model_data_prefix is not None:
            raise ValueError("HostedModel: model_data_prefix goes with bucket + model_data_key")
        return None
    if model_data_prefix is not None and not (
        cdk.Token.is_unresolved(model_data_key) or model_data_key.startswith(model_data_prefix)
    ):
        raise ValueError(
            f"HostedModel: model_data_key {model_data_key!r} is not under {model_data_prefix!r}"
        )
    return bucket.s3_url_for_object(model_data_key)
