"""A SageMaker model: registry image + artifact (or several containers: an inference pipeline or
directly invocable containers), in private subnets with its own security group."""

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
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.model import (
    INFERENCE_EXECUTION_MODES,
    ContainerSpec,
    InferenceExecution,
    containers_problems,
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

    With ``containers`` (2-15 :class:`~mlops_cdk.props.model.ContainerSpec`, instead of the
    image and model data arguments), the model is an inference pipeline (``inference_execution``
    ``serial``, the default) or directly invocable containers (``direct``, each with a
    hostname): each container's image is ``repository`` with its tag or digest, or the image
    AWS provides in the stack's region (SageMaker pulls those with service-owned credentials:
    the role needs no permission for them); its model data is its ``model_data_key`` in
    ``bucket``. ``grants=False`` leaves the role's permissions to its owner (e.g. a service's
    execution role that reads the whole model prefix).

    With ``model_package_arn`` (a versioned package of a model registry, instead of the image,
    model data and containers arguments), the model's one container is that package
    (``ModelPackageName``): its inference specification names the image and the model data,
    which SageMaker reads with the execution role when it creates the model. Their location is
    known only to the registry: with ``repository`` the grants cover pulling from it, with
    ``bucket`` and ``model_data_prefix`` reading under that prefix (a package registered
    elsewhere, e.g. another account, needs that account's repository, bucket and key policies:
    see docs/concepts/model-packages.md).

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
        containers: Sequence[ContainerSpec] | None = None,
        inference_execution: InferenceExecution | None = None,
        grants: bool = True,
        model_package_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        single = (image_uri, image_tag, image_digest, model_data_url, model_data_key, environment)
        if model_package_arn is not None:
            self.containers, data_keys = _package(model_package_arn, single, containers)
        elif containers:
            self.containers = _containers(
                stack, list(containers), inference_execution, repository, bucket, single=single
            )
            data_keys = [c.model_data_key for c in containers if c.model_data_key is not None]
            repository = repository if any(c.uses_repository for c in containers) else None
        else:
            self.containers, data_keys = _single(single, repository, bucket, model_data_prefix)
        self.image_uri = str(self.containers[0].image or "")
        self.model_data_url = self.containers[0].model_data_url
        self.created_role: iam.Role | None = None
        self.role: iam.IRole = (
            execution_role if execution_role is not None else self._created_role()
        )
        self.policy = self._grants(
            stack,
            repository=repository if grants else None,
            bucket=bucket if grants else None,
            model_data_keys=data_keys,
            model_data_prefix=model_data_prefix,
            key=key if grants else None,
            vpc=vpc,
        )
        self.security_group: ec2.SecurityGroup | None = None
        vpc_config = self._vpc_config(vpc, subnets, security_groups)
        self.model = self._model(
            bool(containers), inference_execution, vpc_config, network_isolation
        )
        wait_for_role_policies(self.model, self.role)
        self.model_name: str = self.model.attr_model_name

    def _model(
        self,
        containers: bool,
        inference_execution: InferenceExecution | None,
        vpc_config: sagemaker.CfnModel.VpcConfigProperty | None,
        network_isolation: bool,
    ) -> sagemaker.CfnModel:
        """The model: one primary container, or ``Containers`` with their execution mode.

        SageMaker checks the images and artifacts with the role when it creates the model: the
        caller makes the model wait for every policy of the role (this construct's and any
        other's)."""
        if not containers and inference_execution is not None:
            raise ValueError("HostedModel: inference_execution goes with containers")
        mode = INFERENCE_EXECUTION_MODES[inference_execution or "serial"]
        package = self.containers[0].model_package_name is not None
        listed = containers or package  # a package: Containers, as the registry guide deploys it
        return sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=None if listed else self.containers[0],
            containers=self.containers if listed else None,
            inference_execution_config=(
                sagemaker.CfnModel.InferenceExecutionConfigProperty(mode=mode)
                if containers and not package
                else None
            ),
            vpc_config=vpc_config,
            enable_network_isolation=network_isolation,
        )

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
        model_data_keys: Sequence[str],
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
        if bucket is not None and (model_data_keys or model_data_prefix is not None):
            statements += self._read_statements(bucket, model_data_keys, model_data_prefix)
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
        bucket: s3.IBucket, model_data_keys: Sequence[str], model_data_prefix: str | None
    ) -> list[iam.PolicyStatement]:
        if model_data_prefix is None:
            return [
                iam.PolicyStatement(
                    sid="ReadModelArtifact",
                    actions=["s3:GetObject"],
                    resources=[bucket.arn_for_objects(k) for k in dict.fromkeys(model_data_keys)],
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


def _definition(
    image: str,
    model_data_url: str | None,
    environment: Mapping[str, str] | None,
    hostname: str | None = None,
    *,
    primary: bool = True,
) -> sagemaker.CfnModel.ContainerDefinitionProperty:
    return sagemaker.CfnModel.ContainerDefinitionProperty(
        image=image,
        model_data_url=model_data_url,
        environment=dict(sorted((environment or {}).items())) or None,
        container_hostname=hostname,
        mode="SingleModel" if primary else None,
    )


def _single(
    single: tuple[
        str | None, str | None, str | None, str | None, str | None, Mapping[str, str] | None
    ],
    repository: ecr.IRepository | None,
    bucket: s3.IBucket | None,
    model_data_prefix: str | None,
) -> tuple[list[sagemaker.CfnModel.ContainerDefinitionProperty], list[str]]:
    """The one container of a single-image model (``single``: image URI, tag, digest, model
    data URL, model data key, environment) and the model data keys it reads."""
    image_uri, image_tag, image_digest, model_data_url, model_data_key, environment = single
    image = _image(image_uri, repository, image_tag, image_digest)
    data = _model_data(model_data_url, bucket, model_data_key, model_data_prefix)
    keys = [model_data_key] if model_data_key is not None else []
    return [_definition(image, data, environment)], keys


def _package(
    arn: str,
    single: tuple[
        str | None, str | None, str | None, str | None, str | None, Mapping[str, str] | None
    ],
    containers: Sequence[ContainerSpec] | None,
) -> tuple[list[sagemaker.CfnModel.ContainerDefinitionProperty], list[str]]:
    """The one container of a model made from a registered model package: its
    ``ModelPackageName`` (the package's inference specification supplies image and model data;
    "Deploy a Model in the Registry (Boto3)",
    https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-deploy.html), with an
    optional environment (the SageMaker Python SDK's ``ModelPackage`` sends one the same way);
    no model data keys (``single``: the single-image arguments, environment last)."""
    environment = single[-1]
    if containers or any(value is not None for value in single[:-1]):
        raise ValueError(
            "HostedModel: model_package_arn replaces image_uri, image_tag, image_digest, "
            "model_data_url, model_data_key and containers"
        )
    definition = sagemaker.CfnModel.ContainerDefinitionProperty(
        model_package_name=arn,
        environment=dict(sorted((environment or {}).items())) or None,
    )
    return [definition], []


def _containers(
    stack: cdk.Stack,
    containers: list[ContainerSpec],
    inference_execution: InferenceExecution | None,
    repository: ecr.IRepository | None,
    bucket: s3.IBucket | None,
    *,
    single: tuple[object, ...],
) -> list[sagemaker.CfnModel.ContainerDefinitionProperty]:
    """The container definitions of a multi-container model (``single``: the single-container
    arguments, which must all be unset)."""
    if any(value is not None for value in single):
        raise ValueError(
            "HostedModel: containers replace image_uri, image_tag, image_digest, "
            "model_data_url, model_data_key and environment"
        )
    problems = containers_problems(containers, inference_execution)
    if problems:
        raise PropProblems(problems, subject="HostedModel")
    definitions = []
    for index, container in enumerate(containers):
        if container.aws_image is not None:
            if cdk.Token.is_unresolved(stack.region):
                raise ValueError("HostedModel: an AWS image needs a stack with an explicit region")
            image = container.aws_image.resolve(stack.region).uri
        elif repository is None:
            raise ValueError(f"HostedModel: containers[{index}] needs repository")
        elif container.image_digest is not None:
            image = repository.repository_uri_for_digest(container.image_digest)
        else:
            image = repository.repository_uri_for_tag(container.image_tag)
        data = None
        if container.model_data_key is not None:
            if bucket is None:
                raise ValueError(f"HostedModel: containers[{index}].model_data_key needs bucket")
            data = bucket.s3_url_for_object(container.model_data_key)
        definitions.append(
            _definition(image, data, container.environment, container.hostname, primary=False)
        )
    return definitions
