"""Preflight's change-trail line (mlops_tools.trail_check): the trail change detection relies
on applies to the region, is logging and keeps write management events; moto for the calls,
a stubbed client for selectors and refusals moto does not produce."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from mlops_tools.trail_check import check_change_trail, logs_write_events
from tests.helpers import stubbed_client

REGION = "eu-west-1"
NAME = "mlops-dev-changes"
ARN = f"arn:aws:cloudtrail:{REGION}:123456789012:trail/{NAME}"


@pytest.fixture
def cloudtrail() -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(
            Bucket="trail-logs", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield boto3.client("cloudtrail", region_name=REGION)


def test_a_logging_trail_passes_by_its_arn(cloudtrail: Any) -> None:
    cloudtrail.create_trail(Name=NAME, S3BucketName="trail-logs")
    cloudtrail.start_logging(Name=NAME)
    assert check_change_trail(cloudtrail, NAME, REGION, created=True).line() == (
        f"PASS change-trail: trail {ARN} is logging {REGION}'s write management events"
    )


def test_a_stopped_trail_fails_with_the_command_that_starts_it(cloudtrail: Any) -> None:
    cloudtrail.create_trail(Name=NAME, S3BucketName="trail-logs")  # created, never started
    assert check_change_trail(cloudtrail, NAME, REGION, created=True).line() == (
        f"FAIL change-trail: trail {ARN} is not logging: EventBridge receives no CloudTrail "
        "events, so no change outside the pipeline is noticed (aws cloudtrail start-logging "
        f"--region {REGION} --name {ARN})"
    )


@pytest.mark.parametrize(
    ("created", "fix"),
    [
        (True, "deploy the Foundation stack first"),
        (False, "name a trail that logs this region in change_detection.existing_trail_name"),
    ],
)
def test_a_trail_that_is_not_there_fails_with_what_to_do(
    cloudtrail: Any, created: bool, fix: str
) -> None:
    line = check_change_trail(cloudtrail, NAME, REGION, created=created).line()
    assert line.startswith(
        f"FAIL change-trail: trail {NAME} does not log {REGION}: EventBridge receives no "
        f"CloudTrail events there and no change outside the pipeline is noticed; {fix}"
    )


SHADOW = "arn:aws:cloudtrail:us-east-1:999999999999:trail/org-audit"


def stubbed(selectors: dict[str, Any]) -> Any:
    client = stubbed_client("cloudtrail", REGION)
    stub = Stubber(client)
    # an organization trail's shadow: found by its ARN, in the management account
    shadow = SHADOW
    stub.add_response(
        "describe_trails",
        {"trailList": [{"TrailARN": shadow, "HomeRegion": "us-east-1"}]},
        {"trailNameList": [shadow], "includeShadowTrails": True},
    )
    stub.add_response("get_trail_status", {"IsLogging": True}, {"Name": shadow})
    stub.add_response("get_event_selectors", selectors, {"TrailName": shadow})
    stub.activate()
    return client


def test_a_shadow_trail_whose_selectors_drop_write_events_warns() -> None:
    read_only = {"EventSelectors": [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]}
    result = check_change_trail(stubbed(read_only), SHADOW, REGION, created=False)
    assert result.passed
    assert result.line() == (
        f"WARN change-trail: trail {SHADOW} is logging, but its event selectors keep no write "
        "management events of SageMaker: the change-detection rules may never match"
    )


def management(*fields: dict[str, Any]) -> dict[str, Any]:
    category = {"Field": "eventCategory", "Equals": ["Management"]}
    return {"AdvancedEventSelectors": [{"Name": "m", "FieldSelectors": [category, *fields]}]}


@pytest.mark.parametrize(
    ("selectors", "kept"),
    [
        ({}, True),  # no selector: every management event (the default)
        ({"EventSelectors": [{"ReadWriteType": "WriteOnly"}]}, True),
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]}, False),
        (management(), True),
        (management({"Field": "readOnly", "Equals": ["false"]}), True),
        (management({"Field": "readOnly", "Equals": ["true"]}), False),
        (management({"Field": "eventSource", "NotEquals": ["sagemaker.amazonaws.com"]}), False),
        (management({"Field": "eventSource", "Equals": ["kms.amazonaws.com"]}), False),
        (management({"Field": "eventSource", "Equals": ["sagemaker.amazonaws.com"]}), True),
        (
            {
                "AdvancedEventSelectors": [
                    {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}
                ]
            },
            False,
        ),
    ],
)
def test_write_management_events_kept_by_basic_or_advanced_selectors(
    selectors: dict[str, Any], kept: bool
) -> None:
    assert logs_write_events(selectors) is kept
    line = check_change_trail(stubbed(selectors), SHADOW, REGION, created=False).line()
    assert line.startswith("PASS" if kept else "WARN")


def test_an_organization_trail_named_by_name_is_found_among_the_listed_shadow_trails() -> None:
    """A name matches only this account's trails of this Region in DescribeTrails; an
    organization trail (the management account's) is listed with the shadow trails."""
    client = stubbed_client("cloudtrail", REGION)
    with Stubber(client) as stub:
        stub.add_response(
            "describe_trails",
            {"trailList": []},
            {"trailNameList": ["org-audit"], "includeShadowTrails": True},
        )
        stub.add_response(
            "describe_trails",
            {
                "trailList": [
                    {"Name": "other", "TrailARN": "x"},
                    {"Name": "org-audit", "TrailARN": SHADOW},
                ]
            },
            {"includeShadowTrails": True},
        )
        stub.add_response("get_trail_status", {"IsLogging": True}, {"Name": SHADOW})
        stub.add_response("get_event_selectors", {}, {"TrailName": SHADOW})
        line = check_change_trail(client, "org-audit", REGION, created=False).line()
        stub.assert_no_pending_responses()
    assert (
        line == f"PASS change-trail: trail {SHADOW} is logging {REGION}'s write management events"
    )


def test_a_delivery_error_warns_with_the_latest_delivery() -> None:
    client = stubbed_client("cloudtrail", REGION)
    with Stubber(client) as stub:
        stub.add_response("describe_trails", {"trailList": [{"Name": NAME, "TrailARN": ARN}]})
        stub.add_response(
            "get_trail_status", {"IsLogging": True, "LatestDeliveryError": "AccessDenied"}
        )
        stub.add_response("get_event_selectors", {})
        result = check_change_trail(client, NAME, REGION, created=True)
    assert result.passed
    assert result.line() == (
        f"WARN change-trail: trail {ARN} is logging {REGION}'s write management events, but "
        "reports a log file delivery error (AccessDenied; latest delivery: none): the rules "
        "still see the calls, the record of them may not be kept (check the bucket's and the "
        "key's policies)"
    )


def test_a_refused_call_is_one_fail_line() -> None:
    client = stubbed_client("cloudtrail", REGION)
    with Stubber(client) as stub:
        stub.add_client_error("describe_trails", "AccessDeniedException", "no")
        line = check_change_trail(client, NAME, REGION, created=True).line()
    assert line == "FAIL change-trail: CloudTrail failed: AccessDeniedException: no"
