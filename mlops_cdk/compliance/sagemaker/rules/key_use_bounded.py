"""KeyUseBounded: a key policy lets an AWS service principal use the key with no condition, or
lets roles matched by a wildcard ARN use it directly (without ``kms:ViaService``).

- A statement naming a ``Service`` principal needs a condition that ties the use to this
  account's resources: an encryption context key (``kms:EncryptionContext:...``, e.g. SNS's
  ``aws:sns:topicArn``), ``aws:SourceAccount``, ``aws:SourceArn``, ``aws:SourceOrgID`` or
  ``kms:ViaService`` ("Permissions for AWS services in key policies", KMS Developer Guide: use
  global condition keys to give services only what they need).
- A statement admitting principals by a wildcard ``aws:PrincipalArn`` (``ArnLike``/``StringLike``
  with ``*``: every role under an IAM path) that allows encryption or decryption needs
  ``kms:ViaService``, so they use the key through the AWS services that need it only.
  ``kms:CreateGrant`` bounded by ``kms:GrantIsForAWSResource`` is the KeyGrantForAwsResource
  rule's matter and is not checked here.
"""

from __future__ import annotations

from typing import Any

from mlops_cdk.aws.cfn_values import allow_statements, as_list, condition_values, covers_action
from mlops_cdk.compliance.sagemaker.index import KEY_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)

_SOURCE_KEYS = ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "kms:ViaService")
_CRYPTO_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom")


def _service_principal(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    return isinstance(principal, dict) and bool(as_list(principal.get("Service")))


def _bounded_for_service(statement: dict[str, Any]) -> bool:
    for block in (statement.get("Condition") or {}).values():
        if isinstance(block, dict) and any(
            str(key).lower().startswith("kms:encryptioncontext:") for key in block
        ):
            return True
    return any(condition_values(statement, key) for key in _SOURCE_KEYS)


def _wildcard_principal_arn(statement: dict[str, Any]) -> bool:
    return any(
        operator.lower().removeprefix("foranyvalue:") in ("arnlike", "stringlike")
        and any(isinstance(v, str) and "*" in v for v in values)
        for operator, values in condition_values(statement, "aws:PrincipalArn")
    )


def key_use_bounded(key: Resource, index: StackIndex) -> Compliance:
    del index
    policy = key.properties.get("KeyPolicy")
    if policy is None:
        return NOT_APPLICABLE  # KMS's default policy: KeyGrantForAwsResource reports it
    for statement in allow_statements(policy):
        if _service_principal(statement) and not _bounded_for_service(statement):
            return NON_COMPLIANT
        if (
            _wildcard_principal_arn(statement)
            and any(covers_action(statement, a) for a in _CRYPTO_ACTIONS)
            and not condition_values(statement, "kms:ViaService")
        ):
            return NON_COMPLIANT
    return COMPLIANT


RULE = Rule(
    "KeyUseBounded",
    "The KMS key policy lets an AWS service use the key without a condition, or lets roles "
    "matched by a wildcard ARN use it without kms:ViaService.",
    "A service principal with no condition may use the key on behalf of any account's "
    "resources (confused deputy): bound it with the encryption context the service sends "
    "(kms:EncryptionContext:aws:sns:topicArn for topics, aws:logs:arn for log groups), "
    "aws:SourceAccount / aws:SourceArn where the service sends them, or kms:ViaService. "
    "Roles admitted by a wildcard aws:PrincipalArn (an IAM path) should use the key only "
    "through the services that need it: add kms:ViaService "
    "(EncryptionKey.grant_role_path(..., via_services=[...]), "
    "grant_service_use(..., for_sns_topics=True)).",
    key_use_bounded,
    frozenset({KEY_TYPE}),
)
