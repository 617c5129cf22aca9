"""The per-environment configuration schema (one schema, one YAML file per environment).

Every model forbids unknown keys, so a typo is an error rather than a silently ignored setting.
Later sections (serving, monitoring, pipeline) are added to :class:`EnvConfig` as their own models.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from functools import partial
from ipaddress import IPv4Network
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from mlops_cdk.aws.facts import (
    MAX_ENDPOINT_NAME_LENGTH,
    ROLE_ARN_PATTERN,
    ecr_lifecycle_problem,
    prefixes_overlap_problem,
    role_arn_problem,
    s3_prefix_problem,
    secondary_cidrs_problem,
    vpc_cidr_problem,
)
from mlops_cdk.aws.instance_types import UnknownInstanceType, gpus
from mlops_cdk.aws.regions import REGIONS
from mlops_cdk.config.base import StrictModel, partial_model
from mlops_cdk.config.budget import BudgetConfig, budget_problems
from mlops_cdk.config.change_detection import ChangeDetectionConfig
from mlops_cdk.config.env_names import names_environment
from mlops_cdk.config.errors import FieldProblem, Problems
from mlops_cdk.config.monitoring import (
    ENDPOINT_DIMENSIONS,
    AlarmThresholds,
    MonitoringConfig,
)
from mlops_cdk.config.retraining import training_job_problems
from mlops_cdk.config.service import (
    RESERVED_SERVICE_NAMES,
    SERVICE_NAME_PATTERN,
    ServiceConfig,
    announces_approvals,
    derive_service_names,
    named_fields,
    validated_thresholds,
)
from mlops_cdk.props.batch import MAX_JOB_NAME_PREFIX, job_name_prefix
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import Check
from mlops_cdk.props.inference_components import MAX_COMPONENT_NAME_LENGTH, component_name
from mlops_cdk.props.retraining_pipeline import retraining_prefixes

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
S3Prefix = Annotated[str, Check(s3_prefix_problem)]
_SUBNET_ID = r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$"
_ROUTE_TABLE_ID = r"^rtb-([0-9a-f]{8}|[0-9a-f]{17})$"
_TAG_PATTERN = re.compile(r"^[\w\s.:/=+@-]*$")


def account_id(value: Any) -> Any:
    """An AWS account id must be a quoted 12-digit string in YAML."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            "write the account id as a quoted string, e.g. '012345678901' "
            "(YAML reads an unquoted number as an integer and drops leading zeros)"
        )
    if isinstance(value, str) and not re.fullmatch(r"\d{12}", value):
        raise ValueError(f"{value!r} is not a 12-digit AWS account id")
    return value


def region_name(value: str) -> str:
    if value not in REGIONS:  # aws-cdk-lib's region database (regions.py)
        raise ValueError(f"{value!r} is not an AWS region name known to aws-cdk-lib")
    return value


class NewVpcConfig(StrictModel):
    """A VPC this project creates: isolated subnets only, no internet or NAT gateway."""

    cidr: Annotated[IPv4Network, Check(lambda network: vpc_cidr_problem(str(network)))] = Field(
        description="VPC CIDR block, a private range from /16 to /24."
    )  # PrivateNetwork's own rule
    max_azs: int = Field(2, ge=2, le=6, description="Availability zones to spread subnets over.")


