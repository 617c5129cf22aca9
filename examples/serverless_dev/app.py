"""A serverless development endpoint, from the installed package only.

One model on SageMaker Serverless Inference (no instances to pay for while idle; no VPC and no
network isolation, which serverless endpoints do not support), its image from an existing
repository and its artifact from an existing bucket. The model's execution role is created and
granted exactly that image and that object; developers get InvokeEndpoint on this endpoint and
nothing else. Every cdk-nag pack plus the package's SageMaker pack runs at synth.

Where the package is installed (in a virtualenv of yours, active: cdk.json runs `python3
app.py`; the CDK CLI from `npm install -g aws-cdk`), in this folder or a copy of it:

    pip install /path/to/mlops-cdk   # a checkout or its wheel (+ aws-cdk-lib, constructs, cdk-nag)
    cdk synth                        # or: python app.py (cdk.out/ without cdk.json's flags)

From a checkout of the repository, without installing the package (`make install` first):

    make example NAME=serverless_dev   # this checkout's mlops_cdk and .venv

Either way the output lands in cdk.out/ in this folder (in the repository, examples/.gitignore
ignores it).

Replace the account, region and names below with yours before `cdk deploy`.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.compliance import enable_compliance_gates
from mlops_cdk.constructs import (
    HostedModel,
    ModelSpec,
    ServerlessCapacity,
    VariantSpec,
    WeightedEndpoint,
)

ENV = cdk.Environment(account="222222222222", region="eu-west-1")
REPOSITORY = "churn-model"
BUCKET = "acme-dev-model-artifacts"
DEVELOPERS_ROLE_ARN = "arn:aws:iam::222222222222:role/ml-developers"


class ServerlessDevStack(cdk.Stack):
    """A serverless endpoint for trying a model version; CloudFormation names the endpoint."""

    def __init__(self, scope: Construct, construct_id: str, *, version: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        model = HostedModel(
            self,
            "Model",
            spec=ModelSpec(
                image_tag=version,
                model_data_key=f"models/churn/{version}/model.tar.gz",
                network_isolation=False,  # not supported by serverless endpoints
            ),
            repository=ecr.Repository.from_repository_name(self, "Images", REPOSITORY),
            bucket=s3.Bucket.from_bucket_name(self, "Artifacts", BUCKET),
        )
        self.endpoint = WeightedEndpoint(
            self,
            "Endpoint",
            models={"churn": model},
            variants=[
                VariantSpec(
                    name="dev",
                    model="churn",
                    initial_weight=1,
                    serverless=ServerlessCapacity(memory_size_mb=2048, max_concurrency=5),
                )
            ],
        )
        developers = iam.Role.from_role_arn(self, "Developers", DEVELOPERS_ROLE_ARN)
        self.endpoint.grant_invoke(developers)
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name)


def build(app: cdk.App) -> ServerlessDevStack:
    enable_compliance_gates(app)
    return ServerlessDevStack(app, "ChurnDev", version="1.5.0-rc1", env=ENV)


if __name__ == "__main__":
    # Findings fail synthesis also under the CDK CLI (which would otherwise only report them).
    app = cdk.App(post_cli_context={"@aws-cdk/core:failSynthOnValidationErrors": True})
    build(app)
    app.synth()
