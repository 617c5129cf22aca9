"""One service's image repository (stateful), deployed before its serving stack.

The repository is a stack of its own because CreateModel needs the image to exist: the
repository must be there, and publishers must have pushed to it, before the service's models
are created. The pre-deploy check runs between the two stacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.aws.names import REPOSITORY_OUTPUT
from mlops_cdk.constructs.preflight_access import PREFLIGHT_ROLE_PATH, PreflightAccess
from mlops_cdk.constructs.registry import ModelImageRepository


class ServiceRegistryStack(cdk.Stack):
    """The service's ECR repository (scan on push, immutable tags, KMS, lifecycle), pushable by
    ``publishers`` only, and, with a pipeline, the read-only pre-deploy check role (which may
    also read the outputs of ``output_stacks``, e.g. the Foundation's bucket name), assumable
    only by the pipeline's role ``preflight_role_name`` in ``pipeline_account``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: str,
        key: kms.IKey,
        bucket: s3.IBucket,
        model_prefix: str,
        publishers: Sequence[str],
        removal_policy: cdk.RemovalPolicy,
        max_tagged_images: int,
        untagged_expiry_days: int,
        keep_tags: Sequence[str] = (),
        termination_protection: bool = False,
        pipeline_account: str | None = None,
        preflight_role_name: str | None = None,
        output_stacks: Sequence[str] = (),
        retraining_pipelines: Sequence[str] = (),
        aws_image_repositories: Sequence[str] = (),
        model_packages: Sequence[str] = (),
        package_artifact_prefixes: Sequence[str] = (),
        trails: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Model images of service {service}",
            termination_protection=termination_protection,
            **kwargs,
        )
        self.images = ModelImageRepository(
            self,
            "ModelImages",
            key=key,
            removal_policy=removal_policy,
            max_tagged_images=max_tagged_images,
            untagged_expiry_days=untagged_expiry_days,
            keep_tags=keep_tags,
        )
        self.images.grant_publishers(publishers)
        self.repository = self.images.repository
        self.repository_output = self._repository_output(service)
        self.preflight: PreflightAccess | None = None
        if pipeline_account is not None:
            self.preflight = self._preflight(
                service=service,
                bucket=bucket,
                model_prefix=model_prefix,
                pipeline_account=pipeline_account,
                preflight_role_name=preflight_role_name,
                output_stacks=output_stacks,
                retraining_pipelines=retraining_pipelines,
                aws_image_repositories=aws_image_repositories,
                model_packages=model_packages,
                package_artifact_prefixes=package_artifact_prefixes,
                trails=trails,
            )

    def _repository_output(self, service: str) -> cdk.CfnOutput:
        return cdk.CfnOutput(
            self,
            REPOSITORY_OUTPUT,
            value=self.repository.repository_name,
            description=f"Push the images of service {service} here (publishers only)",
        )

    def _preflight(
        self,
        *,
        service: str,
        bucket: s3.IBucket,
        model_prefix: str,
        pipeline_account: str,
        preflight_role_name: str | None,
        output_stacks: Sequence[str],
        retraining_pipelines: Sequence[str],
        aws_image_repositories: Sequence[str],
        model_packages: Sequence[str],
        package_artifact_prefixes: Sequence[str],
        trails: Sequence[str],
    ) -> PreflightAccess:
        """The pre-deploy check role, assumable by the pipeline's CodeBuild role only."""
        if preflight_role_name is None:
            raise ValueError(
                "ServiceRegistryStack: pipeline_account needs preflight_role_name (the "
                "pipeline's CodeBuild role that may assume the pre-deploy check role)"
            )
        return PreflightAccess(
            self,
            "Preflight",
            repository=self.repository,
            bucket=bucket,
            model_artifacts_prefix=model_prefix,
            trusted_account=pipeline_account,
            trusted_role_name=preflight_role_name,
            role_path=f"{PREFLIGHT_ROLE_PATH}{service}/",
            output_stacks=output_stacks,
            retraining_pipelines=retraining_pipelines,
            aws_image_repositories=aws_image_repositories,
            model_packages=model_packages,
            package_artifact_prefixes=package_artifact_prefixes,
            trails=trails,
        )
