"""Monthly cost of an environment from its synthesized templates, per part (the Foundation, each
service, any other stack) and per resource.

Three figures per line item, in USD per month of 730 hours:

- **idle**: what runs with no traffic: instance variants at their autoscaling minimum (scheduled
  actions applied over their share of the week, :mod:`mlops_tools.cost.schedule`), provisioned
  concurrency at its minimum, and standing charges (endpoints per AZ, keys, alarms, dashboards,
  stored data);
- **expected**: instance variants at their ``InitialInstanceCount`` (within each window's
  bounds), plus request-driven charges at the assumed volumes (:class:`Assumptions`);
- **peak**: every instance variant at its autoscaling maximum, serverless variants busy at their
  maximum concurrency, request-driven charges as expected.

Request-driven items and stored data carry the assumption they rest on. Resource types that cost
nothing by themselves (IAM, security groups, model and endpoint-config definitions, ...) are
listed in :data:`FREE_TYPES`; any other type without a model here is reported as not estimated,
never counted as zero silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops_tools.cost.assumptions import (
    DAYS_PER_MONTH,
    GB,
    HOURS_PER_MONTH,
    SECONDS_PER_MONTH,
    Assumptions,
)
from mlops_tools.cost.batch import runs_of, schedules_of
from mlops_tools.cost.batch import state_machine as batch_state_machine
from mlops_tools.cost.prices import CostError, MissingPrice, PriceBook, PriceKey
from mlops_tools.cost.schedule import ScheduledCapacity, Windows, capacity_windows
from mlops_tools.review.services import Kind, group_stacks

Template = Mapping[str, Any]

INSTANCE_COUNT = "sagemaker:variant:DesiredInstanceCount"
PROVISIONED_CONCURRENCY = "sagemaker:variant:DesiredProvisionedConcurrency"
# CDK Pipelines describes the synth step's project as "Pipeline step <path>/Build/Synth".
SYNTH_STEP_SUFFIX = "/Build/Synth"
# CloudWatch alarms on metrics with a period under 60 s are high-resolution alarms.
HIGH_RESOLUTION_SECONDS = 60
_SERVICE_PREFIX = re.compile(r"^com\.amazonaws\.[a-z0-9-]+\.")

# Types with no charge of their own (their cost, if any, is a line of another resource or
# within the free tier at the assumed volumes: SNS e-mail notifications and SQS on-failure
# messages are a handful a month; EventBridge delivers AWS service events free; EventBridge
# Scheduler's first 14 million invocations a month are free).
FREE_TYPES = frozenset(
    {
        "AWS::Events::Rule",
        "AWS::Scheduler::Schedule",
        "AWS::Scheduler::ScheduleGroup",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::CDK::Metadata",
        "AWS::CloudFormation::WaitConditionHandle",
        "AWS::EC2::FlowLog",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::Route",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::Subnet",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::VPC",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::ECR::RepositoryPolicy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Permission",
        "AWS::S3::BucketPolicy",
        "AWS::SageMaker::EndpointConfig",
        # A component reserves part of its endpoint's instances; the instances are the charge
        # (the fleet variant's line, ManagedInstanceScaling below).
        "AWS::SageMaker::InferenceComponent",
        "AWS::SageMaker::Model",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
    }
)


class EstimateError(CostError):
    """Every problem of an estimate (missing prices, values that are not literals)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class UnsupportedValue(CostError):  # noqa: N818 - read as "a value is unsupported"
    """A property the estimate needs is not a literal (a Ref to a parameter, an import)."""


@dataclass(frozen=True)
class LineItem:
    stack: str
    resource: str
    description: str
    idle: float
    expected: float
    peak: float
    assumption: str = ""
    prices: tuple[PriceKey, ...] = ()


@dataclass(frozen=True)
class PartCost:
    """The Foundation, one service (its stacks together), or a stack of no known part."""

    kind: Kind
    name: str
    stacks: tuple[str, ...]
    items: tuple[LineItem, ...]

    @property
    def label(self) -> str:
        return {"foundation": "Foundation", "service": f"service {self.name}"}.get(
            self.kind, f"stack {self.name}"
        )

    @property
    def idle(self) -> float:
        return sum(item.idle for item in self.items)

    @property
    def expected(self) -> float:
        return sum(item.expected for item in self.items)

    @property
    def peak(self) -> float:
        return sum(item.peak for item in self.items)


