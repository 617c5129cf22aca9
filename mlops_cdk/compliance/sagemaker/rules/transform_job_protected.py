"""TransformJobProtected: a state machine runs a SageMaker transform job whose instances'
volume or output is not encrypted with a KMS key, or whose model has no VPC or no network
isolation.

A transform job has no network settings of its own: it runs in the model's VPC with the
model's network isolation (CreateModel ``VpcConfig`` "is used in hosting services and in batch
transform"; ``EnableNetworkIsolation``). Its output is encrypted with ``TransformOutput.KmsKeyId``
and its instances' storage with ``TransformResources.VolumeKmsKeyId`` (SageMaker API reference,
"TransformOutput", "TransformResources"); instance types with local NVMe storage take no volume
key (AWS encrypts those volumes itself), so there only the output key is required.

The definition is read from the template: ``DefinitionString`` as a literal or an
``Fn::Join`` (references become placeholders), every ``Task`` state whose ``Resource`` is the
``sagemaker:createTransformJob`` integration, its ``Parameters`` or (JSONata) ``Arguments``. A
model named by ``Fn::GetAtt``/``Ref`` must be a model of the same stack with a VPC config and
isolation; a literal model name must be a model of the stage with that ``ModelName``. A
definition that cannot be read (a token in place of JSON) is non-compliant: nothing here can
tell what it runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mlops_cdk.aws.cfn_values import referenced_logical_id
from mlops_cdk.aws.facts import has_local_nvme
from mlops_cdk.compliance.sagemaker.definitions import (
    UnreadableDefinition,
    parse_definition,
    reference,
)
from mlops_cdk.compliance.sagemaker.index import (
    MODEL_TYPE,
    STATE_MACHINE_TYPE,
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

__all__ = [
    "RULE",
    "STATE_MACHINE_TYPE",
    "TRANSFORM_INTEGRATION",
    "UnreadableDefinition",
    "definition_of",
]

TRANSFORM_INTEGRATION = ":states:::sagemaker:createTransformJob"


def definition_of(machine: Resource) -> tuple[dict[str, Any], list[Any]]:
    """The state machine's definition, with each reference replaced by a placeholder string
    ``\\0ref<i>\\0``, and the list of those references (index i)."""
    body = machine.properties.get("DefinitionString")
    if body is None and isinstance(machine.properties.get("Definition"), dict):
        return dict(machine.properties["Definition"]), []
    return parse_definition(body, "DefinitionString")


def _states(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every state, those of Parallel branches and Map iterators included."""
    for state in (definition.get("States") or {}).values():
        if not isinstance(state, Mapping):
            continue
        yield state
        for branch in state.get("Branches") or []:
            if isinstance(branch, Mapping):
                yield from _states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), Mapping):
                yield from _states(state[key])


def transform_tasks(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The request (``Parameters`` or ``Arguments``) of every transform-job task."""
    found = []
    for state in _states(definition):
        resource = state.get("Resource")
        is_task = state.get("Type") == "Task" and isinstance(resource, str)
        if is_task and TRANSFORM_INTEGRATION in str(resource):
            request = state.get("Arguments") or state.get("Parameters") or {}
            found.append(request if isinstance(request, Mapping) else {})
    return found


def _model(name: Any, refs: list[Any], index: StackIndex) -> Resource | None:
    value = reference(name, refs)
    logical_id = referenced_logical_id(value)
    if logical_id is not None:
        found = index.by_logical_id(logical_id)
        return found if found is not None and found.type == MODEL_TYPE else None
    if isinstance(value, str):
        for _, model in index.stage().of_type(MODEL_TYPE):
            if model.properties.get("ModelName") == value:
                return model
    return None


def _protected(request: Mapping[str, Any], refs: list[Any], index: StackIndex) -> bool:
    output = request.get("TransformOutput") or {}
    resources = request.get("TransformResources") or {}
    if not isinstance(output, Mapping) or not isinstance(resources, Mapping):
        return False
    if not output.get("KmsKeyId"):
        return False
    instance_type = resources.get("InstanceType")
    nvme = isinstance(instance_type, str) and has_local_nvme(instance_type)
    if not nvme and not resources.get("VolumeKmsKeyId"):
        return False
    model = _model(request.get("ModelName"), refs, index)
    if model is None:
        return False
    props = model.properties
    return props.get("EnableNetworkIsolation") is True and bool(props.get("VpcConfig"))


def transform_job_protected(machine: Resource, index: StackIndex) -> Compliance:
    try:
        definition, refs = definition_of(machine)
    except UnreadableDefinition:
        return NON_COMPLIANT
    tasks = transform_tasks(definition)
    if not tasks:
        return NOT_APPLICABLE
    return COMPLIANT if all(_protected(t, refs, index) for t in tasks) else NON_COMPLIANT


RULE = Rule(
    "TransformJobProtected",
    "A state machine runs a transform job without KMS encryption of its volume and output, "
    "or with a model that has no VPC or no network isolation.",
    "Batch transform jobs read and write the environment's data: give every "
    "createTransformJob task TransformOutput.KmsKeyId and TransformResources.VolumeKmsKeyId "
    "(not on instance types with local NVMe storage, which AWS encrypts itself and for which "
    "it refuses a key), and run it with a model of this stage (Fn::GetAtt/Ref in the same "
    "stack, or a literal ModelName of the stage) that has VpcConfig and "
    "EnableNetworkIsolation: a transform job takes both from its model. "
    "mlops_cdk.constructs.batch_transform.BatchTransformJob does all of it.",
    transform_job_protected,
    frozenset({STATE_MACHINE_TYPE}),
)
