"""Props of a model's containers: an image (a tag or digest in the service's repository, or an
image AWS provides), optional model data, environment and a hostname.

Pure Python (no aws_cdk, pydantic or boto3): :class:`mlops_cdk.constructs.model.HostedModel`
takes them and the configuration validates ``services.<name>.models[].containers`` (and a
model's ``aws_image``) into the same classes, so each rule is declared once.

AWS facts (SageMaker developer guide and API reference):

- "Inference pipelines in Amazon SageMaker AI"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/inference-pipelines.html): "a linear sequence
  of two to fifteen containers"; usable for real-time endpoints and batch transform.
- "Create a multi-container endpoint (Boto 3)"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/multi-container-create.html): ``Containers``
  instead of ``PrimaryContainer``, more than one container; ``ContainerHostname`` is required
  for each container with direct invocation; ``InferenceExecutionConfig.Mode`` is ``Direct`` or
  ``Serial`` (the default); "a limit of up to 15 containers".
- CreateModel (botocore's service model): ``Containers`` 0-15 items; ``ContainerHostname``
  matches ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``; ``Environment`` at most 100 entries, keys and
  values at most 1024 characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from annotated_types import Ge

from mlops_cdk.aws.images import (
    ResolvedImage,
    image_problem,
    partition_of,
    repository_of,
    resolve,
)
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import (
    NUMBER,
    PROPS_CONFIG,
    Check,
    Pattern,
    checked_types,
    declared_problems,
)

MIN_PIPELINE_CONTAINERS = 2
MAX_CONTAINERS = 15
MAX_ENVIRONMENT_VARIABLES = 100
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
IMAGE_DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
HOSTNAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")
InferenceExecution = Literal["serial", "direct"]
# CloudFormation's InferenceExecutionConfig.Mode values.
INFERENCE_EXECUTION_MODES: dict[str, str] = {"serial": "Serial", "direct": "Direct"}


def image_tag_problem(value: str | None) -> str | None:
    """Why ``value`` is not a release tag, or None."""
    if value is None:
        return None
    if value == "latest":
        return "'latest' does not pin a model version; use a release tag or digest"
    if not re.match(IMAGE_TAG_PATTERN, value):
        return f"{value!r} is not an image tag (letters, digits, '_', '.', '-'; at most 128)"
    return None


def model_data_key_problem(value: str | None) -> str | None:
    """Why ``value`` is not a relative S3 key of a model archive, or None."""
    if value is None or (not value.startswith("/") and value.endswith(".tar.gz")):
        return None
    return f"{value!r} must be a relative S3 key of a .tar.gz model archive"


# ContainerDefinition.Environment: "The maximum length of each key and value in the Environment
# map is 1024 bytes. The maximum length of all keys and values in the map, combined, is 32 KB.
# If you pass multiple containers to a CreateModel request, then the maximum length of all of
# their maps, combined, is also 32 KB" (SageMaker API reference, ContainerDefinition).
MAX_ENVIRONMENT_ENTRY_BYTES = 1024
MAX_ENVIRONMENT_BYTES = 32 * 1024


def environment_bytes(value: Mapping[str, str]) -> int:
    """The length of all keys and values of one environment, in UTF-8 bytes."""
    return sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in value.items())


def environment_problem(value: Mapping[str, str]) -> str | None:
    """Why ``value`` is not a container environment SageMaker accepts, or None."""
    if len(value) > MAX_ENVIRONMENT_VARIABLES:
        return f"at most {MAX_ENVIRONMENT_VARIABLES} container environment variables"
    for key, item in value.items():
        if not _ENV_KEY.match(key):
            return f"{key!r} is not a valid environment variable name"
        if len(item.encode("utf-8")) > MAX_ENVIRONMENT_ENTRY_BYTES:
            return (
                f"value of {key!r} is {len(item.encode('utf-8'))} bytes (UTF-8); SageMaker "
                f"allows {MAX_ENVIRONMENT_ENTRY_BYTES}"
            )
    total = environment_bytes(value)
    if total > MAX_ENVIRONMENT_BYTES:
        return (
            f"keys and values are {total} bytes (UTF-8) together; SageMaker allows "
            f"{MAX_ENVIRONMENT_BYTES} (32 KB) per model"
        )
    return None


# AWS's scikit-learn serving image runs the inference script named by SAGEMAKER_PROGRAM from the
# directory SAGEMAKER_SUBMIT_DIRECTORY names, and neither has a default it can serve with: the
# image sets neither (aws/sagemaker-scikit-learn-container, docker/<version>/final/Dockerfile.cpu),
# its serving toolkit (sagemaker-containers, _env.py) falls back to /opt/ml/code, which is empty
# on an endpoint (the model archive unpacks to /opt/ml/model), and it has no default model_fn
# ("For Scikit-learn, a default function to load a model is not provided", serving.py). The
# container then fails its ping and CreateEndpoint rolls the stack back. The SageMaker Python SDK
# packs the script into the archive's code/ folder and sets SAGEMAKER_SUBMIT_DIRECTORY to
# /opt/ml/model/code; AWS's Knowledge Center: "Be sure that the environment variables
# SAGEMAKER_SUBMIT_DIRECTORY and SAGEMAKER_PROGRAM are set" ("troubleshoot ... custom container
# ... for training or inference").
SCRIPT_MODE_FRAMEWORKS = frozenset({"sklearn"})
SCRIPT_MODE_VARIABLES = ("SAGEMAKER_PROGRAM", "SAGEMAKER_SUBMIT_DIRECTORY")
MODEL_CODE_DIRECTORY = "/opt/ml/model/code"


def script_mode_problem(
    aws_image: AwsImageSpec | None, environment: Mapping[str, str]
) -> str | None:
    """Why an AWS image that serves a script cannot find it in ``environment``, or None."""
    if aws_image is None or aws_image.framework not in SCRIPT_MODE_FRAMEWORKS:
        return None
    missing = [name for name in SCRIPT_MODE_VARIABLES if not environment.get(name)]
    if not missing:
        return None
    return (
        f"AWS's {aws_image.framework} image serves the script SAGEMAKER_PROGRAM names (with its "
        f"model_fn) from the directory SAGEMAKER_SUBMIT_DIRECTORY names, and has no default for "
        f"either (its directory would be the empty /opt/ml/code): set {' and '.join(missing)} "
        f"(the script packed in the model archive's code/ folder: SAGEMAKER_SUBMIT_DIRECTORY: "
        f"{MODEL_CODE_DIRECTORY})"
    )


# botocore's SageMaker model (a test compares them): shape ContainerImage, no whitespace and at
# most 255 characters; shape Url, https:// or s3:// and at most 1024.
IMAGE_URI_PATTERN = re.compile(r"^[\S]+$")
MAX_IMAGE_URI_LENGTH = 255
MODEL_DATA_URL_PATTERN = re.compile(r"^(https|s3)://([^/]+)/?(.*)$")
MAX_MODEL_DATA_URL_LENGTH = 1024


def image_uri_problem(value: str) -> str | None:
    """Why SageMaker would refuse ``value`` as a container's Image, or None."""
    if IMAGE_URI_PATTERN.match(value) and len(value) <= MAX_IMAGE_URI_LENGTH:
        return None
    return f"{value!r} is not an image URI (no spaces, at most {MAX_IMAGE_URI_LENGTH} characters)"


