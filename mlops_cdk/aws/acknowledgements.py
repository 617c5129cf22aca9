"""Reasoned acknowledgements: one finding id on one construct, with a concrete reason.

CDK keys an acknowledgement by ``<plugin>::<rule>`` and matches it against the findings of the
construct and everything below it, whichever pack reported them (cdk-nag's or the project's
SageMaker pack).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import aws_cdk as cdk
from constructs import IConstruct

from mlops_cdk.aws.cfn_values import render_resource_value
from mlops_cdk.aws.resolve import resolve_each

MIN_REASON_LENGTH = 40


@dataclass(frozen=True)
class AcknowledgementRecord:
    """One acknowledgement made through :func:`acknowledge`."""

    path: str
    finding_id: str
    reason: str


_recorder: list[AcknowledgementRecord] | None = None


@contextmanager
def record_acknowledgements_only() -> Iterator[list[AcknowledgementRecord]]:
    """Record acknowledgements made inside the block without applying them.

    For the acknowledgement audit: synthesizing with nothing acknowledged shows which
    acknowledged findings still fire (the rest are stale)."""
    global _recorder  # noqa: PLW0603 - a test-time switch around app construction
    previous, _recorder = _recorder, []
    try:
        yield _recorder
    finally:
        _recorder = previous


def acknowledge(scope: IConstruct, finding_id: str, reason: str) -> None:
    """Acknowledge one finding (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope``.

    The reason must say why the finding does not apply or what compensates for it.
    """
    acknowledge_each(scope, [(finding_id, reason)])


def acknowledge_each(scope: IConstruct, acknowledgements: Sequence[tuple[str, str]]) -> None:
    """:func:`acknowledge` for each ``(finding id, reason)`` pair, all on ``scope``.

    Every pair is checked first, then all go in one call of ``Validations.acknowledge``, which
    takes any number and files each as if acknowledged alone: one jsii round trip instead of
    one per finding."""
    checked = [(_checked(scope, f, reason), reason) for f, reason in acknowledgements]
    if _recorder is not None:
        path = scope.node.path
        _recorder.extend(AcknowledgementRecord(path, f, reason) for f, reason in checked)
        return
    if checked:
        _validations(scope).acknowledge(
            *(cdk.Acknowledgment(id=f, reason=reason) for f, reason in checked)
        )


def _checked(scope: IConstruct, finding_id: str, reason: str) -> str:
    """The qualified id of one acknowledgement; ValueError for several ids or a vague reason."""
    if "," in finding_id or not finding_id.strip():
        raise ValueError(f"acknowledge one finding id per call, got {finding_id!r}")
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(
            f"acknowledgement of {finding_id} on {scope.node.path} needs a concrete reason "
            f"(at least {MIN_REASON_LENGTH} characters), got {reason!r}"
        )
    return qualified_finding_id(finding_id)


# A construct's Validations and Stack, looked up once per construct object: each lookup is a
# round trip to jsii's Node process, and a policy gets several acknowledgements (synth time).
_VALIDATIONS: WeakKeyDictionary[IConstruct, cdk.Validations] = WeakKeyDictionary()
_STACKS: WeakKeyDictionary[IConstruct, cdk.Stack] = WeakKeyDictionary()


def _validations(scope: IConstruct) -> cdk.Validations:
    found = _VALIDATIONS.get(scope)
    if found is None:
        found = _VALIDATIONS[scope] = cdk.Validations.of(scope)
    return found


def _stack(scope: IConstruct) -> cdk.Stack:
    found = _STACKS.get(scope)
    if found is None:
        found = _STACKS[scope] = cdk.Stack.of(scope)
    return found


def qualified_finding_id(finding_id: str) -> str:
    """``AwsSolutions-IAM5[Resource::*]`` -> ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``.

    CDK keys acknowledgements by ``<plugin>::<rule>`` (what synth prints after "Acknowledge
    with"); an id without a plugin prefix would be filed as an annotation rule instead."""
    rule = finding_id.split("[", 1)[0]
    if "::" in rule:
        return finding_id
    return f"{rule.split('-', 1)[0]}::{finding_id}"


def nag_resource_string(scope: IConstruct, value: str) -> str:
    """Render an IAM resource the way cdk-nag names it in granular ids (``<Logical.Attr>``)."""
    return nag_resource_strings(scope, (value,))[0]


def nag_resource_strings(scope: IConstruct, values: Sequence[str]) -> list[str]:
    """:func:`nag_resource_string` of each value; the values holding tokens are resolved
    together, in one round trip to jsii (:func:`resolve_each`)."""
    # A string holds a token only as its "${Token[...]}" marker: a literal needs no resolving.
    tokens = [value for value in values if "${Token[" in value]
    resolved = iter(resolve_each(_stack(scope), tokens))
    return [
        render_resource_value(next(resolved) if "${Token[" in value else value, strict=True)
        for value in values
    ]


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge ``AwsSolutions-IAM5`` for one wildcard resource of the policy ``scope``."""
    acknowledge_wildcard_resources(scope, {resource: reason})


def acknowledge_wildcard_resources(scope: IConstruct, reasons: Mapping[str, str]) -> None:
    """:func:`acknowledge_wildcard_resource` for each ``{resource: reason}``: each a separate
    single-finding acknowledgement, in two round trips to jsii for all of them."""
    rendered = nag_resource_strings(scope, list(reasons))
    acknowledge_each(
        scope,
        [
            (f"AwsSolutions-IAM5[Resource::{resource}]", reason)
            for resource, reason in zip(rendered, reasons.values(), strict=True)
        ],
    )


def acknowledge_all(scope: IConstruct, finding_ids: tuple[str, ...], reason: str) -> None:
    """Acknowledge several packs' ids for the same underlying finding, with one reason.

    The packs report the same control under different ids (e.g. S3 replication in HIPAA and
    NIST); each id is still a separate, single-finding acknowledgement (all in one jsii call).
    """
    acknowledge_each(scope, [(finding_id, reason) for finding_id in finding_ids])
