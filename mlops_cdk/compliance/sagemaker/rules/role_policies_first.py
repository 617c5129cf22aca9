"""RolePoliciesFirst: a resource that AWS validates with a role at creation does not wait for
every policy attached to that role.

CreateModel checks the image and the model data with the execution role ("Could not access model
data ... ensure that the role has s3:GetObject", aws/aws-cdk#10064); Lambda's CreateFunction
refuses a function in a VPC whose role may not create network interfaces ("The provided execution
role does not have permissions to call CreateNetworkInterface on EC2", AWS Lambda API reference,
CreateFunction errors); CreateStateMachine and CreatePipeline are given the role they run as.
CloudFormation creates independent resources in parallel, so such a resource must depend (through
``DependsOn`` or a reference, directly or transitively) on every ``AWS::IAM::Policy`` and
``AWS::IAM::ManagedPolicy`` of its stack that attaches to the role. Roles of other stacks are
deployed, with their policies, before this stack (the stack dependency).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mlops_cdk.aws.cfn_values import referenced_logical_id, references
from mlops_cdk.compliance.sagemaker.index import (
    ENDPOINT_CONFIG_TYPE,
    FUNCTION_TYPE,
    MODEL_TYPE,
    ROLE_TYPE,
    STATE_MACHINE_TYPE,
    Resource,
    StackIndex,
)
from mlops_cdk.compliance.sagemaker.pipelines import PIPELINE_TYPE
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def _function_role(props: Mapping[str, Any]) -> Any:
    # Only a function in a VPC is validated against its role's permissions at creation.
    return props.get("Role") if props.get("VpcConfig") else None


# The property that names the role, per type.
ROLE_OF: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    MODEL_TYPE: lambda props: props.get("ExecutionRoleArn"),
    # An inference component endpoint's config names the role (ExecutionRoleArn).
    ENDPOINT_CONFIG_TYPE: lambda props: props.get("ExecutionRoleArn"),
    FUNCTION_TYPE: _function_role,
    STATE_MACHINE_TYPE: lambda props: props.get("RoleArn"),
    PIPELINE_TYPE: lambda props: props.get("RoleArn"),
}


def waits_for(index: StackIndex, resource: Resource) -> set[str]:
    """Every logical id ``resource`` waits for: DependsOn and references, transitively."""
    seen: set[str] = set()
    pending = [resource]
    while pending:
        current = pending.pop()
        for target in set(current.depends_on) | references(dict(current.properties)):
            if target not in seen:
                seen.add(target)
                found = index.by_logical_id(target)
                if found is not None:
                    pending.append(found)
    return seen


def role_policies_first(resource: Resource, index: StackIndex) -> Compliance:
    role_id = referenced_logical_id(ROLE_OF[resource.type](resource.properties))
    if role_id is None or index.type_of(role_id) != ROLE_TYPE:
        return NOT_APPLICABLE
    attached = {policy.logical_id for policy in index.policies_attached_to(role_id)}
    missing = attached - waits_for(index, resource)
    return NON_COMPLIANT if missing else COMPLIANT


RULE = Rule(
    "RolePoliciesFirst",
    "The resource does not wait for every policy attached to the role AWS checks when it "
    "creates the resource.",
    "SageMaker (CreateModel: image and model data), Lambda (CreateFunction in a VPC: network "
    "interfaces), Step Functions and SageMaker Pipelines validate the role when the resource "
    "is created; CloudFormation creates the role's policies in parallel unless the resource "
    "depends on them, so the create fails at random ('Could not access model data'). Make "
    "the resource depend on every AWS::IAM::Policy / ManagedPolicy attached to the role "
    "(mlops_cdk.constructs.role_readiness.wait_for_role_policies does it at synthesis).",
    role_policies_first,
    frozenset(ROLE_OF),
)
