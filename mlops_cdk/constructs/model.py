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

from mlops_cdk.aws.acknowledgements import acknowledge_wildcard_resources
from mlops_cdk.constructs.network import allow_within_group, https_egress_only_group
from mlops_cdk.constructs.role_readiness import wait_for_role_policies
from mlops_cdk.constructs.roles import (
    ENDPOINT_LOGS_REASON,
    endpoint_log_group_arn,
    hosting_statements,
    image_pull_statements,
    list_under,
)
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import checked_arguments
from mlops_cdk.props.model import (
    INFERENCE_EXECUTION_MODES,
    ContainerSpec,
    ModelSpec,
    environment_problem,
    image_uri_problem,
    model_data_url_problem,
)


class HostedModel(Construct):
    """``AWS::SageMaker::Model`` with no physical name (CloudFormation generates one, so a new
    model version is a replacement, never a name collision).

    What it serves is ``spec`` (:class:`~mlops_cdk.props.model.ModelSpec`, the same props the
    configuration's ``models[]`` validate into), exactly one of:

    - an image and its model data: ``image_tag`` or ``image_digest`` in ``repository``, or an
      ``aws_image`` (resolved in the stack's region; SageMaker pulls those with service-owned
      credentials, so the role needs no permission for them), and ``model_data_key`` in
      ``bucket``;
    - ``containers`` (2-15): an inference pipeline (``inference_execution`` ``serial``, the
      default) or directly invocable containers (``direct``, each with a hostname), each
      image and model data as above;
    - ``model_package``: a pinned version of a model registry's package group (the
      ``ModelPackageName`` of the model's one container: its inference specification names
      the image and the model data). A version alone belongs to ``model_package_group``.

    Without ``spec``, bring an image by URI: ``image_uri`` (any registry), with optional
    ``model_data_url``, ``environment`` and ``network_isolation`` (default on); with ``spec``
    these come from it.

    The execution role is ``execution_role`` (bring your own) or, without it, a role created
    here (``self.role``) that may write the endpoint's logs and metrics and, in a VPC, manage
    its network interfaces. The model waits for every policy attached to its role in this stack
    (:func:`~mlops_cdk.constructs.role_readiness.wait_for_role_policies`), since SageMaker checks
    the image and the artifact with the role when it creates the model. Whichever role it is,
    this construct grants it exactly what the model needs, in one managed policy
    (``self.policy``): pulling from ``repository`` (when an image is in it); reading the model
    data keys in ``bucket`` (or every object under ``model_data_prefix``, which must contain
    them); decrypting with ``key`` through S3 (SSE-KMS artifacts). A model package's image and
    data are known only to the registry: with ``repository`` the grants cover pulling from it,
    with ``bucket`` and ``model_data_prefix`` reading under that prefix (a package registered
    elsewhere, e.g. another account, needs that account's repository, bucket and key policies:
    see docs/concepts/model-packages.md). ``grants=False`` leaves the role's permissions to its
    owner (e.g. a service's execution role that reads the whole model prefix).

    With ``vpc``, the model runs in ``subnets`` (default: the VPC's isolated, else private
    subnets) behind ``security_groups`` or, by default, its own group that only allows HTTPS out
    (isolated subnets: that reaches the VPC endpoints and S3 only). Serverless endpoints
    support neither VPC config nor network isolation: give them no ``vpc`` and
    ``network_isolation=False``.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: ModelSpec | None = None,
        image_uri: str | None = None,
        model_data_url: str | None = None,
        environment: Mapping[str, str] | None = None,
        network_isolation: bool | None = None,
        repository: ecr.IRepository | None = None,
        bucket: s3.IBucket | None = None,
        model_data_prefix: str | None = None,
        key: kms.IKey | None = None,
        model_package_group: str | None = None,
        execution_role: iam.IRole | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        grants: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        if model_data_prefix is not None and bucket is None:
            raise ValueError("HostedModel: model_data_prefix goes with bucket")
        if spec is None:
            self.containers = _by_uri(image_uri, model_data_url, environment)
            data_keys: list[str] = []
            isolation = network_isolation is not False
        else:
            _spec_only(image_uri, model_data_url, environment, network_isolation)
            self.containers, data_keys = _from_spec(
                stack, spec, repository, bucket, model_package_group
            )
            repository = repository if _pulls_from_repository(spec) else None
            isolation = spec.network_isolation
        _under_prefix(data_keys, model_data_prefix)
        self.spec: ModelSpec | None = spec
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
        self._within_group = False
        vpc_config = self._vpc_config(vpc, subnets, security_groups)
        self.model = self._model(spec, isolation, vpc_config)
        wait_for_role_policies(self.model, self.role)
        self.model_name: str = self.model.attr_model_name

    def _model(
        self,
        spec: ModelSpec | None,
        network_isolation: bool,
        vpc_config: sagemaker.CfnModel.VpcConfigProperty | None,
    ) -> sagemaker.CfnModel:
        """The model: one primary container, or ``Containers`` with their execution mode (a
        registered package: ``Containers``, as the registry guide deploys it).

        SageMaker checks the images and artifacts with the role when it creates the model: the
        caller makes the model wait for every policy of the role (this construct's and any
        other's)."""
        containers = spec is not None and bool(spec.containers)
        listed = containers or (spec is not None and spec.model_package is not None)
        execution = spec.inference_execution if spec is not None else None
        mode = INFERENCE_EXECUTION_MODES[execution or "serial"]
        return sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=None if listed else self.containers[0],
            containers=self.containers if listed else None,
            inference_execution_config=(
                sagemaker.CfnModel.InferenceExecutionConfigProperty(mode=mode)
                if containers
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

    def allow_distributed_jobs(self) -> None:
        """Let the instances of one job running this model on several instances (a batch
        transform with ``instance_count`` > 1) reach each other through the model's own group:
        "In distributed batch transform, you must allow communication between the different
        containers in the same batch transform job" ("Give Batch Transform Jobs Access to
        Resources in Your Amazon VPC"). Groups given as ``security_groups`` are their owner's
        to open. Once per model, however many jobs ask."""
        if self.security_group is None or self._within_group:
            return
        allow_within_group(self.security_group, "Distributed batch transform within the group")
        self._within_group = True

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
        if star:  # first, as before the object wildcards
            wildcards = {
                "*": "Only actions that take no resource ARN use '*': " + ", ".join(star) + ".",
                **wildcards,
            }
        # One call for all (each call is a resolve and an acknowledge, jsii round trips).
        acknowledge_wildcard_resources(policy, wildcards)
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
            list_under("ListModelArtifacts", bucket, [model_data_prefix]),
        ]


def model_specs(models: Mapping[str, HostedModel | str]) -> dict[str, ModelSpec | None]:
    """What each model of an endpoint holds: a :class:`HostedModel`'s spec, None for a model
    named by a string (or brought by URI), whose contents are not known here."""
    return {name: None if isinstance(m, str) else m.spec for name, m in models.items()}


def _spec_only(
    image_uri: str | None,
    model_data_url: str | None,
    environment: Mapping[str, str] | None,
    network_isolation: bool | None,
) -> None:
    given = [
        name
        for name, value in (
            ("image_uri", image_uri),
            ("model_data_url", model_data_url),
            ("environment", environment),
            ("network_isolation", network_isolation),
        )
        if value is not None
    ]
    if given:
        raise ValueError(
            f"HostedModel: spec declares the model's image, data, environment and network "
            f"isolation: remove {', '.join(given)}"
        )


def _by_uri(
    image_uri: str | None, model_data_url: str | None, environment: Mapping[str, str] | None
) -> list[sagemaker.CfnModel.ContainerDefinitionProperty]:
    """The one container of a model brought by URI (no ``spec``)."""
    if image_uri is None:
        raise ValueError(
            "HostedModel: give spec (an image in the repository, containers or a model "
            "package) or image_uri"
        )
    literal = [
        (name, check(value))
        for name, value, check in (
            ("image_uri", image_uri, image_uri_problem),
            ("model_data_url", model_data_url, model_data_url_problem),
        )
        if value is not None and not cdk.Token.is_unresolved(value)
    ]
    problems = [(name, problem) for name, problem in literal if problem is not None]
    environment_issue = environment_problem(environment or {})
    if environment_issue is not None:
        problems.append(("environment", environment_issue))
    if problems:
        raise PropProblems(problems, subject="HostedModel")
    return [_definition(image_uri, model_data_url, environment)]


def _under_prefix(model_data_keys: Sequence[str], model_data_prefix: str | None) -> None:
    """The grants read ``model_data_prefix``: every model data key must be under it."""
    if model_data_prefix is None:
        return
    for key in model_data_keys:
        if not key.startswith(model_data_prefix):
            raise ValueError(
                f"HostedModel: model_data_key {key!r} is not under {model_data_prefix!r}"
            )


def _pulls_from_repository(spec: ModelSpec) -> bool:
    """Whether an image of ``spec`` is in the service's repository (a model package's may
    be: the registry names it)."""
    if spec.model_package is not None:
        return True
    return any(container.uses_repository for container in spec.container_specs())


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


def _from_spec(
    stack: cdk.Stack,
    spec: ModelSpec,
    repository: ecr.IRepository | None,
    bucket: s3.IBucket | None,
    model_package_group: str | None,
) -> tuple[list[sagemaker.CfnModel.ContainerDefinitionProperty], list[str]]:
    """The container definitions of ``spec`` and the model data keys they read."""
    if spec.model_package is not None:
        return [_package(stack, spec, model_package_group)], []
    containers = spec.container_specs()
    definitions = [
        _container(
            stack,
            container,
            repository,
            bucket,
            where=f"containers[{index}]" if spec.containers else "spec",
            primary=not spec.containers,
        )
        for index, container in enumerate(containers)
    ]
    return definitions, [c.model_data_key for c in containers if c.model_data_key is not None]


def _package(
    stack: cdk.Stack, spec: ModelSpec, model_package_group: str | None
) -> sagemaker.CfnModel.ContainerDefinitionProperty:
    """The one container of a model made from a registered model package: its
    ``ModelPackageName`` (the package's inference specification supplies image and model data;
    "Deploy a Model in the Registry (Boto3)",
    https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-deploy.html), with an
    optional environment (the SageMaker Python SDK's ``ModelPackage`` sends one the same
    way)."""
    package = spec.model_package
    assert package is not None  # noqa: S101 - only package models come here
    if package.arn is None and package.group is None and model_package_group is None:
        raise ValueError(
            "HostedModel: model_package version needs its group: set model_package.group or "
            "model_package_group"
        )
    if package.arn is None and cdk.Token.is_unresolved(stack.region):
        raise ValueError(
            "HostedModel: a model package version needs a stack with an explicit region"
        )
    arn = package.package_arn(
        region=stack.region, account=stack.account, default_group=model_package_group or ""
    )
    return sagemaker.CfnModel.ContainerDefinitionProperty(
        model_package_name=arn,
        environment=dict(sorted(spec.environment.items())) or None,
    )


def _container(
    stack: cdk.Stack,
    container: ContainerSpec,
    repository: ecr.IRepository | None,
    bucket: s3.IBucket | None,
    *,
    where: str,
    primary: bool,
) -> sagemaker.CfnModel.ContainerDefinitionProperty:
    """One container's definition: its image (the repository's tag or digest, or the image
    AWS provides in the stack's region) and model data in ``bucket``."""
    if container.aws_image is not None:
        if cdk.Token.is_unresolved(stack.region):
            raise ValueError("HostedModel: an AWS image needs a stack with an explicit region")
        image = container.aws_image.resolve(stack.region).uri
    elif repository is None:
        raise ValueError(f"HostedModel: {where} needs repository (an image tag or digest)")
    elif container.image_digest is not None:
        image = repository.repository_uri_for_digest(container.image_digest)
    else:
        image = repository.repository_uri_for_tag(container.image_tag)
    data = None
    if container.model_data_key is not None:
        if bucket is None:
            raise ValueError(f"HostedModel: {where} needs bucket (a model_data_key)")
        data = bucket.s3_url_for_object(container.model_data_key)
    return _definition(image, data, container.environment, container.hostname, primary=primary)
