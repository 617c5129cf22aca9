"""FunctionEnvironmentSize: Lambda refuses environment variables over 4 KB together (as compact
UTF-8 JSON); references count at the longest they can resolve to."""

from __future__ import annotations

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from mlops_cdk.aws.facts import LAMBDA_ENVIRONMENT_MAX_BYTES
from tests.unit.compliance.sagemaker.pack_helpers import ROLE, fires, stage_stack

RULE = "FunctionEnvironmentSize"
_FRAME = '{"A":""}'  # one variable, compact JSON


def function(scope: stage_stack, variables: dict[str, object] | None) -> None:
    lambda_.CfnFunction(
        scope,
        "Fn",
        role=ROLE,
        runtime="python3.14",
        handler="index.handler",
        code=lambda_.CfnFunction.CodeProperty(zip_file="def handler(e, c): pass"),
        environment=None
        if variables is None
        else lambda_.CfnFunction.EnvironmentProperty(variables=variables),
    )


@pytest.mark.parametrize(
    ("size", "expected"),
    [(LAMBDA_ENVIRONMENT_MAX_BYTES, False), (LAMBDA_ENVIRONMENT_MAX_BYTES + 1, True)],
)
def test_4096_bytes_fit_and_one_more_does_not(size: int, expected: bool) -> None:
    s = stage_stack()
    function(s, {"A": "x" * (size - len(_FRAME))})
    assert fires(s, "prod/S/Fn", RULE) is expected


def test_bytes_not_characters() -> None:
    """2,100 characters of two UTF-8 bytes each: 4,200 bytes."""
    s = stage_stack()
    function(s, {"A": "é" * 2100})
    assert fires(s, "prod/S/Fn", RULE)


@pytest.mark.parametrize(("extra", "expected"), [(0, False), (1, True)])
def test_a_reference_counts_at_its_longest(extra: int, expected: bool) -> None:
    """A bucket named by CloudFormation in stack prod-S resolves to at most "prod-S-Data-" and
    13 random characters: 25. With that, {"B":"<25>","A":"<n>"} is 40 + n bytes."""
    s = stage_stack()
    bucket = s3.CfnBucket(s, "Data")
    literal = "x" * (LAMBDA_ENVIRONMENT_MAX_BYTES - 40 + extra)
    function(s, {"B": bucket.ref, "A": literal})
    assert fires(s, "prod/S/Fn", RULE) is expected


def test_a_function_without_variables_is_not_checked() -> None:
    s = stage_stack()
    function(s, None)
    assert not fires(s, "prod/S/Fn", RULE)
