"""What ECR's last scan of an image says, from the ImageDetail DescribeImages already returns
(no other call, no other permission): preflight warns before a deploy serves an image with
critical or high vulnerabilities, or one ECR could not scan.

Every repository this app creates scans on push (``ImageScanningConfiguration.ScanOnPush``), but
nothing read the result: the deploy went ahead whatever the scan found. ECR's ImageDetail holds
``imageScanStatus`` (``status``, ``description``) and ``imageScanFindingsSummary.
findingSeverityCounts``, a count per severity present (CRITICAL, HIGH, MEDIUM, LOW,
INFORMATIONAL, UNDEFINED; botocore's ECR model, shapes ``ScanStatus`` and ``FindingSeverity``;
"The finding-severity-counts parameter will only return a value for a severity level if one
exists", "Amazon ECR events and EventBridge", Amazon ECR User Guide).

These are warnings, not failures: whether an image with known vulnerabilities may serve is the
organisation's decision, and the scan's database changes after the push. The line names the
command that lists the findings. A scan still running (``IN_PROGRESS``, ``PENDING``), one of an
image pushed before scan on push was set (no status) and a clean one pass. A status that means
ECR did not scan the image (``FAILED``, ``UNSUPPORTED_IMAGE``, ``LIMIT_EXCEEDED``, ...) warns
with ECR's own description: a missing scan is not a clean one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_cdk.aws.facts import REPORTED_SCAN_SEVERITIES

# Scan statuses that say the image was scanned, is being scanned, or is scanned continuously.
SCANNED_OR_SCANNING = frozenset({"COMPLETE", "IN_PROGRESS", "PENDING", "ACTIVE"})


def scan_warning(detail: Mapping[str, Any], repository: str, region: str) -> str | None:
    """A warning when ECR's last scan of the image ``detail`` describes (ImageDetail) found
    critical or high vulnerabilities, or ECR could not scan it; None otherwise."""
    status = detail.get("imageScanStatus") or {}
    state = status.get("status")
    digest = detail.get("imageDigest", "")
    findings = (
        f"aws ecr describe-image-scan-findings --region {region} --repository-name "
        f"{repository} --image-id imageDigest={digest}"
    )
    if state is not None and state not in SCANNED_OR_SCANNING:
        why = status.get("description")
        return (
            f"ECR did not scan it ({state}{f': {why}' if why else ''}): its vulnerabilities are "
            f"unknown, not absent ({findings})"
        )
    counts = (detail.get("imageScanFindingsSummary") or {}).get("findingSeverityCounts") or {}
    found = [f"{counts[s]} {s}" for s in REPORTED_SCAN_SEVERITIES if counts.get(s)]
    if not found:
        return None
    return (
        f"its last scan found {' and '.join(found)} vulnerabilities: read them ({findings}) and "
        "rebuild on patched packages, or accept them knowingly"
    )
