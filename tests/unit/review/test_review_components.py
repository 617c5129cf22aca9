"""The review report's inference components: the fleet and, per component, its model, copies
(initial and autoscaling range) and what each copy reserves, before → after, read from what
InferenceComponentEndpoint synthesizes."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from mlops_cdk.constructs.inference_components import InferenceComponentEndpoint
from mlops_cdk.props.inference_components import (
    CopyAutoscaling,
    FleetSpec,
    InferenceComponentSpec,
    InferenceComponentsSpec,
    ManagedInstanceScalingSpec,
    RollingDeployment,
)
from mlops_tools.review.components import components_section
from mlops_tools.review.report import render_report

STACK = "dev-ranking"
# Without construct paths, a model is shown by its logical id, with its archive's key.
RANKER_MODEL = "`Modelrankingv1`<br>`models/ranking/ranking-v1.tar.gz`"
RERANKER_MODEL = "`Modelrerankerv1`<br>`models/ranking/reranker-v1.tar.gz`"


def ranker(max_copies: int = 4, memory_mb: int = 2048) -> InferenceComponentSpec:
    return InferenceComponentSpec(
        name="ranker",
        model="ranking-v1",
        cpu_cores=1,
        memory_mb=memory_mb,
        autoscaling=CopyAutoscaling(min_copies=0, max_copies=max_copies),
        # up to 6 batches of one copy, each baked 300 s: more than the default 1800 s
        deployment=RollingDeployment(maximum_execution_timeout_seconds=3600),
    )


RERANKER = InferenceComponentSpec(name="reranker", model="reranker-v1", memory_mb=4096, copies=2)


def synth(
    *components: InferenceComponentSpec, max_instances: int = 2, paths: bool = False
) -> dict[str, Any]:
    """The stack of a service of these components; ``paths``: with construct paths in the
    metadata, as ``cdk synth`` writes them (scripts/review.py runs app.py without them)."""
    app = cdk.App(context={"aws:cdk:enable-path-metadata": paths})
    stack = cdk.Stack(app, STACK, env=cdk.Environment(account="111111111111", region="eu-west-1"))
    models = {}
    for component in components:  # a model resource per model, as the service stack has
        models[component.model] = (
            cdk.CfnResource(
                stack,
                f"Model-{component.model}",
                type="AWS::SageMaker::Model",
                properties={
                    "ExecutionRoleArn": "arn:aws:iam::111111111111:role/execution",
                    "PrimaryContainer": {
                        "Image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/ranking:1.0.0",
                        "ModelDataUrl": f"s3://dev-artifacts/models/ranking/{component.model}.tar.gz",
                    },
                },
            )
            .get_att("ModelName")
            .to_string()
        )
    InferenceComponentEndpoint(
        stack,
        "InferenceComponents",
        endpoint_name=STACK,
        spec=InferenceComponentsSpec(
            fleet=FleetSpec(
                instance_type="ml.m5.xlarge",
                initial_instance_count=1,
                managed_scaling=ManagedInstanceScalingSpec(
                    min_instance_count=0, max_instance_count=max_instances
                ),
            ),
            components=components,
        ),
        models=models,
        execution_role=iam.Role.from_role_arn(
            stack, "Execution", "arn:aws:iam::111111111111:role/execution"
        ),
    )
    template: dict[str, Any] = app.synth().get_stack_by_name(STACK).template
    return template


def test_unchanged_components_are_shown_with_their_copies_and_reservations() -> None:
    template = synth(ranker(), RERANKER)
    lines = components_section({STACK: template}, {STACK: template}, [STACK])
    assert lines == [
        "### Inference components",
        "",
        f"Fleet of `{STACK}`: ml.m5.xlarge x 1, managed scaling 0-2 (scales to zero).",
        "",
        "| component | model | copies: initial (min-max) | each copy reserves |",
        "| --- | --- | --- | --- |",
        f"| `dev-ranking-ranker` | {RANKER_MODEL} | 1 (0-4, scales to zero) | 1 vCPU, 2048 MB |",
        f"| `dev-ranking-reranker` | {RERANKER_MODEL} | 2 (no autoscaling) | 4096 MB |",
        "",
    ]


def test_changes_read_before_to_after() -> None:
    before = synth(ranker())
    after = synth(ranker(max_copies=6, memory_mb=3072), RERANKER, max_instances=3)
    lines = components_section({STACK: before}, {STACK: after}, [STACK])
    assert lines[2] == (
        f"Fleet of `{STACK}`: **ml.m5.xlarge x 1, managed scaling 0-2 (scales to zero) → "
        "ml.m5.xlarge x 1, managed scaling 0-3 (scales to zero)**."
    )
    assert lines[6:8] == [
        f"| `dev-ranking-ranker` | {RANKER_MODEL} | **1 (0-4, scales to zero) → 1 (0-6, scales "
        "to zero)** | **1 vCPU, 2048 MB → 1 vCPU, 3072 MB** |",
        f"| `dev-ranking-reranker` (new) | **— → {RERANKER_MODEL}** | **— → 2 (no "
        "autoscaling)** | **— → 4096 MB** |",
    ]


def test_with_construct_paths_the_model_is_named_as_in_the_config() -> None:
    template = synth(ranker(), paths=True)
    lines = components_section({STACK: template}, {STACK: template}, [STACK])
    assert lines[6].startswith(
        "| `dev-ranking-ranker` | `ranking-v1`<br>`models/ranking/ranking-v1.tar.gz` |"
    )


def test_accelerators_are_shown() -> None:
    requirements = {"NumberOfAcceleratorDevicesRequired": 2, "MinMemoryRequiredInMb": 1024}
    template = {
        "Resources": {
            "C": {
                "Type": "AWS::SageMaker::InferenceComponent",
                "Properties": {
                    "InferenceComponentName": "dev-llm-chat",
                    "Specification": {
                        "ModelName": "llm",
                        "ComputeResourceRequirements": requirements,
                    },
                    "RuntimeConfig": {"CopyCount": 1},
                },
            }
        }
    }
    lines = components_section({}, {"dev-llm": template}, ["dev-llm"])
    assert lines[-2] == (
        "| `dev-llm-chat` (new) | **— → `llm`** | **— → 1 (no autoscaling)** | "
        "**— → 1024 MB, 2 accelerators** |"
    )


def test_a_service_without_components_has_no_such_section() -> None:
    assert components_section({STACK: {"Resources": {}}}, {STACK: {"Resources": {}}}, [STACK]) == []


def test_the_report_shows_them_in_the_services_section() -> None:
    before, after = synth(ranker()), synth(ranker(max_copies=6))
    report = render_report("dev", "main", {STACK: before}, {STACK: after})
    section = report[report.index("## Service `ranking`") :]
    assert "### Inference components" in section
    assert "**1 (0-4, scales to zero) → 1 (0-6, scales to zero)**" in section
