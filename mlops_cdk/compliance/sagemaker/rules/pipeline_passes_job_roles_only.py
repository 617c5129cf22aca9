"""PipelinePassesJobRolesOnly: the role a SageMaker pipeline runs as may pass roles other than
the ones its steps run as.

A pipeline passes each step's ``RoleArn`` to SageMaker, which needs ``iam:PassRole`` for that
role ("IAM Access Management" for Pipelines,
https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-access.html); nothing else.
Checked for a pipeline whose ``RoleArn`` is a role of its stack: every allowed ``iam:PassRole``
in that role's inline policies and the policies of its stack attached to it must name only
roles that are a step's ``RoleArn`` (a wildcard, or any other role, fails).
"""

from __future__ import annotations

from typing import Any

from mlops_cdk.aws.cfn_values import (
    allow_statements,
    as_list,
    covers_action,
    referenced_logical_id,
)
from mlops_cdk.compliance.sagemaker.index import ROLE_TYPE, Resource, StackIndex, policy_documents
from mlops_cdk.compliance.sagemaker.pipelines import (
    PIPELINE_TYPE,
    UnreadableDefinition,
    arguments_of,
    definition_of,
    reference,
    steps,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def _key(value: Any) -> str:
    """A comparable form of a role reference (its logical id, or the literal)."""
    logical_id = referenced_logical_id(value)
    return f"ref:{logical_id}" if logical_id is not None else repr(value)


def pipeline_passes_job_roles_only(pipeline: Resource, index: StackIndex) -> Compliance:
    role_id = referenced_logical_id(pipeline.properties.get("RoleArn"))
    role = index.by_logical_id(role_id) if role_id else None
    if role is None or role.type != ROLE_TYPE:
        return NOT_APPLICABLE  # a role of another stack or account: its policies are not here
    try:
        definition, refs = definition_of(pipeline)
    except UnreadableDefinition:
        return NOT_APPLICABLE  # PipelineJobsProtected reports an unreadable definition
    step_roles = {
        _key(reference(arguments_of(step).get("RoleArn"), refs))
        for step in steps(definition)
        if arguments_of(step).get("RoleArn") is not None
    }
    statements = [
        statement
        for source in [role, *index.policies_attached_to(role.logical_id)]
        for document in policy_documents(source)
        for statement in allow_statements(document)
        if covers_action(statement, "iam:PassRole")
    ]
    for statement in statements:
        for resource in as_list(statement.get("Resource")):
            if _key(resource) not in step_roles:
                return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "PipelinePassesJobRolesOnly",
    "The role of a SageMaker pipeline may pass a role that none of its steps runs as "
    "(iam:PassRole on '*' or on another role).",
    "A pipeline's role passes its steps' roles to SageMaker and needs nothing more: scope "
    "iam:PassRole to the RoleArn of its training and processing steps (with "
    "iam:PassedToService sagemaker.amazonaws.com), so that the pipeline cannot run jobs as "
    "any other role. mlops_cdk.constructs.retraining_pipeline.RetrainingPipeline does.",
    pipeline_passes_job_roles_only,
    frozenset({PIPELINE_TYPE}),
)
