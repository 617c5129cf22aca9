"""Acknowledgements: one finding id per call, a concrete reason, resolved resource names."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from mlops_cdk.aws.acknowledgements import (
    acknowledge_each,
    acknowledge_wildcard_resources,
    nag_resource_strings,
    record_acknowledgements_only,
)
from mlops_cdk.compliance import acknowledge, nag_resource_string, qualified_finding_id
from tests.helpers import new_stack


@pytest.mark.parametrize("finding_id", ["", "  ", "AwsSolutions-S1,AwsSolutions-S10"])
def test_one_finding_id_per_call(finding_id: str) -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match="one finding id per call"):
        acknowledge(stack, finding_id, "a reason that is long enough to say something real")


def test_reason_must_be_concrete() -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match="needs a concrete reason"):
        acknowledge(stack, "AwsSolutions-S1", "not needed")


def test_acknowledgement_is_recorded_on_the_construct() -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    acknowledge(bucket, "AwsSolutions-S1", "access logs go to the central log archive account")
    entries = [
        entry.data
        for entry in bucket.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
    assert entries, bucket.node.metadata
    assert "AwsSolutions-S1" in str(entries)


def test_resource_strings_render_like_cdk_nag() -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    logical_id = stack.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
    assert nag_resource_string(stack, bucket.arn_for_objects("models/*")) == (
        f"<{logical_id}.Arn>/models/*"
    )
    assert nag_resource_string(stack, bucket.bucket_name) == f"<{logical_id}>"
    assert nag_resource_string(stack, "*") == "*"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("AwsSolutions-S1", "AwsSolutions::AwsSolutions-S1"),
        ("AwsSolutions-IAM5[Resource::*]", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
        ("HIPAA.Security-LambdaDLQ", "HIPAA.Security::HIPAA.Security-LambdaDLQ"),
        ("NIST.800.53.R5-LambdaDLQ", "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ"),
        ("MlopsSageMaker::MlopsSageMaker-ModelVpc", "MlopsSageMaker::MlopsSageMaker-ModelVpc"),
    ],
)
def test_finding_ids_are_qualified_with_their_pack(given: str, expected: str) -> None:
    assert qualified_finding_id(given) == expected


def test_wildcard_resources_are_acknowledged_each_with_its_reason() -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    logical_id = stack.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
    reasons = {
        bucket.arn_for_objects("models/*"): "models are named per training job by SageMaker",
        "*": "only actions that take no resource ARN are granted on everything here",
        bucket.arn_for_objects("reports/*"): "one evaluation report folder per pipeline run",
    }
    with record_acknowledgements_only() as records:
        acknowledge_wildcard_resources(bucket, reasons)
    assert [(r.path, r.finding_id, r.reason) for r in records] == [
        (bucket.node.path, f"AwsSolutions::AwsSolutions-IAM5[Resource::{rendered}]", reason)
        for rendered, reason in zip(
            [f"<{logical_id}.Arn>/models/*", "*", f"<{logical_id}.Arn>/reports/*"],
            reasons.values(),
            strict=True,
        )
    ]
    # Applied, not recorded: every id lands on the construct in the one call.
    acknowledge_wildcard_resources(bucket, reasons)
    entries = str(
        [
            entry.data
            for entry in bucket.node.metadata
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        ]
    )
    for rendered in ("models/*]", "Resource::*]", "reports/*]"):
        assert rendered in entries


def test_resource_strings_of_several_values_match_one_by_one() -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    values = [bucket.arn_for_objects("a/*"), "arn:aws:s3:::literal/*", bucket.bucket_arn]
    assert nag_resource_strings(stack, values) == [nag_resource_string(stack, v) for v in values]
    assert nag_resource_strings(stack, []) == []


def test_several_acknowledgements_are_all_checked_before_any_applies() -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    with pytest.raises(ValueError, match="needs a concrete reason"):
        acknowledge_each(
            bucket,
            [
                ("AwsSolutions-S1", "access logs go to the central log archive account"),
                ("AwsSolutions-S10", "too short"),
            ],
        )
    assert not [
        entry
        for entry in bucket.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
