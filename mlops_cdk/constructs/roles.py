"""The SageMaker execution role, scoped to this environment's registry, bucket, key and VPC."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from mlops_cdk.compliance import acknowledge_wildcard_resource
from mlops_cdk.constructs.encryption import EncryptionKey
from mlops_cdk.constructs.storage import ArtifactStorage

# SageMaker publishes endpoint metrics to these namespaces.
SAGEMAKER_METRIC_NAMESPACES = ("AWS/SageMaker", "/aws/sagemaker/Endpoints")

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


class SageMakerExecutionRole(Construct):
    """Least-privilege role SageMaker assumes to host models.

    It may: pull images from ``repository`` only; read the model-artifact prefix and write the
    data-capture prefix of ``storage``; use ``key`` (named in the key policy); write its own
    endpoint logs and metrics; manage the network interfaces of ``vpc``. No managed policies.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: ecr.IRepository,
        storage: ArtifactStorage,
        key: EncryptionKey,
        vpc: ec2.IVpc,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            description="SageMaker execution role for model hosting",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        log_group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/Endpoints/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        policy = iam.ManagedPolicy(
            self, "Policy", description="SageMaker hosting: this environment's resources only"
        )
        # ECR: images from this repository only. GetAuthorizationToken takes no resource.
        policy.add_statements(
            iam.PolicyStatement(
                sid="PullModelImages",
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
            iam.PolicyStatement(
                sid="ReadModelArtifacts",
                actions=["s3:GetObject"],
                resources=[storage.model_artifacts_arn()],
            ),
            iam.PolicyStatement(
                sid="ListModelArtifacts",
                actions=["s3:ListBucket"],
                resources=[storage.bucket.bucket_arn],
                conditions={
                    "StringLike": {
                        "s3:prefix": [
                            storage.model_artifacts_prefix,
                            f"{storage.model_artifacts_prefix}*",
                        ]
                    }
                },
            ),
            iam.PolicyStatement(
                sid="WriteDataCapture",
                actions=["s3:PutObject"],
                resources=[storage.data_capture_arn()],
            ),
            iam.PolicyStatement(
                sid="EndpointLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group_arn],
            ),
            iam.PolicyStatement(
                sid="EndpointMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {"cloudwatch:namespace": list(SAGEMAKER_METRIC_NAMESPACES)}
                },
            ),
            iam.PolicyStatement(
                sid="DescribeNetwork",
                actions=list(DESCRIBE_NETWORK_ACTIONS),
                resources=["*"],
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
        )
        policy.attach_to_role(self.role)
        self.policy = policy
        key.grant_use(self.role, sid="SageMakerExecutionRoleUse")

        acknowledge_wildcard_resource(
            policy,
            "*",
            "Only actions that take no resource ARN use '*': ecr:GetAuthorizationToken, "
            "ec2:Describe* and cloudwatch:PutMetricData (limited to SageMaker's metric "
            "namespaces by condition); the ENI actions are limited to this VPC by ec2:Vpc.",
        )
        acknowledge_wildcard_resource(
            policy,
            storage.model_artifacts_arn(),
            "Read-only access to objects under the model-artifact prefix of this environment's "
            "bucket; model tarball keys are chosen per model version in the config.",
        )
        acknowledge_wildcard_resource(
            policy,
            storage.data_capture_arn(),
            "Write-only access under the data-capture prefix: SageMaker names capture objects "
            "by endpoint, variant and timestamp, which cannot be listed in advance.",
        )
        acknowledge_wildcard_resource(
            policy,
            log_group_arn,
            "SageMaker creates one log group per endpoint under /aws/sagemaker/Endpoints/ with "
            "the generated endpoint name; the prefix limits the role to endpoint logs.",
        )


class FunctionRole(Construct):
    """A role for a Lambda function whose permissions are attached elsewhere (as managed policies
    next to the function), named in ``key``'s policy so the function can use encrypted queues."""

    def __init__(
        self, scope: Construct, construct_id: str, *, description: str, key: EncryptionKey
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            description=description,
            assumed_by=iam.ServicePrincipal(
                "lambda.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        key.grant_use(self.role, sid=f"{construct_id}Use")
