"""A private network for SageMaker hosting: isolated subnets, flow logs, VPC endpoints.

Endpoint policies (AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint
policies": without a policy an endpoint allows full access) admit principals of this account
only, and bound what they reach:

- sagemaker.runtime: only ``sagemaker:InvokeEndpoint``, ``InvokeEndpointAsync`` and
  ``InvokeEndpointWithResponseStream`` (SageMaker Runtime's actions, Service Authorization
  Reference "Actions, resources, and condition keys for Amazon SageMaker") on this account's
  endpoints whose names start with ``runtime_endpoint_prefix`` (SageMaker writes endpoint
  names in lowercase in their ARNs);
- S3 (gateway): buckets of this account only (``aws:ResourceAccount``), plus ECR's image-layer
  bucket ``prod-<region>-starport-layer-bucket``, which AWS owns ("Amazon ECR interface VPC
  endpoints (AWS PrivateLink)", minimum Amazon S3 bucket permissions);
- the other interface endpoints: every action of their service for this account's principals
  (acknowledged: narrowing them needs each service's resource-less actions, e.g.
  ``ecr:GetAuthorizationToken`` and ``cloudwatch:PutMetricData``, verified first).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge, acknowledge_all
from mlops_cdk.aws.facts import secondary_cidrs_problem, vpc_cidr_problem
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import checked_arguments

# Interface endpoints SageMaker hosting needs with no route to the internet.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
}

ISOLATED_SUBNET_GROUP = "Isolated"
RUNTIME_ENDPOINT_ID = "SageMakerRuntime"
# What a caller in the VPC may do through the sagemaker.runtime endpoint.
RUNTIME_INVOKE_ACTIONS = (
    "sagemaker:InvokeEndpoint",
    "sagemaker:InvokeEndpointAsync",
    "sagemaker:InvokeEndpointWithResponseStream",
)


class PrivateNetwork(Construct):
    """A VPC with isolated subnets only (no internet or NAT gateway), or an imported one.

    Adds, unless ``create_endpoints`` is false: interface endpoints with private DNS for
    :data:`INTERFACE_ENDPOINTS`, behind one security group that admits HTTPS from the VPC CIDR
    (and an imported VPC's ``secondary_cidrs``) only, and an S3 gateway endpoint; every
    endpoint's policy admits only principals of this account: the runtime endpoint invokes this
    account's endpoints named
    ``runtime_endpoint_prefix*`` only, the S3 endpoint reaches this account's buckets and ECR's
    layer bucket only. VPC flow logs go to a log group encrypted with ``key`` (kept
    ``log_retention``, one year by default). Exposes ``vpc``, ``subnets``, the flow log and the
    endpoints.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        cidr: str | None = None,
        max_azs: int = 2,
        existing_vpc: ec2.IVpc | None = None,
        secondary_cidrs: Sequence[str] = (),
        create_endpoints: bool = True,
        runtime_endpoint_prefix: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        self.runtime_endpoint_prefix = runtime_endpoint_prefix.lower()
        if (cidr is None) == (existing_vpc is None):
            raise ValueError("PrivateNetwork: give exactly one of cidr or existing_vpc")
        if existing_vpc is None and max_azs < 2:
            raise ValueError("PrivateNetwork: max_azs must be at least 2 (multi-AZ endpoints)")
        cidr_problem = None if cidr is None else vpc_cidr_problem(cidr)  # the configuration's
        if cidr_problem is not None:
            raise PropProblems([("cidr", cidr_problem)], subject="PrivateNetwork")
        self.vpc: ec2.IVpc
        self.secondary_cidrs = self._checked_secondary_cidrs(existing_vpc, secondary_cidrs)
        if existing_vpc is not None:
            self.vpc = existing_vpc
            # Imported VPCs carry their CIDR as a literal; security group rules stay reviewable.
            self.cidr = existing_vpc.vpc_cidr_block
        else:
            self.cidr = str(cidr)
            self.vpc = self._isolated_vpc(self.cidr, max_azs)
        self.subnets = self._private_subnets()
        self.subnet_selection = ec2.SubnetSelection(subnets=self.subnets)
        self._flow_logs(key, log_retention, removal_policy)
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        self.s3_endpoint: ec2.GatewayVpcEndpoint | None = None
        if create_endpoints:
            self._add_endpoints()

    @staticmethod
    def _checked_secondary_cidrs(
        existing_vpc: ec2.IVpc | None, secondary_cidrs: Sequence[str]
    ) -> tuple[str, ...]:
        """An imported VPC's secondary blocks (its private subnets may be in them)."""
        if not secondary_cidrs:
            return ()
        if existing_vpc is None:
            raise ValueError("PrivateNetwork: secondary_cidrs come with existing_vpc only")
        problem = secondary_cidrs_problem(existing_vpc.vpc_cidr_block, secondary_cidrs)
        if problem is not None:
            raise PropProblems([("secondary_cidrs", problem)], subject="PrivateNetwork")
        return tuple(secondary_cidrs)

    def _isolated_vpc(self, cidr: str, max_azs: int) -> ec2.Vpc:
        """A VPC of isolated subnets only: no internet gateway, no NAT."""
        return ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=max_azs,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=ISOLATED_SUBNET_GROUP,
                    subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=22,
                )
            ],
            restrict_default_security_group=True,
        )

    def _flow_logs(
        self, key: kms.IKey, log_retention: logs.RetentionDays, removal_policy: cdk.RemovalPolicy
    ) -> None:
        """Flow logs of the VPC to an encrypted log group, with a role that may write there."""
        stack = cdk.Stack.of(self)
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        self.flow_log_role = iam.Role(
            self,
            "FlowLogRole",
            description="VPC flow logs delivery to the flow-log group",
            assumed_by=iam.ServicePrincipal(
                "vpc-flow-logs.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        iam.ManagedPolicy(
            self,
            "FlowLogPolicy",
            description="Write VPC flow logs to one log group",
            roles=[self.flow_log_role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "logs:CreateLogStream",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    resources=[self.flow_log_group.log_group_arn],
                )
            ],
        )
        self.flow_log = ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            # An immutable view: the managed policy above is the role's only permission.
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                self.flow_log_group, self.flow_log_role.without_policy_updates()
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    def _private_subnets(self) -> list[ec2.ISubnet]:
        subnets = self.vpc.isolated_subnets or self.vpc.private_subnets
        if not subnets:
            raise ValueError("PrivateNetwork: the VPC has no private or isolated subnets")
        return list(subnets)

    def _add_endpoints(self) -> None:
        stack = cdk.Stack.of(self)
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(self.cidr),
            ec2.Port.tcp(443),
            "HTTPS from the VPC CIDR",
        )
        # "The security group attached to the VPC endpoint must allow incoming connections on
        # port 443 from the private subnet of the VPC" ("Amazon ECR interface VPC endpoints
        # (AWS PrivateLink)", https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html):
        # an imported VPC's private subnets may lie in a secondary block.
        for secondary in self.secondary_cidrs:
            self.endpoint_security_group.add_ingress_rule(
                ec2.Peer.ipv4(secondary), ec2.Port.tcp(443), "HTTPS from a secondary VPC CIDR"
            )
        for endpoint_id, service in INTERFACE_ENDPOINTS.items():
            endpoint = self.vpc.add_interface_endpoint(
                endpoint_id,
                service=service,
                private_dns_enabled=True,
                open=False,
                security_groups=[self.endpoint_security_group],
                subnets=self.subnet_selection,
            )
            if endpoint_id == RUNTIME_ENDPOINT_ID:
                endpoint.add_to_policy(self._invoke_statement())
            else:
                endpoint.add_to_policy(_same_account_statement(stack.account))
                acknowledge(
                    endpoint,
                    "MlopsSageMaker-VpcEndpointPolicyBounded",
                    "Only principals of this account may use this endpoint, and it serves one "
                    "AWS service; its resource-less actions (ecr:GetAuthorizationToken, "
                    "cloudwatch:PutMetricData, sts:GetCallerIdentity) cannot be bounded by "
                    "resource ARN, and aws:ResourceAccount for them is not verified yet.",
                )
            self.interface_endpoints[endpoint_id] = endpoint

        self.s3_endpoint = self.vpc.add_gateway_endpoint(
            "S3",
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[self.subnet_selection],
        )
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="ThisAccountsBucketsOnly",
                principals=[iam.AnyPrincipal()],
                actions=["s3:*"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "aws:PrincipalAccount": stack.account,
                        "aws:ResourceAccount": stack.account,
                    }
                },
            )
        )
        # ECR stores image layers in an AWS-owned bucket; pulls fail without it.
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="EcrImageLayers",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[
                    f"arn:{stack.partition}:s3:::prod-{stack.region}-starport-layer-bucket/*"
                ],
            )
        )

    def _invoke_statement(self) -> iam.PolicyStatement:
        """Runtime endpoint policy: invoke this account's endpoints named with the prefix."""
        stack = cdk.Stack.of(self)
        return iam.PolicyStatement(
            sid="InvokeThisAccountsEndpoints",
            principals=[iam.AnyPrincipal()],
            actions=list(RUNTIME_INVOKE_ACTIONS),
            resources=[
                stack.format_arn(
                    service="sagemaker",
                    resource="endpoint",
                    resource_name=f"{self.runtime_endpoint_prefix}*",
                )
            ],
            conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
        )


