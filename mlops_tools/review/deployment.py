"""What a deploy does to a running SageMaker endpoint, beyond the text of its endpoint config.

The AWS behaviour encoded here, from the SageMaker developer guide (DG) and API reference (API):

- **Retained variant properties** (API: UpdateEndpoint ``RetainAllVariantProperties`` and
  ``ExcludeRetainedVariantProperties``; API: VariantProperty). With
  ``RetainAllVariantProperties: true`` an update keeps the running variants' properties; only the
  ``VariantPropertyType`` values listed in ``ExcludeRetainedVariantProperties``
  (``DesiredInstanceCount``, ``DesiredWeight``) are taken from the new endpoint config. DG
  "Update endpoints that use auto scaling": with it, variants of the same name are updated "with
  the most recent DesiredInstanceCount ... regardless of the values of the InitialInstanceCount
  field in the new EndpointConfig". So a changed ``InitialInstanceCount`` reaches a new endpoint
  or a new variant, not a running one: its count moves with the autoscaling min/max.
- **Autoscaling blocks some updates** (DG "Update endpoints that use auto scaling"): while a
  variant is a scalable target, an update that changes the variant's instance type, or removes
  the variant, fails; deregister the scalable target (and delete its scaling policies) first,
  then update, then register it again. CloudFormation deletes resources removed from a
  template only in the cleanup phase after all updates, so removing the target in the same
  deploy as the change does not help: it takes two releases.
- **Blue/green** (DG "Blue/Green Deployments"; API: BlueGreenUpdatePolicy, TrafficRoutingConfig,
  CapacitySize): an update creates a new (green) fleet while the old (blue) one serves, and then
  shifts traffic to it; with no update policy SageMaker uses blue/green with all at once
  shifting. Every new endpoint config is a new fleet, a change of weights only included.
  ``WaitIntervalInSeconds`` (required by TrafficRoutingConfig for every type) is the baking
  period: between the steps of a canary or linear shift, and after the switch for all at once;
  rollback alarms are evaluated only then. ``TerminationWaitInSeconds`` is the wait before the
  old fleet is terminated. A ``CAPACITY_PERCENT`` step is rounded up to whole instances of
  the variant; an ``INSTANCE_COUNT`` step is that many instances.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_cdk.aws.cfn_values import imports, is_intrinsic, references
from mlops_cdk.aws.guardrails import STEP_TYPES, effective_step
from mlops_cdk.aws.variant_facts import instance_types
from mlops_tools.review.changes import (
    ResourceChange,
    changing_exports,
    exports,
    resources,
)
from mlops_tools.review.markdown import MISSING, Values, code, number, plain, table
from mlops_tools.review.variants import (
    DEFAULT_WEIGHT,
    ENDPOINT_CONFIG,
    production_variants,
    shadow_variants,
    traffic_shares,
    variant_table,
)

ENDPOINT = "AWS::SageMaker::Endpoint"
MODEL = "AWS::SageMaker::Model"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
SCALING_POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"
ALARM = "AWS::CloudWatch::Alarm"
INSTANCE_COUNT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
# VariantPropertyType -> the column of the variants table it decides.
FIELD_OF = {"DesiredInstanceCount": "count", "DesiredWeight": "weight"}
RETAINABLE = frozenset(FIELD_OF)
# The endpoint's own change: with these, the running endpoint is updated (UpdateEndpoint);
# added, replaced or removed, it is created or deleted instead.
RUNNING = frozenset({"update", "unchanged"})
REPLACING = frozenset({"replace", "added", "removed"})
ACTION_WORDS = {
    "added": "added",
    "removed": "removed",
    "replace": "replaced",
    "update": "updated",
    "unchanged": "unchanged",
}
# Traffic routing type -> (its CapacitySize property, label of a step)
STEPPED = {"CANARY": ("CanarySize", "canary"), "LINEAR": ("LinearStepSize", "linear")}
_ROUTING = ("BlueGreenUpdatePolicy", "TrafficRoutingConfiguration")
DEPLOYMENT_FIELDS: tuple[tuple[tuple[str, ...], str], ...] = (
    ((*_ROUTING, "Type"), "traffic routing type"),
    ((*_ROUTING, "CanarySize"), "canary size"),
    ((*_ROUTING, "LinearStepSize"), "linear step size"),
    ((*_ROUTING, "WaitIntervalInSeconds"), "wait interval (bake)"),
    (("BlueGreenUpdatePolicy", "TerminationWaitInSeconds"), "termination wait"),
    (("BlueGreenUpdatePolicy", "MaximumExecutionTimeoutInSeconds"), "max execution timeout"),
)
ROLLBACK_ALARMS = ("AutoRollbackConfiguration", "Alarms")
DEPLOYMENT_HEADER = ("field", "before", "after")

Templates = Mapping[str, Mapping[str, Any]]  # stack name -> template
Ref = tuple[str, str]  # (stack, logical id)
Changes = Mapping[str, Mapping[str, ResourceChange]]

# Application Auto Scaling's ResourceId of a SageMaker variant.
_RESOURCE_ID = re.compile(r"^endpoint/(?P<endpoint>[^/]+)/variant/(?P<variant>[^/]+)$")


@dataclass(frozen=True)
class Endpoint:
    """An AWS::SageMaker::Endpoint of one side."""

    stack: str
    logical_id: str
    name: str
    """EndpointName as text; ``${<logical id>.EndpointName}`` when CloudFormation names it."""
    config_id: str | None
    """Logical id of the endpoint config it serves (same stack)."""
    properties: Mapping[str, Any]

    def called(self, text: str, stack: str) -> bool:
        """Whether ``text``, written in a template of ``stack``, is this endpoint's name."""
        own = f"${{{self.logical_id}.EndpointName}}"
        return text == self.name or (stack == self.stack and text == own)

    @property
    def deployment(self) -> Mapping[str, Any]:
        found = self.properties.get("DeploymentConfig")
        return found if isinstance(found, dict) else {}


