"""RollbackBakingPeriod: an endpoint has rollback alarms but no baking period."""

from __future__ import annotations

from mlops_cdk.aws.cfn_values import number
from mlops_cdk.compliance.sagemaker.index import ENDPOINT_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def rollback_baking_period(endpoint: Resource, index: StackIndex) -> Compliance:
    del index
    deployment = endpoint.properties.get("DeploymentConfig") or {}
    alarms = (deployment.get("AutoRollbackConfiguration") or {}).get("Alarms")
    if not alarms:
        return NOT_APPLICABLE
    waits = []
    if deployment.get("BlueGreenUpdatePolicy"):
        routing = deployment["BlueGreenUpdatePolicy"].get("TrafficRoutingConfiguration") or {}
        waits.append(routing.get("WaitIntervalInSeconds"))
    if deployment.get("RollingUpdatePolicy"):
        waits.append(deployment["RollingUpdatePolicy"].get("WaitIntervalInSeconds"))
    baked = [(number(w) or 0) > 0 for w in waits]
    return COMPLIANT if baked and all(baked) else NON_COMPLIANT


RULE = Rule(
    "RollbackBakingPeriod",
    "The endpoint has auto-rollback alarms but no baking period.",
    "SageMaker evaluates rollback alarms only during a deployment's baking periods; "
    "with WaitIntervalInSeconds missing or 0 all traffic moves to the new fleet and the "
    "old fleet is terminated before any alarm can trip, so a bad model version is never "
    "rolled back. Set BlueGreenUpdatePolicy.TrafficRoutingConfiguration."
    "WaitIntervalInSeconds (or RollingUpdatePolicy.WaitIntervalInSeconds) to at least "
    "the time the rollback alarms need to go into ALARM.",
    rollback_baking_period,
    frozenset({ENDPOINT_TYPE}),
)
