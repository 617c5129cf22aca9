"""One ``cdk.Stage`` per environment: the unit app.py synthesizes and the pipeline deploys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from mlops_cdk.app.foundation import FoundationStack
from mlops_cdk.app.registry import ServiceRegistryStack
from mlops_cdk.app.scanner_skips import add_scanner_skips
from mlops_cdk.app.service import ServiceStack
from mlops_cdk.app.settings import removal_policy, resource_tags
from mlops_cdk.aws.names import model_package_group_name
from mlops_cdk.config import EnvConfig
from mlops_cdk.config.pipeline import step_role_name
from mlops_cdk.config.schema import REGISTRY_STACK_SUFFIX
from mlops_cdk.config.service import ServiceConfig


@dataclass(frozen=True)
class ServiceStacks:
    """A service's two stacks: its image repository, then its serving resources."""

    registry: ServiceRegistryStack
    serving: ServiceStack


class MlopsStage(cdk.Stage):
    """All stacks of one environment, in that environment's account and region: the shared
    ``Foundation``, and per service ``<service>-Registry`` and ``<service>`` (stack names
    ``<env>-<service>-Registry`` and ``<env>-<service>``). A service's stacks depend on the
    Foundation only, never on another service's.

    With ``pipeline_account`` (the pipeline's tooling account), each service gets a read-only
    role for the pre-deploy check and a role that can only describe and invoke its endpoint
    (smoke test); each trusts only the pipeline's CodeBuild role of that step, environment and
    service (``mlops_cdk.config.pipeline.step_role_name``), not the whole account."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        pipeline_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=config.account, region=config.region),
            **kwargs,
        )
        self.config = config
        self.production = config.production  # read by the SageMaker compliance pack
        # App-level aspects do not reach into a Stage: other scanners' skips are added here.
        add_scanner_skips(self)
        self.foundation = FoundationStack(self, "Foundation", config=config)
        self.services: dict[str, ServiceStacks] = {
            name: self._service(name, pipeline_account) for name in config.services
        }
        for key, value in sorted(resource_tags(config).items()):
            cdk.Tags.of(self).add(key, value)

    def _service(self, name: str, pipeline_account: str | None) -> ServiceStacks:
        config, foundation = self.config, self.foundation
        spec = config.services[name]
        registry = ServiceRegistryStack(
            self,
            f"{name}{REGISTRY_STACK_SUFFIX}",
            service=name,
            key=foundation.encryption.key,
            bucket=foundation.storage.bucket,
            model_prefix=config.model_prefix(name),
            publishers=spec.publishers if spec.publishers is not None else config.publishers,
            removal_policy=removal_policy(config),
            max_tagged_images=config.registry.max_tagged_images,
            untagged_expiry_days=config.registry.untagged_expiry_days,
            keep_tags=spec.repository_image_tags(),
            termination_protection=config.termination_protection,
            pipeline_account=pipeline_account,
            preflight_role_name=step_role_name("preflight", config.name, name),
            output_stacks=[foundation.stack_name],
            # Preflight checks that the pipeline the retraining function starts exists.
            retraining_pipelines=[spec.retraining.pipeline.name]
            if spec.retraining is not None and spec.retraining.pipeline is not None
            else [],
            aws_image_repositories=aws_image_repositories(spec, config.region),
            model_packages=model_packages(config, name),
            package_artifact_prefixes=config.package_artifact_prefixes(name),
            # Preflight checks that the trail change detection relies on is logging.
            trails=[change.trail_arn_of(config.name, config.account, config.region)]
            if (change := config.change_detection) is not None
            else [],
        )
        serving = ServiceStack(
            self,
            name,
            config=config,
            service=name,
            key=foundation.encryption.key,
            vpc=foundation.network.vpc,
            subnets=foundation.network.subnets,
            bucket=foundation.storage.bucket,
            repository=registry.repository,
            role_path=foundation.role_path,
            pipeline_account=pipeline_account,
        )
        return ServiceStacks(registry=registry, serving=serving)


def aws_image_repositories(spec: ServiceConfig, region: str) -> list[str]:
    """ARNs of the repositories of the images AWS provides that the service's models use (the
    pre-deploy check describes their pinned tags)."""
    images = {
        container.aws_image.resolve(region)
        for model in spec.models
        for container in model.container_specs()
        if container.aws_image is not None
    }
    return sorted(image.repository_arn for image in images)


def model_packages(config: EnvConfig, service: str) -> list[str]:
    """ARNs of the versioned packages the service's models are created from (the pre-deploy
    check describes them: approved, image and artifact)."""
    group = model_package_group_name(config.name, service)
    return sorted(
        {
            model.model_package.package_arn(
                region=config.region, account=config.account, default_group=group
            )
            for model in config.services[service].models
            if model.model_package is not None
        }
    )