@dataclass(frozen=True)
class Routing:
    """How an update of an endpoint shifts traffic to its new fleet (blue/green)."""

    strategy: str
    step: Any
    """The CapacitySize of a canary / linear step; None for all at once."""
    bake: Any
    """Seconds of baking: WaitIntervalInSeconds (0 when a template omits it)."""
    default: bool = False
    """No BlueGreenUpdatePolicy: SageMaker's default (all at once)."""

    def describe(self) -> str:
        return f"{self.strategy} (SageMaker's default)" if self.default else self.strategy


def blue_green(endpoint: Endpoint) -> Routing | None:
    """The blue/green routing of an update of ``endpoint``; None for a rolling update."""
    deployment = endpoint.deployment
    policy = deployment.get("BlueGreenUpdatePolicy")
    if not isinstance(policy, dict):
        if "RollingUpdatePolicy" in deployment:
            return None
        return Routing("ALL_AT_ONCE", None, 0, default=True)
    routing = policy.get("TrafficRoutingConfiguration")
    routing = routing if isinstance(routing, dict) else {}
    strategy = Values().text(routing.get("Type", "ALL_AT_ONCE"))
    if strategy in STEPPED:
        step = routing.get(STEPPED[strategy][0])
        return Routing(strategy, step, routing.get("WaitIntervalInSeconds", "?"))
    return Routing(strategy, None, routing.get("WaitIntervalInSeconds", 0))


def step_text(routing: Routing | None, count: Any) -> str | None:
    """``canary: 1 of 2 instances = 50 %`` for a variant of ``count`` instances, or None when
    the routing has no canary / linear step or the numbers are not literal."""
    if routing is None or routing.strategy not in STEPPED or not isinstance(routing.step, dict):
        return None
    kind, value = routing.step.get("Type"), routing.step.get("Value")
    if not isinstance(value, int) or isinstance(value, bool) or not _is_int(count) or count < 1:
        return None
    if kind not in STEP_TYPES:
        return None
    size = effective_step(kind, value, count)  # capacity rounded up to whole instances
    label, unit = STEPPED[routing.strategy][1], "instance" if count == 1 else "instances"
    text = f"{label}: {size} of {count} {unit} = {number(100 * size / count)} %"
    return f"{text} per step" if routing.strategy == "LINEAR" else text