@dataclass(frozen=True)
class EnvironmentCost:
    environment: str
    region: str
    parts: tuple[PartCost, ...]
    notes: tuple[str, ...] = ()
    not_estimated: tuple[str, ...] = ()

    @property
    def idle(self) -> float:
        return sum(part.idle for part in self.parts)

    @property
    def expected(self) -> float:
        return sum(part.expected for part in self.parts)

    @property
    def peak(self) -> float:
        return sum(part.peak for part in self.parts)

    def part(self, name: str) -> PartCost:
        """``Foundation``, a service name or a stack name."""
        for part in self.parts:
            if part.name == name or (name == "Foundation" and part.kind == "foundation"):
                return part
        raise KeyError(name)

    def price_keys(self) -> set[PriceKey]:
        return {key for part in self.parts for item in part.items for key in item.prices}


def estimate_environment(
    environment: str,
    templates: Mapping[str, Template],
    *,
    region: str,
    prices: PriceBook,
    assumptions: Assumptions | None = None,
) -> EnvironmentCost:
    """The cost of ``environment`` (stack name -> template, all in ``region``). Raises
    :class:`EstimateError` with one line per missing price or unreadable value."""
    assumptions = assumptions or Assumptions()
    parts, problems, notes = [], [], []
    not_estimated: dict[str, int] = {}
    for group in group_stacks(environment, templates):
        items: list[LineItem] = []
        for stack in group.stacks:
            estimator = _StackEstimator(stack, templates[stack], region, prices, assumptions)
            items += estimator.items()
            problems += estimator.problems
            notes += estimator.notes
            for resource_type in estimator.unknown:
                not_estimated[resource_type] = not_estimated.get(resource_type, 0) + 1
        parts.append(PartCost(group.kind, group.name, group.stacks, tuple(items)))
    if problems:
        raise EstimateError(problems)
    return EnvironmentCost(
        environment=environment,
        region=region,
        parts=tuple(parts),
        notes=tuple(notes),
        not_estimated=tuple(f"{t} x{n}" for t, n in sorted(not_estimated.items())),
    )


Handler = Callable[["_StackEstimator", str, Mapping[str, Any]], Iterator[LineItem]]


