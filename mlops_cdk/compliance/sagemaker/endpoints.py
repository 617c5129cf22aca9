"""Lookups the endpoint, model and network rules share: production variants, an endpoint's
config and scalable targets in its stack, and interface VPC endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_cdk.aws.cfn_values import render_resource_value
from mlops_cdk.compliance.sagemaker.index import (
    ENDPOINT_CONFIG_TYPE,
    SCALABLE_TARGET_TYPE,
    Resource,
    StackIndex,
)

VARIANT_INSTANCE_COUNT = "sagemaker:variant:DesiredInstanceCount"


def variants(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every variant of an endpoint config: production, then shadow (a shadow variant runs on
    instances and publishes metrics like any other)."""
    return [
        *(props.get("ProductionVariants") or []),
        *(props.get("ShadowProductionVariants") or []),
    ]


def instance_variants(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [v for v in variants(props) if "ServerlessConfig" not in v]


def serves_only_serverless(model: Resource, index: StackIndex) -> bool:
    """True when every variant of this stack that serves the model is serverless.

    Serverless Inference supports neither VPC configuration nor network isolation ("Deploy
    models with Amazon SageMaker Serverless Inference", feature exclusions), so a model that
    only serves serverless variants must have neither: the rules do not apply to it."""
    references = ({"Fn::GetAtt": [model.logical_id, "ModelName"]}, {"Ref": model.logical_id})
    serverless = [
        "ServerlessConfig" in variant
        for config in index.of_type(ENDPOINT_CONFIG_TYPE)
        for variant in variants(config.properties)
        if variant.get("ModelName") in references
    ]
    return bool(serverless) and all(serverless)


def endpoint_config_of(endpoint: Resource, index: StackIndex) -> Resource | None:
    """The endpoint's config in its stack: a ``Fn::GetAtt`` to it, or its literal name."""
    reference = endpoint.properties.get("EndpointConfigName")
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:
        config = index.by_logical_id(reference["Fn::GetAtt"][0])
        return config if config and config.type == ENDPOINT_CONFIG_TYPE else None
    if isinstance(reference, str):
        for config in index.of_type(ENDPOINT_CONFIG_TYPE):
            if config.properties.get("EndpointConfigName") == reference:
                return config
    return None


def _endpoint_names(endpoint: Resource) -> set[str]:
    """How a ScalableTarget's ResourceId can name the endpoint: its literal EndpointName, or
    ``<LogicalId.EndpointName>`` (a ``Fn::GetAtt``, rendered by ``render_resource_value``)."""
    names = {f"<{endpoint.logical_id}.EndpointName>"}
    literal = endpoint.properties.get("EndpointName")
    if isinstance(literal, str):
        names.add(literal)
    return names


def scalable_targets(endpoint: Resource, index: StackIndex) -> dict[str, Mapping[str, Any]]:
    """The endpoint's variants' instance-count scalable targets in its stack, by variant name."""
    prefixes = tuple(f"endpoint/{name}/variant/" for name in _endpoint_names(endpoint))
    targets: dict[str, Mapping[str, Any]] = {}
    for target in index.of_type(SCALABLE_TARGET_TYPE):
        props = target.properties
        if props.get("ScalableDimension") != VARIANT_INSTANCE_COUNT:
            continue
        resource_id = render_resource_value(props.get("ResourceId"))
        for prefix in prefixes:
            if resource_id.startswith(prefix):
                targets[resource_id.removeprefix(prefix)] = props
    return targets


def interface_endpoint(resource: Resource) -> Mapping[str, Any] | None:
    """The properties of a VPC endpoint of type Interface, else None (gateway endpoints)."""
    props = resource.properties
    return props if props.get("VpcEndpointType") == "Interface" else None