def retained(endpoint: Endpoint) -> frozenset[str]:
    """The variant properties an update of ``endpoint`` keeps from the running endpoint."""
    properties = endpoint.properties
    if str(properties.get("RetainAllVariantProperties")).lower() != "true":
        return frozenset()
    excluded = {
        Values().text(p.get("VariantPropertyType"))
        for p in properties.get("ExcludeRetainedVariantProperties") or []
        if isinstance(p, dict)
    }
    return RETAINABLE - excluded


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Side:
    """One side's templates (before or after), indexed for endpoints."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        self.values = Values.of(templates)
        self.endpoints = {(e.stack, e.logical_id): e for e in self._find_endpoints()}

    def resource(self, stack: str, logical_id: str | None) -> Mapping[str, Any]:
        if logical_id is None:
            return {}
        found: Mapping[str, Any] = resources(self.templates.get(stack, {})).get(logical_id) or {}
        return found

    def of_type(self, resource_type: str) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
        """(stack, logical id, properties) of every resource of a type, sorted."""
        for stack in sorted(self.templates):
            for logical_id, resource in sorted(resources(self.templates[stack]).items()):
                if isinstance(resource, dict) and resource.get("Type") == resource_type:
                    yield stack, logical_id, resource.get("Properties") or {}

    def _find_endpoints(self) -> Iterator[Endpoint]:
        for stack, logical_id, properties in self.of_type(ENDPOINT):
            name = properties.get("EndpointName")
            yield Endpoint(
                stack=stack,
                logical_id=logical_id,
                name=self.values.text(name) if name else f"${{{logical_id}.EndpointName}}",
                config_id=self._config_of(stack, properties.get("EndpointConfigName")),
                properties=properties,
            )

    def _config_of(self, stack: str, value: Any) -> str | None:
        configs = {lid: p for s, lid, p in self.of_type(ENDPOINT_CONFIG) if s == stack}
        referenced = sorted(references(value) & configs.keys())
        if referenced:
            return referenced[0]
        text = self.values.text(value)
        named = [
            lid
            for lid, p in configs.items()
            if "EndpointConfigName" in p and self.values.text(p["EndpointConfigName"]) == text
        ]
        return named[0] if named else None

    def config(self, endpoint: Endpoint | None) -> Mapping[str, Any]:
        """The endpoint config resource ``endpoint`` serves."""
        return self.resource(endpoint.stack, endpoint.config_id) if endpoint else {}

    def variants(
        self, endpoint: Endpoint | None, *, shadows: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Variant name -> its ProductionVariant, of the config ``endpoint`` serves (and its
        shadow variants with ``shadows``)."""
        config = self.config(endpoint)
        found = [*production_variants(config), *(shadow_variants(config) if shadows else ())]
        return {self.values.text(v.get("VariantName", MISSING)): v for v in found}

    def scaling(self, endpoint: Endpoint, variant: str, dimension: str | None = None) -> list[Ref]:
        """Scalable targets of a variant (of ``dimension``, else any) and their policies."""
        targets = [
            (stack, lid)
            for stack, lid, p in self.of_type(SCALABLE_TARGET)
            if self._scales(p, stack, endpoint, variant, dimension)
        ]
        policies = [
            (stack, lid)
            for stack, lid, p in self.of_type(SCALING_POLICY)
            if any(stack == s and t in references(p.get("ScalingTargetId")) for s, t in targets)
            or self._scales(p, stack, endpoint, variant, dimension)
        ]
        return sorted(targets + policies)

    def _scales(
        self,
        properties: Mapping[str, Any],
        stack: str,
        endpoint: Endpoint,
        variant: str,
        dimension: str | None,
    ) -> bool:
        match = _RESOURCE_ID.match(self.values.text(properties.get("ResourceId", "")))
        if match is None or match["variant"] != variant:
            return False
        if not endpoint.called(match["endpoint"], stack):
            return False
        return dimension is None or properties.get("ScalableDimension") == dimension

    def alarms(self, endpoint: Endpoint, variant: str) -> list[Ref]:
        """CloudWatch alarms on a metric of the variant (EndpointName and VariantName)."""
        return [
            (stack, lid)
            for stack, lid, p in self.of_type(ALARM)
            if any(self._watches(d, stack, endpoint, variant) for d in _dimension_lists(p))
        ]

    def _watches(self, dimensions: Any, stack: str, endpoint: Endpoint, variant: str) -> bool:
        if not isinstance(dimensions, list):
            return False
        found = {
            self.values.text(d.get("Name")): self.values.text(d.get("Value"))
            for d in dimensions
            if isinstance(d, dict)
        }
        return found.get("VariantName") == variant and endpoint.called(
            found.get("EndpointName", ""), stack
        )

    def served_models(self) -> set[Ref]:
        """Models that a (shadow) production variant of some endpoint config names."""
        exported: dict[str, set[Ref]] = {}
        for stack, template in self.templates.items():
            for name, value in exports(template).items():
                exported[name] = {(stack, lid) for lid in references(value)}
        named = {
            self.values.text(p["ModelName"]): (stack, lid)
            for stack, lid, p in self.of_type(MODEL)
            if "ModelName" in p
        }
        served: set[Ref] = set()
        for stack, value in self._model_names():
            served |= {(stack, lid) for lid in references(value)}
            for name in imports(value):
                served |= exported.get(name, set())
            if self.values.text(value) in named:
                served.add(named[self.values.text(value)])
        return served

    def _model_names(self) -> Iterator[tuple[str, Any]]:
        for stack, _, properties in self.of_type(ENDPOINT_CONFIG):
            for key in ("ProductionVariants", "ShadowProductionVariants"):
                for variant in properties.get(key) or []:
                    if isinstance(variant, dict) and "ModelName" in variant:
                        yield stack, variant["ModelName"]


def _instance_types(variant: Mapping[str, Any]) -> tuple[Any, ...]:
    """A variant's instance types (its instance pools' in priority order): changing them
    changes the type autoscaling blocks ("Update endpoints that use auto scaling")."""
    return tuple(instance_types(variant))


def _update_policy(endpoint: Endpoint) -> str | None:
    """``blue/green CANARY`` / ``rolling``: the update policy an endpoint states (read by
    :func:`blue_green`); None without one (SageMaker's default all-at-once update)."""
    routing = blue_green(endpoint)
    if routing is None:
        return "rolling"
    return None if routing.default else f"blue/green {routing.strategy}"


