"""Compliance gates: the cdk-nag 3 packs every synth runs, and reasoned acknowledgements.

Any unacknowledged finding fails synthesis (``ValidationFailed``). An acknowledgement names
exactly one finding id on one construct, with a concrete reason.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
from constructs import IConstruct

PACKS = (AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks)

MIN_REASON_LENGTH = 40


def enable_compliance_gates(app: cdk.App) -> None:
    """Run every pack on every stack of ``app`` at synth; a finding fails synthesis."""
    for pack in PACKS:
        cdk.Validations.of(app).add_plugins(pack(app))


def acknowledge(scope: IConstruct, finding_id: str, reason: str) -> None:
    """Acknowledge one finding (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope``.

    The reason must say why the finding does not apply or what compensates for it.
    """
    if "," in finding_id or not finding_id.strip():
        raise ValueError(f"acknowledge one finding id per call, got {finding_id!r}")
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(
            f"acknowledgement of {finding_id} on {scope.node.path} needs a concrete reason "
            f"(at least {MIN_REASON_LENGTH} characters), got {reason!r}"
        )
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))


def nag_resource_string(scope: IConstruct, value: str) -> str:
    """Render an IAM resource the way cdk-nag names it in granular ids (``<Logical.Attr>``)."""
    return _render(cdk.Stack.of(scope).resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, args),) = value.items()
        if function == "Fn::GetAtt":
            return f"<{args[0]}.{args[1]}>"
        if function == "Ref":
            return f"<{args}>"
        if function == "Fn::Join":
            return str(args[0]).join(_render(part) for part in args[1])
    raise ValueError(f"cannot render {value!r} as a cdk-nag resource string")


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge ``AwsSolutions-IAM5`` for one wildcard resource of the policy ``scope``."""
    acknowledge(
        scope, f"AwsSolutions-IAM5[Resource::{nag_resource_string(scope, resource)}]", reason
    )


def acknowledge_all(scope: IConstruct, finding_ids: tuple[str, ...], reason: str) -> None:
    """Acknowledge several packs' ids for the same underlying finding, with one reason.

    The packs report the same control under different ids (e.g. S3 replication in HIPAA and
    NIST); each id is still a separate, single-finding acknowledgement.
    """
    for finding_id in finding_ids:
        acknowledge(scope, finding_id, reason)
