"""Images AWS provides for inference (built-in algorithms such as XGBoost and Linear Learner,
Deep Learning Containers for PyTorch, TensorFlow, Hugging Face, scikit-learn), resolved offline
to the region's registry account and image URI.

The facts come from the committed ``table.json``, derived from the SageMaker Python SDK's image
URI configuration (its version and the sha256 of each source file are recorded in the table;
:mod:`mlops_cdk.aws.images.derive` regenerates it and a test keeps it in step). AWS documents
the registry paths per region in "Docker Registry Paths and Example Code"
(https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-algo-docker-registry-paths.html),
which also says that these images are owned by SageMaker AI and that "real-time inference use[s]
service-owned credentials to pull and run images on managed SageMaker AI instances": the
model's execution role needs no ECR permission for them.

The tag follows the SDK's ``sagemaker.image_uris.retrieve`` for the inference scope:
``<version>[-<processor>][-<py_version>][-<container_version>]`` (Hugging Face:
``<pytorch version>-transformers<version>-...``). Versions are pinned: the SDK's aliases (``1``,
``2.6``, ``latest``) are refused with the versions they stand for.

Pure Python: the configuration, the constructs, the rule pack and the tools read it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("table.json")


class ImageProblem(ValueError):  # noqa: N818 - read as "the image's problem"
    """An AWS image that cannot be resolved: ``field`` (framework, version, py_version,
    processor, base_framework or region) and the reason, with close matches."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class ResolvedImage:
    """One image AWS provides, in one region."""

    account: str
    region: str
    repository: str
    tag: str

    @property
    def host(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.{url_suffix(self.region)}"

    @property
    def uri(self) -> str:
        return f"{self.host}/{self.repository}:{self.tag}"

    @property
    def repository_arn(self) -> str:
        return (
            f"arn:{partition_of(self.region)}:ecr:{self.region}:{self.account}:"
            f"repository/{self.repository}"
        )


# DNS suffix of a region's service endpoints (botocore's partitions): ECR registry hosts are
# <account>.dkr.ecr.<region>.<suffix>.
_SUFFIXES = (
    ("cn-", "amazonaws.com.cn"),
    ("us-isob-", "sc2s.sgov.gov"),
    ("us-isof-", "csp.hci.ic.gov"),
    ("eu-isoe-", "cloud.adc-e.uk"),
    ("us-iso-", "c2s.ic.gov"),
    ("eusc-", "amazonaws.eu"),
)


# A region's partition (botocore's partitions), for ARNs of AWS's registries.
_PARTITIONS = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("eusc-", "aws-eusc"),
)


def partition_of(region: str) -> str:
    """The ARN partition of ``region`` (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""
    return next((name for prefix, name in _PARTITIONS if region.startswith(prefix)), "aws")


def url_suffix(region: str) -> str:
    return next(
        (suffix for prefix, suffix in _SUFFIXES if region.startswith(prefix)), "amazonaws.com"
    )


@cache
def table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TABLE.read_text(encoding="utf-8"))
    return data


def frameworks() -> tuple[str, ...]:
    return tuple(sorted(table()["frameworks"]))


def registry_accounts() -> frozenset[str]:
    """Every account of the table's registries (the accounts whose images a model may use)."""
    return frozenset(
        account for registry in table()["registries"].values() for account in registry.values()
    )


def _hint(value: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, options, n=3, cutoff=0.5)
    if close:
        return f" (did you mean {', '.join(close)}?)"
    shown = list(options) if len(options) <= 12 else [*options[:5], "...", *options[-5:]]
    return f" (one of: {', '.join(shown)})"


def _one_of(field: str, what: str, value: str | None, options: list[str]) -> str | None:
    """``value`` checked against ``options``: None when there is nothing to choose, the only
    option when there is one and none is given."""
    if not options:
        if value is not None:
            raise ImageProblem(field, f"{what} has none: remove it")
        return None
    if value is None:
        if len(options) == 1:
            return options[0]
        raise ImageProblem(field, f"required: one of {', '.join(options)}")
    if value not in options:
        raise ImageProblem(field, f"{value!r} is not available{_hint(value, options)}")
    return value


