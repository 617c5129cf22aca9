"""LogGroupKey: a log group is encrypted with a KMS key that CloudWatch Logs cannot use: an
asymmetric key, or one whose key policy does not let the regional CloudWatch Logs principal
(``logs.<region>.amazonaws.com``) encrypt and decrypt with it.

"CloudWatch Logs supports only symmetric customer managed keys" and "CloudWatch Logs must have
permissions for the customer managed key whenever encrypted data is requested" ("Encrypt log
data in CloudWatch Logs using AWS Key Management Service", CloudWatch Logs User Guide); the
permission goes to the regional service principal ``logs.<region>.amazonaws.com`` in the key
policy (the page's step 2, not read in full offline, as AWS's examples of it give it). A key
CloudWatch Logs may not use fails the log group's create, and the stack rolls back; one revoked
later leaves the logs unreadable.

The key is followed as :mod:`.event_target_keys` follows it: a key of the log group's stack, or
one another stack of the stage exports. Keys of other accounts or given as literal ARNs are not
checked.
"""

from __future__ import annotations

import re

from mlops_cdk.compliance.sagemaker.index import Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)
from mlops_cdk.compliance.sagemaker.rules.alarm_topic_cloudwatch import allows_service, key_of

LOG_GROUP_TYPE = "AWS::Logs::LogGroup"
# The regional principal, literal or rendered from a Ref to AWS::Region (and the China suffix).
LOGS_SERVICE = re.compile(r"logs\.[^.]+\.amazonaws\.com(\.cn)?")
_KEY_USE = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
SYMMETRIC = "SYMMETRIC_DEFAULT"


def log_group_key(log_group: Resource, stack: StackIndex) -> Compliance:
    key_id = log_group.properties.get("KmsKeyId")
    if key_id is None:
        return NOT_APPLICABLE  # CloudWatch Logs' own encryption
    key = key_of(stack, key_id)
    if key is None:
        return NOT_APPLICABLE  # a key this stage does not hold
    spec = key.properties.get("KeySpec", SYMMETRIC)
    if isinstance(spec, str) and spec != SYMMETRIC:
        return NON_COMPLIANT
    policy = key.properties.get("KeyPolicy")
    if policy is None:
        return NON_COMPLIANT  # KMS's default policy names no service
    return COMPLIANT if allows_service(policy, LOGS_SERVICE, _KEY_USE) else NON_COMPLIANT


RULE = Rule(
    "LogGroupKey",
    "The log group is encrypted with a KMS key CloudWatch Logs cannot use: an asymmetric key, "
    "or one whose key policy does not let logs.<region>.amazonaws.com encrypt, decrypt and "
    "generate data keys. The log group's create fails.",
    "Encrypt log groups with a symmetric key whose policy allows the service principal "
    "logs.<region>.amazonaws.com kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, "
    "kms:GenerateDataKey* and kms:Describe*, bounded by the encryption context "
    "kms:EncryptionContext:aws:logs:arn to this account's log groups.",
    log_group_key,
    frozenset({LOG_GROUP_TYPE}),
)
