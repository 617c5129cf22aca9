"""Preflight's ``change-trail`` line: the CloudTrail trail change detection relies on logs this
region, and is logging.

Every service's change-detection rule matches ``AWS API Call via CloudTrail`` events, which
EventBridge receives only "if you have a trail with logging enabled" ("AWS service events
delivered via AWS CloudTrail", Amazon EventBridge User Guide). Nothing else says when that stops
being true: a trail created by the Foundation and later stopped (``StopLogging``), or a trail
named in ``change_detection.existing_trail_name`` that does not exist, logs another region only,
or is not logging, leaves every rule deployed and silent. The calls:

- DescribeTrails finds the trail where it applies to this region: a trail of this account and
  region by its name or ARN; a multi-region or organization trail (a "shadow trail" outside its
  home region and account) by its ARN, or by its name among every trail the region lists with
  ``includeShadowTrails`` (DescribeTrails, CloudTrail API Reference: names match "trails
  belonging only to the current region and current account");
- GetTrailStatus: ``IsLogging``, and ``LatestDeliveryError`` ("any Amazon S3 error that
  CloudTrail encountered when attempting to deliver log files"): a WARN, as EventBridge's
  events do not go through the bucket;
- GetEventSelectors: whether its selectors keep write management events (``ReadWriteType``
  ``All`` or ``WriteOnly`` with ``IncludeManagementEvents``; or an advanced selector on
  ``eventCategory`` ``Management`` that does not keep read-only events alone). Whether
  EventBridge still receives the management events a trail's selectors leave out is not
  documented, so that finding is a WARN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from mlops_tools.smoke import CheckResult, aws_error

CHECK = "change-trail"
SAGEMAKER = "sagemaker.amazonaws.com"  # the eventSource of SageMaker's calls


def _keeps_writes(selector: Mapping[str, Any]) -> bool:
    """A basic event selector that logs write management events."""
    return bool(selector.get("IncludeManagementEvents", True)) and selector.get(
        "ReadWriteType", "All"
    ) in ("All", "WriteOnly")


def _field(selector: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    for field in selector.get("FieldSelectors", []):
        if field.get("Field") == name:
            return field  # type: ignore[no-any-return]
    return {}


def _advanced_keeps_writes(selector: Mapping[str, Any]) -> bool:
    """An advanced event selector on management events that keeps SageMaker's write calls."""
    if _field(selector, "eventCategory").get("Equals") != ["Management"]:
        return False
    if _field(selector, "readOnly").get("Equals") == ["true"]:
        return False
    source = _field(selector, "eventSource")
    if SAGEMAKER in source.get("NotEquals", []):
        return False
    equals = source.get("Equals")
    return equals is None or SAGEMAKER in equals


def logs_write_events(selectors: Mapping[str, Any]) -> bool:
    """GetEventSelectors' answer keeps write management events (no selector: the default,
    every management event)."""
    basic: Sequence[Mapping[str, Any]] = selectors.get("EventSelectors") or []
    advanced: Sequence[Mapping[str, Any]] = selectors.get("AdvancedEventSelectors") or []
    if not basic and not advanced:
        return True
    return any(_keeps_writes(s) for s in basic) or any(_advanced_keeps_writes(s) for s in advanced)


def _find(client: Any, trail: str) -> Mapping[str, Any] | None:
    """The trail as DescribeTrails describes it in the client's region, or None."""
    found = client.describe_trails(trailNameList=[trail], includeShadowTrails=True)
    trails: Sequence[Mapping[str, Any]] = found.get("trailList", [])
    if trails or trail.startswith("arn:"):
        return trails[0] if trails else None
    listed = client.describe_trails(includeShadowTrails=True).get("trailList", [])
    return next((t for t in listed if t.get("Name") == trail), None)


def _not_found(trail: str, region: str, created: bool) -> CheckResult:
    fix = (
        "deploy the Foundation stack first (change_detection.trail: create makes it)"
        if created
        else "name a trail that logs this region in change_detection.existing_trail_name"
    )
    return CheckResult(
        CHECK,
        False,
        f"trail {trail} does not log {region}: EventBridge receives no CloudTrail events there "
        f"and no change outside the pipeline is noticed; {fix}",
    )


def check_change_trail(client: Any, trail: str, region: str, *, created: bool) -> CheckResult:
    """PASS when ``trail`` applies to ``region``, is logging and keeps write management events;
    FAIL when it is not found there or is not logging; WARN when its selectors drop them or it
    reports a delivery error."""
    try:
        described = _find(client, trail)
        if described is None:
            return _not_found(trail, region, created)
        arn = str(described.get("TrailARN", trail))
        status = client.get_trail_status(Name=arn)
        selectors = client.get_event_selectors(TrailName=arn)
    except (ClientError, BotoCoreError) as exc:
        if isinstance(exc, ClientError) and "TrailNotFound" in str(
            exc.response.get("Error", {}).get("Code", "")
        ):
            return _not_found(trail, region, created)
        return CheckResult(CHECK, False, aws_error("CloudTrail", exc))
    return _judged(arn, region, status, selectors)


def _judged(
    arn: str, region: str, status: Mapping[str, Any], selectors: Mapping[str, Any]
) -> CheckResult:
    """The line for a trail found: GetTrailStatus' and GetEventSelectors' answers."""
    if not status.get("IsLogging"):
        return CheckResult(
            CHECK,
            False,
            f"trail {arn} is not logging: EventBridge receives no CloudTrail events, so no "
            f"change outside the pipeline is noticed (aws cloudtrail start-logging --region "
            f"{region} --name {arn})",
        )
    if not logs_write_events(selectors):
        return CheckResult(
            CHECK,
            True,
            f"trail {arn} is logging, but its event selectors keep no write management events "
            "of SageMaker: the change-detection rules may never match",
            warning=True,
        )
    logging = f"trail {arn} is logging {region}'s write management events"
    error = status.get("LatestDeliveryError")
    if error:
        delivered = status.get("LatestDeliveryTime")
        return CheckResult(
            CHECK,
            True,
            f"{logging}, but reports a log file delivery error ({error}; latest delivery: "
            f"{delivered or 'none'}): the rules still see the calls, the record of them may "
            "not be kept (check the bucket's and the key's policies)",
            warning=True,
        )
    return CheckResult(CHECK, True, logging)
