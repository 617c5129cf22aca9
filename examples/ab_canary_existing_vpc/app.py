"""An A/B endpoint with canary guardrails in an existing VPC, from the installed package only.

Two model versions (champion 90 %, challenger 10 %) of one image repository and artifact
bucket that already exist, in the isolated subnets of a VPC that already exists (imported by
its attributes: no lookup, no AWS call at synth). A release shifts one instance per variant
first, bakes for ten minutes and rolls back when a latency or 5xx alarm fires. Every
cdk-nag pack plus the package's SageMaker pack runs at synth; a finding fails it.

Where the package is installed (in a virtualenv of yours, active: cdk.json runs `python3
app.py`; the CDK CLI from `npm install -g aws-cdk`), in this folder or a copy of it:

    pip install /path/to/mlops-cdk   # a checkout or its wheel (+ aws-cdk-lib, constructs, cdk-nag)
    cdk synth                        # or: python app.py (cdk.out/ without cdk.json's flags)

From a checkout of the repository, without installing the package (`make install` first):

    make example NAME=ab_canary_existing_vpc   # this checkout's mlops_cdk and .venv

Either way the output lands in cdk.out/ in this folder (in the repository, examples/.gitignore
ignores it).

Replace the account, region and the ids below with yours before `cdk deploy`. The artifact
key's policy must let the models' execution role decrypt through S3 (it lives in the account
that owns the bucket, outside this app).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.compliance import enable_compliance_gates
from mlops_cdk.constructs import (
    AlarmThresholds,
    AlarmTopic,
    CapacitySize,
    DeploymentSpec,
    EncryptionKey,
    EndpointAlarms,
    EndpointDashboard,
    HostedModel,
    InstanceAutoscaling,
    InstanceCapacity,
    ModelSpec,
    VariantAutoscaling,
    VariantSpec,
    WeightedEndpoint,
)

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
# The existing VPC, by its attributes: two isolated subnets (no route to the internet) that
# reach SageMaker, ECR, S3, CloudWatch and STS through VPC endpoints.
VPC = ec2.VpcAttributes(
    vpc_id="vpc-0a1b2c3d4e5f60718",
    vpc_cidr_block="10.20.0.0/16",
    availability_zones=["eu-west-1a", "eu-west-1b"],
    isolated_subnet_ids=["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
    isolated_subnet_route_table_ids=["rtb-0a1b2c3d4e5f60718", "rtb-0f1e2d3c4b5a69788"],
)
REPOSITORY = "churn-model"
BUCKET = "acme-model-artifacts"
ARTIFACT_KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
INVOKER_ROLE_ARN = "arn:aws:iam::111111111111:role/churn-api"
INSTANCE_TYPE = "ml.m5.xlarge"
VERSIONS = {"champion": ("1.4.0", 90), "challenger": ("1.5.0", 10)}


class AbEndpointStack(cdk.Stack):
    """Two weighted variants, canary releases with auto-rollback, autoscaling, alarms."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=VPC.vpc_id,
            vpc_cidr_block=VPC.vpc_cidr_block,
            availability_zones=VPC.availability_zones,
            isolated_subnet_ids=VPC.isolated_subnet_ids,
            isolated_subnet_route_table_ids=VPC.isolated_subnet_route_table_ids,
        )
        repository = ecr.Repository.from_repository_name(self, "Images", REPOSITORY)
        bucket = s3.Bucket.from_bucket_name(self, "Artifacts", BUCKET)
        artifact_key = kms.Key.from_key_arn(self, "ArtifactKey", ARTIFACT_KEY_ARN)
        # The rollback alarms name the endpoint before it exists: derive the name from the
        # stack's so two copies of the stack never collide.
        endpoint_name = f"{self.stack_name}-churn".lower()

        models: dict[str, HostedModel] = {}
        role: iam.IRole | None = None  # the first model creates the role, the second reuses it
        for variant, (version, _) in VERSIONS.items():
            models[variant] = HostedModel(
                self,
                f"Model-{variant}",
                spec=ModelSpec(
                    image_tag=version, model_data_key=f"models/churn/{version}/model.tar.gz"
                ),
                repository=repository,
                bucket=bucket,
                key=artifact_key,
                execution_role=role,
                vpc=vpc,
            )
            role = models[variant].role

        alarms = EndpointAlarms(
            self,
            "Alarms",
            endpoint_name=endpoint_name,
            variants=dict.fromkeys(VERSIONS, INSTANCE_TYPE),
            thresholds=AlarmThresholds(latency_ms=300, errors_5xx_percent=1),
        )
        # The topic's key lets CloudWatch publish encrypted notifications.
        key = EncryptionKey(
            self,
            "Key",
            alias=f"alias/{endpoint_name}",
            description=f"Alarm notifications of {endpoint_name}",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # Bounded to this account's topics by the encryption context SNS sends to KMS.
        key.grant_service_use(
            "cloudwatch.amazonaws.com", sid="CloudWatchAlarms", for_sns_topics=True
        )
        topic = AlarmTopic(self, "AlarmTopic", key=key.key, emails=["ml-oncall@example.com"])
        for alarm in alarms.all_alarms:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic.topic))

        self.endpoint = WeightedEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            models=models,
            variants=[
                VariantSpec(
                    name=variant,
                    model=variant,
                    initial_weight=weight,
                    instance=InstanceCapacity(
                        instance_type=INSTANCE_TYPE,
                        initial_instance_count=2,
                        autoscaling=InstanceAutoscaling(
                            min_capacity=2, max_capacity=4, target_value=200
                        ),
                    ),
                )
                for variant, (_, weight) in VERSIONS.items()
            ],
            # One instance per variant first, ten minutes of baking, then the rest.
            deployment=DeploymentSpec(
                strategy="canary",
                canary_size=CapacitySize("instance_count", 1),
                wait_seconds=600,
            ),
            rollback_alarms=alarms.for_kinds(["latency", "errors_5xx"]),
            # SageMaker reads the rollback alarms with the models' role (DescribeAlarms).
            execution_roles=[m.role for m in models.values()][:1],
        )
        for spec in self.endpoint.variants:
            if spec.scaling is not None:
                VariantAutoscaling(
                    self,
                    f"Scaling-{spec.name}",
                    endpoint_name=endpoint_name,
                    variant_name=spec.name,
                    scaling=spec.scaling,
                    depends_on=self.endpoint.endpoint,
                )
        EndpointDashboard(
            self,
            "Dashboard",
            endpoint_name=endpoint_name,
            variant_names=self.endpoint.variant_names,
            alarms=alarms.all_alarms,
        )
        invoker = iam.Role.from_role_arn(self, "Invoker", INVOKER_ROLE_ARN)
        self.endpoint.grant_invoke(invoker)
        cdk.CfnOutput(self, "EndpointName", value=endpoint_name)


def build(app: cdk.App) -> AbEndpointStack:
    enable_compliance_gates(app)
    return AbEndpointStack(app, "ChurnAb", env=ENV)


if __name__ == "__main__":
    # Findings fail synthesis also under the CDK CLI (which would otherwise only report them).
    app = cdk.App(post_cli_context={"@aws-cdk/core:failSynthOnValidationErrors": True})
    build(app)
    app.synth()
