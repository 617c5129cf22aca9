"""Inference components in the review report: for a service hosting its models as components
on a shared fleet, the fleet (instance type, initial count, managed scaling range) and one row
per component: the model it hosts, its copies (initial ``RuntimeConfig.CopyCount``, and the
minimum-maximum of its copy autoscaling) and what each copy reserves (vCPUs, memory, accelerators),
before → after.

From the template alone: ``AWS::SageMaker::InferenceComponent`` (``Specification``:
``ModelName``, ``ComputeResourceRequirements`` ``NumberOfCpuCoresRequired``,
``MinMemoryRequiredInMb``, ``NumberOfAcceleratorDevicesRequired``; ``RuntimeConfig.CopyCount``:
"CreateInferenceComponent",
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateInferenceComponent.html),
the scalable target ``inference-component/<name>`` of dimension
``sagemaker:inference-component:DesiredCopyCount`` ("Scale an endpoint to zero instances",
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html), and
the endpoint configuration's variant with ``ManagedInstanceScaling``
("ProductionVariantManagedInstanceScaling",
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantManagedInstanceScaling.html).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from mlops_cdk.aws.cfn_values import reference
from mlops_tools.review.markdown import MISSING, Values, before_after, code, number, table

Templates = Mapping[str, Mapping[str, Any]]  # stack name -> template
Key = tuple[str, str]  # (stack, component name)

COMPONENT = "AWS::SageMaker::InferenceComponent"
ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"
MODEL = "AWS::SageMaker::Model"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
COPY_COUNT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
HEADER = ("component", "model", "copies: initial (min-max)", "each copy reserves")
_VALUES = Values()


def components_section(
    before: Templates, after: Templates, stacks: Collection[str], *, level: int = 3
) -> list[str]:
    """``Inference components`` (a heading of ``level``): each fleet of ``stacks`` and a table
    of its components, before → after; nothing when neither side has a component there."""
    old, new = _components(before, stacks), _components(after, stacks)
    if not old and not new:
        return []
    lines = [f"{'#' * level} Inference components", ""]
    old_fleets, new_fleets = _fleets(before, stacks), _fleets(after, stacks)
    for stack in sorted(old_fleets.keys() | new_fleets.keys()):
        shown = before_after(old_fleets.get(stack), new_fleets.get(stack))
        lines.append(f"Fleet of {code(stack)}: {shown}.")
    rows = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key, {}), new.get(key, {})
        status = " (new)" if not a else " (removed)" if not b else ""
        cells = [before_after(a.get(f), b.get(f)) for f in HEADER[1:]]
        rows.append([f"{code(key[1])}{status}", *cells])
    return [*lines, "", *table(HEADER, rows), ""]


def _resources(templates: Templates, stack: str) -> Mapping[str, Mapping[str, Any]]:
    found: Mapping[str, Mapping[str, Any]] = templates.get(stack, {}).get("Resources") or {}
    return found


def _components(templates: Templates, stacks: Collection[str]) -> dict[Key, dict[str, str]]:
    """(stack, component name) -> its displayed fields."""
    shown: dict[Key, dict[str, str]] = {}
    for stack in stacks:
        resources = _resources(templates, stack)
        copies = _copy_ranges(resources)
        for logical_id, resource in resources.items():
            if resource.get("Type") != COMPONENT:
                continue
            props = resource.get("Properties") or {}
            name = _VALUES.text(props.get("InferenceComponentName", logical_id))
            spec = props.get("Specification") or {}
            initial = (props.get("RuntimeConfig") or {}).get("CopyCount")
            shown[(stack, name)] = {
                HEADER[1]: _model(resources, spec),
                HEADER[2]: f"{_text(initial)} ({copies.get(name, 'no autoscaling')})",
                HEADER[3]: _requirements(spec.get("ComputeResourceRequirements") or {}),
            }
    return shown


def _text(value: Any) -> str:
    return MISSING if value is None else _VALUES.text(value)


def _copy_ranges(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Component name -> ``min-max`` of its copy autoscaling target."""
    ranges = {}
    for resource in resources.values():
        props = resource.get("Properties") or {}
        if (
            resource.get("Type") != SCALABLE_TARGET
            or props.get("ScalableDimension") != COPY_COUNT_DIMENSION
        ):
            continue
        resource_id = _VALUES.text(props.get("ResourceId", ""))
        name = resource_id.removeprefix("inference-component/")
        low, high = props.get("MinCapacity"), props.get("MaxCapacity")
        zero = ", scales to zero" if low == 0 else ""
        ranges[name] = f"{_text(low)}-{_text(high)}{zero}"
    return ranges


