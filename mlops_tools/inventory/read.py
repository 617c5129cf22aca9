"""What each environment of a synthesized cloud assembly deploys, read from its templates.

Per environment: the Foundation (network, key, buckets, topics) and per service its stacks,
resource counts by type, image repository, models, endpoints (mode, variants with instance
types, weights and scaling; inference components; asynchronous output), batch jobs (state
machines that run a transform job, with their schedules), alarms and where they notify,
functions, the artifact-bucket prefixes it uses, and its monthly cost as ``make cost`` estimates
it (:mod:`mlops_tools.cost`). Nothing here imports aws_cdk or calls AWS.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_cdk.aws.cfn_values import reference
from mlops_tools.cost.cli import TOP_LEVEL, environment_name, region_of
from mlops_tools.cost.estimate import EnvironmentCost, EstimateError, estimate_environment
from mlops_tools.cost.prices import CostError, PriceBook
from mlops_tools.review.assembly import (
    NESTED_ASSEMBLY,
    STACK,
    AssemblyError,
    StackArtifact,
    read_assembly,
    read_top_level_stacks,
)
from mlops_tools.review.batch import batch_jobs
from mlops_tools.review.markdown import MISSING, Values, number
from mlops_tools.review.services import group_stacks
from mlops_tools.review.variants import DEFAULT_WEIGHT

Resource = Mapping[str, Any]
Resources = Mapping[str, Resource]

ALARM = "AWS::CloudWatch::Alarm"
BUCKET = "AWS::S3::Bucket"
ENDPOINT = "AWS::SageMaker::Endpoint"
ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"
FUNCTION = "AWS::Lambda::Function"
COMPONENT = "AWS::SageMaker::InferenceComponent"
KEY = "AWS::KMS::Key"
MODEL = "AWS::SageMaker::Model"
REPOSITORY = "AWS::ECR::Repository"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
SCALING_POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"
SUBSCRIPTION = "AWS::SNS::Subscription"
TOPIC = "AWS::SNS::Topic"
VPC = "AWS::EC2::VPC"
VPC_ENDPOINT = "AWS::EC2::VPCEndpoint"
SUBNET = "AWS::EC2::Subnet"

# CDK's logical ids end with an 8-character hash of the construct path.
_HASH = re.compile(r"[0-9A-F]{8}$")
_SERVICE_PREFIX = re.compile(r"^com\.amazonaws\.(?:[a-z0-9-]+|\$\{AWS::Region\})\.")
# An object key or key pattern (not the text of a state machine definition around a reference).
_KEY_TEXT = re.compile(r"^[\w.\-/*=]+$")
_OPERATORS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside band",
    "GreaterThanUpperThreshold": "above band",
    "LessThanLowerThreshold": "below band",
}


class InventoryError(Exception):
    """Exit 2: an unreadable assembly, an unknown environment or service."""


@dataclass(frozen=True)
class Cost:
    """USD per month (``make cost``'s figures)."""

    idle: float
    expected: float
    peak: float


@dataclass(frozen=True)
class Variant:
    name: str
    role: str
    """``production`` or ``shadow``."""
    model: str
    capacity: str
    """``2 x ml.m5.large``, ``2 x ml.g5.xlarge > ml.g6.xlarge``, ``serverless 2048 MB, ...``."""
    weight: str
    share: str
    scaling: str


@dataclass(frozen=True)
class Component:
    """An inference component on an endpoint's instances."""

    name: str
    model: str
    copies: str
    requirements: str
    scaling: str


@dataclass(frozen=True)
class Endpoint:
    name: str
    mode: str
    """``real-time``, ``serverless``, ``asynchronous``, ``inference components``."""
    variants: tuple[Variant, ...]
    components: tuple[Component, ...] = ()
    details: tuple[str, ...] = ()
    """Deployment policy, asynchronous output, ..."""


@dataclass(frozen=True)
class BatchJob:
    name: str
    model: str
    instances: str
    schedule: str
    timeout: str


@dataclass(frozen=True)
class Alarm:
    name: str
    description: str
    metric: str
    condition: str
    notifies: tuple[str, ...]


@dataclass(frozen=True)
class Named:
    """A model, function, topic or key: its name and what it is (images, subscribers, ...)."""

    name: str
    detail: str = ""


@dataclass(frozen=True)
class Part:
    """The Foundation or one service of an environment."""

    name: str
    stacks: tuple[str, ...]
    resources: tuple[tuple[str, int], ...]
    """(resource type, count), by type."""
    cost: Cost | None = None
    network: tuple[str, ...] = ()
    keys: tuple[Named, ...] = ()
    buckets: tuple[Named, ...] = ()
    prefixes: tuple[str, ...] = ()
    """Key prefixes of the artifact bucket the part reads or writes (``models/churn/``)."""
    repositories: tuple[Named, ...] = ()
    models: tuple[Named, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    batch_jobs: tuple[BatchJob, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    topics: tuple[Named, ...] = ()
    functions: tuple[Named, ...] = ()

    @property
    def resource_count(self) -> int:
        return sum(count for _, count in self.resources)


@dataclass(frozen=True)
class EnvironmentInventory:
    name: str
    region: str | None
    foundation: Part | None
    services: tuple[Part, ...]
    others: tuple[Part, ...] = ()
    """Stacks of neither the Foundation nor a service (one part each)."""
    cost: Cost | None = None
    problems: tuple[str, ...] = ()
    """Why the cost is missing (a price missing from the price file, ...)."""

    @property
    def parts(self) -> tuple[Part, ...]:
        return (*((self.foundation,) if self.foundation else ()), *self.services, *self.others)


# -- reading the assembly -------------------------------------------------------------------


def read_inventory(
    directory: Path,
    *,
    environments: Sequence[str] = (),
    services: Sequence[str] = (),
    prices: PriceBook | None = None,
) -> list[EnvironmentInventory]:
    """The inventory of the assembly's environments (all, or those named), in name order,
    with only the services named when ``services`` is given."""
    try:
        found = {environment_name(n): s for n, s in read_assembly(directory).items()}
        if top_level := read_top_level_stacks(directory):
            found[TOP_LEVEL] = top_level
        paths = construct_paths(directory)
    except AssemblyError as exc:
        raise InventoryError(str(exc)) from exc
    unknown = [name for name in environments if name not in found]
    if unknown:
        known = ", ".join(sorted(found)) or "none"
        raise InventoryError(f"unknown environment {unknown[0]!r} in {directory} (it has: {known})")
    book = prices or PriceBook.load()
    result = [
        environment_inventory(name, found[name], paths, prices=book)
        for name in sorted(environments or found)
    ]
    if services:
        return _only_services(result, services)
    return result


def _only_services(
    inventories: list[EnvironmentInventory], services: Sequence[str]
) -> list[EnvironmentInventory]:
    present = {part.name for env in inventories for part in env.services}
    missing = [name for name in services if name not in present]
    if missing:
        known = ", ".join(sorted(present)) or "none"
        raise InventoryError(f"unknown service {missing[0]!r} (services here: {known})")
    result = []
    for env in inventories:
        kept = tuple(p for p in env.services if p.name in services)
        if kept:
            costs = [p.cost for p in kept]
            total = None
            if all(costs):
                total = Cost(*(sum(getattr(c, f) for c in costs) for f in _FIGURES))
            result.append(
                EnvironmentInventory(env.name, env.region, None, kept, (), total, env.problems)
            )
    return result


_FIGURES = ("idle", "expected", "peak")


def construct_paths(directory: Path) -> dict[str, str]:
    """Stack name -> logical id -> construct path, as ``<stack>/<logical id>`` keys, from the
    stacks' ``aws:cdk:logicalId`` metadata (the templates carry paths only when the CLI adds
    them)."""
    found: dict[str, str] = {}
    nested = [directory]
    manifest = _manifest(directory)
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == NESTED_ASSEMBLY:
            props = artifact.get("properties", {})
            nested.append(directory / props.get("directoryName", artifact_id))
    for folder in nested:
        for artifact_id, artifact in _manifest(folder).get("artifacts", {}).items():
            if artifact.get("type") != STACK:
                continue
            stack = artifact.get("properties", {}).get("stackName") or artifact_id
            metadata: dict[str, list[Any]] = dict(artifact.get("metadata", {}))
            if extra := artifact.get("additionalMetadataFile"):
                metadata.update(_manifest(folder / extra))
            for path, entries in metadata.items():
                for entry in entries:
                    if entry.get("type") == "aws:cdk:logicalId":
                        found[f"{stack}/{entry.get('data')}"] = path
    return found


def _manifest(path: Path) -> dict[str, Any]:
    """A folder's ``manifest.json``, or a metadata file."""
    file = path / "manifest.json" if path.is_dir() else path
    try:
        data: dict[str, Any] = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise AssemblyError(f"cannot read {file}: {exc}") from exc
    return data


def environment_inventory(
    name: str,
    stacks: Mapping[str, StackArtifact],
    paths: Mapping[str, str],
    *,
    prices: PriceBook,
) -> EnvironmentInventory:
    templates = {stack_name: stack.template for stack_name, stack in stacks.items()}
    cost, problems, region = _estimate(name, stacks, prices)
    values = Values.of(templates)
    foundation, services, others = None, [], []
    for group in group_stacks(name, templates):
        reader = _PartReader(name, group.stacks, templates, paths, values)
        part_cost = _part_cost(cost, group.name, group.kind)
        if group.kind == "foundation":
            foundation = reader.part("Foundation", part_cost)
        elif group.kind == "service":
            services.append(reader.part(group.name, part_cost))
        else:
            others.append(reader.part(group.name, part_cost))
    total = Cost(cost.idle, cost.expected, cost.peak) if cost else None
    return EnvironmentInventory(
        name, region, foundation, tuple(services), tuple(others), total, tuple(problems)
    )


def _estimate(
    name: str, stacks: Mapping[str, StackArtifact], prices: PriceBook
) -> tuple[EnvironmentCost | None, list[str], str | None]:
    templates = {stack_name: stack.template for stack_name, stack in stacks.items()}
    try:
        region = region_of(name, stacks)
        return estimate_environment(name, templates, region=region, prices=prices), [], region
    except EstimateError as exc:
        return None, exc.problems, _any_region(stacks)
    except CostError as exc:
        return None, [str(exc)], _any_region(stacks)


def _any_region(stacks: Mapping[str, StackArtifact]) -> str | None:
    return next((s.region for _, s in sorted(stacks.items()) if s.region), None)


def _part_cost(cost: EnvironmentCost | None, name: str, kind: str) -> Cost | None:
    if cost is None:
        return None
    for part in cost.parts:
        if part.kind == kind and part.name == name:
            return Cost(part.idle, part.expected, part.peak)
    return None


def label(logical_id: str) -> str:
    """``AlarmTopicC2164170`` -> ``AlarmTopic``."""
    return _HASH.sub("", logical_id) or logical_id


@dataclass
class _PartReader:
    environment: str
    stacks: tuple[str, ...]
    templates: Mapping[str, Mapping[str, Any]]
    paths: Mapping[str, str]
    values: Values
    _names: dict[tuple[str, str], str] = field(default_factory=dict)

    def resources(self, *types: str) -> Iterator[tuple[str, str, Resource]]:
        """(stack, logical id, resource) of the part, of the given types (all when none)."""
        for stack in self.stacks:
            found: Resources = self.templates[stack].get("Resources") or {}
            for logical_id, resource in sorted(found.items()):
                if not types or resource.get("Type") in types:
                    yield stack, logical_id, resource

    def name(self, stack: str, logical_id: str) -> str:
        """The construct path below the stack (``Alarms/Variant-champion/Latency``)."""
        path = self.paths.get(f"{stack}/{logical_id}")
        if path is None:
            return label(logical_id)
        parts = [p for p in path.split("/") if p]
        parts = parts[2:] if len(parts) > 2 else parts  # <environment>/<stack id>/...
        while len(parts) > 1 and parts[-1] in ("Resource", "Default"):
            parts.pop()
        return "/".join(parts)

    def part(self, name: str, cost: Cost | None) -> Part:
        counts = Counter(str(r.get("Type")) for _, _, r in self.resources())
        counts.pop("AWS::CDK::Metadata", None)
        return Part(
            name=name,
            stacks=self.stacks,
            resources=tuple(sorted(counts.items())),
            cost=cost,
            network=tuple(self.network()),
            keys=tuple(self.keys()),
            buckets=tuple(self.buckets()),
            prefixes=tuple(self.prefixes()),
            repositories=tuple(self.repositories()),
            models=tuple(self.models()),
            endpoints=tuple(self.endpoints()),
            batch_jobs=tuple(self.batch_jobs()),
            alarms=tuple(self.alarms()),
            topics=tuple(self.topics()),
            functions=tuple(self.functions()),
        )

    def props(self, resource: Resource) -> Mapping[str, Any]:
        found: Mapping[str, Any] = resource.get("Properties") or {}
        return found

    # -- Foundation -----------------------------------------------------------------------

    def network(self) -> Iterator[str]:
        for _, _, vpc in self.resources(VPC):
            cidr = self.values.text(self.props(vpc).get("CidrBlock", MISSING))
            subnets = sum(1 for _ in self.resources(SUBNET))
            yield f"VPC {cidr}, {subnets} subnets"
        interface: list[str] = []
        gateway: list[str] = []
        for _, _, endpoint in self.resources(VPC_ENDPOINT):
            props = self.props(endpoint)
            service = _SERVICE_PREFIX.sub("", self.values.text(props.get("ServiceName", "?")))
            kind = props.get("VpcEndpointType", "Gateway")
            (interface if kind == "Interface" else gateway).append(service)
        if interface:
            yield f"interface endpoints: {', '.join(sorted(interface))}"
        if gateway:
            yield f"gateway endpoints: {', '.join(sorted(gateway))}"

    def keys(self) -> Iterator[Named]:
        for stack, logical_id, key in self.resources(KEY):
            props = self.props(key)
            rotation = "rotation on" if props.get("EnableKeyRotation") else "rotation off"
            description = self.values.text(props.get("Description", ""))
            detail = f"{description}, {rotation}" if description else rotation
            yield Named(self.name(stack, logical_id), detail)

    def buckets(self) -> Iterator[Named]:
        for stack, logical_id, bucket in self.resources(BUCKET):
            versioning = (self.props(bucket).get("VersioningConfiguration") or {}).get("Status")
            yield Named(
                self.name(stack, logical_id), f"versioning {str(versioning or 'off').lower()}"
            )

    # -- a service ------------------------------------------------------------------------

    def prefixes(self) -> Iterator[str]:
        """Literal key prefixes joined to a reference to a bucket (``s3://${bucket}/models/x/``
        in model data, capture, asynchronous output, transform input and policies) and the
        functions' ``*_PREFIX``/``*_KEY`` variables: the first two levels of each."""
        found: set[str] = set()
        for _, _, resource in self.resources():
            found |= set(_bucket_suffixes(resource.get("Properties")))
            if resource.get("Type") == FUNCTION:
                variables = (self.props(resource).get("Environment") or {}).get("Variables") or {}
                for key, value in variables.items():
                    if key.endswith(("_PREFIX", "_KEY")) and isinstance(value, str):
                        found.add(value)
        yield from sorted({p for p in map(_two_levels, found) if p})

    def repositories(self) -> Iterator[Named]:
        for stack, logical_id, repository in self.resources(REPOSITORY):
            props = self.props(repository)
            name = props.get("RepositoryName")
            mutability = props.get("ImageTagMutability", "MUTABLE")
            shown = self.values.text(name) if name else self.name(stack, logical_id)
            yield Named(shown, f"tags {str(mutability).lower()}")

    def models(self) -> Iterator[Named]:
        for stack, logical_id, model in self.resources(MODEL):
            props = self.props(model)
            containers = props.get("Containers") or [props.get("PrimaryContainer") or {}]
            images = [_image(c.get("Image")) for c in containers if isinstance(c, dict)]
            yield Named(self._model_name(stack, logical_id), " -> ".join(images))

    def _model_name(self, stack: str, logical_id: str) -> str:
        name = self.name(stack, logical_id)
        return name.removesuffix("/Model").removeprefix("Model-")

    def _model_of(self, stack: str, value: Any) -> str:
        found = reference(value)
        if found is None:
            return self.values.text(value) if value is not None else MISSING
        return self._model_name(stack, found[0])

    def endpoints(self) -> Iterator[Endpoint]:
        for stack, logical_id, endpoint in self.resources(ENDPOINT):
            yield self._endpoint(stack, logical_id, self.props(endpoint))

    def _endpoint(self, stack: str, logical_id: str, props: Mapping[str, Any]) -> Endpoint:
        name = self.values.text(props.get("EndpointName") or self.name(stack, logical_id))
        found = reference(props.get("EndpointConfigName"))
        resources: Resources = self.templates[stack].get("Resources") or {}
        config = self.props(resources.get(found[0], {})) if found else {}
        production = [v for v in config.get("ProductionVariants") or [] if isinstance(v, dict)]
        shadows = [v for v in config.get("ShadowProductionVariants") or [] if isinstance(v, dict)]
        weights = [v.get("InitialVariantWeight", DEFAULT_WEIGHT) for v in production]
        total = sum(w for w in weights if isinstance(w, int | float))
        scaling = self._scaling(stack)
        variants = []
        for variant, weight in zip(production, weights, strict=True):
            share = f"{number(100 * weight / total)} %" if total else "?"
            variants.append(
                self._variant(stack, name, variant, role="production", share=share, scaling=scaling)
            )
        for variant in shadows:
            variants.append(
                self._variant(stack, name, variant, role="shadow", share="copy", scaling=scaling)
            )
        components = tuple(self._components(stack, logical_id, scaling))
        return Endpoint(
            name=name,
            mode=_mode(config, production, components),
            variants=tuple(variants),
            components=components,
            details=tuple(self._details(props, config)),
        )

    def _variant(
        self,
        stack: str,
        endpoint: str,
        variant: Mapping[str, Any],
        *,
        role: str,
        share: str,
        scaling: Mapping[str, str],
    ) -> Variant:
        name = self.values.text(variant.get("VariantName", MISSING))
        return Variant(
            name=name,
            role=role,
            model=self._model_of(stack, variant.get("ModelName")) if "ModelName" in variant else "",
            capacity=self._capacity(variant),
            weight=self.values.text(variant.get("InitialVariantWeight", DEFAULT_WEIGHT)),
            share=share,
            scaling=scaling.get(f"endpoint/{endpoint}/variant/{name}", "none"),
        )

    def _capacity(self, variant: Mapping[str, Any]) -> str:
        serverless = variant.get("ServerlessConfig")
        if isinstance(serverless, dict):
            text = (
                f"serverless {self.values.text(serverless.get('MemorySizeInMB', MISSING))} MB, "
                f"max concurrency {self.values.text(serverless.get('MaxConcurrency', MISSING))}"
            )
            if "ProvisionedConcurrency" in serverless:
                text += f", provisioned {self.values.text(serverless['ProvisionedConcurrency'])}"
            return text
        pools = [p for p in variant.get("InstancePools") or [] if isinstance(p, dict)]
        types = (
            " > ".join(
                self.values.text(p.get("InstanceType", MISSING))
                for p in sorted(pools, key=lambda p: str(p.get("Priority")))
            )
            if pools
            else self.values.text(variant.get("InstanceType", MISSING))
        )
        count = self.values.text(variant.get("InitialInstanceCount", MISSING))
        managed = variant.get("ManagedInstanceScaling")
        text = f"{count} x {types}"
        if isinstance(managed, dict) and managed.get("Status") == "ENABLED":
            text += (
                f" (managed {self.values.text(managed.get('MinInstanceCount', 0))}-"
                f"{self.values.text(managed.get('MaxInstanceCount', MISSING))})"
            )
        return text

    def _components(
        self, stack: str, endpoint_id: str, scaling: Mapping[str, str]
    ) -> Iterator[Component]:
        for _, logical_id, component in self.resources(COMPONENT):
            props = self.props(component)
            endpoint = reference(props.get("EndpointName"))
            if endpoint is None or endpoint[0] != endpoint_id:
                continue
            name = self.values.text(props.get("InferenceComponentName") or label(logical_id))
            spec = props.get("Specification") or {}
            needs = spec.get("ComputeResourceRequirements") or {}
            requirements = [
                f"{self.values.text(needs[key])} {what}"
                for key, what in (
                    ("NumberOfCpuCoresRequired", "CPU cores"),
                    ("NumberOfAcceleratorDevicesRequired", "accelerators"),
                    ("MinMemoryRequiredInMb", "MB"),
                )
                if key in needs
            ]
            copies = (props.get("RuntimeConfig") or {}).get("CopyCount", MISSING)
            yield Component(
                name=name,
                model=self._model_of(stack, spec.get("ModelName")),
                copies=self.values.text(copies),
                requirements=", ".join(requirements) or MISSING,
                scaling=scaling.get(f"inference-component/{name}", "none"),
            )

    def _details(self, props: Mapping[str, Any], config: Mapping[str, Any]) -> Iterator[str]:
        deployment = props.get("DeploymentConfig") or {}
        blue_green = deployment.get("BlueGreenUpdatePolicy")
        if isinstance(blue_green, dict):
            routing = blue_green.get("TrafficRoutingConfiguration") or {}
            kind = self.values.text(routing.get("Type", MISSING)).lower().replace("_", " ")
            rollback = (deployment.get("AutoRollbackConfiguration") or {}).get("Alarms") or []
            yield f"blue/green {kind}, {len(rollback)} rollback alarm(s)"
        elif "RollingUpdatePolicy" in deployment:
            yield "rolling update"
        data_capture = config.get("DataCaptureConfig") or {}
        if data_capture.get("EnableCapture", True) and data_capture:
            sampling = self.values.text(data_capture.get("InitialSamplingPercentage", MISSING))
            yield f"data capture {sampling} %"
        asynchronous = config.get("AsyncInferenceConfig")
        if isinstance(asynchronous, dict):
            output = asynchronous.get("OutputConfig") or {}
            where = _two_levels(_bucket_path(output.get("S3OutputPath")) or "") or "?"
            per_instance = (asynchronous.get("ClientConfig") or {}).get(
                "MaxConcurrentInvocationsPerInstance"
            )
            concurrency = self.values.text(per_instance) if per_instance else "SageMaker's choice"
            topics = sorted(
                k.removesuffix("Topic").lower()
                for k in (output.get("NotificationConfig") or {})
                if k.endswith("Topic")
            )
            notify = f", notifies on {' and '.join(topics)}" if topics else ""
            yield f"async output {where}, {concurrency} per instance{notify}"

    def _scaling(self, stack: str) -> dict[str, str]:
        """Scalable target resource id -> ``min-max, <metric> target <value>, ...``."""
        policies: dict[str, list[str]] = {}
        for _, _, policy in self.resources(SCALING_POLICY):
            props = self.props(policy)
            scaled = reference(props.get("ScalingTargetId"))
            if scaled is not None:
                policies.setdefault(scaled[0], []).append(self._policy(props))
        found = {}
        for target_stack, logical_id, target in self.resources(SCALABLE_TARGET):
            if target_stack != stack:
                continue
            props = self.props(target)
            bounds = (
                f"{self.values.text(props.get('MinCapacity', MISSING))}-"
                f"{self.values.text(props.get('MaxCapacity', MISSING))}"
            )
            dimension = str(props.get("ScalableDimension", "")).rsplit(":", 1)[-1]
            parts = [f"{bounds} {_dimension_label(dimension)}", *policies.get(logical_id, [])]
            if actions := props.get("ScheduledActions"):
                parts.append(f"{len(actions)} scheduled action(s)")
            found[self.values.text(props.get("ResourceId", logical_id))] = ", ".join(parts)
        return found

    def _policy(self, props: Mapping[str, Any]) -> str:
        tracking = props.get("TargetTrackingScalingPolicyConfiguration")
        if isinstance(tracking, dict):
            predefined = tracking.get("PredefinedMetricSpecification") or {}
            custom = tracking.get("CustomizedMetricSpecification") or {}
            metric = predefined.get("PredefinedMetricType") or custom.get("MetricName") or "?"
            return f"{metric} target {self.values.text(tracking.get('TargetValue', MISSING))}"
        return "step scaling"

    def batch_jobs(self) -> Iterator[BatchJob]:
        templates = {stack: self.templates[stack] for stack in self.stacks}
        for job in batch_jobs(templates).values():
            fields = {key: _uncode(value) for key, value in job.fields.items()}
            model = fields["model"]
            if job.model_id is not None:
                model = self._model_name(job.stack, job.model_id)
            yield BatchJob(
                name=job.name,
                model=model,
                instances=fields["instances"],
                schedule=fields["schedule"],
                timeout=fields["timeout"],
            )

    def alarms(self) -> Iterator[Alarm]:
        for stack, logical_id, alarm in self.resources(ALARM):
            props = self.props(alarm)
            description = self.values.text(props.get("AlarmDescription", ""))
            operator = str(props.get("ComparisonOperator", ""))
            threshold = props.get("Threshold")
            condition = _OPERATORS.get(operator, operator)
            if threshold is not None:
                condition = f"{condition} {self.values.text(threshold)}"
            yield Alarm(
                name=self.name(stack, logical_id),
                description=_first_clause(description),
                metric=self._metric(props),
                condition=condition,
                notifies=tuple(self._action(stack, a) for a in props.get("AlarmActions") or []),
            )

    def _metric(self, props: Mapping[str, Any]) -> str:
        if "MetricName" in props:
            return f"{self.values.text(props.get('Namespace', '?'))} {props['MetricName']}"
        names = sorted(
            {
                str(((query.get("MetricStat") or {}).get("Metric") or {}).get("MetricName"))
                for query in props.get("Metrics") or []
                if isinstance(query, dict) and query.get("MetricStat")
            }
        )
        return f"math over {', '.join(names)}" if names else "math"

    def _action(self, stack: str, action: Any) -> str:
        found = reference(action)
        resources: Resources = self.templates[stack].get("Resources") or {}
        if found is not None and found[0] in resources:
            kind = str(resources[found[0]].get("Type", "")).split("::")[-1]
            noun = {"Topic": "topic", "Function": "function", "ScalingPolicy": "scaling"}.get(
                kind, kind
            )
            return f"{noun} {self.name(stack, found[0]).removesuffix('/Topic')}"
        text = self.values.text(action)
        return f"topic {text}" if ":sns:" in text or "Topic" in text else text

    def topics(self) -> Iterator[Named]:
        subscribers: dict[str, list[str]] = {}
        for _, _, subscription in self.resources(SUBSCRIPTION):
            props = self.props(subscription)
            topic_ref = reference(props.get("TopicArn"))
            if topic_ref is not None:
                endpoint = self.values.text(props.get("Endpoint", MISSING))
                protocol = self.values.text(props.get("Protocol", "?"))
                subscribers.setdefault(topic_ref[0], []).append(f"{protocol} {endpoint}")
        for stack, logical_id, topic in self.resources(TOPIC):
            display = self.values.text(self.props(topic).get("DisplayName", ""))
            who = ", ".join(sorted(subscribers.get(logical_id, []))) or "no subscriptions"
            detail = f"{display}: {who}" if display else who
            yield Named(self.name(stack, logical_id).removesuffix("/Topic"), detail)

    def functions(self) -> Iterator[Named]:
        for stack, logical_id, function in self.resources(FUNCTION):
            props = self.props(function)
            description = self.values.text(props.get("Description", ""))
            yield Named(self.name(stack, logical_id), _first_clause(description))


def _mode(
    config: Mapping[str, Any],
    production: Sequence[Mapping[str, Any]],
    components: Sequence[Component],
) -> str:
    if components or (
        config.get("ExecutionRoleArn") and not any("ModelName" in v for v in production)
    ):
        return "inference components"
    if "AsyncInferenceConfig" in config:
        return "asynchronous"
    if production and all("ServerlessConfig" in v for v in production):
        return "serverless"
    if config.get("ShadowProductionVariants"):
        return "real-time with shadow"
    return "real-time"


def _dimension_label(dimension: str) -> str:
    return {
        "DesiredInstanceCount": "instances",
        "DesiredProvisionedConcurrency": "provisioned concurrency",
        "DesiredCopyCount": "copies",
    }.get(dimension, dimension)


def _bucket_suffixes(value: Any) -> Iterator[str]:
    """Literal text that follows a reference to a bucket in an ``Fn::Join``, anywhere."""
    if isinstance(value, dict):
        if found := _bucket_path(value):
            yield found
        for item in value.values():
            yield from _bucket_suffixes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _bucket_suffixes(item)


def _bucket_path(value: Any) -> str | None:
    """``models/churn/1.0.0/model.tar.gz`` of ``{"Fn::Join": ["", ["s3://", <bucket>,
    "/models/churn/1.0.0/model.tar.gz"]]}`` (also ARNs: ``arn:...:s3:::<bucket>/x/*``)."""
    join = value.get("Fn::Join") if isinstance(value, dict) else None
    if not (isinstance(join, list) and len(join) == 2 and isinstance(join[1], list)):
        return None
    parts = join[1]
    for before, after in itertools.pairwise(parts):
        bucket = isinstance(before, dict) and "Bucket" in str(before)
        key = isinstance(after, str) and after.startswith("/") and len(after) > 1
        if bucket and key and _KEY_TEXT.match(after[1:]):
            return str(after[1:])
    return None


def _two_levels(path: str) -> str:
    """``models/churn/1.0.0/model.tar.gz`` -> ``models/churn/``; wildcards end a prefix."""
    levels = [p for p in path.split("*", 1)[0].split("/") if p]
    return "/".join(levels[:2]) + "/" if levels else ""


def _image(value: Any) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3`` ->
    ``sagemaker-scikit-learn:1.2-1-cpu-py3``; an image of the service's repository ->
    ``repository:1.0.0``."""
    if isinstance(value, str):
        return _short_digest(value.rsplit("/", 1)[-1])
    join = value.get("Fn::Join") if isinstance(value, dict) else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[1], list) and join[1]:
        last = join[1][-1]
        if isinstance(last, str) and last[:1] in (":", "@"):
            return f"repository{_short_digest(last)}"
    return "?"


def _short_digest(reference: str) -> str:
    """``@sha256:<64 hex>`` -> ``@sha256:<12 hex>…``."""
    return re.sub(r"(@sha256:[0-9a-f]{12})[0-9a-f]{52}", r"\1…", reference)


def _uncode(text: str) -> str:
    """Markdown code spans of the review report's fields as plain text."""
    return re.sub(r"``? ?([^`]*?) ?``?", r"\1", text)


def _first_clause(text: str, limit: int = 90) -> str:
    """The text up to its first ``;`` or sentence end, at most ``limit`` characters."""
    clause = re.split(r";|\.\s", text, maxsplit=1)[0].strip().removesuffix(".")
    return clause if len(clause) <= limit else clause[: limit - 1].rstrip() + "…"


__all__ = [
    "Alarm",
    "BatchJob",
    "Component",
    "Cost",
    "Endpoint",
    "EnvironmentInventory",
    "InventoryError",
    "Named",
    "Part",
    "Variant",
    "read_inventory",
]