class ExistingVpcConfig(StrictModel):
    """An existing VPC, imported by its ids (no lookup at synth time)."""

    vpc_id: str = Field(pattern=r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
    cidr: IPv4Network = Field(description="The VPC's primary CIDR block.")
    secondary_cidrs: list[IPv4Network] = Field(
        default_factory=list,
        description="The VPC's secondary CIDR blocks that hold private subnets: the endpoints "
        "admit HTTPS from them too.",
    )
    availability_zones: list[str] = Field(min_length=2)
    private_subnet_ids: list[Annotated[str, Field(pattern=_SUBNET_ID)]]
    route_table_ids: list[Annotated[str, Field(pattern=r"^rtb-([0-9a-f]{8}|[0-9a-f]{17})$")]] = (
        Field(description="Route table of each private subnet, same order (S3 gateway endpoint).")
    )
    create_endpoints: bool = Field(
        True, description="Create the VPC endpoints here (turn off if the VPC already has them)."
    )

    @model_validator(mode="after")
    def _secondary_cidrs_fit(self) -> ExistingVpcConfig:
        """PrivateNetwork's own rule."""
        secondaries = [str(c) for c in self.secondary_cidrs]
        problem = secondary_cidrs_problem(str(self.cidr), secondaries)
        if problem is not None:
            raise FieldProblem("secondary_cidrs", problem)
        return self

    @model_validator(mode="after")
    def _one_subnet_per_zone(self) -> ExistingVpcConfig:
        if len(self.private_subnet_ids) != len(self.availability_zones):
            raise FieldProblem(
                "private_subnet_ids",
                f"private_subnet_ids has {len(self.private_subnet_ids)} entries but "
                f"availability_zones has {len(self.availability_zones)}: give one subnet per zone",
            )
        if len(set(self.private_subnet_ids)) != len(self.private_subnet_ids):
            raise FieldProblem("private_subnet_ids", "lists a subnet twice")
        if len(self.route_table_ids) != len(self.private_subnet_ids):
            raise FieldProblem(
                "route_table_ids",
                f"route_table_ids has {len(self.route_table_ids)} entries but "
                f"private_subnet_ids has {len(self.private_subnet_ids)}: "
                "one per subnet, in the same order",
            )
        return self


class NetworkConfig(StrictModel):
    """Either ``new_vpc`` or ``existing_vpc``, exactly one."""

    new_vpc: NewVpcConfig | None = None
    existing_vpc: ExistingVpcConfig | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> NetworkConfig:
        if (self.new_vpc is None) == (self.existing_vpc is None):
            raise ValueError("set exactly one of new_vpc or existing_vpc")
        return self


class RegistryConfig(StrictModel):
    """Model image repository lifecycle."""

    max_tagged_images: int = Field(
        30,
        ge=1,
        le=1000,
        description="Newest tagged images kept; tags the configuration names are never expired.",
    )
    untagged_expiry_days: int = Field(7, ge=1, le=365, description="Days before untagged expire.")


class StorageConfig(StrictModel):
    """Model artifact / data capture bucket layout and lifecycle."""

    # ArtifactStorage's own rules: the prefixes, their overlap, the break-glass role.
    model_artifacts_prefix: S3Prefix = Field("models/", description="Key prefix SageMaker reads.")
    data_capture_prefix: S3Prefix = Field(
        "data-capture/", description="Key prefix SageMaker writes."
    )
    noncurrent_version_expiry_days: int = Field(90, ge=1, le=3650)
    access_log_expiry_days: int = Field(365, ge=1, le=3650)
    break_glass_role_arn: Annotated[str, Check(role_arn_problem)] | None = Field(
        None,
        description="IAM role of this account that alone may delete model artifacts and "
        "captured data (none: nobody, until the bucket policy is changed).",
    )

    @model_validator(mode="after")
    def _disjoint_prefixes(self) -> StorageConfig:
        problem = prefixes_overlap_problem(self.model_artifacts_prefix, self.data_capture_prefix)
        if problem is not None:
            raise FieldProblem("data_capture_prefix", problem)
        return self


class AwsLocation(StrictModel):
    """An account and region: every environment has one, and so has the pipeline."""

    account: str = Field(description="AWS account id, 12 digits, quoted in YAML.")
    region: str = Field(description="AWS region name, e.g. eu-west-1.")

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        return account_id(value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return region_name(value)


MAX_ENDPOINT_NAME = MAX_ENDPOINT_NAME_LENGTH  # CreateEndpoint, EndpointName
# CloudFormation stack names: at most 128 characters.
MAX_STACK_NAME = 128
REGISTRY_STACK_SUFFIX = "-Registry"
# The previous single-endpoint shape, refused with the new one shown.
_NEW_SHAPE = """services:
  churn:                      # service name: endpoint <env>-churn, stacks <env>-churn(-Registry)
    models: [...]             # was serving.models (model_data_key under models/churn/)
    variants: [...]           # was serving.variants
    data_capture: {...}       # was serving.data_capture
    deployment: {...}         # was serving.deployment
    smoke_test: {...}         # was serving.smoke_test
    alarms: {...}             # overrides of monitoring.operational for this service
    quality_alarms: [...]     # was monitoring.quality_alarms
    retraining: {...}         # was monitoring.retraining
monitoring:                   # stays environment-wide: alarm_emails, operational defaults"""


def with_derived_names(data: Any) -> Any:
    """Fill in the names derived from the environment: ``{env}``, ``{service}`` and
    ``{endpoint}`` in retraining names and alarm dimensions, and the default retraining
    pipeline name, so a copied file never keeps another environment's names."""
    if not isinstance(data, dict):
        return data
    env, services = data.get("name"), data.get("services")
    if not isinstance(env, str) or not isinstance(services, dict):
        return data
    return {
        **data,
        "services": {
            name: derive_service_names(spec, env=env, service=str(name))
            for name, spec in services.items()
        },
    }


class EnvConfig(AwsLocation):
    """One deployment environment (dev, stage, prod, ...), read from ``config/<name>.yaml``:
    what its services share (account, region, network, key, storage, publishers, alarm
    e-mails and default thresholds) and ``services``, one entry per model service."""

    name: str = Field(description="Environment name: the file name without .yaml (set by loader).")
    production: bool = Field(
        False, description="Production rules: retain data, termination protection, multi-AZ."
    )
    removal_policy: Literal["destroy", "retain"] = Field(
        description="What happens to stateful resources when their stack is deleted."
    )
    termination_protection: bool = False
    log_retention_days: int = Field(description="CloudWatch Logs retention for our log groups.")
    tags: dict[str, str] = Field(default_factory=dict)
    network: NetworkConfig
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    publishers: list[str] = Field(
        default_factory=list,
        description="IAM role ARNs (e.g. the CI role) that may push model images and write "
        "model artifacts, drift baselines and ground-truth labels (with the key); nobody else "
        "can.",
    )
    operators: list[str] = Field(
        default_factory=list,
        description="IAM role ARNs of this account that may decrypt what the key protects for "
        "operations: read the retraining on-failure queues (through SQS only).",
    )
    monitoring: MonitoringConfig | None = Field(
        None, description="Alarm e-mails and default thresholds for every service."
    )
    change_detection: ChangeDetectionConfig | None = Field(
        None, description="Notify each service's alarm topic of endpoint changes made by hand."
    )
    services: dict[str, ServiceConfig] = Field(
        default_factory=dict, description="Model services: one endpoint and stack each."
    )
    budget: BudgetConfig | None = Field(
        None, description="Monthly AWS Budgets cost budget of the environment (Environment tag)."
    )

    loader_fields: ClassVar[frozenset[str]] = frozenset({"name"})

    @model_validator(mode="before")
    @classmethod
    def _derived_names(cls, data: Any) -> Any:
        return with_derived_names(data)

    @model_validator(mode="before")
    @classmethod
    def _previous_shape(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        monitoring = data.get("monitoring")
        moved = [k for k in ("quality_alarms", "retraining") if isinstance(monitoring, dict)
                 and k in monitoring]  # fmt: skip
        if "serving" in data or moved:
            field = "serving" if "serving" in data else f"monitoring.{moved[0]}"
            raise FieldProblem(
                field,
                "an environment now hosts several model services: move the endpoint's "
                "settings under services.<name> (see docs/configuration.md):\n" + _NEW_SHAPE,
            )
        return data

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not ENV_NAME_PATTERN.match(value):
            raise ValueError(
                f"{value!r}: environment names are 1-20 lowercase letters, digits or '-', "
                "starting with a letter"
            )
        return value

    @field_validator("publishers", "operators")
    @classmethod
    def _role_arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not ROLE_ARN_PATTERN.match(arn):
                raise ValueError(
                    f"{arn!r} is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)"
                )
        if len(set(value)) != len(value):
            raise ValueError("lists a role twice")
        return value

    def copied_names(self, other_environments: set[str]) -> list[tuple[str, str]]:
        """(field, problem) for typed names that name another environment, e.g. a retraining
        pipeline ``churn-retraining-dev`` left in a file copied from ``dev.yaml``."""
        problems: list[tuple[str, str]] = []
        for service, spec in self.services.items():
            for field, value in named_fields(spec, f"services.{service}"):
                for other in sorted(other_environments):
                    if names_environment(value, self.name, other):  # prod-eu-x names prod-eu
                        problems.append(
                            (field, f"{value!r} names environment {other!r}, not {self.name!r}: "
                                    "write {env} where the environment name goes")
                        )  # fmt: skip
                        break
        return problems

    def endpoint_name(self, service: str) -> str:
        """A service's endpoint name: its stack's name, ``<env>-<service>``."""
        return f"{self.name}-{service}"

    def model_prefix(self, service: str) -> str:
        """The only model-artifact prefix a service's execution role may read."""
        return f"{self.storage.model_artifacts_prefix}{service}/"

    def package_artifact_prefixes(self, service: str) -> tuple[str, ...]:
        """Where a registered model package's artifact of ``service`` may be: its model prefix,
        and the managed retraining pipeline's model output when the service has a package group
        of its own (the pipeline registers what it trains there)."""
        prefixes = [self.model_prefix(service)]
        if announces_approvals(self.services[service]):
            prefixes.append(retraining_prefixes(service)[0])
        return tuple(prefixes)

    def capture_prefix(self, service: str) -> str:
        """The only data-capture prefix a service's endpoint may write."""
        return f"{self.storage.data_capture_prefix}{service}/"

    def thresholds(self, service: str) -> AlarmThresholds:
        """The service's alarm thresholds: environment defaults with its overrides."""
        defaults = self.monitoring.operational if self.monitoring else AlarmThresholds()
        return self.services[service].thresholds(defaults)

    @field_validator("log_retention_days")
    @classmethod
    def _allowed_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
            raise ValueError(f"{value} is not a CloudWatch Logs retention period ({allowed})")
        return value

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, tag_value in value.items():
            if not 1 <= len(key) <= 128 or not _TAG_PATTERN.match(key):
                raise ValueError(f"tag key {key!r} must be 1-128 characters of [\\w\\s.:/=+@-]")
            if key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r}: the 'aws:' prefix is reserved by AWS")
            if len(tag_value) > 256 or not _TAG_PATTERN.match(tag_value):
                raise ValueError(
                    f"tag {key!r}: value must be at most 256 characters of [\\w\\s.:/=+@-]"
                )
        return value

    @model_validator(mode="after")
    def _fits_together(self) -> EnvConfig:
        """Every cross-field rule, all problems at once (one line each)."""
        problems = Problems()
        for check in self._checks():
            check(problems)
        problems.raise_any()
        return self

    def _checks(self) -> list[Callable[[Problems], None]]:
        """The cross-field checks, each independent of the others' outcome."""
        checks: list[Callable[[Problems], None]] = [
            self._check_access,
            self._check_production_rules,
            self._check_production_monitoring,
            self._check_change_detection,
            self._check_budget_and_training_jobs,
        ]
        for name, service in self.services.items():
            where = f"services.{name}"
            checks += [
                partial(self._check_service_name, name=name),
                partial(self._check_service_storage, where=where, name=name, service=service),
                partial(self._check_service_images, where=where, service=service),
                partial(self._check_service_monitoring, where=where, name=name, service=service),
            ]
            if self.production:
                checks.append(partial(self._check_production, where=where, service=service))
        return checks

    def _check_budget_and_training_jobs(self, problems: Problems) -> None:
        """The budget needs someone to notify; training jobs use their service's prefixes."""
        emails = self.monitoring.alarm_emails if self.monitoring else None
        for path, message in budget_problems(self.budget, emails):
            problems.add(path, message)
        reserved = (self.storage.model_artifacts_prefix, self.storage.data_capture_prefix)
        for name, service in self.services.items():
            job = service.retraining.training_job if service.retraining else None
            if job is None:
                continue
            for path, message in training_job_problems(
                job, service=name, reserved_prefixes=reserved
            ):
                problems.add(f"services.{name}.retraining.training_job.{path}", message)

    def _check_change_detection(self, problems: Problems) -> None:
        if self.change_detection is not None and self.monitoring is None:
            problems.add(
                "change_detection",
                "changes are reported to each service's alarm topic: configure monitoring",
            )

    @classmethod
    def partial_problems(cls, data: dict[str, Any]) -> list[tuple[str, str]]:
        """The cross-field problems of a file whose fields are not all valid.

        Pydantic runs no model validator while a field is invalid; this validates each field
        (each service) on its own, leaves out the invalid ones, and runs every cross-field
        check that does not need them, so one run reports field and cross-field problems."""
        instance = partial_model(cls, with_derived_names(data))
        problems = Problems()
        try:
            checks = instance._checks()
        except AttributeError:  # services or production is invalid
            return []
        for check in checks:
            try:
                check(problems)
            except (AttributeError, TypeError, ValueError):  # needs an invalid field
                continue
        return problems.items

    def _check_production_monitoring(self, problems: Problems) -> None:
        if self.production and self.services and self.monitoring is None:
            problems.add(
                "monitoring", "production endpoints need alarms and rollback: configure it"
            )

    def _check_access(self, problems: Problems) -> None:
        for index, arn in enumerate(self.operators):
            match = ROLE_ARN_PATTERN.match(arn)
            if match and match.group(1) != self.account:
                problems.add(
                    f"operators[{index}]",
                    f"operators must be roles of this environment's account {self.account}",
                )
        break_glass = ROLE_ARN_PATTERN.match(self.storage.break_glass_role_arn or "")
        if break_glass and break_glass.group(1) != self.account:
            problems.add(
                "storage.break_glass_role_arn",
                f"must be a role of this environment's account {self.account} (the bucket "
                "policy exempts it from the delete deny; its IAM policy grants the delete)",
            )
        if self.services and not self.publishers:
            problems.add(
                "publishers",
                "name at least one role (e.g. your CI role) that publishes model images and "
                "artifacts: the bucket's key and the repositories admit nobody else, so a new "
                "environment could never get the artifacts its models need",
            )

    def _check_production_rules(self, problems: Problems) -> None:
        if not self.production:
            return
        if self.removal_policy != "retain":
            problems.add("removal_policy", "production environments must use retain")
        if not self.termination_protection:
            problems.add("termination_protection", "production environments must set it to true")

    def _check_service_name(self, problems: Problems, name: str) -> None:
        if not SERVICE_NAME_PATTERN.match(name) or name in RESERVED_SERVICE_NAMES:
            problems.add(
                f"services.{name}",
                f"{name!r}: service names are lowercase letters, digits and single '-' "
                "between them, starting with a letter"
                + (f"; {name!r} is reserved" if name in RESERVED_SERVICE_NAMES else ""),
            )
            return
        endpoint = self.endpoint_name(name)
        if len(endpoint) > MAX_ENDPOINT_NAME:
            problems.add(
                f"services.{name}",
                f"the endpoint name {endpoint!r} has {len(endpoint)} characters; SageMaker "
                f"allows {MAX_ENDPOINT_NAME}: shorten the service name to at most "
                f"{MAX_ENDPOINT_NAME - len(self.name) - 1} characters",
            )
        self._check_component_names(problems, name, endpoint)
        for index, job in enumerate(self.services[name].batch_jobs):
            prefix = job_name_prefix(self.name, name, job.name)
            if len(prefix) > MAX_JOB_NAME_PREFIX:
                problems.add(
                    f"services.{name}.batch_jobs[{index}].name",
                    f"transform jobs are named {prefix!r}-<run>: at most {MAX_JOB_NAME_PREFIX} "
                    "characters before the run's suffix (SageMaker allows 63): shorten the job "
                    "or service name",
                )

    def _check_component_names(self, problems: Problems, name: str, endpoint: str) -> None:
        """Components are named ``<env>-<service>-<component>``; CreateInferenceComponent
        allows 63 characters (InferenceComponentName, "CreateInferenceComponent",
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateInferenceComponent.html)."""
        spec = self.services[name].inference_components
        for index, component in enumerate(spec.components if spec else ()):
            physical = component_name(endpoint, component.name)
            if len(physical) > MAX_COMPONENT_NAME_LENGTH:
                problems.add(
                    f"services.{name}.inference_components.components[{index}].name",
                    f"the component is named {physical!r}: {len(physical)} characters; "
                    f"SageMaker allows {MAX_COMPONENT_NAME_LENGTH}: shorten the component or "
                    "service name",
                )

    def _check_service_images(self, problems: Problems, where: str, service: ServiceConfig) -> None:
        """The service's repository keeps every image tag the service names, a lifecycle rule
        each (``ModelImageRepository``): ECR bounds the policy's length."""
        registry = self.registry
        problem = ecr_lifecycle_problem(
            service.repository_image_tags(),
            registry.max_tagged_images,
            registry.untagged_expiry_days,
        )
        if problem is not None:
            problems.add(where, problem)

    def _check_service_storage(
        self, problems: Problems, where: str, name: str, service: ServiceConfig
    ) -> None:
        prefix = self.model_prefix(name)
        for index, model in enumerate(service.models):
            at = f"{where}.models[{index}]"
            parts: list[tuple[str, Any]] = [
                (f"{at}.containers[{i}]", c) for i, c in enumerate(model.containers)
            ]
            for path, container in parts or [(at, model)]:
                key = container.model_data_key
                if key is not None and not key.startswith(prefix):
                    problems.add(
                        f"{path}.model_data_key",
                        f"must be under {prefix!r} (storage.model_artifacts_prefix + the service "
                        "name: the only prefix the service's execution role can read)",
                    )
                image = container.aws_image
                problem = image.region_problem(self.region) if image is not None else None
                if problem is not None:
                    problems.add(f"{path}.aws_image", problem)
        for index, arn in enumerate(service.publishers or []):
            if arn not in self.publishers:
                problems.add(
                    f"{where}.publishers[{index}]",
                    f"{arn!r} is not one of the environment's publishers (a service can only "
                    "narrow the list: the bucket and key admit the environment's publishers)",
                )
        submitters = service.async_inference.submitters if service.async_inference else ()
        for index, arn in enumerate(submitters):
            account = ROLE_ARN_PATTERN.match(arn)
            if account and account.group(1) != self.account:
                problems.add(
                    f"{where}.async_inference.submitters[{index}]",
                    f"must be a role of this environment's account {self.account}: submitters "
                    "are granted on the identity side (see docs/concepts/serving-modes.md, "
                    '"Asynchronous endpoints", for cross-account callers)',
                )
            elif account and arn not in self.publishers:
                problems.add(
                    f"{where}.async_inference.submitters[{index}]",
                    f"{arn!r} is not one of the environment's publishers: the environment key "
                    "admits only them (through S3) to write and read the request objects",
                )

    def _check_production(self, problems: Problems, where: str, service: ServiceConfig) -> None:
        two = "production variants need at least 2 instances (spread across AZs)"
        for index, variant in enumerate(service.variants):
            at = f"{where}.variants[{index}]"
            if variant.serverless is not None:
                problems.add(
                    f"{at}.serverless",
                    "production endpoints run on instances in the VPC; serverless endpoints "
                    "cannot use VPC config",
                )
            if variant.instance is None:
                continue
            if variant.instance.initial_instance_count < 2:
                problems.add(f"{at}.instance.initial_instance_count", two)
            if service.async_inference is not None:  # queued requests wait for instances
                if service.async_inference.scaling is None:
                    problems.add(
                        f"{where}.async_inference.scaling", "production endpoints must autoscale"
                    )
                continue
            scaling = variant.instance.autoscaling
            if scaling is None:
                problems.add(f"{at}.instance.autoscaling", "production variants must autoscale")
                continue
            if scaling.min_capacity < 2:
                problems.add(f"{at}.instance.autoscaling.min_capacity", two)
            for s_index, action in enumerate(scaling.scheduled):
                if action.min_capacity < 2:
                    problems.add(
                        f"{at}.instance.autoscaling.scheduled[{s_index}].min_capacity", two
                    )

    def _check_service_monitoring(
        self, problems: Problems, where: str, name: str, service: ServiceConfig
    ) -> None:
        try:
            thresholds = self.thresholds(name)
        except ValidationError as exc:
            if self.monitoring is not None:
                try:  # defaults that are invalid on their own are reported where they are
                    validated_thresholds(dataclasses.asdict(self.monitoring.operational))
                except ValidationError:
                    return
            for error in exc.errors():
                cause = (error.get("ctx") or {}).get("error")
                parts = [str(part) for part in error["loc"]]
                if isinstance(cause, PropProblems):  # the thresholds' own checks
                    for path, message in cause.problems:
                        problems.add(".".join([f"{where}.alarms", *parts, path]), message)
                else:
                    field = ".".join([f"{where}.alarms", *parts])
                    problems.add(field, error["msg"].removeprefix("Value error, "))
            return
        drift = [service.drift] if service.drift is not None and service.drift.retrain else []
        async_alarms = service.async_inference.alarms if service.async_inference else None
        triggers: list[object] = [a for a in service.quality_alarms if a.retrain]
        triggers += [*thresholds.retrain_on, *drift]
        triggers += list(async_alarms.retrain_on if async_alarms else ())
        if triggers and service.retraining is None:
            problems.add(
                f"{where}.retraining",
                "alarms are marked as retraining triggers: configure retraining",
            )
        if service.retraining is not None and not triggers:
            problems.add(
                f"{where}.retraining",
                "no alarm triggers retraining: mark a quality alarm with retrain: true, set "
                "alarms.retrain_on or drift.retrain",
            )
        if self.monitoring is None:
            # Each of these alarms on failures (failed batch runs, an async backlog, components
            # without capacity, checks that stop): their alarms need the service's topic. The
            # model registry announces each approved version there (with the `make promote`
            # command) and alarms on undelivered announcements: without a topic, none is made.
            alarmed = [
                field
                for field in (
                    "quality_alarms",
                    "retraining",
                    "drift",
                    "batch_jobs",
                    "async_inference",
                    "inference_components",
                    "quality_check",
                    "model_registry",
                )
                if getattr(service, field, None)
            ]
            if alarmed:
                problems.add(
                    "monitoring",
                    f"service {name!r} has alarms ({', '.join(alarmed)}): configure the "
                    "environment's monitoring (alarm_emails, operational defaults)",
                )
            return
        self._check_service_alarms(problems, where, name, service, thresholds)

    @staticmethod
    def _check_unused_thresholds(
        problems: Problems, where: str, service: ServiceConfig, gpu_variants: int
    ) -> None:
        """A service's threshold override for a metric none of its variants publishes would be
        silently ignored: refused. Serverless variants publish MemoryUtilization only ("Monitor
        a serverless endpoint"); only GPU instances publish GPU utilization and GPU memory
        ("Amazon SageMaker AI metrics in Amazon CloudWatch")."""
        overridden = {f for f in service.alarms.model_fields_set if getattr(service.alarms, f)}
        on_instances = any(v.instance is not None for v in service.variants)
        unused: dict[str, str] = {}
        if not on_instances:
            for field in ("cpu_percent", "disk_percent", "gpu_percent", "gpu_memory_percent"):
                unused[field] = "serverless variants publish no CPU, disk or GPU metrics"
        elif not gpu_variants:
            for field in ("gpu_percent", "gpu_memory_percent"):
                unused[field] = "no variant of this service runs on a GPU instance type"
        for field, reason in unused.items():
            if field in overridden:
                problems.add(f"{where}.alarms.{field}", f"{reason}: the threshold has no alarm")

    def _check_service_alarms(
        self,
        problems: Problems,
        where: str,
        name: str,
        service: ServiceConfig,
        thresholds: AlarmThresholds,
    ) -> None:
        rollback = thresholds.rollback_on
        count = len(rollback) * len(service.variants)
        if count > 10:
            problems.add(
                f"{where}.alarms.rollback_on",
                f"{count} rollback alarms ({len(rollback)} per variant); SageMaker deployment "
                "guardrails take at most 10",
            )
        if self.production and service.deployment.strategy != "all_at_once" and not rollback:
            problems.add(
                f"{where}.alarms.rollback_on",
                "production canary/linear deployments need rollback alarms",
            )
        if rollback and service.deployment.wait_seconds == 0:
            problems.add(
                f"{where}.deployment.wait_seconds",
                "rollback alarms are only evaluated during the baking period "
                "(WaitIntervalInSeconds): with 0 they can never roll a deployment back",
            )
        gpu_variants = 0
        for index, variant in enumerate(service.variants):
            if variant.instance is None:
                continue
            try:
                gpu_variants += gpus(variant.instance.instance_type) > 0
            except UnknownInstanceType as exc:
                problems.add(f"{where}.variants[{index}].instance.instance_type", str(exc))
                gpu_variants += 1  # unknown: do not also call its GPU thresholds unused
        self._check_unused_thresholds(problems, where, service, gpu_variants)
        for index, alarm in enumerate(service.quality_alarms):
            for key in ENDPOINT_DIMENSIONS:
                value = alarm.dimensions.get(key)
                if value is not None and value != self.endpoint_name(name):
                    problems.add(
                        f"{where}.quality_alarms[{index}].dimensions.{key}",
                        f"{value!r} is not this service's endpoint "
                        f"({self.endpoint_name(name)!r}): the alarm would watch another "
                        "endpoint; write {endpoint}",
                    )
