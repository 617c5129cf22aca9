"""``config/pipeline.yaml``: the CDK Pipelines deployment from a tooling account."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mlops_cdk.config.errors import FieldProblem
from mlops_cdk.config.monitoring import AlarmEmails
from mlops_cdk.config.schema import ENV_NAME_PATTERN, AwsLocation, EnvConfig

PIPELINE_FILE = "pipeline"  # config/pipeline.yaml: not an environment
# The pipeline's CodeBuild roles for the per-service steps have fixed names, so that the roles
# they assume in the environments' accounts can trust exactly one of them each.
PipelineStep = Literal["preflight", "smoke"]
STEP_ROLE_PREFIX = "mlops-pipeline"
_MAX_ROLE_NAME = 64  # IAM role names: at most 64 characters
_CONNECTION_ARN = (
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:"
    r"connection/[0-9a-f-]{36}$"
)


class PipelineConfig(AwsLocation):
    """The pipeline runs in ``account``/``region``: the tooling account."""

    connection_arn: str = Field(pattern=_CONNECTION_ARN, description="CodeConnections ARN.")
    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/repository")
    branch: str = Field("main", min_length=1, max_length=255)
    stages: list[str] = Field(min_length=1, description="Environments in promotion order.")
    manual_approval_before: list[str] = Field(
        default_factory=lambda: ["prod"], description="Stages that wait for a person's approval."
    )
    smoke_tests: bool = Field(True, description="Run the smoke test after each stage.")
    alarm_emails: AlarmEmails = Field(
        min_length=1,
        description="Told when an execution or an action (a smoke test) fails and when a stage "
        "waits for approval.",
    )

    @field_validator("stages")
    @classmethod
    def _stage_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not ENV_NAME_PATTERN.match(name):
                raise ValueError(f"{name!r} is not an environment name")
        if len(set(value)) != len(value):
            raise ValueError("lists an environment twice")
        return value

    @model_validator(mode="after")
    def _approvals_are_stages(self) -> PipelineConfig:
        for index, name in enumerate(self.manual_approval_before):
            if name not in self.stages:
                raise FieldProblem(
                    f"manual_approval_before[{index}]", f"{name!r} is not one of the stages"
                )
        return self

    def check_environments(self, environments: dict[str, EnvConfig]) -> list[tuple[str, str]]:
        """(field, problem) pairs for stages that do not fit their environment files."""
        problems: list[tuple[str, str]] = []
        for index, name in enumerate(self.stages):
            env = environments.get(name)
            where = f"stages[{index}]"
            if env is None:
                known = ", ".join(environments)
                problems.append((where, f"unknown environment {name!r} (known: {known})"))
                continue
            if env.production and name not in self.manual_approval_before:
                problems.append(
                    (where, f"{name!r} is a production environment: add it to "
                            "manual_approval_before")
                )  # fmt: skip
            for service, spec in env.services.items():
                if self.smoke_tests and spec.smoke_test is None:
                    problems.append(
                        (where, f"{name!r}: service {service!r} has no smoke_test for the "
                                "post-deployment check")
                    )  # fmt: skip
        return problems


def step_role_name(step: PipelineStep, env: str, service: str) -> str:
    """The name of the pipeline's CodeBuild role that runs ``step`` for ``env``/``service``
    (in the tooling account): readable, unique per step, environment and service, and at most
    64 characters (a longer one keeps its start and gets a digest of the whole)."""
    name = f"{STEP_ROLE_PREFIX}-{step}-{env}-{service}"
    if len(name) <= _MAX_ROLE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_ROLE_NAME - len(digest) - 1].rstrip('-')}-{digest}"
