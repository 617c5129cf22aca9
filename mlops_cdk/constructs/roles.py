"""Roles of one model service: the SageMaker execution role (its own repository, its own S3
prefixes, the key, the VPC), the training role its retraining jobs run as (its own training
prefixes) and roles for its functions.

All carry their key permissions in their own policies and live under an IAM path the key
policy admits (``EncryptionKey.grant_role_path``), so adding a service never edits the key
policy: no per-service principal is listed there."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_wildcard_resources
from mlops_cdk.aws.facts import (
    SAGEMAKER_ENDPOINT_NAMESPACES,
    TRAINING_LOG_GROUP,
    TRAINING_NAMESPACE,
    TRANSFORM_LOG_GROUP,
    TRANSFORM_NAMESPACE,
)
from mlops_cdk.constructs.encryption import key_use_statements
from mlops_cdk.props.fields import checked_arguments

# SageMaker publishes endpoint metrics to these namespaces.
SAGEMAKER_METRIC_NAMESPACES = SAGEMAKER_ENDPOINT_NAMESPACES

ENI_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
)
DESCRIBE_NETWORK_ACTIONS = (
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)


ENDPOINT_LOGS_REASON = (
    "SageMaker creates one log group per endpoint under /aws/sagemaker/Endpoints/ with "
    "the generated endpoint name; the prefix limits the role to endpoint logs."
)
IMAGE_PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)


# "How to use SageMaker AI execution roles", CreateProcessingJob API: Execution Role Permissions
# (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-createprocessingjob-perms).
PROCESSING_VPC_REASON = (
    "AWS requires these ENI and describe actions unscoped for a processing job in a VPC: "
    '"If you specify a private VPC for your processing job, add the following permissions. '
    "Don't scope in the policy with any conditions or resource filters. Otherwise, the "
    'validation checks that occur during the creation of the processing job fail." '
    "(How to use SageMaker AI execution roles, CreateProcessingJob API: Execution Role "
    "Permissions)."
)


def list_under(sid: str, bucket: s3.IBucket, prefixes: Sequence[str]) -> iam.PolicyStatement:
    """``s3:ListBucket`` on ``bucket`` for keys under ``prefixes`` only: each prefix and what is
    below it (``StringLike`` ``s3:prefix`` ``p``, ``p*``, in that order)."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["s3:ListBucket"],
        resources=[bucket.bucket_arn],
        conditions={"StringLike": {"s3:prefix": [x for p in prefixes for x in (p, f"{p}*")]}},
    )


def vpc_network_statements(stack: cdk.Stack, vpc: ec2.IVpc) -> list[iam.PolicyStatement]:
    """What SageMaker needs to attach a training job's, a transform job's or a model's
    containers to ``vpc``: describe the network (no resource-level permissions) and manage
    network interfaces in that VPC only.

    "How to use SageMaker AI execution roles"
    (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html), sections
    "CreateTrainingJob API: Execution Role Permissions" ("If you specify a private VPC for your
    training job, add the following permissions") and "CreateModel API: Execution Role
    Permissions" (the same for a model) list these actions without asking for them unscoped,
    so the ENI actions keep the ``ec2:Vpc`` condition. Processing jobs are the exception:
    :func:`processing_vpc_network_statement`."""
    return [
        iam.PolicyStatement(
            sid="DescribeNetwork", actions=list(DESCRIBE_NETWORK_ACTIONS), resources=["*"]
        ),
        iam.PolicyStatement(
            sid="ManageNetworkInterfacesInVpc",
            actions=list(ENI_ACTIONS),
            resources=["*"],
            conditions={
                "ArnEquals": {
                    "ec2:Vpc": stack.format_arn(
                        service="ec2", resource="vpc", resource_name=vpc.vpc_id
                    )
                }
            },
        ),
    ]


PROCESSING_NETWORK_SID = "ProcessingJobNetworkUnscoped"


