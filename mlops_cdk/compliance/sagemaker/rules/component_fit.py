"""ComponentFit: the inference components of an endpoint need more vCPUs, memory or accelerators
at their maximum copies than its fleet has at its maximum instance count.

A copy reserves what its ``ComputeResourceRequirements`` say (``NumberOfCpuCoresRequired``,
``MinMemoryRequiredInMb``, ``NumberOfAcceleratorDevicesRequired``) on one instance of the fleet
("InferenceComponentComputeResourceRequirements", SageMaker API reference,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_InferenceComponentComputeResourceRequirements.html);
the fleet has at most ``ManagedInstanceScaling.MaxInstanceCount`` instances
("ProductionVariantManagedInstanceScaling"). Copies that do not fit are never placed: scaling
out stops short and requests fail. Maximum copies are the scalable target's ``MaxCapacity`` on
``inference-component/<name>`` (else ``RuntimeConfig.CopyCount``); instance sizes come from
:mod:`mlops_cdk.aws.instance_specs` (an unknown type is not judged).
"""

from __future__ import annotations

from typing import Any

from mlops_cdk.aws.cfn_values import as_list, referenced_logical_id
from mlops_cdk.aws.instance_specs import instance_spec
from mlops_cdk.aws.instance_types import UnknownInstanceType
from mlops_cdk.compliance.sagemaker.index import (
    ENDPOINT_TYPE,
    INFERENCE_COMPONENT_TYPE,
    SCALABLE_TARGET_TYPE,
    Resource,
    StackIndex,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def _hosted_on(component: Resource, endpoint: Resource) -> bool:
    name = component.properties.get("EndpointName")
    if isinstance(name, str):
        return name == endpoint.properties.get("EndpointName")
    return referenced_logical_id(name) == endpoint.logical_id


def _max_copies(component: Resource, index: StackIndex) -> Any:
    name = component.properties.get("InferenceComponentName")
    for target in index.of_type(SCALABLE_TARGET_TYPE):
        if isinstance(name, str) and target.properties.get("ResourceId") == (
            f"inference-component/{name}"
        ):
            return target.properties.get("MaxCapacity")
    return (component.properties.get("RuntimeConfig") or {}).get("CopyCount")


def _needs(components: list[Resource], index: StackIndex) -> tuple[float, float, float] | None:
    cpu = memory = accelerators = 0.0
    for component in components:
        copies = _max_copies(component, index)
        spec = component.properties.get("Specification") or {}
        needs = spec.get("ComputeResourceRequirements") or {}
        values = [needs.get(k) or 0 for k in _KEYS]
        if not isinstance(copies, int | float) or not all(
            isinstance(v, int | float) for v in values
        ):
            return None  # tokens: cannot tell
        cpu, memory, accelerators = (
            cpu + values[0] * copies,
            memory + values[1] * copies,
            accelerators + values[2] * copies,
        )
    return cpu, memory, accelerators


_KEYS = ("NumberOfCpuCoresRequired", "MinMemoryRequiredInMb", "NumberOfAcceleratorDevicesRequired")


def component_fit(endpoint: Resource, index: StackIndex) -> Compliance:
    config = index.stage().endpoint_config_of(index, endpoint)
    if config is None:
        return NOT_APPLICABLE
    fleets = [
        v
        for v in as_list(config.properties.get("ProductionVariants"))
        if isinstance(v, dict) and not v.get("ModelName") and v.get("ManagedInstanceScaling")
    ]
    components = [c for c in index.of_type(INFERENCE_COMPONENT_TYPE) if _hosted_on(c, endpoint)]
    if len(fleets) != 1 or not components:
        return NOT_APPLICABLE
    fleet = fleets[0]
    count = fleet["ManagedInstanceScaling"].get("MaxInstanceCount") or fleet.get(
        "InitialInstanceCount"
    )
    try:
        size = instance_spec(str(fleet.get("InstanceType")))
    except UnknownInstanceType:
        return NOT_APPLICABLE
    needs = _needs(components, index)
    if needs is None or not isinstance(count, int):
        return NOT_APPLICABLE
    offered = (size.vcpus * count, size.memory_mib * count, size.accelerators * count)
    return NON_COMPLIANT if any(n > o for n, o in zip(needs, offered, strict=True)) else COMPLIANT


RULE = Rule(
    "ComponentFit",
    "The endpoint's inference components need more than its fleet has at its maximum size.",
    "Every component at its maximum copies (the scalable target's MaxCapacity, else its "
    "CopyCount) reserves NumberOfCpuCoresRequired vCPUs, MinMemoryRequiredInMb of memory and "
    "NumberOfAcceleratorDevicesRequired accelerators per copy; together they must fit "
    "ManagedInstanceScaling.MaxInstanceCount instances of the fleet's type (sizes: "
    "mlops_cdk/aws/instance_specs.py), or copies are never placed. Raise MaxInstanceCount, "
    "lower the components' maximum copies or their requirements.",
    component_fit,
    frozenset({ENDPOINT_TYPE}),
)
