"""ShadowVariantLimits: an endpoint config's shadow variant breaks SageMaker's limits."""

from __future__ import annotations

from mlops_cdk.aws.variant_facts import MAX_PRODUCTION_VARIANTS_WITH_SHADOW, MAX_SHADOW_VARIANTS
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_CONFIG_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def shadow_variant_limits(config: Resource, index: StackIndex) -> Compliance:
    del index
    props = config.properties
    shadows = props.get("ShadowProductionVariants")
    if not shadows:
        return NOT_APPLICABLE
    production = props.get("ProductionVariants")
    if not isinstance(shadows, list) or not isinstance(production, list):
        return NON_COMPLIANT  # not literal lists: the limits cannot be checked
    if len(shadows) > MAX_SHADOW_VARIANTS or len(production) != MAX_PRODUCTION_VARIANTS_WITH_SHADOW:
        return NON_COMPLIANT
    if any(not isinstance(v, dict) or "ServerlessConfig" in v for v in [*production, *shadows]):
        return NON_COMPLIANT
    if props.get("AsyncInferenceConfig"):
        return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "ShadowVariantLimits",
    "The endpoint config's shadow variant breaks SageMaker's limits.",
    "With ShadowProductionVariants, SageMaker accepts exactly one production variant and one "
    "shadow variant (API reference CreateEndpointConfig), and no shadow on serverless or "
    'asynchronous endpoints ("Shadow tests" > "Exclusions", '
    "https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-exclusions.html). Keep one "
    "production and one shadow variant, on instances, on a real-time endpoint.",
    shadow_variant_limits,
    frozenset({ENDPOINT_CONFIG_TYPE}),
)
