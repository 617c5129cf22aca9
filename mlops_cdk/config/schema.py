"""The per-environment configuration schema (one schema, one YAML file per environment).

Every model forbids unknown keys, so a typo is an error rather than a silently ignored setting.
Later sections (serving, monitoring, pipeline) are added to :class:`EnvConfig` as their own models.
"""

from __future__ import annotations

import re
from functools import cache
from ipaddress import IPv4Network
from typing import Annotated, Any, Literal

from aws_cdk.region_info import RegionInfo
from pydantic import Field, field_validator, model_validator

from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.errors import FieldProblem
from mlops_cdk.config.monitoring import ENDPOINT_DIMENSIONS, MonitoringConfig
from mlops_cdk.config.serving import ServingConfig
from mlops_cdk.instance_types import UnknownInstanceType, gpus

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_S3_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$")
_SUBNET_ID = r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$"
_ROUTE_TABLE_ID = r"^rtb-([0-9a-f]{8}|[0-9a-f]{17})$"
_TAG_PATTERN = re.compile(r"^[\w\s.:/=+@-]*$")
# An IAM role ARN (paths allowed); assumed-role sessions are matched by their role ARN.
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")


@cache
def known_regions() -> frozenset[str]:
    """Region names aws-cdk-lib knows (its region-info database), read once."""
    return frozenset(info.name for info in RegionInfo.regions)


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
    if value not in known_regions():
        raise ValueError(f"{value!r} is not an AWS region name known to aws-cdk-lib")
    return value


class NewVpcConfig(StrictModel):
    """A VPC this project creates: isolated subnets only, no internet or NAT gateway."""

    cidr: IPv4Network = Field(description="VPC CIDR block, a private range from /16 to /24.")
    max_azs: int = Field(2, ge=2, le=6, description="Availability zones to spread subnets over.")

    @field_validator("cidr")
    @classmethod
    def _private_and_sized(cls, value: IPv4Network) -> IPv4Network:
        if not value.is_private:
            raise ValueError(f"{value} is not a private (RFC 1918) range")
        if not 16 <= value.prefixlen <= 24:
            raise ValueError(f"prefix /{value.prefixlen} must be between /16 and /24")
        return value