def _version_config(framework: str, version: str) -> dict[str, Any]:
    config = table()["frameworks"].get(framework)
    if config is None:
        raise ImageProblem(
            "framework",
            f"{framework!r} is not an image AWS provides{_hint(framework, frameworks())}",
        )
    versions = list(config["versions"])
    if version in versions:
        return dict(config["versions"][version])
    alias = config.get("version_aliases", {}).get(version)
    if alias is not None:
        raise ImageProblem(
            "version", f"{version!r} is an alias of {framework} {alias}: pin the version {alias!r}"
        )
    raise ImageProblem(
        "version", f"{framework} has no inference image {version!r}{_hint(version, versions)}"
    )


def image_problem(
    framework: str,
    version: str,
    *,
    processor: str | None = None,
    py_version: str | None = None,
    base_framework: str | None = None,
    region: str | None = None,
) -> ImageProblem | None:
    """What is wrong with the image's settings (and ``region``, when given), or None."""
    try:
        if region is None:
            repository_of(
                framework,
                version,
                processor=processor,
                py_version=py_version,
                base_framework=base_framework,
            )
        else:
            resolve(
                framework,
                version,
                region,
                processor=processor,
                py_version=py_version,
                base_framework=base_framework,
            )
    except ImageProblem as problem:
        return problem
    return None


# The SageMaker Python SDK keeps deep learning frameworks' inference and training images in
# separate repositories (``pytorch-inference`` / ``pytorch-training``, ``tensorflow-inference``,
# ``huggingface-pytorch-inference``, ``sagemaker-tensorflow-serving``: TensorFlow Serving);
# the committed table holds the inference ones. Images of the built-in algorithms, XGBoost,
# scikit-learn and the early framework containers serve every scope from one repository.
INFERENCE_ONLY_SUFFIXES = ("-inference", "-serving")


def repository_of(
    framework: str,
    version: str,
    *,
    processor: str | None = None,
    py_version: str | None = None,
    base_framework: str | None = None,
) -> str:
    """The repository of the table's image for these settings (in every region); raises
    :class:`ImageProblem` for settings the table does not have."""
    image = _resolve(
        framework,
        version,
        processor=processor,
        py_version=py_version,
        base_framework=base_framework,
        region=None,
    )
    return image.repository


def serves_training(repository: str) -> bool:
    """Whether an image of the table's ``repository`` can also run a training job: not an
    inference-only repository (``<name>-inference``, ``<name>-serving``)."""
    return not repository.endswith(INFERENCE_ONLY_SUFFIXES)


def resolve(
    framework: str,
    version: str,
    region: str,
    *,
    processor: str | None = None,
    py_version: str | None = None,
    base_framework: str | None = None,
) -> ResolvedImage:
    """The image's account, repository and tag in ``region``; :class:`ImageProblem` if the
    table does not have it."""
    return _resolve(
        framework,
        version,
        processor=processor,
        py_version=py_version,
        base_framework=base_framework,
        region=region,
    )


def _resolve(
    framework: str,
    version: str,
    *,
    processor: str | None,
    py_version: str | None,
    base_framework: str | None,
    region: str | None,
) -> ResolvedImage:
    config = table()["frameworks"].get(framework, {})
    version_config = _version_config(framework, version)
    tag_prefix = version_config.get("tag_prefix", version)
    if framework == "huggingface":
        bases = [key for key in version_config if key != "version_aliases"]
        base = _one_of("base_framework", "this version", base_framework, bases)
        assert base is not None  # noqa: S101 - the table lists at least one base framework
        version_config = dict(version_config[base])
        match = re.match(r"^(pytorch|tensorflow)(.*)$", base)
        tag_prefix = f"{match.group(2) if match else base}-transformers{version}"
    elif base_framework is not None:
        raise ImageProblem("base_framework", f"only Hugging Face images have one, not {framework}")
    if "repository" in version_config:
        py_options = list(version_config.get("py_versions") or [])
    else:
        py_options = [key for key in version_config if key.startswith("py")]
    py = _one_of("py_version", "this version", py_version, py_options)
    if py is not None and "repository" not in version_config:
        version_config = dict(version_config[py])
    processors = list(config.get("processors") or version_config.get("processors") or [])
    chosen = _one_of("processor", "this image", processor, processors)
    container = version_config.get("container_version", {}).get(chosen) if chosen else None
    tag = "-".join(part for part in (tag_prefix, chosen, py, container) if part)
    registries: dict[str, str] = table()["registries"][version_config["registries"]]
    account = ""
    if region is not None:
        if region not in registries:
            raise ImageProblem(
                "region",
                f"{framework} {version} is not published in {region}"
                + _hint(region, sorted(registries)),
            )
        account = registries[region]
    return ResolvedImage(account, region or "", str(version_config["repository"]), tag)
