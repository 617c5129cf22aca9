"""HostedModel with several containers: an inference pipeline (Serial) or directly invocable
containers (Direct, each with its hostname); images from the repository or AWS's registry of the
stack's region; the single-container form is unchanged."""

from __future__ import annotations

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.constructs.async_access import AsyncOutput
from mlops_cdk.constructs.endpoint import WeightedEndpoint
from mlops_cdk.constructs.model import HostedModel
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.model import AwsImageSpec, ContainerSpec, ModelSpec
from mlops_cdk.props.variants import VariantSpec
from tests.helpers import new_stack
from tests.unit.constructs.variant_helpers import on_instances, serverless

XGBOOST = AwsImageSpec(framework="xgboost", version="1.7-1")


def build(stack: cdk.Stack, *, grants: bool = True, mode: str | None = "direct") -> HostedModel:
    return HostedModel(
        stack,
        "Model",
        repository=ecr.Repository.from_repository_name(stack, "Repo", "models"),
        bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts"),
        spec=ModelSpec(
            containers=[
                ContainerSpec(
                    aws_image=XGBOOST, model_data_key="models/a/xgb.tar.gz", hostname="xgb"
                ),
                ContainerSpec(
                    image_tag="2.0.0",
                    model_data_key="models/a/own.tar.gz",
                    environment={"B": "2", "A": "1"},
                    hostname="own",
                ),
            ],
            inference_execution=mode,  # type: ignore[arg-type]
        ),
        grants=grants,
    )