@dataclass
class _StackEstimator:
    stack: str
    template: Template
    region: str
    book: PriceBook
    assumptions: Assumptions
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        found: Mapping[str, Mapping[str, Any]] = self.template.get("Resources") or {}
        return found

    def items(self) -> list[LineItem]:
        items: list[LineItem] = []
        for logical_id, resource in sorted(self.resources.items()):
            resource_type = str(resource.get("Type", ""))
            handler = HANDLERS.get(resource_type)
            if handler is None:
                if resource_type not in FREE_TYPES and not resource_type.startswith("Custom::"):
                    self.unknown.append(resource_type)
                continue
            try:
                items += list(handler(self, logical_id, resource.get("Properties") or {}))
            except CostError as exc:
                self.problems.append(f"{self.stack}/{logical_id}: {exc}")
        return items

    # -- helpers ----------------------------------------------------------------------------

    def price(self, service: str, item: str, unit: str, resource_type: str, what: str) -> float:
        key = PriceKey(service, item, self.region)
        return self.book.rate(key, unit, resource_type=resource_type, what=what).usd

    def item(
        self,
        logical_id: str,
        description: str,
        idle: float,
        expected: float,
        peak: float,
        *,
        keys: Sequence[tuple[str, str]],
        assumption: str = "",
    ) -> LineItem:
        return LineItem(
            stack=self.stack,
            resource=logical_id,
            description=description,
            idle=idle,
            expected=expected,
            peak=peak,
            assumption=assumption,
            prices=tuple(PriceKey(s, i, self.region) for s, i in keys),
        )

    def literal(self, value: Any, what: str) -> Any:
        """``value`` itself when it is not an intrinsic function, else :class:`UnsupportedValue`."""
        if isinstance(value, Mapping):
            raise UnsupportedValue(f"{what} is not a literal value ({', '.join(value)})")
        return value

    def endpoint_name(self, logical_id: str) -> str | None:
        props = self.resources.get(logical_id, {}).get("Properties") or {}
        name = props.get("EndpointName")
        return name if isinstance(name, str) else None

    def text(self, value: Any) -> str | None:
        """A string value with ``Fn::Join`` of literals and refs to endpoints resolved."""
        if isinstance(value, str):
            return value
        if isinstance(value, Mapping):
            if "Fn::Join" in value:
                separator, parts = value["Fn::Join"]
                texts = [self.text(part) for part in parts]
                return None if None in texts else str(separator).join(str(t) for t in texts)
            if "Ref" in value:
                return self.endpoint_name(str(value["Ref"]))
            if "Fn::GetAtt" in value and value["Fn::GetAtt"][1:] == ["EndpointName"]:
                return self.endpoint_name(str(value["Fn::GetAtt"][0]))
        return None

    def referenced(self, value: Any) -> str | None:
        """The logical id a ``Ref``/``Fn::GetAtt`` names."""
        if isinstance(value, Mapping):
            if "Ref" in value:
                return str(value["Ref"])
            if "Fn::GetAtt" in value:
                return str(value["Fn::GetAtt"][0])
        return None

    def scalable_targets(self, dimension: str) -> dict[str, Mapping[str, Any]]:
        """ResourceId (``endpoint/<name>/variant/<variant>``) -> target properties."""
        found = {}
        for resource in self.resources.values():
            props = resource.get("Properties") or {}
            if (
                resource.get("Type") == "AWS::ApplicationAutoScaling::ScalableTarget"
                and props.get("ScalableDimension") == dimension
            ):
                resource_id = self.text(props.get("ResourceId"))
                if resource_id is not None:
                    found[resource_id] = props
        return found

    def windows(self, target: Mapping[str, Any], what: str) -> Windows:
        actions = [
            ScheduledCapacity(
                name=str(action.get("ScheduledActionName", "")),
                schedule=str(self.literal(action.get("Schedule", ""), f"{what} schedule")),
                time_zone=action.get("Timezone"),
                min_capacity=(action.get("ScalableTargetAction") or {}).get("MinCapacity"),
                max_capacity=(action.get("ScalableTargetAction") or {}).get("MaxCapacity"),
            )
            for action in target.get("ScheduledActions") or []
        ]
        windows = capacity_windows(
            int(self.literal(target["MinCapacity"], f"{what} MinCapacity")),
            int(self.literal(target["MaxCapacity"], f"{what} MaxCapacity")),
            actions,
        )
        self.notes += [f"{self.stack}: {what}: {note}" for note in windows.notes]
        return windows

    # -- SageMaker endpoints ----------------------------------------------------------------

    def endpoint(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        config_id = self.referenced(props.get("EndpointConfigName"))
        config = self.resources.get(config_id or "", {})
        if config.get("Type") != "AWS::SageMaker::EndpointConfig":
            raise UnsupportedValue("its EndpointConfigName does not refer to a config here")
        config_props = config.get("Properties") or {}
        name = self.endpoint_name(logical_id)
        instances = [0.0, 0.0, 0.0]
        # A shadow variant (ShadowProductionVariants) runs on instances of its own: priced too.
        every = [
            *(config_props.get("ProductionVariants") or []),
            *(config_props.get("ShadowProductionVariants") or []),
        ]
        for variant in every:
            if "ServerlessConfig" in variant:
                yield self.serverless_variant(logical_id, name, variant)
            else:
                item, counts = self.instance_variant(logical_id, name, variant)
                instances = [total + count for total, count in zip(instances, counts, strict=True)]
                yield item
        yield from self.endpoint_traffic(logical_id, config_props)
        if any(instances):
            yield from self.endpoint_metrics(logical_id, config_props, instances)

    def endpoint_metrics(
        self, logical_id: str, config: Mapping[str, Any], instances: Sequence[float]
    ) -> Iterator[LineItem]:
        """The extra CloudWatch metrics of the config's MetricsConfig, per instance. A config
        that does not state EnableDetailedObservability gets it on (configs created after
        2026-06-17, "Getting started with detailed observability"). Priced as CloudWatch
        custom metrics at the assumed count per instance: AWS names the metrics but not their
        number or billing offline."""
        a = self.assumptions
        metrics = config.get("MetricsConfig") or {}
        per_instance = 0.0
        parts = []
        if metrics.get("EnableDetailedObservability", True) is not False:
            per_instance += a.detailed_observability_metrics_per_instance
            stated = "" if "EnableDetailedObservability" in metrics else " (AWS default: unstated)"
            parts.append(f"detailed observability{stated}")
        if metrics.get("EnableEnhancedMetrics") is True:
            per_instance += a.enhanced_metrics_per_instance
            parts.append("enhanced metrics")
        if not per_instance:
            return
        rate = self.price(
            "cloudwatch", "custom metric", "metric-month", "AWS::SageMaker::Endpoint", "metrics"
        )
        low, middle, high = (count * per_instance * rate for count in instances)
        yield self.item(
            logical_id,
            f"{' + '.join(parts)}: CloudWatch metrics per instance",
            low,
            middle,
            high,
            keys=[("cloudwatch", "custom metric")],
            assumption=f"{per_instance:g} metrics per instance (detailed observability "
            f"{a.detailed_observability_metrics_per_instance:g}, enhanced "
            f"{a.enhanced_metrics_per_instance:g}; not stated by AWS offline)",
        )

    def _target(
        self, dimension: str, endpoint: str | None, variant: str
    ) -> Mapping[str, Any] | None:
        targets = self.scalable_targets(dimension)
        if endpoint is not None:
            return targets.get(f"endpoint/{endpoint}/variant/{variant}")
        matches = [t for rid, t in targets.items() if rid.endswith(f"/variant/{variant}")]
        return matches[0] if len(matches) == 1 else None

    def _instance_types(self, variant: Mapping[str, Any], name: str) -> list[str]:
        """The variant's InstanceType, or its InstancePools' types in priority order."""
        pools = variant.get("InstancePools")
        if isinstance(pools, list) and pools:
            ordered = sorted(
                pools, key=lambda p: float(self.literal(p.get("Priority"), "priority"))
            )
            return [
                str(self.literal(p.get("InstanceType"), f"variant {name} pool")) for p in ordered
            ]
        return [str(self.literal(variant.get("InstanceType"), f"variant {name} InstanceType"))]

    def _managed_range(self, variant: Mapping[str, Any], name: str) -> tuple[int, int] | None:
        """(MinInstanceCount, MaxInstanceCount) of a variant with ManagedInstanceScaling
        ENABLED: SageMaker adds and removes the fleet's instances as the inference components'
        copies need them, down to the minimum (0: no instance, "Scale an endpoint to zero
        instances", https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html;
        "ProductionVariantManagedInstanceScaling",
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantManagedInstanceScaling.html)."""
        managed = variant.get("ManagedInstanceScaling")
        if not isinstance(managed, Mapping) or managed.get("Status") != "ENABLED":
            return None
        what = f"variant {name} ManagedInstanceScaling"
        count = int(self.literal(variant.get("InitialInstanceCount", 1), what))
        low = int(self.literal(managed.get("MinInstanceCount", count), f"{what} minimum"))
        high = int(self.literal(managed.get("MaxInstanceCount", count), f"{what} maximum"))
        return low, high

    def instance_variant(
        self, logical_id: str, endpoint: str | None, variant: Mapping[str, Any]
    ) -> tuple[LineItem, tuple[float, float, float]]:
        """The variant's hosting line, and its (idle, expected, peak) instance counts."""
        name = str(variant.get("VariantName", "?"))
        types = self._instance_types(variant, name)
        instance_type = types[0]  # priced at the first pool's type, the range shown
        count = int(self.literal(variant.get("InitialInstanceCount", 1), f"variant {name} count"))
        hourly, *others = [
            self.price(
                "sagemaker",
                f"{t} hosting",
                "hour",
                "AWS::SageMaker::Endpoint",
                f"instance type {t} (variant {name})",
            )
            for t in types
        ]
        target = self._target(INSTANCE_COUNT, endpoint, name)
        managed = self._managed_range(variant, name)
        if managed is not None:  # a fleet of inference components: SageMaker sizes it
            low, high = (float(bound) for bound in managed)
            middle = min(max(float(count), low), high)
            shape = f"{count} (managed scaling {managed[0]}-{managed[1]})"
        elif target is None:
            low = middle = high = float(count)
            shape = f"{count} (no autoscaling)"
        else:
            windows = self.windows(target, f"variant {name}")
            low, middle, high = windows.weighted(count)
            shape = _bounds(windows, count)
        month = hourly * HOURS_PER_MONTH
        if others:  # instance pools: any type may run when the first has no capacity
            rates = [hourly, *others]
            instance_type = (
                f"{' > '.join(types)} (pools; ${min(rates):.3f}-${max(rates):.3f} per "
                f"instance-hour, priced at {types[0]})"
            )
        item = self.item(
            logical_id,
            f"variant {name}: {instance_type} x {shape}",
            low * month,
            middle * month,
            high * month,
            keys=[("sagemaker", f"{instance_type} hosting")],
        )
        return item, (low, middle, high)

    def serverless_variant(
        self, logical_id: str, endpoint: str | None, variant: Mapping[str, Any]
    ) -> LineItem:
        name = str(variant.get("VariantName", "?"))
        serverless = variant["ServerlessConfig"]
        memory_gb = int(self.literal(serverless.get("MemorySizeInMB"), "MemorySizeInMB")) / 1024
        concurrency = int(self.literal(serverless.get("MaxConcurrency"), "MaxConcurrency"))
        provisioned = int(self.literal(serverless.get("ProvisionedConcurrency", 0), "PC"))
        what = f"serverless variant {name}"
        duration = self.price(
            "sagemaker", "serverless inference", "GB-second", "AWS::SageMaker::Endpoint", what
        )
        keys = [("sagemaker", "serverless inference")]
        low_pc = middle_pc = high_pc = float(provisioned)
        target = self._target(PROVISIONED_CONCURRENCY, endpoint, name)
        if target is not None:
            low_pc, middle_pc, high_pc = self.windows(target, what).weighted(provisioned)
        standing = 0.0
        if high_pc:
            standing = (
                memory_gb
                * SECONDS_PER_MONTH
                * self.price(
                    "sagemaker",
                    "serverless provisioned concurrency",
                    "GB-second",
                    "AWS::SageMaker::Endpoint",
                    what,
                )
            )
            keys.append(("sagemaker", "serverless provisioned concurrency"))
        a = self.assumptions
        busy_seconds = a.requests_per_month * a.serverless_duration_ms / 1000
        requests = busy_seconds * memory_gb * duration
        return self.item(
            logical_id,
            f"{what}: {memory_gb:g} GB, max concurrency {concurrency}, provisioned {provisioned}",
            low_pc * standing,
            middle_pc * standing + requests,
            high_pc * standing + concurrency * memory_gb * SECONDS_PER_MONTH * duration,
            keys=keys,
            assumption=f"{a.requests_per_month:,.0f} requests/month x "
            f"{a.serverless_duration_ms:g} ms; peak: {concurrency} concurrent all month",
        )

    def endpoint_traffic(self, logical_id: str, config: Mapping[str, Any]) -> Iterator[LineItem]:
        a = self.assumptions
        rtype = "AWS::SageMaker::Endpoint"
        processed = a.traffic_gb() * self.price(
            "sagemaker", "endpoint data processed", "GB", rtype, "data processed"
        )
        yield self.item(
            logical_id,
            "data in/out",
            0,
            processed,
            processed,
            keys=[("sagemaker", "endpoint data processed")],
            assumption=a.traffic(),
        )
        logs = self._log_cost(a.log_gb_per_month, None, rtype, vended=False)
        yield self.item(
            logical_id,
            "container logs (/aws/sagemaker/Endpoints, created by SageMaker, no expiry)",
            0,
            logs,
            logs,
            keys=[("logs", "ingestion"), ("logs", "storage")],
            assumption=f"{a.log_gb_per_month:g} GB/month, stored "
            f"{a.log_months_without_retention:g} months",
        )
        capture = config.get("DataCaptureConfig")
        if not capture or capture.get("EnableCapture") is False:
            return
        percent = float(self.literal(capture.get("InitialSamplingPercentage", 100), "sampling"))
        modes = {str(o.get("CaptureMode")) for o in capture.get("CaptureOptions") or []}
        kb = (a.request_kb if "Input" in modes else 0) + (a.response_kb if "Output" in modes else 0)
        captured_gb = a.requests_per_month * percent / 100 * kb * 1000 / GB
        stored = captured_gb * self.price("s3", "standard storage", "GB-month", rtype, "capture")
        yield self.item(
            logical_id,
            f"data capture {percent:g} % to S3 (one month's captures; they accumulate)",
            0,
            stored,
            stored,
            keys=[("s3", "standard storage")],
            assumption=f"{a.requests_per_month:,.0f} requests/month, {kb:g} KB captured each",
        )

    # -- monitoring -------------------------------------------------------------------------

    def alarm(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        if "MetricName" in props:
            periods = [props.get("Period", HIGH_RESOLUTION_SECONDS)]
        else:
            periods = [
                (m["MetricStat"] or {}).get("Period", HIGH_RESOLUTION_SECONDS)
                for m in props.get("Metrics") or []
                if "MetricStat" in m
            ]
        high = sum(1 for p in periods if int(self.literal(p, "Period")) < HIGH_RESOLUTION_SECONDS)
        standard = len(periods) - high
        cost, keys = 0.0, []
        for number, resolution in ((standard, "standard"), (high, "high")):
            if number:
                item = f"{resolution} resolution alarm metric"
                cost += number * self.price(
                    "cloudwatch", item, "alarm-metric-month", "AWS::CloudWatch::Alarm", item
                )
                keys.append(("cloudwatch", item))
        described = f"alarm: {standard} standard" + (f" + {high} high-resolution" if high else "")
        yield self.item(logical_id, f"{described} metric(s)", cost, cost, cost, keys=keys)

    def dashboard(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        cost = self.price(
            "cloudwatch", "dashboard", "dashboard-month", "AWS::CloudWatch::Dashboard", "dashboard"
        )
        yield self.item(
            logical_id, "dashboard", cost, cost, cost, keys=[("cloudwatch", "dashboard")]
        )

    def _log_cost(
        self, gb_per_month: float, retention_days: Any, resource_type: str, *, vended: bool
    ) -> float:
        ingestion_item = "vended log ingestion" if vended else "ingestion"
        ingestion = self.price("logs", ingestion_item, "GB", resource_type, ingestion_item)
        storage = self.price("logs", "storage", "GB-month", resource_type, "log storage")
        if retention_days is None:
            months = self.assumptions.log_months_without_retention
        else:
            months = int(self.literal(retention_days, "RetentionInDays")) / DAYS_PER_MONTH
        return gb_per_month * (ingestion + months * storage)

    def log_group(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        a = self.assumptions
        flow = any(
            resource.get("Type") == "AWS::EC2::FlowLog"
            and self.referenced((resource.get("Properties") or {}).get("LogGroupName"))
            == logical_id
            for resource in self.resources.values()
        )
        gb = a.flow_log_gb_per_month if flow else a.log_gb_per_month
        retention = props.get("RetentionInDays")
        cost = self._log_cost(gb, retention, "AWS::Logs::LogGroup", vended=flow)
        kept = (
            f"{retention} days"
            if retention is not None
            else (f"{a.log_months_without_retention:g} months (no retention)")
        )
        yield self.item(
            logical_id,
            ("VPC flow logs" if flow else "log group") + ": ingestion and storage",
            0,
            cost,
            cost,
            keys=[("logs", "vended log ingestion" if flow else "ingestion"), ("logs", "storage")],
            assumption=f"{gb:g} GB/month, kept {kept}",
        )

    # -- shared infrastructure --------------------------------------------------------------

    def kms_key(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        rtype = "AWS::KMS::Key"
        monthly = self.price("kms", "customer managed key", "key-month", rtype, "key")
        requests = self.assumptions.kms_requests_per_month
        per_request = self.price("kms", "requests", "10000 requests", rtype, "requests") / 10_000
        yield self.item(
            logical_id,
            "KMS key (+ requests)",
            monthly,
            monthly + requests * per_request,
            monthly + requests * per_request,
            keys=[("kms", "customer managed key"), ("kms", "requests")],
            assumption=f"{requests:,.0f} requests/month",
        )

    def vpc_endpoint(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        endpoint_type = props.get("VpcEndpointType", "Gateway")
        if endpoint_type == "Gateway":
            return
        if endpoint_type != "Interface":
            self.unknown.append(f"AWS::EC2::VPCEndpoint ({endpoint_type})")
            return
        subnets = self.literal(props.get("SubnetIds"), "SubnetIds")
        if not isinstance(subnets, list) or not subnets:
            raise UnsupportedValue("an interface endpoint without a list of SubnetIds")
        rtype = "AWS::EC2::VPCEndpoint"
        hourly = self.price("vpc", "interface endpoint", "AZ-hour", rtype, "interface endpoint")
        standing = len(subnets) * hourly * HOURS_PER_MONTH
        gb = self.assumptions.endpoint_gb_processed
        processed = gb * self.price(
            "vpc", "interface endpoint data processed", "GB", rtype, "data processed"
        )
        service = _SERVICE_PREFIX.sub("", self.text(props.get("ServiceName")) or "interface")
        yield self.item(
            logical_id,
            f"{service} endpoint x {len(subnets)} AZ",
            standing,
            standing + processed,
            standing + processed,
            keys=[("vpc", "interface endpoint"), ("vpc", "interface endpoint data processed")],
            assumption=f"{gb:g} GB/month processed",
        )

    def nat_gateway(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        rtype = "AWS::EC2::NatGateway"
        standing = self.price("vpc", "NAT gateway", "hour", rtype, "NAT gateway") * HOURS_PER_MONTH
        gb = self.assumptions.nat_gb_processed
        processed = gb * self.price("vpc", "NAT gateway data processed", "GB", rtype, "data")
        yield self.item(
            logical_id,
            "NAT gateway",
            standing,
            standing + processed,
            standing + processed,
            keys=[("vpc", "NAT gateway"), ("vpc", "NAT gateway data processed")],
            assumption=f"{gb:g} GB/month processed",
        )

    def bucket(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        gb = self.assumptions.bucket_gb
        cost = gb * self.price("s3", "standard storage", "GB-month", "AWS::S3::Bucket", "storage")
        yield self.item(
            logical_id,
            "S3 bucket storage",
            cost,
            cost,
            cost,
            keys=[("s3", "standard storage")],
            assumption=f"{gb:g} GB stored",
        )

    def repository(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        gb = self.assumptions.repository_gb
        cost = gb * self.price("ecr", "storage", "GB-month", "AWS::ECR::Repository", "storage")
        yield self.item(
            logical_id,
            "image repository storage",
            cost,
            cost,
            cost,
            keys=[("ecr", "storage")],
            assumption=f"{gb:g} GB of images",
        )

    def _custom_resource_handler(self, logical_id: str) -> bool:
        """Whether a custom resource (``Custom::*``) is served by this function."""
        return any(
            str(resource.get("Type", "")).startswith("Custom::")
            and self.referenced((resource.get("Properties") or {}).get("ServiceToken"))
            == logical_id
            for resource in self.resources.values()
        )

    def function(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        if self._custom_resource_handler(logical_id):
            yield self.item(
                logical_id,
                "custom-resource handler",
                0,
                0,
                0,
                keys=[],
                assumption="runs during deployments only",
            )
            return
        a = self.assumptions
        rtype = "AWS::Lambda::Function"
        memory_gb = int(self.literal(props.get("MemorySize", 128), "MemorySize")) / 1024
        timeout = int(self.literal(props.get("Timeout", 3), "Timeout"))
        per_request = self.price("lambda", "requests", "1000000 requests", rtype, "requests")
        per_gb_second = self.price("lambda", "duration", "GB-second", rtype, "duration")
        invocations, how = a.lambda_invocations_per_month, "invocations/month"
        # A scheduled check (drift, quality) runs as often as its schedule says.
        notes: list[str] = []
        scheduled = runs_of(schedules_of(self.resources, logical_id), notes)
        self.notes.extend(f"{self.stack}/{logical_id}: {note}" for note in notes)
        if scheduled is not None:
            invocations, expression = scheduled
            how = f"invocations/month ({expression})"
        cost = invocations * (per_request / 1_000_000 + memory_gb * timeout * per_gb_second)
        keys = [("lambda", "requests"), ("lambda", "duration")]
        assumption = f"{invocations:,.0f} {how} x {timeout} s (its timeout)"
        variables = (props.get("Environment") or {}).get("Variables") or {}
        if "METRICS_NAMESPACE" in variables:
            metrics = a.custom_metrics_per_function
            cost += metrics * self.price(
                "cloudwatch", "custom metric", "metric-month", rtype, "custom metrics"
            )
            keys.append(("cloudwatch", "custom metric"))
            assumption += f"; {metrics:g} custom metrics (embedded metric format)"
        yield self.item(
            logical_id, "Lambda function", 0, cost, cost, keys=keys, assumption=assumption
        )

    def trail(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        data_events = any(
            (selector or {}).get("DataResources") for selector in props.get("EventSelectors") or []
        ) or any(
            field.get("Field") == "eventCategory" and "Data" in (field.get("Equals") or [])
            for selector in props.get("AdvancedEventSelectors") or []
            for field in (selector or {}).get("FieldSelectors") or []
        )
        yield self.item(
            logical_id,
            "CloudTrail trail (management events)",
            0,
            0,
            0,
            keys=[],
            # "First copy of management events to S3 per Region at no charge" (AWS
            # Prescriptive Guidance, cost model, citing CloudTrail pricing); further copies are
            # charged per 100,000 events, and an account under Control Tower has an
            # organisation trail already: this trail is then a second copy.
            assumption="free only as the region's first copy of management events; with an "
            "organisation trail (Control Tower) it is a second copy, charged per 100,000 "
            "events: not estimated (prefer change_detection.trail: existing)"
            + ("; data events are selected and not estimated" if data_events else ""),
        )

    def budget(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        daily = self.price("budgets", "budget", "budget-day", "AWS::Budgets::Budget", "budget")
        cost = daily * DAYS_PER_MONTH
        yield self.item(logical_id, "budget", cost, cost, cost, keys=[("budgets", "budget")])

    # -- the deployment pipeline ------------------------------------------------------------

    def _build_minutes(self, project: Mapping[str, Any]) -> float:
        description = str((project.get("Properties") or {}).get("Description", ""))
        a = self.assumptions
        return (
            a.synth_build_minutes
            if description.endswith(SYNTH_STEP_SUFFIX)
            else (a.other_build_minutes)
        )

    def pipeline(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        rtype = "AWS::CodePipeline::Pipeline"
        if props.get("PipelineType", "V1") != "V2":
            cost = self.price("codepipeline", "V1 active pipeline", "pipeline-month", rtype, "V1")
            yield self.item(
                logical_id, "pipeline (V1)", cost, cost, cost,
                keys=[("codepipeline", "V1 active pipeline")],
            )  # fmt: skip
            return
        a = self.assumptions
        minutes = 0.0
        for stage in props.get("Stages") or []:
            for action in stage.get("Actions") or []:
                kind = action.get("ActionTypeId") or {}
                if kind.get("Category") == "Approval":
                    continue
                if kind.get("Provider") == "CodeBuild":
                    project_id = self.referenced(
                        (action.get("Configuration") or {}).get("ProjectName")
                    )
                    minutes += self._build_minutes(self.resources.get(project_id or "", {}))
                else:
                    minutes += a.other_action_minutes
        per_minute = self.price("codepipeline", "V2 action execution", "minute", rtype, "V2")
        cost = a.pipeline_runs_per_month * minutes * per_minute
        yield self.item(
            logical_id,
            "pipeline (V2): action execution minutes",
            0,
            cost,
            cost,
            keys=[("codepipeline", "V2 action execution")],
            assumption=f"{a.pipeline_runs_per_month:g} runs/month x {minutes:g} action-minutes "
            f"(synth {a.synth_build_minutes:g}, other builds {a.other_build_minutes:g}, other "
            f"actions {a.other_action_minutes:g}; approvals not counted)",
        )

    def build_project(self, logical_id: str, props: Mapping[str, Any]) -> Iterator[LineItem]:
        environment = props.get("Environment") or {}
        compute = str(self.literal(environment.get("ComputeType"), "ComputeType"))
        platform = "arm" if "ARM" in str(environment.get("Type", "")) else "linux"
        item = f"{compute} {platform}"
        per_minute = self.price("codebuild", item, "minute", "AWS::CodeBuild::Project", item)
        minutes = self._build_minutes({"Properties": props})
        runs = self.assumptions.pipeline_runs_per_month
        cost = runs * minutes * per_minute
        yield self.item(
            logical_id,
            f"CodeBuild {compute}",
            0,
            cost,
            cost,
            keys=[("codebuild", item)],
            assumption=f"{runs:g} runs/month x {minutes:g} build minutes",
        )


def _bounds(windows: Windows, count: int) -> str:
    """``1-2 (initial 1); 64 % of the week at 1-1`` style description of the windows."""
    if len(windows.windows) == 1:
        (w,) = windows.windows
        return f"{w.min_capacity}-{w.max_capacity} (initial {count})"
    shares = ", ".join(f"{w.min_capacity}-{w.max_capacity} {w.share:.0%}" for w in windows.windows)
    return f"scheduled {shares} of the week (initial {count})"


HANDLERS: dict[str, Handler] = {
    "AWS::Budgets::Budget": _StackEstimator.budget,
    "AWS::CloudTrail::Trail": _StackEstimator.trail,
    "AWS::CloudWatch::Alarm": _StackEstimator.alarm,
    "AWS::CloudWatch::Dashboard": _StackEstimator.dashboard,
    "AWS::CodeBuild::Project": _StackEstimator.build_project,
    "AWS::CodePipeline::Pipeline": _StackEstimator.pipeline,
    "AWS::EC2::NatGateway": _StackEstimator.nat_gateway,
    "AWS::EC2::VPCEndpoint": _StackEstimator.vpc_endpoint,
    "AWS::ECR::Repository": _StackEstimator.repository,
    "AWS::KMS::Key": _StackEstimator.kms_key,
    "AWS::Lambda::Function": _StackEstimator.function,
    "AWS::Logs::LogGroup": _StackEstimator.log_group,
    "AWS::S3::Bucket": _StackEstimator.bucket,
    "AWS::SageMaker::Endpoint": _StackEstimator.endpoint,
    "AWS::StepFunctions::StateMachine": batch_state_machine,
}

__all__ = [
    "FREE_TYPES",
    "GB",
    "EnvironmentCost",
    "EstimateError",
    "LineItem",
    "MissingPrice",
    "PartCost",
    "estimate_environment",
]
