"""A SageMaker model: registry image + artifact, in private subnets with its own security group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk.constructs.network import https_egress_only_group


class HostedModel(Construct):
    """``AWS::SageMaker::Model`` with no physical name (CloudFormation generates one, so a new
    model version is a replacement, never a name collision).

    With ``vpc``, the model runs in ``subnets`` (default: the VPC's isolated subnets) behind its
    own security group that only allows HTTPS out (the subnets are isolated: that reaches the
    VPC endpoints and S3 only). Serverless
    endpoints support neither VPC config nor network isolation: pass ``vpc=None`` for them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        execution_role: iam.IRole,
        image_uri: str,
        model_data_url: str,
        environment: Mapping[str, str] | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        network_isolation: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group: ec2.SecurityGroup | None = None
        vpc_config = None
        if vpc is not None:
            self.security_group = https_egress_only_group(
                self,
                "SecurityGroup",
                vpc=vpc,
                description="SageMaker model containers: HTTPS out to VPC and S3 endpoints",
                egress="HTTPS to VPC interface endpoints and the S3 gateway (isolated subnets)",
            )
            chosen = list(subnets) if subnets else list(vpc.isolated_subnets or vpc.private_subnets)
            if not chosen:
                raise ValueError("HostedModel: the VPC has no private or isolated subnets")
            vpc_config = sagemaker.CfnModel.VpcConfigProperty(
                security_group_ids=[self.security_group.security_group_id],
                subnets=[subnet.subnet_id for subnet in chosen],
            )
        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=execution_role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image_uri,
                model_data_url=model_data_url,
                environment=dict(sorted((environment or {}).items())) or None,
                mode="SingleModel",
            ),
            vpc_config=vpc_config,
            enable_network_isolation=network_isolation,
        )
        self.model_name = self.model.attr_model_name