def test_containers_with_their_images_data_hostnames_and_mode() -> None:
    stack = new_stack()
    build(stack)
    (model,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
    props = model["Properties"]
    assert "PrimaryContainer" not in props
    assert props["InferenceExecutionConfig"] == {"Mode": "Direct"}
    first, second = props["Containers"]
    assert first == {
        "ContainerHostname": "xgb",
        "Image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "ModelDataUrl": "s3://artifacts/models/a/xgb.tar.gz",
    }
    assert second["ContainerHostname"] == "own"
    assert second["Environment"] == {"A": "1", "B": "2"}
    assert "models:2.0.0" in str(second["Image"])


def test_pipeline_is_serial_by_default() -> None:
    stack = new_stack()
    build(stack, mode=None)
    (model,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
    assert model["Properties"]["InferenceExecutionConfig"] == {"Mode": "Serial"}


def test_grants_read_every_container_artifact_and_pull_only_from_the_repository() -> None:
    stack = new_stack()
    build(stack)
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    read = [str(resource) for resource in statements["ReadModelArtifact"]["Resource"]]
    assert sorted(read) == [
        "arn:aws:s3:::artifacts/models/a/own.tar.gz",
        "arn:aws:s3:::artifacts/models/a/xgb.tar.gz",
    ]
    # AWS's images are pulled with service-owned credentials: no grant on AWS's registry.
    assert "141502667606" not in str(statements["PullModelImages"])


def test_without_grants_the_role_owner_grants() -> None:
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    HostedModel(
        stack,
        "Model",
        execution_role=role,
        repository=ecr.Repository.from_repository_name(stack, "Repo", "models"),
        bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts"),
        spec=ModelSpec(containers=[ContainerSpec(image_tag="1"), ContainerSpec(image_tag="2")]),
        grants=False,
    )
    assert Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy") == {}


def test_refuses_what_sagemaker_refuses() -> None:
    stack = new_stack()
    with pytest.raises(PropProblems, match=r"containers\[0\]\.hostname: required for direct"):
        ModelSpec(
            containers=[ContainerSpec(image_tag="1"), ContainerSpec(image_tag="2", hostname="b")],
            inference_execution="direct",
        )
    with pytest.raises(PropProblems, match="image_tag: a model with containers sets it in each"):
        ModelSpec(
            image_tag="1", containers=[ContainerSpec(image_tag="1"), ContainerSpec(image_tag="2")]
        )
    with pytest.raises(PropProblems, match="containers: 1 containers; a multi-container model"):
        ModelSpec(containers=[ContainerSpec(image_tag="1")])
    with pytest.raises(ValueError, match=r"containers\[1\] needs repository"):
        HostedModel(
            stack,
            "NoRepository",
            spec=ModelSpec(
                containers=[ContainerSpec(aws_image=XGBOOST), ContainerSpec(image_tag="2")]
            ),
        )


SKLEARN = AwsImageSpec(framework="sklearn", version="1.2-1")
SCRIPT = {"SAGEMAKER_PROGRAM": "pre.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}


@pytest.mark.parametrize("missing", sorted(SCRIPT))
def test_the_scikit_learn_image_needs_its_script_and_where_it_is(missing: str) -> None:
    """The image has no model_fn of its own and looks in the empty /opt/ml/code by default."""
    environment = {k: v for k, v in SCRIPT.items() if k != missing}
    with pytest.raises(PropProblems, match=rf"environment: AWS's sklearn image .* set {missing} "):
        ContainerSpec(
            aws_image=SKLEARN, model_data_key="models/a/pre.tar.gz", environment=environment
        )
    with pytest.raises(PropProblems, match=rf"environment: .* set {missing} "):
        ModelSpec(aws_image=SKLEARN, model_data_key="models/a/pre.tar.gz", environment=environment)
    ContainerSpec(aws_image=SKLEARN, model_data_key="models/a/pre.tar.gz", environment=SCRIPT)
    # Images whose toolkits find code/ in the model archive themselves, and our own images.
    ContainerSpec(aws_image=XGBOOST, model_data_key="models/a/xgb.tar.gz")
    ContainerSpec(image_tag="1.0.0", model_data_key="models/a/own.tar.gz")


def test_aws_image_needs_an_explicit_region() -> None:
    stack = cdk.Stack(cdk.App(), "Agnostic")
    with pytest.raises(ValueError, match="explicit region"):
        HostedModel(
            stack,
            "Model",
            spec=ModelSpec(
                containers=[ContainerSpec(aws_image=XGBOOST), ContainerSpec(aws_image=XGBOOST)]
            ),
        )


@pytest.mark.parametrize(
    ("variants", "shadows", "line"),
    [
        (
            [serverless("main", "pipeline", 1, 2048, 5)],
            [],
            "variants[0].serverless: model 'pipeline' has several containers; serverless "
            "endpoints do not support inference pipelines or multi-container models",
        ),
        (
            [on_instances("main", "pipeline", 1, "ml.m5.large", 1)],
            [on_instances("shadow", "single", 1, "ml.m5.large", 1)],
            "variants[0].model: model 'pipeline' has several containers; SageMaker runs no "
            "shadow on multi-container endpoints",
        ),
        (
            [
                on_instances("a", "pipeline", 1, "ml.m5.large", 1),
                on_instances("b", "single", 1, "ml.m5.large", 1),
            ],
            [],
            "variants: every variant's model must use direct invocation or none",
        ),
    ],
)
def test_the_endpoint_refuses_what_sagemaker_refuses_of_multi_container_models(
    variants: list[VariantSpec], shadows: list[VariantSpec], line: str
) -> None:
    """The configuration's rules, WeightedEndpoint's own: a library user learns at synth, not
    from CreateEndpointConfig."""
    stack = new_stack()
    pipeline = build(stack)  # direct invocation
    single = HostedModel(
        stack,
        "Single",
        repository=ecr.Repository.from_repository_name(stack, "Repo2", "single"),
        bucket=s3.Bucket.from_bucket_name(stack, "Bucket2", "artifacts"),
        spec=ModelSpec(image_tag="1.0.0", model_data_key="models/single.tar.gz"),
    )
    with pytest.raises(PropProblems) as raised:
        WeightedEndpoint(
            stack,
            "Endpoint",
            variants=variants,
            shadow_variants=shadows,
            models={"pipeline": pipeline, "single": single},
        )
    assert str(raised.value).startswith(f"WeightedEndpoint: {line}")


def test_a_model_given_by_name_is_not_judged() -> None:
    """Only a HostedModel's spec says what it holds: a model named by a string passes."""
    stack = new_stack()
    WeightedEndpoint(
        stack,
        "Endpoint",
        variants=[serverless("main", "elsewhere", 1, 2048, 5)],
        models={"elsewhere": "a-model-created-elsewhere"},
    )


@pytest.mark.parametrize(("mode", "refused"), [("direct", True), ("serial", False)])
def test_an_async_endpoint_refuses_a_direct_invocation_model(mode: str, refused: bool) -> None:
    """InvokeEndpointAsync cannot name the target container a direct endpoint requires; an
    inference pipeline (serial) is served asynchronously like any model."""
    stack = new_stack()
    variant = on_instances("main", "pipeline", 1, "ml.m5.large", 1)
    bucket = s3.Bucket(stack, "Output")

    def endpoint() -> WeightedEndpoint:
        return WeightedEndpoint(
            stack,
            "Endpoint",
            variants=[variant],
            models={"pipeline": build(stack, mode=mode)},
            async_output=AsyncOutput(bucket=bucket, output_prefix="out/", failure_prefix="err/"),
        )

    if not refused:
        endpoint()
        return
    with pytest.raises(PropProblems) as raised:
        endpoint()
    assert str(raised.value) == (
        "WeightedEndpoint: variants[0].model: model 'pipeline' uses direct invocation, which "
        "needs a target container in every request; asynchronous requests (InvokeEndpointAsync) "
        "cannot name one: use serial invocation (an inference pipeline) or a real-time endpoint"
    )


def test_async_requests_cannot_name_a_target_container() -> None:
    """What the refusal above rests on, read from botocore's service model."""
    model = botocore.session.get_session().get_service_model("sagemaker-runtime")
    assert "TargetContainerHostname" in model.operation_model("InvokeEndpoint").input_shape.members
    members = model.operation_model("InvokeEndpointAsync").input_shape.members
    assert "TargetContainerHostname" not in members
