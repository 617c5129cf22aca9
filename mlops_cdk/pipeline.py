"""CDK Pipelines: promote every environment in order from the tooling account.

Source (CodeConnections) -> Synth (installs the pinned toolchain, ``make test``, gated synth)
-> self-mutation -> assets -> one stage per environment (the same ``MlopsStage`` as app.py):
Foundation, then per service (all services in parallel) its image repository, the pre-deploy
check of its images and model artifacts (``make preflight``), its serving stack and its smoke
test; a manual approval precedes the configured stages (prod).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import pipelines
from constructs import Construct

from mlops_cdk.compliance import acknowledge
from mlops_cdk.compliance.cdk_pipelines import acknowledge_generated
from mlops_cdk.config import EnvConfig, PipelineConfig
from mlops_cdk.constructs.preflight_access import PREFLIGHT_ROLE_PATH
from mlops_cdk.constructs.smoke_access import SMOKE_ROLE_PATH
from mlops_cdk.constructs.storage import ArtifactStorage
from mlops_cdk.stage import MlopsStage

PIPELINE_STACK_ID = "MlopsPipeline"
# The same pinned toolchain as a developer's machine: make installs Python deps, Node 24 and
# the CDK CLI, runs the whole suite, then the gated synth of the pipeline and its stages.
SYNTH_COMMANDS = ("make test", "make synth-pipeline")


class PipelineStack(cdk.Stack):
    """The deployment pipeline in the tooling account; stages built from ``environments``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        environments: Sequence[EnvConfig],
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=config.account, region=config.region),
            description="Deployment pipeline: dev -> stage -> prod with approval and smoke tests",
            termination_protection=True,
            **kwargs,
        )
        by_name = {env.name: env for env in environments}
        missing = [name for name in config.stages if name not in by_name]
        if missing:
            raise ValueError(f"PipelineStack: no configuration for stages {missing}")
        self.source = pipelines.CodePipelineSource.connection(
            config.repository, config.branch, connection_arn=config.connection_arn
        )
        cross_account = any(by_name[n].account != config.account for n in config.stages)
        self.artifact_key, self.artifacts = self._artifact_storage()
        self.pipeline = self._code_pipeline(cross_account)
        self.stages: dict[str, MlopsStage] = {}
        for name in config.stages:
            self.stages[name] = self._add_stage(config, by_name[name])
        self.pipeline.build_pipeline()
        acknowledge_generated(self.pipeline)

    def _artifact_storage(self) -> tuple[kms.Key, ArtifactStorage]:
        """A rotating key and a versioned, access-logged bucket instead of CDK Pipelines'
        default bucket. The key keeps CDK's default policy (account root): the pipeline's roles
        and the target accounts' deploy roles are granted through it by CDK Pipelines."""
        key = kms.Key(
            self,
            "ArtifactKey",
            description="Pipeline artifacts",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            key,
            "MlopsSageMaker-KeyGrantForAwsResource",
            "CDK Pipelines grants its own roles and the target accounts' deploy roles on this "
            "key through IAM, which needs the default delegation to the tooling account; the "
            "key protects pipeline artifacts only, and only pipeline roles live in this account.",
        )
        storage = ArtifactStorage(
            self,
            "PipelineArtifacts",
            key=key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            model_artifacts_prefix="unused-models/",
            data_capture_prefix="unused-capture/",
            noncurrent_version_expiry=cdk.Duration.days(30),
            access_log_expiry=cdk.Duration.days(365),
        )
        return key, storage

    def _code_pipeline(self, cross_account: bool) -> pipelines.CodePipeline:
        return pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=pipelines.ShellStep(
                "Synth",
                input=self.source,
                commands=list(SYNTH_COMMANDS),
                primary_output_directory="cdk.out",
            ),
            self_mutation=True,
            artifact_bucket=self.artifacts.bucket,
            cross_account_keys=cross_account,
            docker_enabled_for_synth=False,
            pipeline_type=cdk.aws_codepipeline.PipelineType.V2,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.SMALL,
                ),
            ),
        )

    def _add_stage(self, config: PipelineConfig, env: EnvConfig) -> MlopsStage:
        """One environment's stage: approval first where configured, then each service's
        pre-deploy check and smoke test around its stacks."""
        name = env.name
        stage = MlopsStage(self, name, config=env, smoke_test_account=config.account)
        pre: list[pipelines.Step] = []
        if name in config.manual_approval_before:
            pre.append(
                pipelines.ManualApprovalStep(
                    f"Approve-{name}",
                    comment=f"Promote to {name}: review the change and the previous stage's "
                    "smoke test before approving.",
                )
            )
        stack_steps = [
            steps
            for service in stage.services
            for steps in self._service_steps(stage, service, smoke=config.smoke_tests)
        ]
        self.pipeline.add_stage(stage, pre=pre, stack_steps=stack_steps)
        return stage

    def _service_steps(
        self, stage: MlopsStage, service: str, *, smoke: bool
    ) -> list[pipelines.StackSteps]:
        """The pre-deploy check after the service's repository stack (so it runs before the
        serving stack, which depends on it: asserted in the tests), and the smoke test after
        the serving stack. Services do not depend on each other and deploy in parallel."""
        stacks = stage.services[service]
        steps = []
        preflight = self._preflight_step(stage, service)
        if preflight is not None:
            steps.append(pipelines.StackSteps(stack=stacks.registry, post=[preflight]))
        smoke_step = self._smoke_step(stage, service) if smoke else None
        if smoke_step is not None:
            steps.append(pipelines.StackSteps(stack=stacks.serving, post=[smoke_step]))
        return steps

    def _assume(self, account: str, path: str) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[f"arn:{self.partition}:iam::{account}:role{path}*"],
            )
        ]

    def _preflight_step(self, stage: MlopsStage, service: str) -> pipelines.Step | None:
        """``make preflight`` with the service's read-only role in the environment's account:
        every model's image and artifact must exist before CreateModel runs."""
        registry = stage.services[service].registry
        if registry.preflight is None:
            return None
        env = stage.config.name
        return pipelines.CodeBuildStep(
            f"Preflight-{env}-{service}",
            input=self.source,
            commands=[
                f'make preflight ENV={env} SERVICE={service} ROLE_ARN="$PREFLIGHT_ROLE_ARN" '
                'BUCKET="$MODEL_BUCKET" REPOSITORY="$MODEL_REPOSITORY"'
            ],
            env_from_cfn_outputs={
                "PREFLIGHT_ROLE_ARN": registry.preflight.role_arn_output,
                "MODEL_BUCKET": stage.foundation.bucket_output,
                "MODEL_REPOSITORY": registry.repository_output,
            },
            role_policy_statements=self._assume(stage.config.account, PREFLIGHT_ROLE_PATH),
        )

    def _smoke_step(self, stage: MlopsStage, service: str) -> pipelines.Step | None:
        serving = stage.services[service].serving
        if serving.smoke_test is None:
            return None
        env = stage.config.name
        return pipelines.CodeBuildStep(
            f"Smoke-{env}-{service}",
            input=self.source,
            commands=[
                f'make smoke ENV={env} SERVICE={service} ROLE_ARN="$SMOKE_ROLE_ARN" '
                'ENDPOINT_NAME="$ENDPOINT_NAME" TIMEOUT=900'
            ],
            env_from_cfn_outputs={
                "SMOKE_ROLE_ARN": serving.smoke_test.role_arn_output,
                "ENDPOINT_NAME": serving.smoke_test.endpoint_name_output,
            },
            role_policy_statements=self._assume(stage.config.account, SMOKE_ROLE_PATH),
        )