def processing_vpc_network_statement() -> iam.PolicyStatement:
    """What a role that runs processing jobs in a VPC needs: the actions the CreateProcessingJob
    section of "How to use SageMaker AI execution roles" lists, unconditioned and on every
    resource, as it demands (:data:`PROCESSING_VPC_REASON`); SageMaker validates the role when
    the processing job is created. Acknowledge ``*`` with that reason."""
    return iam.PolicyStatement(
        sid=PROCESSING_NETWORK_SID,
        actions=sorted((*ENI_ACTIONS, *DESCRIBE_NETWORK_ACTIONS)),
        resources=["*"],
    )


def job_log_and_metric_statements(
    stack: cdk.Stack, *, sid: str, log_group: str, namespace: str
) -> tuple[list[iam.PolicyStatement], str]:
    """Statements ``<sid>Logs`` and ``<sid>Metrics`` for the jobs of one type: write their log
    streams in ``log_group`` (SageMaker's, one per job type) and publish to ``namespace`` only;
    and the log group's ARN (a wildcard to acknowledge).

    The ARN ends in ``:*``: "Use the second version, with the trailing :*, to refer to the ARN
    when specifying permissions in IAM policies for all other API actions" ("Overview of
    managing access permissions to your CloudWatch Logs resources",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html);
    it also covers the group's log streams (``log-group:<name>:log-stream:<stream>``).
    ``cloudwatch:PutMetricData`` takes no resource; ``cloudwatch:namespace`` limits it."""
    log_group_arn = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{log_group}:*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    statements = [
        iam.PolicyStatement(
            sid=f"{sid}Logs",
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            resources=[log_group_arn],
        ),
        iam.PolicyStatement(
            sid=f"{sid}Metrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": namespace}},
        ),
    ]
    return statements, log_group_arn


def endpoint_log_group_arn(stack: cdk.Stack) -> str:
    """ARN pattern of every endpoint's log group (``/aws/sagemaker/Endpoints/<name>``)."""
    return stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name="/aws/sagemaker/Endpoints/*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def image_pull_statements(repository: ecr.IRepository) -> list[iam.PolicyStatement]:
    """Pull images from ``repository``; ``ecr:GetAuthorizationToken`` takes no resource."""
    return [
        iam.PolicyStatement(
            sid="PullModelImages",
            actions=list(IMAGE_PULL_ACTIONS),
            resources=[repository.repository_arn],
        ),
        iam.PolicyStatement(
            sid="EcrAuthorizationToken",
            actions=["ecr:GetAuthorizationToken"],
            resources=["*"],
        ),
    ]


def hosting_statements(stack: cdk.Stack, vpc: ec2.IVpc | None) -> list[iam.PolicyStatement]:
    """What SageMaker hosting does as the execution role besides reading the model: write the
    endpoint's logs and metrics and, for a model in ``vpc``, manage its network interfaces there
    ("CreateModel API: Execution Role Permissions", SageMaker developer guide)."""
    statements = [
        iam.PolicyStatement(
            sid="EndpointLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[endpoint_log_group_arn(stack)],
        ),
        iam.PolicyStatement(
            sid="EndpointMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={
                "StringEquals": {"cloudwatch:namespace": list(SAGEMAKER_METRIC_NAMESPACES)}
            },
        ),
    ]
    if vpc is not None:
        statements += vpc_network_statements(stack, vpc)
    return statements