class ExistingVpcConfig(StrictModel):
    """An existing VPC, imported by its ids (no lookup at synth time)."""

    vpc_id: str = Field(pattern=r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
    cidr: IPv4Network = Field(description="The VPC's primary CIDR block.")
    availability_zones: list[str] = Field(min_length=2)
    private_subnet_ids: list[Annotated[str, Field(pattern=_SUBNET_ID)]]
    route_table_ids: list[Annotated[str, Field(pattern=r"^rtb-([0-9a-f]{8}|[0-9a-f]{17})$")]] = (
        Field(description="Route table of each private subnet, same order (S3 gateway endpoint).")
    )
    create_endpoints: bool = Field(
        True, description="Create the VPC endpoints here (turn off if the VPC already has them)."
    )

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

    max_tagged_images: int = Field(30, ge=1, le=1000, description="Tagged images kept.")
    untagged_expiry_days: int = Field(7, ge=1, le=365, description="Days before untagged expire.")


class StorageConfig(StrictModel):
    """Model artifact / data capture bucket layout and lifecycle."""

    model_artifacts_prefix: str = Field("models/", description="Key prefix SageMaker reads.")
    data_capture_prefix: str = Field("data-capture/", description="Key prefix SageMaker writes.")
    noncurrent_version_expiry_days: int = Field(90, ge=1, le=3650)
    access_log_expiry_days: int = Field(365, ge=1, le=3650)

    @field_validator("model_artifacts_prefix", "data_capture_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        if not _S3_PREFIX_PATTERN.match(value):
            raise ValueError(
                f"{value!r} must be a relative S3 key prefix ending in '/' "
                "(letters, digits, !_.*'()- and '/' between parts)"
            )
        return value

    @model_validator(mode="after")
    def _disjoint_prefixes(self) -> StorageConfig:
        a, b = self.model_artifacts_prefix, self.data_capture_prefix
        if a.startswith(b) or b.startswith(a):
            raise FieldProblem(
                "data_capture_prefix",
                "model_artifacts_prefix and data_capture_prefix must not overlap, "
                "so the execution role can read one and write the other",
            )
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


class EnvConfig(AwsLocation):
    """One deployment environment (dev, stage, prod, ...), read from ``config/<name>.yaml``."""

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
        "model artifacts (with the key); nobody else can.",
    )
    operators: list[str] = Field(
        default_factory=list,
        description="IAM role ARNs of this account that may decrypt what the key protects for "
        "operations: read the retraining on-failure queue (through SQS only).",
    )
    serving: ServingConfig | None = Field(
        None, description="Models and variants to host; omit for a foundation-only environment."
    )
    monitoring: MonitoringConfig | None = Field(
        None, description="Alarms, notifications and retraining for the endpoint."
    )

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

    @property
    def endpoint_name(self) -> str:
        """The endpoint's name: derived from its stack name ``<env>-Serving``."""
        return f"{self.name}-Serving"

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
    def _access_fits_environment(self) -> EnvConfig:
        for index, arn in enumerate(self.operators):
            match = ROLE_ARN_PATTERN.match(arn)
            if match and match.group(1) != self.account:
                raise FieldProblem(
                    f"operators[{index}]",
                    f"operators must be roles of this environment's account {self.account}",
                )
        if self.serving is not None and not self.publishers:
            raise FieldProblem(
                "publishers",
                "name at least one role (e.g. your CI role) that publishes model images and "
                "artifacts: the bucket's key and the repository admit nobody else, so a new "
                "environment could never get the artifacts its models need",
            )
        return self

    @model_validator(mode="after")
    def _serving_fits_environment(self) -> EnvConfig:
        if self.serving is None:
            return self
        prefix = self.storage.model_artifacts_prefix
        for index, model in enumerate(self.serving.models):
            if not model.model_data_key.startswith(prefix):
                raise FieldProblem(
                    f"serving.models[{index}].model_data_key",
                    f"must be under storage.model_artifacts_prefix {prefix!r} "
                    "(the only prefix the execution role can read)",
                )
        if not self.production:
            return self
        for index, variant in enumerate(self.serving.variants):
            where = f"serving.variants[{index}]"
            if variant.serverless is not None:
                raise FieldProblem(
                    f"{where}.serverless",
                    "production endpoints run on instances in the VPC; serverless endpoints "
                    "cannot use VPC config",
                )
            if variant.instance is not None:
                if variant.instance.initial_instance_count < 2:
                    raise FieldProblem(
                        f"{where}.instance.initial_instance_count",
                        "production variants need at least 2 instances (spread across AZs)",
                    )
                scaling = variant.instance.autoscaling
                if scaling is None:
                    raise FieldProblem(
                        f"{where}.instance.autoscaling", "production variants must autoscale"
                    )
                if scaling.min_capacity < 2:
                    raise FieldProblem(
                        f"{where}.instance.autoscaling.min_capacity",
                        "production variants need at least 2 instances (spread across AZs)",
                    )
                for s_index, action in enumerate(scaling.scheduled):
                    if action.min_capacity < 2:
                        raise FieldProblem(
                            f"{where}.instance.autoscaling.scheduled[{s_index}].min_capacity",
                            "production variants need at least 2 instances (spread across AZs)",
                        )
        return self

    @model_validator(mode="after")
    def _monitoring_fits_serving(self) -> EnvConfig:
        monitoring = self.monitoring
        if monitoring is None:
            if self.production and self.serving is not None:
                raise FieldProblem(
                    "monitoring", "production endpoints need alarms and rollback: configure it"
                )
            return self
        if self.serving is None:
            raise FieldProblem("monitoring", "needs a serving section to monitor")
        rollback = monitoring.operational.rollback_on
        count = len(rollback) * len(self.serving.variants)
        if count > 10:
            raise FieldProblem(
                "monitoring.operational.rollback_on",
                f"{count} rollback alarms ({len(rollback)} per variant); SageMaker deployment "
                "guardrails take at most 10",
            )
        if self.production and self.serving.deployment.strategy != "all_at_once" and not rollback:
            raise FieldProblem(
                "monitoring.operational.rollback_on",
                "production canary/linear deployments need rollback alarms",
            )
        if rollback and self.serving.deployment.wait_seconds == 0:
            raise FieldProblem(
                "serving.deployment.wait_seconds",
                "rollback alarms are only evaluated during the baking period "
                "(WaitIntervalInSeconds): with 0 they can never roll a deployment back",
            )
        self._check_gpu_counts()
        self._check_alarm_dimensions(monitoring)
        return self

    def _check_gpu_counts(self) -> None:
        """GPU alarms scale by GPU count: an unknown count is an error, not a guess."""
        assert self.serving is not None  # noqa: S101 - checked by the caller
        for index, variant in enumerate(self.serving.variants):
            if variant.instance is None:
                continue
            try:
                gpus(variant.instance.instance_type)
            except UnknownInstanceType as exc:
                raise FieldProblem(
                    f"serving.variants[{index}].instance.instance_type", str(exc)
                ) from None

    def _check_alarm_dimensions(self, monitoring: MonitoringConfig) -> None:
        """A quality alarm must not watch another environment's endpoint."""
        for index, alarm in enumerate(monitoring.quality_alarms):
            for key in ENDPOINT_DIMENSIONS:
                value = alarm.dimensions.get(key)
                if value is not None and value != self.endpoint_name:
                    raise FieldProblem(
                        f"monitoring.quality_alarms[{index}].dimensions.{key}",
                        f"{value!r} is not this environment's endpoint ({self.endpoint_name!r}): "
                        "the alarm would watch another endpoint",
                    )

    @model_validator(mode="after")
    def _production_rules(self) -> EnvConfig:
        if self.production:
            if self.removal_policy != "retain":
                raise FieldProblem("removal_policy", "production environments must use retain")
            if not self.termination_protection:
                raise FieldProblem(
                    "termination_protection", "production environments must set it to true"
                )
        return self