def model_data_url_problem(value: str) -> str | None:
    """Why SageMaker would refuse ``value`` as a container's ModelDataUrl, or None."""
    if MODEL_DATA_URL_PATTERN.match(value) and len(value) <= MAX_MODEL_DATA_URL_LENGTH:
        return None
    return (
        f"{value!r} is not a model data URL (s3://bucket/key or https://..., at most "
        f"{MAX_MODEL_DATA_URL_LENGTH} characters)"
    )


# A model's and a container's image and data settings, declared once: the bounds pydantic
# checks (and the JSON Schema shows) and :func:`declared_problems` checks for a library user.
ImageTag = Annotated[str, Pattern(IMAGE_TAG_PATTERN), Check(image_tag_problem)]
ImageDigest = Annotated[str, Pattern(IMAGE_DIGEST_PATTERN)]
ModelDataKey = Annotated[str, Check(model_data_key_problem)]
ContainerEnvironment = Annotated[dict[str, str], Check(environment_problem)]


@dataclass(frozen=True)
@checked_types
class AwsImageSpec:
    """An image AWS provides (``aws_image``), named by ``framework`` and ``version`` as the
    SageMaker Python SDK names them (``xgboost`` ``1.7-1``, ``linear-learner`` ``1``,
    ``sklearn`` ``1.2-1``, ``pytorch`` ``2.6.0``, ``tensorflow`` ``2.19.0``, ``huggingface``
    ``4.51.3`` with ``base_framework`` ``pytorch2.6.0``); ``processor`` (cpu or gpu) and
    ``py_version`` when the version has several. Resolved per region from the committed table
    (:mod:`mlops_cdk.aws.images`)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    framework: str
    version: str
    processor: Literal["cpu", "gpu"] | None = None
    py_version: str | None = None
    base_framework: str | None = None

    def __post_init__(self) -> None:
        problem = image_problem(
            self.framework,
            self.version,
            processor=self.processor,
            py_version=self.py_version,
            base_framework=self.base_framework,
        )
        if problem is not None:
            raise PropProblems([(problem.field, problem.message)], subject="aws image")

    @property
    def repository(self) -> str:
        """The image's repository, the same in every region (``pytorch-inference``)."""
        return repository_of(
            self.framework,
            self.version,
            processor=self.processor,
            py_version=self.py_version,
            base_framework=self.base_framework,
        )

    def region_problem(self, region: str) -> str | None:
        """Why the image cannot be used in ``region``, or None."""
        problem = image_problem(
            self.framework,
            self.version,
            processor=self.processor,
            py_version=self.py_version,
            base_framework=self.base_framework,
            region=region,
        )
        return problem.message if problem is not None else None

    def resolve(self, region: str) -> ResolvedImage:
        return resolve(
            self.framework,
            self.version,
            region,
            processor=self.processor,
            py_version=self.py_version,
            base_framework=self.base_framework,
        )


