"""``change_detection``: notice endpoint changes made outside the pipeline (see
docs/concepts/change-detection.md).

EventBridge receives ``AWS API Call via CloudTrail`` events only while a CloudTrail trail with
logging is enabled in the account and region ("AWS service events delivered via AWS CloudTrail",
Amazon EventBridge User Guide). ``trail: create`` makes one in the Foundation; ``trail:
existing`` names the trail that already does (an organization trail, say), which this app only
documents and does not change.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from mlops_cdk.aws.images import partition_of
from mlops_cdk.aws.names import trail_name_for
from mlops_cdk.config.base import StrictModel
from mlops_cdk.config.errors import FieldProblem

# CloudTrail trail names: 3-128 letters, digits, '.', '_' or '-', starting with a letter or
# digit, ending with one, no '..', '_-' style adjacent separators (CreateTrail, Name); or its ARN.
TRAIL_NAME = re.compile(r"^[A-Za-z0-9](?!.*[._-]{2})[A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
TRAIL_ARN = re.compile(r"^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail/[A-Za-z0-9._-]{3,128}$")


class ChangeDetectionConfig(StrictModel):
    """Per environment: the trail EventBridge's CloudTrail events depend on, and how long a
    created trail's log files are kept."""

    trail: Literal["create", "existing"] = Field(
        description="create: a trail in the Foundation; existing: one that already logs this "
        "account and region's management (write) events."
    )
    existing_trail_name: str | None = Field(
        None, description="Name or ARN of that trail (with trail: existing)."
    )
    log_retention_days: int = Field(
        365, ge=1, le=3650, description="Days a created trail's log files are kept."
    )
    watch_foundation: bool = Field(
        True,
        description="Tell monitoring.alarm_emails when someone disables the environment key or "
        "schedules its deletion (every alarm topic is encrypted with it, so they would go "
        "silent), or stops or deletes this account's change trail (the change-detection rules "
        "would hear nothing): a topic with a KMS key of its own (1 USD a month) and EventBridge "
        "rules on the trail's DisableKey, ScheduleKeyDeletion, StopLogging and DeleteTrail "
        "records.",
    )

    @model_validator(mode="after")
    def _trail(self) -> ChangeDetectionConfig:
        name = self.existing_trail_name
        if self.trail == "existing":
            if name is None:
                raise FieldProblem(
                    "existing_trail_name",
                    "name the trail that logs this account's management events (trail: "
                    "existing), or use trail: create",
                )
            if not (TRAIL_NAME.match(name) or TRAIL_ARN.match(name)):
                raise FieldProblem(
                    "existing_trail_name",
                    f"{name!r} is not a CloudTrail trail name (3-128 letters, digits, '.', '_', "
                    "'-', starting and ending with a letter or digit) or trail ARN",
                )
        elif name is not None:
            raise FieldProblem(
                "existing_trail_name", "only with trail: existing (trail: create makes its own)"
            )
        return self

    @property
    def creates_trail(self) -> bool:
        return self.trail == "create"

    def trail_of(self, env: str) -> str:
        """The trail's name or ARN: the one named, else the one ``env``'s Foundation creates."""
        if self.existing_trail_name is not None:
            return self.existing_trail_name
        return trail_name_for(env)

    def watched_trail_names(self, env: str, account: str, region: str) -> list[str]:
        """The trail's name and its ARN in ``account`` and ``region``: what StopLogging and
        DeleteTrail name it by (an ARN given: its name and it)."""
        trail = self.trail_of(env)
        if TRAIL_ARN.match(trail):
            return [trail.rsplit("/", 1)[1], trail]
        return [trail, f"arn:{partition_of(region)}:cloudtrail:{region}:{account}:trail/{trail}"]

    def trail_arn_of(self, env: str, account: str, region: str) -> str:
        """The ARN (pattern) the pre-deploy check may read the trail by: the one named; the
        trail ``env``'s Foundation creates in ``account`` and ``region``; or, for an existing
        trail named by name, that name in any account and Region (an organization trail
        belongs to the management account, a multi-region trail to its home Region)."""
        trail = self.trail_of(env)
        if TRAIL_ARN.match(trail):
            return trail
        partition = partition_of(region)
        if self.creates_trail:
            return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail}"
        return f"arn:{partition}:cloudtrail:*:*:trail/{trail}"
