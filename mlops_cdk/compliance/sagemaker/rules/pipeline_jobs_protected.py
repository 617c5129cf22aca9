"""PipelineJobsProtected: a SageMaker pipeline runs a training or processing step whose volumes
or outputs are not encrypted with a KMS key, or that runs outside a VPC.

The step's ``Arguments`` are the CreateTrainingJob / CreateProcessingJob request (SageMaker
pipeline definition JSON schema). Training: ``OutputDataConfig.KmsKeyId``,
``ResourceConfig.VolumeKmsKeyId`` and ``VpcConfig`` (SageMaker API reference,
"CreateTrainingJob"); processing: ``ProcessingOutputConfig.KmsKeyId``,
``ProcessingResources.ClusterConfig.VolumeKmsKeyId`` and ``NetworkConfig.VpcConfig``
("CreateProcessingJob", "ProcessingClusterConfig"). Instance types with local NVMe storage take
no volume key (AWS encrypts those volumes itself). A definition that cannot be read (in S3, or
not JSON) is non-compliant: nothing here can tell what it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_cdk.aws.facts import has_local_nvme
from mlops_cdk.compliance.sagemaker.index import Resource, StackIndex
from mlops_cdk.compliance.sagemaker.pipelines import (
    PIPELINE_TYPE,
    UnreadableDefinition,
    arguments_of,
    definition_of,
    steps,
)
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

JOB_STEP_TYPES = ("Training", "Processing")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _in_vpc(vpc: Any) -> bool:
    vpc = _mapping(vpc)
    return bool(vpc.get("Subnets")) and bool(vpc.get("SecurityGroupIds"))


def _volume_encrypted(resources: Mapping[str, Any]) -> bool:
    instance_type = resources.get("InstanceType")
    if isinstance(instance_type, str) and has_local_nvme(instance_type):
        return True
    return bool(resources.get("VolumeKmsKeyId"))


def _protected(step: Mapping[str, Any]) -> bool:
    args = arguments_of(step)
    if step.get("Type") == "Training":
        return (
            bool(_mapping(args.get("OutputDataConfig")).get("KmsKeyId"))
            and _volume_encrypted(_mapping(args.get("ResourceConfig")))
            and _in_vpc(args.get("VpcConfig"))
        )
    cluster = _mapping(_mapping(args.get("ProcessingResources")).get("ClusterConfig"))
    return (
        bool(_mapping(args.get("ProcessingOutputConfig")).get("KmsKeyId"))
        and _volume_encrypted(cluster)
        and _in_vpc(_mapping(args.get("NetworkConfig")).get("VpcConfig"))
    )


def pipeline_jobs_protected(pipeline: Resource, index: StackIndex) -> Compliance:
    try:
        definition, _ = definition_of(pipeline)
    except UnreadableDefinition:
        return NON_COMPLIANT
    jobs = [step for step in steps(definition) if step.get("Type") in JOB_STEP_TYPES]
    if not jobs:
        return NOT_APPLICABLE
    return COMPLIANT if all(_protected(step) for step in jobs) else NON_COMPLIANT


RULE = Rule(
    "PipelineJobsProtected",
    "A SageMaker pipeline has a training or processing step without KMS keys for its volumes "
    "and outputs, or outside a VPC (or a definition that cannot be read from the template).",
    "Retraining jobs read the environment's data and write models: give every Training step "
    "OutputDataConfig.KmsKeyId, ResourceConfig.VolumeKmsKeyId and VpcConfig, and every "
    "Processing step ProcessingOutputConfig.KmsKeyId, ClusterConfig.VolumeKmsKeyId and "
    "NetworkConfig.VpcConfig (no volume key on instance types with local NVMe storage, which "
    "AWS encrypts itself); keep the definition in the template (PipelineDefinitionBody). "
    "mlops_cdk.constructs.retraining_pipeline.RetrainingPipeline does all of it.",
    pipeline_jobs_protected,
    frozenset({PIPELINE_TYPE}),
)