def _dimension_lists(alarm: Mapping[str, Any]) -> Iterator[Any]:
    """The Dimensions of an alarm's metric, or of each metric of its metric math."""
    yield alarm.get("Dimensions")
    for metric in alarm.get("Metrics") or []:
        stat = metric.get("MetricStat") if isinstance(metric, dict) else None
        if isinstance(stat, dict) and isinstance(stat.get("Metric"), dict):
            yield stat["Metric"].get("Dimensions")


class EndpointReview:
    """The endpoint parts of a report: the two-step-release warning and the variants section."""

    def __init__(self, before: Templates, after: Templates, changes: Changes) -> None:
        self.before, self.after = Side(before), Side(after)
        self.changes = changes
        self.changed_imports = changing_exports(before, after, changes)

    def _action(self, stack: str, logical_id: str) -> str:
        change = self.changes.get(stack, {}).get(logical_id)
        return change.action if change else "unchanged"

    def _running(self, key: Ref) -> tuple[Endpoint, Endpoint] | None:
        """(before, after) of an endpoint that exists in the base and is updated in place."""
        old, new = self.before.endpoints.get(key), self.after.endpoints.get(key)
        if old is None or new is None or self._action(*key) not in RUNNING:
            return None
        return old, new

    @staticmethod
    def _ref(endpoint: Endpoint, ref: Ref) -> str:
        stack, logical_id = ref
        return code(logical_id if stack == endpoint.stack else f"{stack}/{logical_id}")

    def _running_pairs(self) -> Iterator[tuple[Ref, Endpoint, Endpoint]]:
        """(key, before, after) of every endpoint updated in place, in key order."""
        for key in sorted(self.before.endpoints.keys() & self.after.endpoints.keys()):
            pair = self._running(key)
            if pair is not None:
                yield key, *pair

    # -- the warning at the top -------------------------------------------------------------

    def two_step_warning(self, label: Callable[[str], str] | None = None) -> list[str]:
        """A warning block when autoscaling in the base makes this update fail; ``label``
        names the part of the environment a stack belongs to (e.g. its service)."""
        items = []
        for key, old, new in self._running_pairs():
            before = self.before.variants(old, shadows=True)
            after = self.after.variants(new, shadows=True)
            for name in sorted(before):
                autoscaling = self.before.scaling(old, name, INSTANCE_COUNT_DIMENSION)
                if not autoscaling:
                    continue
                if name not in after:
                    change = "is removed or renamed"
                elif _instance_types(before[name]) != _instance_types(after[name]):
                    a, b = _instance_types(before[name]), _instance_types(after[name])
                    change = (
                        f"changes instance type {self._type(a, self.before)} → "
                        f"{self._type(b, self.after)}"
                    )
                else:
                    continue
                registered = ", ".join(self._ref(old, ref) for ref in autoscaling)
                where = f"{label(key[0])}: " if label else ""
                items.append(
                    f"> - {where}`{key[0]}` / `{key[1]}` (endpoint `{old.name}`): variant `{name}` "
                    f"{change}; its autoscaling in the base: {registered}"
                )
        if not items:
            return []
        return [
            "> [!WARNING]",
            "> **Two-step release: autoscaling blocks this endpoint update.** While a variant is "
            "registered as a scalable target, SageMaker fails an endpoint update that changes "
            "the variant's instance type or removes the variant (SageMaker developer guide: "
            "*Update endpoints that use auto scaling*). CloudFormation deletes a removed "
            "scalable target only after the update, so one deploy cannot do both.",
            ">",
            *items,
            ">",
            "> 1. Release 1: remove only the autoscaling of these variants (scalable target and "
            "scaling policies), nothing else; deploy.",
            "> 2. Release 2: the instance type change / variant removal, with the autoscaling "
            "back (for the variants that remain); deploy.",
            "",
        ]

    def variant_names_warning(self, label: Callable[[str], str] | None = None) -> list[str]:
        """A warning block when an update under a blue/green or rolling update policy changes
        the endpoint's variant names (production and shadow): "When doing a blue/green or
        rolling deployment, your new endpoint configuration must have the same variant name as
        the old endpoint configuration" (SageMaker developer guide, deployment guardrails:
        *Exclusions*). What SageMaker then does is not stated there."""
        items = []
        for key, old, new in self._running_pairs():
            policy = _update_policy(new)
            if policy is None:
                continue
            before = frozenset(self.before.variants(old, shadows=True))
            after = frozenset(self.after.variants(new, shadows=True))
            if before == after:
                continue
            changed = [
                f"{what} {', '.join(code(n) for n in sorted(names))}"
                for what, names in (("adds", after - before), ("removes", before - after))
                if names
            ]
            where = f"{label(key[0])}: " if label else ""
            items.append(
                f"> - {where}`{key[0]}` / `{key[1]}` (endpoint `{old.name}`, {policy}): "
                f"{' and '.join(changed)}"
            )
        if not items:
            return []
        return [
            "> [!WARNING]",
            '> **Variant names change under an update policy.** "When doing a blue/green or '
            "rolling deployment, your new endpoint configuration must have the same variant name "
            'as the old endpoint configuration" (SageMaker developer guide, deployment '
            "guardrails: *Exclusions*). The page does not say whether SageMaker refuses such an "
            "update or runs it without the policy's steps and rollback alarms; the earlier "
            "stages of the pipeline deploy the same change first.",
            ">",
            *items,
            "",
        ]

    def serverless_switch_warning(self, label: Callable[[str], str] | None = None) -> list[str]:
        """A warning block when an update would turn a running instance-backed endpoint
        serverless: the note of *Update a serverless endpoint* (SageMaker developer guide)
        says updating a real-time endpoint to a serverless one, on-demand or with provisioned
        concurrency, is currently not supported."""
        items = []
        for key, old, new in self._running_pairs():
            before = self.before.variants(old).values()
            after = self.after.variants(new)
            if all("ServerlessConfig" in v for v in before):
                continue
            turned = sorted(name for name, v in after.items() if "ServerlessConfig" in v)
            if turned:
                where = f"{label(key[0])}: " if label else ""
                names = ", ".join(code(name) for name in turned)
                items.append(
                    f"> - {where}`{key[0]}` / `{key[1]}` (endpoint `{old.name}`): instances → "
                    f"serverless ({names})"
                )
        if not items:
            return []
        return [
            "> [!WARNING]",
            "> **An instance-backed endpoint cannot become serverless.** Updating a real-time "
            "endpoint to a serverless one, on-demand or with provisioned concurrency, is "
            "currently not supported (SageMaker developer guide: *Update a serverless "
            "endpoint*, note): this update fails and the stack rolls back. Serve the "
            "serverless variant from a new endpoint (a service of its own), move the callers, "
            "then remove the old service.",
            ">",
            *items,
            "",
        ]

    @staticmethod
    def _type(types: tuple[Any, ...], side: Side) -> str:
        """``ml.m5.large``, or instance pools in priority order (``a > b``)."""
        return code(" > ".join(side.values.text(t) for t in types)) if types else MISSING

    # -- the variants section ---------------------------------------------------------------

    def section(self, stacks: Collection[str] | None = None, *, level: int = 2) -> list[str]:
        """``Endpoint variants`` (a heading of ``level``): changed endpoint configs (per
        endpoint where one serves them), changed deployment configs, and unused models; of
        ``stacks`` only when given."""
        sub = "#" * (level + 1)
        changed = {
            (stack, lid)
            for stack, stack_changes in self.changes.items()
            for lid, change in stack_changes.items()
            if change.action != "unchanged"
            and self._is_config(stack, lid)
            and (stacks is None or stack in stacks)
        }
        units: list[tuple[Ref, list[str]]] = []
        covered: set[Ref] = set()
        for key in sorted(self.before.endpoints.keys() | self.after.endpoints.keys()):
            if stacks is not None and key[0] not in stacks:
                continue
            old, new = self.before.endpoints.get(key), self.after.endpoints.get(key)
            endpoint = new or old
            if endpoint is None:
                continue
            configs = {(key[0], e.config_id) for e in (old, new) if e and e.config_id}
            if configs & changed:
                covered |= configs
                units.append(self._endpoint_unit(old, new, endpoint, sub))
            elif old and new and old.deployment != new.deployment:
                units += self._deployment_unit(old, new, sub)
        units += [
            ((s, lid), self._config_unit(s, lid, sub)) for s, lid in sorted(changed - covered)
        ]
        lines = [f"{'#' * level} Endpoint variants", ""]
        for _, unit in sorted(units):
            lines += unit
        if not units:
            lines += ["No endpoint-config changes.", ""]
        unused = [*self.unused_models(stacks), *self.container_changes(stacks)]
        return [*lines, *unused, ""] if unused else lines

    def has_endpoints(self, stacks: Collection[str]) -> bool:
        """Whether either side has an endpoint, endpoint config or model in ``stacks``."""
        return any(
            stack in stacks
            for side in (self.before, self.after)
            for resource_type in (ENDPOINT, ENDPOINT_CONFIG, MODEL)
            for stack, _, _ in side.of_type(resource_type)
        )

    def _is_config(self, stack: str, logical_id: str) -> bool:
        types = [side.resource(stack, logical_id).get("Type") for side in (self.before, self.after)]
        return ENDPOINT_CONFIG in types

    def _config_unit(self, stack: str, logical_id: str, sub: str) -> list[str]:
        """A changed endpoint config that no endpoint serves."""
        action = ACTION_WORDS[self._action(stack, logical_id)]
        old = self.before.resource(stack, logical_id)
        new = self.after.resource(stack, logical_id)
        heading = f"{sub} `{stack}` / `{logical_id}` ({action}): before → after"
        return [heading, "", *variant_table(old, new), ""]

    def _endpoint_unit(
        self, old: Endpoint | None, new: Endpoint | None, endpoint: Endpoint, sub: str
    ) -> tuple[Ref, list[str]]:
        """The config an endpoint serves, before → after, and what the update does with it."""
        stack = endpoint.stack
        config_id = (new and new.config_id) or (old and old.config_id) or endpoint.logical_id
        action = ACTION_WORDS[self._action(stack, config_id)]
        if old and new and old.config_id and old.config_id != config_id:
            action += f", was `{old.config_id}`"
        pair = self._running((stack, endpoint.logical_id))
        not_applied = self._not_applied(*pair) if pair else {}
        steps = (self._steps(self.before, old), self._steps(self.after, new))
        table_lines = variant_table(
            self.before.config(old), self.after.config(new), not_applied=not_applied, steps=steps
        )
        heading = f"{sub} `{stack}` / `{config_id}` ({action}): before → after"
        lines = [heading, "", *table_lines, ""]
        notes = self._notes(*pair, not_applied) if pair else []
        if notes:
            lines += [*notes, ""]
        if old and new and old.deployment != new.deployment:
            rows = self._deployment_rows(old, new)
            if rows:
                lines += [
                    f"Deployment config of endpoint `{endpoint.name}` (`{endpoint.logical_id}`), "
                    "before → after:",
                    "",
                    *table(DEPLOYMENT_HEADER, rows),
                    "",
                ]
        return (stack, config_id), lines

    def _deployment_unit(
        self, old: Endpoint, new: Endpoint, sub: str
    ) -> list[tuple[Ref, list[str]]]:
        """An endpoint whose deployment config changes, its endpoint config not."""
        rows = self._deployment_rows(old, new)
        before, after = self._steps(self.before, old), self._steps(self.after, new)
        rows += [
            [f"{code(name)} step", before.get(name) or MISSING, after.get(name) or MISSING]
            for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)
        ]
        if not rows:
            return []
        action = ACTION_WORDS[self._action(new.stack, new.logical_id)]
        heading = (
            f"{sub} `{new.stack}` / `{new.logical_id}` ({action}, endpoint `{new.name}`): "
            "deployment config before → after"
        )
        return [((new.stack, new.logical_id), [heading, "", *table(DEPLOYMENT_HEADER, rows), ""])]

    def _deployment_rows(self, old: Endpoint, new: Endpoint) -> list[list[str]]:
        return deployment_rows(
            old.deployment, new.deployment, self.before.values, self.after.values
        )

    @staticmethod
    def _steps(side: Side, endpoint: Endpoint | None) -> dict[str, str]:
        """Variant -> its canary / linear step, for the instance variants of ``endpoint``."""
        if endpoint is None:
            return {}
        routing = blue_green(endpoint)
        found = {}
        for name, variant in side.variants(endpoint).items():
            text = step_text(routing, variant.get("InitialInstanceCount"))
            if text:
                found[name] = text
        return found

    def _not_applied(self, old: Endpoint, new: Endpoint) -> dict[str, set[str]]:
        """Variant -> the fields ("count", "weight") whose change the running endpoint keeps."""
        kept = retained(new)  # UpdateEndpoint takes the new template's retention settings
        before, after = self.before.variants(old), self.after.variants(new)
        found: dict[str, set[str]] = {}
        for name in sorted(before.keys() & after.keys()):
            a, b = before[name], after[name]
            fields = set()
            counted = "InitialInstanceCount" in a and "InitialInstanceCount" in b
            if counted and a["InitialInstanceCount"] != b["InitialInstanceCount"]:
                fields.add("count")
            if _weight(a) != _weight(b):
                fields.add("weight")
            fields &= {FIELD_OF[p] for p in kept}
            if fields:
                found[name] = fields
        return found

    def _notes(
        self, old: Endpoint, new: Endpoint, not_applied: Mapping[str, set[str]]
    ) -> list[str]:
        """What updating the running endpoint does beyond the table."""
        notes = []
        before, after = self.before.variants(old), self.after.variants(new)
        for name, fields in sorted(not_applied.items()):
            if "count" in fields:
                notes.append(self._count_note(new, name, before[name], after[name]))
            if "weight" in fields:
                notes.append(
                    f"- `{name}`: weight {self._text(before[name], 'InitialVariantWeight')} → "
                    f"{self._text(after[name], 'InitialVariantWeight')} is **not applied to the "
                    f"running endpoint** `{new.name}`: `RetainAllVariantProperties` keeps the "
                    "running weight unless `ExcludeRetainedVariantProperties` lists "
                    "`DesiredWeight`."
                )
        routing = blue_green(new)
        if routing is not None and self._weight_only(old, new):
            notes.append(
                "- weight-only change: blue/green redeploys the fleet; expect "
                f"{routing.describe()} with {self.after.values.text(routing.bake)} s bake "
                "(every new endpoint config is a new fleet, weights included)"
            )
        notes += self._removed_notes(old, new, routing)
        return notes

    def _text(self, variant: Mapping[str, Any], key: str) -> str:
        return self.after.values.text(variant.get(key, DEFAULT_WEIGHT))

    def _count_note(
        self, new: Endpoint, name: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> str:
        targets = [
            ref
            for ref in self.after.scaling(new, name, INSTANCE_COUNT_DIMENSION)
            if self.after.resource(*ref).get("Type") == SCALABLE_TARGET
        ]
        bounds = []
        for ref in targets:
            p = self.after.resource(*ref).get("Properties") or {}
            low = self.after.values.text(p.get("MinCapacity", MISSING))
            high = self.after.values.text(p.get("MaxCapacity", MISSING))
            bounds.append(f"{self._ref(new, ref)}: min {low}, max {high}")
        where = "; ".join(bounds) or "the variant has no scalable target: add one"
        a = self.before.values.text(before["InitialInstanceCount"])
        b = self.after.values.text(after["InitialInstanceCount"])
        note = (
            f"- `{name}`: count {a} → {b} is **not applied to the running endpoint** "
            f"`{new.name}`: with `RetainAllVariantProperties` it keeps the variant's running "
            "instance count (`InitialInstanceCount` applies only when the endpoint or the "
            f"variant is created). Change the autoscaling min/max instead ({where})."
        )
        if step_text(blue_green(new), after["InitialInstanceCount"]):
            note += " The blue/green step above counts `InitialInstanceCount` instances."
        return note

    def _weight_only(self, old: Endpoint, new: Endpoint) -> bool:
        """Only InitialVariantWeight values differ between the configs the endpoint serves,
        and nothing they refer to is replaced."""
        a: Mapping[str, Any] = self.before.config(old).get("Properties") or {}
        b: Mapping[str, Any] = self.after.config(new).get("Properties") or {}
        if a == b or _without_weights(a) != _without_weights(b):
            return False
        replaced = {
            lid for lid, c in self.changes.get(new.stack, {}).items() if c.action in REPLACING
        }
        return not (references(b) & replaced) and not (imports(b) & self.changed_imports)

    def _removed_notes(self, old: Endpoint, new: Endpoint, routing: Routing | None) -> list[str]:
        before, after = self.before.variants(old), self.after.variants(new)
        removed = sorted(before.keys() - after.keys())
        if not removed:
            return []
        shares_before = traffic_shares(self.before.config(old))
        shares_after = traffic_shares(self.after.config(new))
        remaining = ", ".join(f"`{n}` {shares_after.get(n, '?')}" for n in sorted(after))
        added = sorted(after.keys() - before.keys())
        how = f" under blue/green {routing.describe()}" if routing else ""
        notes = []
        for name in removed:
            text = (
                f"- **variant `{name}` removed or renamed**{how}: the new fleet has no `{name}`; "
                f"its traffic ({shares_before.get(name, '?')}) moves to the remaining variants "
                f"({remaining or 'none'})"
            )
            if added:
                text += f" (new: {', '.join(code(n) for n in added)})"
            notes.append(f"{text}; {self._goes_away(old, name)}")
        return notes

    def _goes_away(self, old: Endpoint, name: str) -> str:
        found = sorted(set(self.before.alarms(old, name) + self.before.scaling(old, name)))
        if not found:
            return "it had no alarms or autoscaling"
        gone = [ref for ref in found if not self.after.resource(*ref)]
        kept = [ref for ref in found if self.after.resource(*ref)]
        parts = []
        if gone:
            names = ", ".join(self._ref(old, ref) for ref in gone)
            parts.append(f"its alarms and autoscaling go away: {names}")
        if kept:
            names = ", ".join(self._ref(old, ref) for ref in kept)
            parts.append(f"still in the template, for a variant that is gone: {names}")
        return "; ".join(parts)

    def container_changes(self, stacks: Collection[str] | None = None) -> list[str]:
        """Multi-container models whose containers change (:func:`container_change_lines`)."""
        return container_change_lines(self.before, self.after, stacks)

    def unused_models(self, stacks: Collection[str] | None = None) -> list[str]:
        """Models of the working tree (in ``stacks`` when given) that no endpoint config
        variant names."""
        served, served_before = self.after.served_models(), self.before.served_models()
        lines = []
        for stack, logical_id, _ in self.after.of_type(MODEL):
            if (stack, logical_id) in served or (stacks is not None and stack not in stacks):
                continue
            was = ""
            if (stack, logical_id) in served_before:
                was = "; a variant served it in the base"
            lines.append(
                f"- unused model: `{logical_id}`, no variant serves it (stack `{stack}`{was})"
            )
        return lines


def _containers(side: Side, properties: Mapping[str, Any]) -> list[str]:
    """Each container of a multi-container model: ``hostname: image (model data)``."""
    texts = []
    for index, container in enumerate(properties.get("Containers") or []):
        if not isinstance(container, dict):
            continue
        name = container.get("ContainerHostname") or str(index)
        data = container.get("ModelDataUrl")
        image = side.values.text(container.get("Image"))
        texts.append(f"{name}: {image}" + (f" ({side.values.text(data)})" if data else ""))
    return texts


def container_change_lines(
    before: Side, after: Side, stacks: Collection[str] | None = None
) -> list[str]:
    """One line per multi-container model (inference pipeline or direct invocation) whose
    containers differ between the base and the working tree."""
    lines = []
    keys = {(s, lid) for side in (before, after) for s, lid, _ in side.of_type(MODEL)}
    for stack, logical_id in sorted(keys):
        if stacks is not None and stack not in stacks:
            continue
        old = _containers(before, before.resource(stack, logical_id).get("Properties") or {})
        new = _containers(after, after.resource(stack, logical_id).get("Properties") or {})
        if old == new or not (old or new):
            continue
        mode = (after.resource(stack, logical_id).get("Properties") or {}).get(
            "InferenceExecutionConfig", {}
        )
        how = f", {mode.get('Mode')}" if isinstance(mode, dict) and mode.get("Mode") else ""
        lines.append(
            f"- model containers: `{logical_id}` (stack `{stack}`{how}): "
            f"{'; '.join(old) or MISSING} → {'; '.join(new) or MISSING}"
        )
    return lines


def deployment_rows(
    old: Mapping[str, Any], new: Mapping[str, Any], values_before: Values, values_after: Values
) -> list[list[str]]:
    """Rows of DEPLOYMENT_HEADER: each changed field of an endpoint's DeploymentConfig, then
    rollback alarms removed and added."""
    leaves_before, leaves_after = _leaves(old), _leaves(new)
    labels = dict(DEPLOYMENT_FIELDS)
    others = sorted((leaves_before.keys() | leaves_after.keys()) - labels.keys())
    rows = []
    for path in [*labels, *others]:
        a, b = leaves_before.get(path), leaves_after.get(path)
        if a != b:
            label = labels.get(path) or code(".".join(path))
            rows.append([label, _setting(path, a, values_before), _setting(path, b, values_after)])
    alarms_before, alarms_after = _alarms(old, values_before), _alarms(new, values_after)
    rows += [
        ["rollback alarm (removed)", code(name), MISSING]
        for name in sorted(alarms_before - alarms_after)
    ]
    rows += [
        ["rollback alarm (added)", MISSING, code(name)]
        for name in sorted(alarms_after - alarms_before)
    ]
    return rows


def _leaves(value: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Path -> value of each setting; a CapacitySize is one setting, the rollback alarms none."""
    if path == ROLLBACK_ALARMS:
        return {}
    nested = isinstance(value, dict) and not is_intrinsic(value)
    if not nested or (path and path[-1].endswith("Size")):
        return {path: value} if path else {}
    found: dict[tuple[str, ...], Any] = {}
    for key, item in value.items():
        found.update(_leaves(item, (*path, str(key))))
    return found


def _setting(path: tuple[str, ...], value: Any, values: Values) -> str:
    if value is None:
        return MISSING
    if isinstance(value, dict) and path[-1].endswith("Size"):
        size = values.text(value.get("Value", MISSING))
        kind = value.get("Type")
        if kind == "CAPACITY_PERCENT":
            return f"{size} % of capacity"
        if kind == "INSTANCE_COUNT":
            return f"{size} instance" if size == "1" else f"{size} instances"
    text = plain(values.text(value))
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f"{text} s" if numeric and path[-1].endswith("InSeconds") else text


def _alarms(deployment: Mapping[str, Any], values: Values) -> set[str]:
    config = deployment.get(ROLLBACK_ALARMS[0])
    alarms = config.get(ROLLBACK_ALARMS[1]) if isinstance(config, dict) else None
    return {
        values.text(alarm.get("AlarmName"))
        for alarm in (alarms if isinstance(alarms, list) else [])
        if isinstance(alarm, dict)
    }


def _weight(variant: Mapping[str, Any]) -> Any:
    return variant.get("InitialVariantWeight", DEFAULT_WEIGHT)


def _without_weights(properties: Mapping[str, Any]) -> dict[str, Any]:
    variants = [
        {k: v for k, v in variant.items() if k != "InitialVariantWeight"}
        if isinstance(variant, dict)
        else variant
        for variant in properties.get("ProductionVariants") or []
    ]
    return {**properties, "ProductionVariants": variants}
