"""ModelArtifactsWriteOnce: a bucket policy lets principals write model artifacts without making
them write-once (and undeletable).

What it sees: the ``AWS::S3::BucketPolicy`` resources of the stage. The object patterns its
Allow statements grant ``s3:PutObject`` on are *model-artifact patterns* when their key part
starts with ``models/`` or covers a key that a SageMaker model of the stage reads
(``ModelDataUrl``, ``ModelDataSource.S3DataSource.S3Uri``; buckets are not matched, keys are).
Each such pattern needs, for every principal (``*``):

- a Deny of ``s3:PutObject`` covering it when ``s3:if-none-match`` is Null (optionally only for
  ``s3:ObjectCreationOperation`` true, so multipart parts pass), and no other condition ("Enforce
  conditional writes on Amazon S3 buckets", S3 User Guide);
- a Deny of ``s3:DeleteObject`` and ``s3:DeleteObjectVersion`` covering it, exempting at most
  named principals (``ArnNotEquals``/``ArnNotLike aws:PrincipalArn``: a break-glass role).

Writes granted only by IAM policies (no Allow in the bucket policy) are not seen.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from mlops_cdk.aws.cfn_values import (
    allow_statements,
    as_list,
    covers_action,
    render_resource_value,
    statements,
)
from mlops_cdk.compliance.sagemaker.index import (
    BUCKET_POLICY_TYPE,
    MODEL_TYPE,
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

MODELS_PREFIX = "models/"
_EXEMPTING_OPERATORS = frozenset({"arnnotequals", "arnnotlike"})


def _key(rendered: str, scheme: str = "") -> str | None:
    """The key part of ``<bucket>/<key>`` (after ``scheme``, e.g. ``s3://``)."""
    rest = rendered.removeprefix(scheme)
    return rest.split("/", 1)[1] if "/" in rest else None


def _model_keys(index: StackIndex) -> set[str]:
    keys: set[str] = set()
    for _, model in index.stage().of_type(MODEL_TYPE):
        props = model.properties
        for container in [props.get("PrimaryContainer"), *as_list(props.get("Containers"))]:
            if not isinstance(container, dict):
                continue
            source = (container.get("ModelDataSource") or {}).get("S3DataSource") or {}
            for url in (container.get("ModelDataUrl"), source.get("S3Uri")):
                if url is not None:
                    key = _key(render_resource_value(url), "s3://")
                    if key:
                        keys.add(key)
    return keys


def _everyone(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    return principal == "*" or (
        isinstance(principal, dict) and as_list(principal.get("AWS")) == ["*"]
    )


def _covers(statement: dict[str, Any], pattern: str) -> bool:
    return any(
        fnmatchcase(pattern, render_resource_value(r)) for r in as_list(statement.get("Resource"))
    )


def _conditions(statement: dict[str, Any]) -> dict[tuple[str, str], list[Any]]:
    return {
        (str(operator).lower(), str(key).lower()): as_list(value)
        for operator, block in (statement.get("Condition") or {}).items()
        if isinstance(block, dict)
        for key, value in block.items()
    }


def _is_true(values: list[Any]) -> bool:
    return values == [True] or [str(v).lower() for v in values] == ["true"]


def _write_once(statement: dict[str, Any]) -> bool:
    conditions = _conditions(statement)
    if not _is_true(conditions.pop(("null", "s3:if-none-match"), [])):
        return False
    creation = conditions.pop(("bool", "s3:objectcreationoperation"), None)
    return not conditions and (creation is None or _is_true(creation))


def _no_deletes(statement: dict[str, Any]) -> bool:
    return (
        covers_action(statement, "s3:DeleteObject")
        and covers_action(statement, "s3:DeleteObjectVersion")
        and all(
            operator in _EXEMPTING_OPERATORS and key == "aws:principalarn"
            for operator, key in _conditions(statement)
        )
    )


def _protected(document: Any, pattern: str) -> bool:
    denies = [
        s
        for s in statements(document)
        if s.get("Effect") == "Deny" and _everyone(s) and _covers(s, pattern)
    ]
    return any(covers_action(s, "s3:PutObject") and _write_once(s) for s in denies) and any(
        _no_deletes(s) for s in denies
    )


def model_artifacts_write_once(policy: Resource, index: StackIndex) -> Compliance:
    document = policy.properties.get("PolicyDocument")
    model_keys = _model_keys(index)
    patterns = {
        rendered
        for statement in allow_statements(document)
        if covers_action(statement, "s3:PutObject")
        for resource in as_list(statement.get("Resource"))
        if (key := _key(rendered := render_resource_value(resource))) is not None
        and (key.startswith(MODELS_PREFIX) or any(fnmatchcase(k, key) for k in model_keys))
    }
    if not patterns:
        return NOT_APPLICABLE
    return COMPLIANT if all(_protected(document, p) for p in patterns) else NON_COMPLIANT


RULE = Rule(
    "ModelArtifactsWriteOnce",
    "The bucket policy lets principals write model artifacts that can then be overwritten or "
    "deleted.",
    "SageMaker downloads a model's artifact whenever it launches an instance (scale-out, "
    "replacement), so overwriting the key serves a model that passed neither stage nor "
    "approval. Deny s3:PutObject on the artifact prefix to Principal * when Null "
    "s3:if-none-match is true (with Bool s3:ObjectCreationOperation true, so multipart parts "
    "pass; publish with If-None-Match: *), and deny s3:DeleteObject and "
    "s3:DeleteObjectVersion there except to a named break-glass role (ArnNotEquals "
    "aws:PrincipalArn). ArtifactStorage does both. Patterns count as model artifacts when "
    "their key starts with models/ or covers a key a SageMaker model of the stage reads.",
    model_artifacts_write_once,
    frozenset({BUCKET_POLICY_TYPE}),
)