class SageMakerExecutionRole(Construct):
    """Least-privilege role SageMaker assumes to host one service's models.

    It may: pull images from ``repository`` only; read objects under ``model_prefix`` and write
    objects under ``capture_prefix`` of ``bucket`` (nothing of other services); use ``key``;
    write its own endpoint logs and metrics; manage the network interfaces of ``vpc``. With
    ``batch_read_prefix`` its transform jobs also read their input and write their output,
    logs and metrics (:meth:`_batch_access`). No managed policies. ``path`` is the IAM path the
    key policy admits.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: ecr.IRepository,
        bucket: s3.IBucket,
        model_prefix: str,
        capture_prefix: str,
        key: kms.IKey,
        vpc: ec2.IVpc,
        path: str = "/",
        batch_read_prefix: str | None = None,
        batch_write_prefixes: Sequence[str] = (),
        registered_model_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        model_objects = bucket.arn_for_objects(f"{model_prefix}*")
        capture_objects = bucket.arn_for_objects(f"{capture_prefix}*")
        self.role = iam.Role(
            self,
            "Role",
            path=path,
            description="SageMaker execution role for model hosting",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        self.policy = self._policy(
            repository=repository,
            bucket=bucket,
            model_prefix=model_prefix,
            model_objects=model_objects,
            capture_objects=capture_objects,
            key=key,
            vpc=vpc,
        )
        wildcards = self._wildcards(model_objects, capture_objects)
        if batch_read_prefix is not None:
            wildcards |= self._batch_access(bucket, batch_read_prefix, batch_write_prefixes)
        if registered_model_prefix is not None:
            wildcards |= self._registered_models(bucket, registered_model_prefix)
        # All in one call: each call is a resolve and an acknowledge (jsii round trips).
        acknowledge_wildcard_resources(self.policy, wildcards)

    def _registered_models(self, bucket: s3.IBucket, prefix: str) -> dict[str, str]:
        """A model created from a registered package version reads the artifact the retraining
        pipeline wrote (``ModelDataUrl`` of the package's inference specification, under
        ``prefix``): read-only, that prefix only. Returns the wildcard's reason."""
        objects = bucket.arn_for_objects(f"{prefix}*")
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="ReadRegisteredModels", actions=["s3:GetObject"], resources=[objects]
            )
        )
        return {
            objects: "Model artifacts the service's retraining pipeline writes (one key per "
            "pipeline run), read by models created from its registered package versions."
        }

    def _batch_access(
        self, bucket: s3.IBucket, read_prefix: str, write_prefixes: Sequence[str]
    ) -> dict[str, str]:
        """Batch transform jobs run as this role: they list and read their input under
        ``read_prefix`` (the service's batch prefix), write their output under each of
        ``write_prefixes`` (the jobs' output prefixes), their logs to the transform jobs' log
        group and their instance metrics to its namespace (:data:`TRANSFORM_LOG_GROUP`); the key
        statements are the policy's. Returns the wildcards' reasons."""
        read_objects = bucket.arn_for_objects(f"{read_prefix}*")
        write_objects = [bucket.arn_for_objects(f"{prefix}*") for prefix in write_prefixes]
        observability, log_group_arn = job_log_and_metric_statements(
            cdk.Stack.of(self),
            sid="TransformJob",
            log_group=TRANSFORM_LOG_GROUP,
            namespace=TRANSFORM_NAMESPACE,
        )
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="ReadBatchInput", actions=["s3:GetObject"], resources=[read_objects]
            ),
            list_under("ListBatchInput", bucket, [read_prefix]),
        )
        if write_objects:
            self.policy.add_statements(
                iam.PolicyStatement(
                    sid="WriteBatchOutput",
                    actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=write_objects,
                )
            )
        self.policy.add_statements(*observability)
        return {
            **dict.fromkeys(
                (read_objects, *write_objects),
                "Batch transform input (read) and per-run output (write) of this service's "
                "batch jobs: object keys are the data's, chosen per run.",
            ),
            log_group_arn: "SageMaker writes every transform job's log streams to the one log "
            f"group {TRANSFORM_LOG_GROUP}; streams are named per job and instance.",
        }

    def _policy(
        self,
        *,
        repository: ecr.IRepository,
        bucket: s3.IBucket,
        model_prefix: str,
        model_objects: str,
        capture_objects: str,
        key: kms.IKey,
        vpc: ec2.IVpc,
    ) -> iam.ManagedPolicy:
        """Pull, read the models, write data capture, host, use the key: attached to the role."""
        stack = cdk.Stack.of(self)
        policy = iam.ManagedPolicy(
            self, "Policy", description="SageMaker hosting: this environment's resources only"
        )
        # ECR: images from this repository only. GetAuthorizationToken takes no resource.
        policy.add_statements(
            *image_pull_statements(repository),
            iam.PolicyStatement(
                sid="ReadModelArtifacts",
                actions=["s3:GetObject"],
                resources=[model_objects],
            ),
            list_under("ListModelArtifacts", bucket, [model_prefix]),
            iam.PolicyStatement(
                sid="WriteDataCapture",
                actions=["s3:PutObject"],
                resources=[capture_objects],
            ),
            *hosting_statements(stack, vpc),
        )
        policy.add_statements(*key_use_statements(key))
        policy.attach_to_role(self.role)
        return policy

    def _wildcards(self, model_objects: str, capture_objects: str) -> dict[str, str]:
        """The reasons for the policy's wildcards: resource-less actions, the service's
        prefixes, its logs."""
        log_group_arn = endpoint_log_group_arn(cdk.Stack.of(self))
        return {
            "*": "Only actions that take no resource ARN use '*': ecr:GetAuthorizationToken, "
            "ec2:Describe* and cloudwatch:PutMetricData (limited to SageMaker's metric "
            "namespaces by condition); the ENI actions are limited to this VPC by ec2:Vpc.",
            model_objects: "Read-only access to objects under this service's model-artifact "
            "prefix; model tarball keys are chosen per model version in the config.",
            capture_objects: "Write-only access under this service's data-capture prefix: "
            "SageMaker names capture objects "
            "by endpoint, variant and timestamp, which cannot be listed in advance.",
            log_group_arn: ENDPOINT_LOGS_REASON,
        }