def _model(resources: Mapping[str, Mapping[str, Any]], spec: Mapping[str, Any]) -> str:
    """The hosted model: its name when literal; else the config name its construct path carries
    (``.../Model-<name>/...``, when the assembly has path metadata), else its logical id; with
    the key of its model archive (which changes with each model version)."""
    value = spec.get("ModelName")
    if value is None:
        image = (spec.get("Container") or {}).get("Image")
        return code(_VALUES.text(image)) if image is not None else MISSING
    if isinstance(value, str):
        return code(value)
    found = reference(value)
    model = resources.get(found[0], {}) if found else {}
    if found is None or model.get("Type") != MODEL:
        return code(_VALUES.text(value))
    props = model.get("Properties") or {}
    name = props.get("ModelName")
    if not isinstance(name, str):
        path = str((model.get("Metadata") or {}).get("aws:cdk:path", ""))
        named = [p.removeprefix("Model-") for p in path.split("/") if p.startswith("Model-")]
        name = named[0] if named else found[0]
    artifact = (props.get("PrimaryContainer") or {}).get("ModelDataUrl")
    return code(name) + (f"<br>{code(_archive_key(artifact))}" if artifact is not None else "")


def _archive_key(url: Any) -> str:
    """``models/ranking/1.0.0/model.tar.gz`` of ``s3://<bucket>/models/...``."""
    text = _VALUES.text(url)
    if text.startswith("s3://") and "/" in text[5:]:
        return text[5:].split("/", 1)[1]
    return text


def _requirements(requirements: Mapping[str, Any]) -> str:
    """``1 vCPU, 2048 MB, 1 accelerator`` (what each copy reserves)."""
    parts = []
    cpus = requirements.get("NumberOfCpuCoresRequired")
    if isinstance(cpus, int | float):
        parts.append(f"{number(cpus)} vCPU")
    memory = requirements.get("MinMemoryRequiredInMb")
    if memory is not None:
        parts.append(f"{_text(memory)} MB")
    accelerators = requirements.get("NumberOfAcceleratorDevicesRequired")
    if isinstance(accelerators, int | float):
        plural = "" if accelerators == 1 else "s"
        parts.append(f"{number(accelerators)} accelerator{plural}")
    return ", ".join(parts) or MISSING


def _fleets(templates: Templates, stacks: Collection[str]) -> dict[str, str]:
    """Stack -> its fleet: ``ml.m5.xlarge x 1, managed scaling 0-2 (scales to zero)``, for each
    endpoint configuration variant with ManagedInstanceScaling."""
    fleets = {}
    for stack in stacks:
        for resource in _resources(templates, stack).values():
            if resource.get("Type") != ENDPOINT_CONFIG:
                continue
            for variant in (resource.get("Properties") or {}).get("ProductionVariants") or []:
                managed = (
                    variant.get("ManagedInstanceScaling") if isinstance(variant, dict) else None
                )
                if not isinstance(managed, dict):
                    continue
                low = managed.get("MinInstanceCount")
                scaling = (
                    f"managed scaling {_text(low)}-{_text(managed.get('MaxInstanceCount'))}"
                    + (" (scales to zero)" if low == 0 else "")
                    if managed.get("Status") == "ENABLED"
                    else "managed scaling disabled"
                )
                fleets[stack] = (
                    f"{_text(variant.get('InstanceType'))} x "
                    f"{_text(variant.get('InitialInstanceCount'))}, {scaling}"
                )
    return fleets
