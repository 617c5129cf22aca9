"""Props of a service's retraining pipeline that this app deploys
(``services.<name>.retraining.managed_pipeline``) and of its model package group
(``services.<name>.model_registry``), declared once: the constructs
(:mod:`mlops_cdk.constructs.retraining_pipeline`, :mod:`mlops_cdk.constructs.model_registry`)
take them and the configuration validates YAML into them.

AWS facts (SageMaker API reference and developer guide):

- CreateTrainingJob (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html):
  ``HyperParameters`` at most 100 entries, keys at most 256 and values at most 2500 characters;
  ``InputDataConfig`` 1-20 channels named ``[A-Za-z0-9\\.\\-_]+`` (at most 64 characters);
  ``ResourceConfig.VolumeSizeInGB`` 1-16384 (botocore's service model).
- StoppingCondition (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html):
  ``MaxRuntimeInSeconds`` defaults to one day, at most 28 days; ``MaxWaitTimeInSeconds`` (managed
  spot) "is the amount of time spent waiting for Spot capacity plus the amount of time the job
  can run. It must be equal to or greater than MaxRuntimeInSeconds".
- Managed spot training ("Managed Spot Training in Amazon SageMaker AI",
  https://docs.aws.amazon.com/sagemaker/latest/dg/model-managed-spot-training.html): an
  interrupted job resumes from its checkpoints (``CheckpointConfig.S3Uri``) instead of starting
  over, so a spot job here always has a checkpoint location.
- Processing (``AppSpecification.ContainerEntrypoint`` / ``ContainerArguments``, at most 100
  items of at most 256 characters; API reference "AppSpecification").
- Pipeline parameters are named ``[A-Za-z0-9\\-_]{1,64}`` (SageMaker pipeline definition JSON
  schema, https://aws-sagemaker-mlops.github.io/sagemaker-model-building-pipeline-definition-JSON-schema/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from annotated_types import Ge, Le

from mlops_cdk.aws.images import serves_training
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import NUMBER, PROPS_CONFIG, Pattern, checked_types, declared_problems
from mlops_cdk.props.model import AwsImageSpec, ImageDigest, ImageTag

# The parameters the retraining function passes to StartPipelineExecution
# (mlops_cdk/functions/retrain/retrain.py, _run_pipeline): a pipeline that it starts must
# declare each of them; our pipeline does, and preflight checks a team's own pipeline.
RETRAINING_PARAMETERS = ("AlarmName", "EndpointName", "Reason")
# Where a service's data and the pipeline's outputs live in the environment's bucket.
TRAINING_DATA_ROOT = "training/"
RETRAINING_ROOT = "retraining/"
# The evaluation step writes this report (its property file) to its "evaluation" output.
EVALUATION_REPORT = "evaluation.json"
MAX_RUNTIME_SECONDS = 28 * 24 * 3600
MAX_HYPERPARAMETERS = 100
MAX_CHANNELS = 20
_CHANNEL = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")
_INSTANCE_TYPE = r"^ml\.[a-z0-9-]+\.[a-z0-9]+$"
_METRIC_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
Comparison = Literal[
    "greater_than_or_equal_to", "greater_than", "less_than_or_equal_to", "less_than"
]
# The pipeline definition's condition types (schema: BinaryCondition.Type).
CONDITION_TYPES: dict[str, str] = {
    "greater_than_or_equal_to": "GreaterThanOrEqualTo",
    "greater_than": "GreaterThan",
    "less_than_or_equal_to": "LessThanOrEqualTo",
    "less_than": "LessThan",
}


def training_data_prefix(service: str) -> str:
    """Every input channel of ``service`` is read from under this prefix."""
    return f"{TRAINING_DATA_ROOT}{service}/"


def channel_prefix(service: str, channel: str) -> str:
    return f"{training_data_prefix(service)}{channel}/"


def retraining_prefixes(service: str) -> tuple[str, str, str]:
    """(model output, evaluation reports, spot checkpoints) prefixes of ``service``."""
    root = f"{RETRAINING_ROOT}{service}/"
    return f"{root}models/", f"{root}evaluation/", f"{root}checkpoints/"


def _image_problems(spec: Any, *, training: bool = False) -> list[tuple[str, str]]:
    """Exactly one of image_tag, image_digest (the service's repository) or aws_image; for the
    training step, an ``aws_image`` that can train (AWS keeps deep learning frameworks'
    training images apart from the inference ones the table holds: a training job started on
    ``pytorch-inference`` fails at its first run, which nothing checks before)."""
    given = [n for n in ("image_tag", "image_digest", "aws_image") if getattr(spec, n) is not None]
    if len(given) != 1:
        return [("image_tag", "set exactly one of image_tag, image_digest or aws_image")]
    image = spec.aws_image
    if training and image is not None and not serves_training(repository := image.repository):
        return [
            (
                "aws_image",
                f"{image.framework} {image.version} is AWS's inference image ({repository}), "
                "which cannot run a training job: build the training image into the service's "
                "repository (FROM AWS's training image) and set image_tag or image_digest",
            )
        ]
    return []  # the tag's and digest's own checks: their declarations (ImageTag, ImageDigest)


@dataclass(frozen=True, kw_only=True)
@checked_types
class SpotSpec:
    """Managed spot training: wait at most ``max_wait_seconds`` for capacity plus run time
    (at least the training's ``max_runtime_seconds``); checkpoints go to
    ``retraining/<service>/checkpoints/`` from ``checkpoint_local_path`` in the container."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    max_wait_seconds: Annotated[int, Ge(1), Le(MAX_RUNTIME_SECONDS), NUMBER]
    checkpoint_local_path: Annotated[str, Pattern(r"^/[A-Za-z0-9_./-]{1,254}$")] = (
        "/opt/ml/checkpoints"
    )

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if problems:
            raise PropProblems(problems, subject="spot")


@dataclass(frozen=True, kw_only=True)
@checked_types
class TrainingSpec:
    """The training step: the image (a tag or digest of the service's repository, or an
    ``aws_image``), ``instance_count`` x ``instance_type`` with ``volume_gb`` each, at most
    ``max_runtime_seconds``; each of ``channels`` reads ``training/<service>/<channel>/``;
    ``network_isolation`` (no network access from the container: off for images that download
    at run time); ``spot`` for managed spot training with checkpoints."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    image_tag: ImageTag | None = None
    image_digest: ImageDigest | None = None
    aws_image: AwsImageSpec | None = None
    instance_type: Annotated[str, Pattern(_INSTANCE_TYPE)]
    instance_count: Annotated[int, Ge(1), Le(100), NUMBER] = 1
    volume_gb: Annotated[int, Ge(1), Le(16384), NUMBER] = 30
    max_runtime_seconds: Annotated[int, Ge(1), Le(MAX_RUNTIME_SECONDS), NUMBER] = 86_400
    hyperparameters: dict[str, str] = field(default_factory=dict)
    channels: tuple[str, ...] = ("train",)
    content_type: str | None = None
    network_isolation: bool = True
    spot: SpotSpec | None = None

    def __post_init__(self) -> None:
        problems = declared_problems(self) + _image_problems(self, training=True)
        problems += self._channel_problems()
        problems += self._hyperparameter_problems()
        spot = self.spot
        if spot is not None and spot.max_wait_seconds < self.max_runtime_seconds:
            problems.append(
                ("spot.max_wait_seconds", f"{spot.max_wait_seconds} is less than "
                 f"max_runtime_seconds ({self.max_runtime_seconds}); SageMaker requires "
                 "MaxWaitTimeInSeconds >= MaxRuntimeInSeconds")
            )  # fmt: skip
        if problems:
            raise PropProblems(problems, subject="training")

    def _channel_problems(self) -> list[tuple[str, str]]:
        if not 1 <= len(self.channels) <= MAX_CHANNELS:
            return [("channels", f"1-{MAX_CHANNELS} channels (CreateTrainingJob InputDataConfig)")]
        problems = [
            (f"channels[{i}]", f"{name!r} is not a channel name ([A-Za-z0-9.-_], 1-64)")
            for i, name in enumerate(self.channels)
            if not _CHANNEL.match(name)
        ]
        if len(set(self.channels)) != len(self.channels):
            problems.append(("channels", "channel names must be unique"))
        return problems

    def _hyperparameter_problems(self) -> list[tuple[str, str]]:
        if len(self.hyperparameters) > MAX_HYPERPARAMETERS:
            return [("hyperparameters", f"at most {MAX_HYPERPARAMETERS} entries")]
        return [
            (f"hyperparameters.{key}", "keys 1-256 and values at most 2500 characters")
            for key, value in self.hyperparameters.items()
            if not 1 <= len(key) <= 256 or len(value) > 2500
        ]


@dataclass(frozen=True, kw_only=True)
@checked_types
class MetricGateSpec:
    """The metric the evaluation step reports and the threshold a new model must meet to be
    registered: ``evaluation.json`` holds ``{"metrics": {"<name>": {"value": <number>}}}``
    and the condition is ``value <comparison> threshold``."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    name: Annotated[str, Pattern(_METRIC_NAME)]
    threshold: Annotated[float, NUMBER]
    comparison: Comparison = "greater_than_or_equal_to"

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if problems:
            raise PropProblems(problems, subject="metric")

    @property
    def json_path(self) -> str:
        """Where the condition step reads the value in the report (``Std:JsonGet`` Path)."""
        return f"metrics.{self.name}.value"


@dataclass(frozen=True, kw_only=True)
@checked_types
class EvaluationSpec:
    """The evaluation (processing) step: the team's image runs ``entrypoint`` (+
    ``arguments``) with the trained model in ``/opt/ml/processing/model`` and the
    ``channel``'s data (``training/<service>/<channel>/``) in ``/opt/ml/processing/test``, and
    writes ``/opt/ml/processing/evaluation/evaluation.json`` with ``metric``."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    image_tag: ImageTag | None = None
    image_digest: ImageDigest | None = None
    aws_image: AwsImageSpec | None = None
    instance_type: Annotated[str, Pattern(_INSTANCE_TYPE)]
    instance_count: Annotated[int, Ge(1), Le(100), NUMBER] = 1
    volume_gb: Annotated[int, Ge(1), Le(16384), NUMBER] = 30
    max_runtime_seconds: Annotated[int, Ge(1), Le(7 * 24 * 3600), NUMBER] = 3600
    entrypoint: tuple[str, ...]
    arguments: tuple[str, ...] = ()
    channel: Annotated[str, Pattern(r"^[A-Za-z0-9.\-_]{1,64}$")] = "test"
    metric: MetricGateSpec
    network_isolation: bool = True

    def __post_init__(self) -> None:
        problems = declared_problems(self) + _image_problems(self)
        for name in ("entrypoint", "arguments"):
            items = getattr(self, name)
            if len(items) > 100 or any(not 1 <= len(item) <= 256 for item in items):
                problems.append((name, "at most 100 items of 1-256 characters"))
        if not self.entrypoint:
            problems.append(("entrypoint", "the command that writes evaluation.json"))
        if problems:
            raise PropProblems(problems, subject="evaluation")


@dataclass(frozen=True, kw_only=True)
@checked_types
class ManagedPipelineSpec:
    """A retraining pipeline this app deploys: train, evaluate, and register the model in the
    service's model package group (PendingManualApproval, the evaluation report attached) when
    ``evaluation.metric`` meets its threshold; otherwise the execution fails with the value.
    ``serving_model`` names the model of the service whose image serves registered packages
    (default: the first variant's model); ``content_types`` / ``response_types`` go into the
    package's inference specification. ``name`` defaults to ``<env>-<service>-retraining``."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    # Checked in __post_init__, not as a schema pattern: a file may write {env}/{service}.
    name: str | None = None
    training: TrainingSpec
    evaluation: EvaluationSpec
    serving_model: str | None = None
    content_types: tuple[str, ...] = ("text/csv",)
    response_types: tuple[str, ...] = ("text/csv",)

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if self.name is not None and not _PIPELINE_NAME.match(self.name):
            problems.append(("name", f"{self.name!r} is not a pipeline name (letters, digits "
                             "and single '-', at most 256 characters)"))  # fmt: skip
        for name in ("content_types", "response_types"):
            if not getattr(self, name) or any(len(v) > 256 for v in getattr(self, name)):
                problems.append((name, "1 or more MIME types of at most 256 characters"))
        if problems:
            raise PropProblems(problems, subject="managed pipeline")


@dataclass(frozen=True, kw_only=True)
@checked_types
class ModelRegistrySpec:
    """The service's model package group: ``reader_accounts`` (12-digit ids) may describe and
    list its packages and create models from them (the group's resource policy). Their access
    to the image repository, the artifact bucket and the KMS key is granted separately (see
    docs/concepts/retraining-pipeline.md, "Model package group")."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    reader_accounts: tuple[Annotated[str, Pattern(r"^\d{12}$")], ...] = ()

    def __post_init__(self) -> None:
        problems = [
            (f"reader_accounts[{i}]", f"{account!r} is not a 12-digit AWS account id")
            for i, account in enumerate(self.reader_accounts)
            if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account)
        ]
        if len(set(self.reader_accounts)) != len(self.reader_accounts):
            problems.append(("reader_accounts", "duplicate account ids"))
        if problems:
            raise PropProblems(problems, subject="model registry")


__all__ = [
    "CONDITION_TYPES",
    "EVALUATION_REPORT",
    "RETRAINING_PARAMETERS",
    "EvaluationSpec",
    "ManagedPipelineSpec",
    "MetricGateSpec",
    "ModelRegistrySpec",
    "SpotSpec",
    "TrainingSpec",
    "channel_prefix",
    "retraining_prefixes",
    "training_data_prefix",
]