@dataclass(frozen=True)
@checked_types
class ContainerSpec:
    """One container of a model: exactly one of ``image_tag`` / ``image_digest`` (in the
    service's repository) or ``aws_image``; ``model_data_key`` (a ``.tar.gz`` in the artifact
    bucket) when the image does not carry the model; ``environment``; ``hostname``
    (ContainerHostname, required for direct invocation, unique within the model)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    image_tag: ImageTag | None = None
    image_digest: ImageDigest | None = None
    aws_image: AwsImageSpec | None = None
    model_data_key: ModelDataKey | None = None
    environment: ContainerEnvironment = field(default_factory=dict)
    hostname: str | None = None

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        references = [self.image_tag, self.image_digest, self.aws_image]
        if sum(reference is not None for reference in references) != 1:
            problems.append(
                ("image_tag", "set exactly one of image_tag or image_digest, or aws_image")
            )
        script = script_mode_problem(self.aws_image, self.environment)
        if script is not None:
            problems.append(("environment", script))
        if self.hostname is not None and not re.match(HOSTNAME_PATTERN, self.hostname):
            problems.append(
                (
                    "hostname",
                    f"{self.hostname!r}: letters, digits and single '-' between them, at most 63 "
                    "(CreateModel ContainerHostname)",
                )
            )
        if problems:
            raise PropProblems(problems, subject="container")

    @property
    def uses_repository(self) -> bool:
        return self.aws_image is None

    @property
    def reference(self) -> str:
        """``:<tag>``, ``@<digest>`` or the AWS image's ``framework version``."""
        if self.aws_image is not None:
            return f"{self.aws_image.framework} {self.aws_image.version}"
        return f":{self.image_tag}" if self.image_tag is not None else f"@{self.image_digest}"


def containers_problems(
    containers: list[ContainerSpec], inference_execution: InferenceExecution | None
) -> list[tuple[str, str]]:
    """What AWS refuses in a multi-container model: 2-15 containers, a hostname per container
    for direct invocation and for none or all of a serial pipeline's ("If you specify a value
    for the ContainerHostName for any ContainerDefinition that is part of an inference
    pipeline, you must specify a value for the ContainerHostName parameter of every
    ContainerDefinition in that pipeline": ContainerDefinition), unique hostnames, and at most
    32 KB of environment across the containers (:data:`MAX_ENVIRONMENT_BYTES`)."""
    problems: list[tuple[str, str]] = []
    if not MIN_PIPELINE_CONTAINERS <= len(containers) <= MAX_CONTAINERS:
        problems.append(
            (
                "containers",
                f"{len(containers)} containers; a multi-container model has "
                f"{MIN_PIPELINE_CONTAINERS}-{MAX_CONTAINERS} (one container: use the model's own "
                "image and model_data_key)",
            )
        )
    seen: set[str] = set()
    named = any(container.hostname is not None for container in containers)
    for index, container in enumerate(containers):
        if container.hostname is None and inference_execution == "direct":
            problems.append((f"containers[{index}].hostname", "required for direct invocation"))
        elif container.hostname is None and named:
            problems.append(
                (
                    f"containers[{index}].hostname",
                    "another container of the pipeline names its hostname: SageMaker then "
                    "requires one for every container",
                )
            )
        if container.hostname is not None:
            if container.hostname in seen:
                problems.append(
                    (f"containers[{index}].hostname", f"duplicate hostname {container.hostname!r}")
                )
            seen.add(container.hostname)
    total = sum(environment_bytes(container.environment) for container in containers)
    if total > MAX_ENVIRONMENT_BYTES:
        problems.append(
            (
                "containers",
                f"the containers' environments are {total} bytes (UTF-8) together; SageMaker "
                f"allows {MAX_ENVIRONMENT_BYTES} (32 KB) for all of a model's containers",
            )
        )
    return problems


