"""ModelImageSource: a model's container image is neither in an ECR repository of its own
account nor one AWS provides, or the model has more containers than SageMaker allows.

An image is accepted when it is an intrinsic value built from an ECR repository (a repository of
this stack, or one exported by another stack of the app, e.g. the service's Registry stack), or
a literal ECR URI (or a join of a literal account with ``AWS::URLSuffix``) whose account is the
stack's stated account, the execution role's account or a registry account of the images AWS
provides (:func:`mlops_cdk.aws.images.registry_accounts`, the committed table).
A container made from a registered model package (``ModelPackageName``) must name one
versioned package by its literal ARN (a pinned version, never a group resolved at deploy
time); its image is the package's. CreateModel's ``Containers`` has at most 15 items (API
reference, CreateModel; "Create a multi-container endpoint (Boto 3)": "a limit of up to 15
containers")."""

from __future__ import annotations

import json
import re
from typing import Any

from mlops_cdk.aws.images import registry_accounts
from mlops_cdk.compliance.sagemaker.index import MODEL_TYPE, REPOSITORY_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import COMPLIANT, NON_COMPLIANT, Compliance, Rule
from mlops_cdk.props.model import MAX_CONTAINERS, MODEL_PACKAGE_ARN_PATTERN

_ECR_URI = re.compile(r"^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.[a-z0-9.-]+/[^\s]+$")
_JOINED_ACCOUNT = re.compile(r"^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.$")
_ROLE_ACCOUNT = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):role/")


def _definitions(model: Resource) -> list[dict[str, Any]]:
    containers = model.properties.get("Containers") or []
    primary = model.properties.get("PrimaryContainer")
    definitions = [primary, *containers] if isinstance(primary, dict) else list(containers)
    return [c for c in definitions if isinstance(c, dict)]


def _images(model: Resource) -> list[Any]:
    """The images of the containers that name one (a registered model package's container
    takes its image from the package: see :func:`_pinned_package`)."""
    return [c.get("Image") for c in _definitions(model) if "ModelPackageName" not in c]


def _pinned_package(container: dict[str, Any]) -> bool:
    """A container made from a model package names one pinned version by its literal ARN
    (``model-package/<group>/<version>``, :data:`mlops_cdk.props.model.MODEL_PACKAGE_ARN_PATTERN`)
    and no image of its own; the package's image and artifact are checked by preflight."""
    name = container.get("ModelPackageName")
    return (
        isinstance(name, str)
        and re.match(MODEL_PACKAGE_ARN_PATTERN, name) is not None
        and "Image" not in container
    )


def _from_repository(image: Any, index: StackIndex) -> bool:
    """An intrinsic that reads an ECR repository: exported by another stack, or of this one."""
    text = json.dumps(image)
    if "Fn::ImportValue" in text and ".dkr.ecr." in text:
        return True
    repositories = {r.logical_id for r in index.of_type(REPOSITORY_TYPE)}
    return any(f'"{logical_id}"' in text for logical_id in repositories)


def _literal_account(image: Any) -> str | None:
    """The account of an image written as a literal URI, or as ``Fn::Join`` of a literal
    ``<account>.dkr.ecr.<region>.`` and ``AWS::URLSuffix`` (an imported repository of a stack
    with a stated environment); None when the image names no literal account."""
    if isinstance(image, str):
        match = _ECR_URI.match(image)
        return match.group(1) if match else ""
    join = image.get("Fn::Join") if isinstance(image, dict) else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[1], list) and join[1]:
        first = join[1][0]
        if isinstance(first, str):
            match = _JOINED_ACCOUNT.match(first)
            return match.group(1) if match else None
    return None


def model_image_source(model: Resource, index: StackIndex) -> Compliance:
    if len(model.properties.get("Containers") or []) > MAX_CONTAINERS:
        return NON_COMPLIANT
    role = model.properties.get("ExecutionRoleArn")
    own = _ROLE_ACCOUNT.match(role) if isinstance(role, str) else None
    allowed = registry_accounts() | ({own.group(1)} if own else set())
    if index.account is not None:
        allowed |= {index.account}
    packages = [c for c in _definitions(model) if "ModelPackageName" in c]
    if not all(_pinned_package(container) for container in packages):
        return NON_COMPLIANT
    for image in _images(model):
        account = _literal_account(image)
        if account is not None:
            if account not in allowed:
                return NON_COMPLIANT
        elif not _from_repository(image, index):
            return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "ModelImageSource",
    "A SageMaker model's container image comes from neither the account's own ECR repository "
    "nor an AWS registry, a container made from a model package names no pinned package "
    "version, or the model has more than 15 containers.",
    "Use an image from the service's repository (image_tag / image_digest) or one AWS provides "
    "(aws_image, resolved from the committed table), or a model_package version (its versioned "
    "ARN); a multi-container model has at most 15 containers.",
    model_image_source,
    frozenset({MODEL_TYPE}),
)