def lambda_role(scope: Construct, *, description: str, path: str = "/") -> iam.Role:
    """Role ``Role`` of ``scope`` for a Lambda function: assumable by Lambda of this account
    only (``aws:SourceAccount``), under ``path``; its permissions are attached elsewhere."""
    return iam.Role(
        scope,
        "Role",
        path=path,
        description=description,
        assumed_by=iam.ServicePrincipal(
            "lambda.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(scope).account}},
        ),
    )


class FunctionRole(Construct):
    """A role for a Lambda function whose other permissions are attached elsewhere (as managed
    policies next to the function). It may use ``key`` (for encrypted queues and logs) and lives
    under ``path``, which the key policy admits."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        key: kms.IKey,
        path: str = "/",
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = lambda_role(self, description=description, path=path)
        self.key_policy = iam.ManagedPolicy(
            self,
            "KeyUse",
            description="Use of the environment key (encrypted queues and logs)",
            roles=[self.role],
            statements=key_use_statements(key),
        )


# SageMaker writes training job logs to TRAINING_LOG_GROUP and metrics to this namespace.
TRAINING_METRIC_NAMESPACE = TRAINING_NAMESPACE


class SageMakerTrainingRole(Construct):
    """The role SageMaker assumes to run one service's retraining jobs: not the hosting role.

    SageMaker needs the job's role to "read input data from an S3 bucket, download a Docker
    image that contains training code, write model artifacts to an S3 bucket, write logs to
    Amazon CloudWatch Logs, and publish metrics to Amazon CloudWatch" (SageMaker API reference,
    CreateTrainingJob ``RoleArn``). Here that is: read objects under ``data_prefix`` of
    ``bucket``; write under ``output_prefix``; read and write under ``checkpoint_prefix`` (spot
    training resumes from it); use ``key`` (the bucket's SSE-KMS key); pull from
    ``repository`` when the job's image is there; with ``vpc``, manage network interfaces in it.
    ``path`` is the IAM path the key policy admits."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        data_prefix: str,
        output_prefix: str,
        key: kms.IKey,
        checkpoint_prefix: str | None = None,
        repository: ecr.IRepository | None = None,
        vpc: ec2.IVpc | None = None,
        path: str = "/",
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            path=path,
            description="SageMaker training jobs started by the retraining function",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        statements, wildcards = self._s3_statements(
            bucket, data_prefix, output_prefix, checkpoint_prefix
        )
        statements += self._log_and_metric_statements(wildcards)
        star_reason = ["cloudwatch:PutMetricData (limited to SageMaker's training namespace)"]
        statements += self._image_and_network_statements(repository, vpc, star_reason)
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="SageMaker training: this service's training prefixes only",
            statements=[*statements, *key_use_statements(key)],
            roles=[self.role],
        )
        acknowledge_wildcard_resources(  # one call: each is a resolve and an acknowledge
            self.policy,
            {
                "*": "Only actions that take no resource ARN use '*': "
                + ", ".join(star_reason)
                + ".",
                **wildcards,
            },
        )

    @staticmethod
    def _s3_statements(
        bucket: s3.IBucket, data_prefix: str, output_prefix: str, checkpoint_prefix: str | None
    ) -> tuple[list[iam.PolicyStatement], dict[str, str]]:
        """Read data, write output, read and write checkpoints, list those prefixes; and the
        reason for each object wildcard."""
        data_objects = bucket.arn_for_objects(f"{data_prefix}*")
        output_objects = bucket.arn_for_objects(f"{output_prefix}*")
        listed = [data_prefix]
        statements = [
            iam.PolicyStatement(
                sid="ReadTrainingData", actions=["s3:GetObject"], resources=[data_objects]
            ),
            iam.PolicyStatement(
                sid="WriteModelOutput",
                actions=["s3:AbortMultipartUpload", "s3:PutObject"],
                resources=[output_objects],
            ),
        ]
        wildcards = {
            data_objects: "Read-only access to objects under this service's training data "
            "prefix: the data set's object keys are not known in advance.",
            output_objects: "Write-only access under this service's training output prefix: "
            "SageMaker names output objects by training job.",
        }
        if checkpoint_prefix is not None:
            checkpoint_objects = bucket.arn_for_objects(f"{checkpoint_prefix}*")
            statements.append(
                iam.PolicyStatement(
                    sid="ReadWriteCheckpoints",
                    actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                    resources=[checkpoint_objects],
                )
            )
            listed.append(checkpoint_prefix)
            wildcards[checkpoint_objects] = (
                "Checkpoints of this service's training jobs: SageMaker copies them to S3 and "
                "back when a spot job resumes; their names are chosen by the training code."
            )
        statements.append(list_under("ListTrainingPrefixes", bucket, listed))
        return statements, wildcards

    def _log_and_metric_statements(self, wildcards: dict[str, str]) -> list[iam.PolicyStatement]:
        """Training logs (adds the log group's reason to ``wildcards``) and metrics."""
        statements, log_group_arn = job_log_and_metric_statements(
            cdk.Stack.of(self),
            sid="Training",
            log_group=TRAINING_LOG_GROUP,
            namespace=TRAINING_METRIC_NAMESPACE,
        )
        wildcards[log_group_arn] = (
            "SageMaker writes every training job's log streams to the one log group "
            f"{TRAINING_LOG_GROUP}; streams are named per job and instance."
        )
        return statements

    def _image_and_network_statements(
        self, repository: ecr.IRepository | None, vpc: ec2.IVpc | None, star_reason: list[str]
    ) -> list[iam.PolicyStatement]:
        """Pull the training image, manage ENIs in ``vpc``; names each '*' in ``star_reason``."""
        statements: list[iam.PolicyStatement] = []
        if repository is not None:
            statements += [
                iam.PolicyStatement(
                    sid="PullTrainingImage",
                    actions=[
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    resources=[repository.repository_arn],
                ),
                iam.PolicyStatement(
                    sid="EcrAuthorizationToken",
                    actions=["ecr:GetAuthorizationToken"],
                    resources=["*"],
                ),
            ]
            star_reason.append("ecr:GetAuthorizationToken")
        if vpc is not None:
            statements += vpc_network_statements(cdk.Stack.of(self), vpc)
            star_reason.append("ec2:Describe* and the ENI actions (limited to this VPC)")
        return statements