# A model package group's name (ModelPackageGroupName: 1-63 letters, digits and single '-'
# between them) and a versioned package's ARN ("The model packages used in the Model Registry
# are versioned ... arn:aws:sagemaker:region:account:model-package/<group>/<version>": SageMaker
# developer guide, "Model Registry Models, Model Versions, and Model Groups",
# https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-models.html; API reference
# ModelPackageSummary, ModelPackageArn and ModelPackageVersion >= 1,
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ModelPackageSummary.html).
MODEL_PACKAGE_GROUP_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
MODEL_PACKAGE_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]{9,16}:[0-9]{12}:model-package/"
    r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}/[1-9][0-9]{0,8}$"
)
# The same, with its parts named (Python syntax: the JSON Schema gets the pattern above).
_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]{9,16}:(?P<account>[0-9]{12}):model-package/"
    r"(?P<group>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(?P<version>[1-9][0-9]{0,8})$"
)


@dataclass(frozen=True)
@checked_types
class ModelPackageSpec:
    """A registered model version (``model_package``) instead of an image and an artifact:
    ``version`` in the service's model package group (``group`` names another one), or the
    versioned package's ``arn`` (another account's registry: cross-account deployment). Always
    a pinned version: nothing resolves "latest approved" at synth time.

    CreateModel takes it as a container's ``ModelPackageName`` ("Deploy a Model in the
    Registry", https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-deploy.html:
    ``Containers=[{'ModelPackageName': model_version_arn}]``); the package's inference
    specification supplies the image and the model data."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    version: Annotated[int, Ge(1), NUMBER] | None = None
    """Version in the model package group (1, 2, ...)."""
    group: Annotated[str, Pattern(MODEL_PACKAGE_GROUP_PATTERN)] | None = None
    """Model package group (default: the service's, <env>-<service>)."""
    arn: Annotated[str, Pattern(MODEL_PACKAGE_ARN_PATTERN)] | None = None
    """ARN of a versioned package, e.g. in another account (instead of version and group):
    arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>."""

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if (self.version is None) == (self.arn is None):
            problems.append(("version", "set exactly one of version (with optional group) or arn"))
        if self.arn is not None and self.group is not None:
            problems.append(("group", "the arn names the group: remove group"))
        if problems:
            raise PropProblems(problems, subject="model package")

    def group_name(self, default_group: str) -> str:
        """The package's group: the ARN's, ``group``, else ``default_group``."""
        match = _PACKAGE_ARN.match(self.arn or "")
        if match is not None:
            return match["group"]
        return self.group or default_group

    @property
    def package_version(self) -> int:
        match = _PACKAGE_ARN.match(self.arn or "")
        return int(match["version"]) if match is not None else int(self.version or 0)

    def account(self, default_account: str) -> str:
        """The account that owns the package (another one: cross-account deployment)."""
        match = _PACKAGE_ARN.match(self.arn or "")
        return match["account"] if match is not None else default_account

    def package_arn(self, *, region: str, account: str, default_group: str) -> str:
        """The versioned package's ARN, for ``ModelPackageName``."""
        if self.arn is not None:
            return self.arn
        group = self.group_name(default_group)
        return (
            f"arn:{partition_of(region)}:sagemaker:{region}:{account}:model-package/"
            f"{group}/{self.version}"
        )


@dataclass(frozen=True)
@checked_types
class ModelSpec:
    """What a model serves, declared once for :class:`~mlops_cdk.constructs.model.HostedModel`
    and the configuration's ``services.<name>.models[]``: exactly one of

    - an image (``image_tag`` or ``image_digest`` in the service's repository, or
      ``aws_image``) with its ``model_data_key`` and ``environment``;
    - ``containers`` (2-15: an inference pipeline, ``inference_execution`` ``serial``, or
      directly invocable containers, ``direct``);
    - ``model_package``: a pinned version of a model registry's package group.

    ``network_isolation``: no network access for the containers (serverless endpoints support
    neither it nor a VPC)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    image_tag: ImageTag | None = None
    """Release tag of the image in the service's repository (never 'latest')."""
    image_digest: ImageDigest | None = None
    """Digest of the image in the service's repository (sha256:...)."""
    aws_image: AwsImageSpec | None = None
    """An image AWS provides instead of the service's repository: framework (xgboost,
    linear-learner, sklearn, pytorch, tensorflow, huggingface), version, and processor
    (cpu/gpu), py_version, base_framework (Hugging Face) when needed."""
    model_data_key: ModelDataKey | None = None
    """S3 key of model.tar.gz under the artifacts prefix (required, except with containers:
    each container has its own)."""
    environment: ContainerEnvironment = field(default_factory=dict)
    """Environment variables of the container."""
    network_isolation: bool = True
    """No network access for the container."""
    containers: list[ContainerSpec] = field(default_factory=list)
    """2-15 containers instead of the model's own image: each with image_tag, image_digest or
    aws_image, optional model_data_key, environment and hostname."""
    inference_execution: InferenceExecution | None = None
    """How the containers run (InferenceExecutionConfig): serial (an inference pipeline, the
    default) or direct (each container invoked by its hostname)."""
    model_package: ModelPackageSpec | None = None
    """A registered model version instead of image and artifact: version (in the service's
    model package group <env>-<service>, or group), or the package's arn (another account's
    registry). Pinned: make promote writes it."""

    def __post_init__(self) -> None:
        problems = declared_problems(self)
        if not problems:
            if self.model_package is not None:
                problems = self._package_problems()
            elif self.containers:
                problems = self._containers_problems()
            else:
                problems = self._image_problems()
        if problems:
            raise PropProblems(problems, subject="model")

    def _image_settings_set(self, why: str) -> list[tuple[str, str]]:
        """``why`` for each of the model's own image settings that is set."""
        return [
            (name, why)
            for name in ("image_tag", "image_digest", "aws_image", "model_data_key")
            if getattr(self, name) is not None
        ]

    def _package_problems(self) -> list[tuple[str, str]]:
        """A model made from a registered package sets none of the image settings."""
        problems = self._image_settings_set("a model_package brings its own image and model data")
        if self.containers:
            problems.append(("containers", "a model_package brings its own containers"))
        if self.inference_execution is not None:
            problems.append(("inference_execution", "applies to a model with containers"))
        return problems

    def _containers_problems(self) -> list[tuple[str, str]]:
        problems = self._image_settings_set("a model with containers sets it in each container")
        if self.environment:
            problems.append(("environment", "a model with containers sets it in each container"))
        return problems + containers_problems(self.containers, self.inference_execution)

    def _image_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.inference_execution is not None:
            problems.append(("inference_execution", "applies to a model with containers"))
        if sum(r is not None for r in (self.image_tag, self.image_digest, self.aws_image)) != 1:
            problems.append(
                (
                    "image_tag",
                    "set exactly one of image_tag or image_digest, or aws_image (or a "
                    "model_package instead)",
                )
            )
        if self.model_data_key is None:
            problems.append(("model_data_key", "required: the model archive's S3 key"))
        script = script_mode_problem(self.aws_image, self.environment)
        if script is not None:
            problems.append(("environment", script))
        return problems

    def container_specs(self) -> list[ContainerSpec]:
        """The model's containers; a single-container model as one; none for a registered
        model package (its inference specification names them)."""
        if self.model_package is not None:
            return []
        if self.containers:
            return list(self.containers)
        return [
            ContainerSpec(
                image_tag=self.image_tag,
                image_digest=self.image_digest,
                aws_image=self.aws_image,
                model_data_key=self.model_data_key,
                environment=dict(self.environment),
            )
        ]

    @property
    def is_direct(self) -> bool:
        """A multi-container model whose containers are invoked one at a time, by hostname."""
        return bool(self.containers) and self.inference_execution == "direct"