# What a Lambda function in a VPC needs for its network interfaces (the actions of the
# AWSLambdaVPCAccessExecutionRole managed policy); EC2 authorizes them on "*" only.
LAMBDA_VPC_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:UnassignPrivateIpAddresses",
)


def lambda_vpc_statement() -> iam.PolicyStatement:
    """The statement a VPC-attached Lambda function's role needs for its network interfaces."""
    return iam.PolicyStatement(
        sid="VpcNetworkInterfaces", actions=list(LAMBDA_VPC_ACTIONS), resources=["*"]
    )


def https_egress_only_group(
    scope: Construct, construct_id: str, *, vpc: ec2.IVpc, description: str, egress: str
) -> ec2.SecurityGroup:
    """A security group for a workload in isolated subnets: no ingress, HTTPS out only.

    Egress names no CIDR because the subnets have no route out of the VPC: HTTPS reaches the
    VPC interface endpoints and the S3 gateway endpoint and nothing else."""
    group = ec2.SecurityGroup(
        scope, construct_id, vpc=vpc, description=description, allow_all_outbound=False
    )
    group.add_egress_rule(*_https_anywhere(), egress)
    return group


def allow_within_group(group: ec2.SecurityGroup, description: str) -> None:
    """Let the members of ``group`` reach each other (ingress and egress, any port): the
    instances of one distributed training, processing or batch transform job ("you must allow
    communication between the different containers in the same job": "Give SageMaker AI
    Training Jobs Access to Resources in Your Amazon VPC"; "Give Batch Transform Jobs Access to
    Resources in Your Amazon VPC"). The source is the group itself, never a CIDR range."""
    group.add_ingress_rule(group, ec2.Port.all_traffic(), description)
    group.add_egress_rule(group, ec2.Port.all_traffic(), description)
    acknowledge_all(
        group,
        ("HIPAA.Security-EC2RestrictedCommonPorts", "NIST.800.53.R5-EC2RestrictedCommonPorts"),
        "The only ingress rule's source is this security group itself (the instances of one "
        "distributed training, processing or batch transform job), not a CIDR range.",
    )


@cache
def _https_anywhere() -> tuple[ec2.IPeer, ec2.Port]:
    """Any IPv4 address, TCP 443: values (not constructs), made once and shared by every group
    (each is a jsii round trip)."""
    return ec2.Peer.any_ipv4(), ec2.Port.tcp(443)


def _same_account_statement(account: str) -> iam.PolicyStatement:
    """Endpoint policy: any action, but only by principals of this account (no data exfiltration
    through the endpoint with foreign credentials)."""
    return iam.PolicyStatement(
        sid="PrincipalsOfThisAccountOnly",
        principals=[iam.AnyPrincipal()],
        actions=["*"],
        resources=["*"],
        conditions={"StringEquals": {"aws:PrincipalAccount": account}},
    )
