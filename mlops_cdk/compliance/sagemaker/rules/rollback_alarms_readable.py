"""RollbackAlarmsReadable: an endpoint rolls back on alarms that the execution role of its models
may not describe.

"Ensure that your IAM execution role has permission to perform the cloudwatch:DescribeAlarms
action on the auto-rollback alarms you specify" ("Auto-Rollback Configuration and Monitoring",
SageMaker developer guide,
https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html). Without
it a deployment's alarms cannot be read and a bad model version is not rolled back.

The rule looks at the endpoint's config (same stack), the models of its variants (same stack)
and their ``ExecutionRoleArn`` (a role of the same stack): each such role must be allowed
``cloudwatch:DescribeAlarms`` on every rollback alarm, by an Allow statement of a policy
attached to it (inline, ``AWS::IAM::Policy`` or ``AWS::IAM::ManagedPolicy``) whose resource is
``*``, a pattern covering ``:alarm:*`` or the alarm's ARN naming it.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from mlops_cdk.aws.cfn_values import (
    allow_statements,
    as_list,
    covers_action,
    referenced_logical_id,
    render_resource_value,
)
from mlops_cdk.compliance.sagemaker.index import (
    ENDPOINT_TYPE,
    INFERENCE_COMPONENT_TYPE,
    MODEL_TYPE,
    ROLE_TYPE,
    Resource,
    StackIndex,
    policy_documents,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

ACTION = "cloudwatch:DescribeAlarms"


def _role_documents(index: StackIndex, role: Resource) -> list[Any]:
    documents = policy_documents(role)[1:]  # the role's inline policies
    for policy in index.policies_attached_to(role.logical_id):
        documents += policy_documents(policy)
    return documents


def _covers(resource: Any, alarm: Any) -> bool:
    """Whether a statement resource covers the alarm named ``alarm`` (a literal name, or a
    ``Ref`` to an alarm of the stack, whose ``Fn::GetAtt`` ``Arn`` is then its ARN)."""
    alarm_id = referenced_logical_id(alarm)
    if alarm_id is not None and referenced_logical_id(resource) == alarm_id:
        return True
    text = resource if isinstance(resource, str) else render_resource_value(resource)
    if text == "*":
        return True
    if ":alarm:" not in text or not isinstance(alarm, str):
        return False
    return fnmatchcase(alarm, text.split(":alarm:", 1)[1])


def _may_describe(documents: list[Any], alarm: Any) -> bool:
    return any(
        covers_action(statement, ACTION)
        and any(_covers(r, alarm) for r in as_list(statement.get("Resource")))
        for document in documents
        for statement in allow_statements(document)
    )


def _execution_roles(index: StackIndex, endpoint: Resource) -> list[Resource] | None:
    config = index.stage().endpoint_config_of(index, endpoint)
    if config is None:
        return None
    roles = []
    for variant in as_list(config.properties.get("ProductionVariants")):
        model = index.by_logical_id(referenced_logical_id(variant.get("ModelName")) or "")
        if model is None or model.type != MODEL_TYPE:
            return None  # a model of another stack: not judged here
        role = index.by_logical_id(
            referenced_logical_id(model.properties.get("ExecutionRoleArn")) or ""
        )
        if role is None or role.type != ROLE_TYPE:
            return None
        roles.append(role)
    return roles


def _fleet_role(index: StackIndex, component: Resource) -> list[Resource] | None:
    """An inference component's rollback alarms are read with the execution role of its
    endpoint's config (``ExecutionRoleArn``), an endpoint of the same stack."""
    endpoint = index.by_logical_id(
        referenced_logical_id(component.properties.get("EndpointName")) or ""
    )
    if endpoint is None or endpoint.type != ENDPOINT_TYPE:
        return None
    config = index.stage().endpoint_config_of(index, endpoint)
    role_id = referenced_logical_id((config.properties if config else {}).get("ExecutionRoleArn"))
    role = index.by_logical_id(role_id or "")
    return [role] if role is not None and role.type == ROLE_TYPE else None


def rollback_alarms_readable(endpoint: Resource, index: StackIndex) -> Compliance:
    deployment = endpoint.properties.get("DeploymentConfig") or {}
    alarms = (deployment.get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    names = [a.get("AlarmName") for a in alarms if isinstance(a, dict) and a.get("AlarmName")]
    if not names:
        return NOT_APPLICABLE
    if endpoint.type == INFERENCE_COMPONENT_TYPE:
        roles = _fleet_role(index, endpoint)
    else:
        roles = _execution_roles(index, endpoint)
    if not roles:
        return NOT_APPLICABLE
    for role in roles:
        documents = _role_documents(index, role)
        if not all(_may_describe(documents, name) for name in names):
            return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "RollbackAlarmsReadable",
    "The endpoint rolls back on alarms that its models' execution role may not describe.",
    "SageMaker evaluates auto-rollback alarms with the execution role: 'Ensure that your IAM "
    "execution role has permission to perform the cloudwatch:DescribeAlarms action on the "
    "auto-rollback alarms you specify' (Auto-Rollback Configuration and Monitoring). Allow "
    "cloudwatch:DescribeAlarms on each rollback alarm's ARN to the execution role of every "
    "model the endpoint serves (WeightedEndpoint does it given execution_roles), and for an "
    "inference component's rollback alarms to its endpoint config's ExecutionRoleArn "
    "(InferenceComponentEndpoint does it).",
    rollback_alarms_readable,
    frozenset({ENDPOINT_TYPE, INFERENCE_COMPONENT_TYPE}),
)
