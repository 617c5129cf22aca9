"""change_detection: the names the foundation watch matches StopLogging and DeleteTrail by."""

from __future__ import annotations

import pytest

from mlops_cdk.config.change_detection import ChangeDetectionConfig

ACCOUNT, REGION = "111111111111", "eu-west-1"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(
            {"trail": "create"},
            ["mlops-dev-changes", f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/mlops-dev-changes"],
            id="created",
        ),
        pytest.param(
            {"trail": "existing", "existing_trail_name": "audit"},
            ["audit", f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit"],
            id="existing by name",
        ),
        pytest.param(
            {
                "trail": "existing",
                "existing_trail_name": "arn:aws:cloudtrail:us-east-1:222222222222:trail/org",
            },
            ["org", "arn:aws:cloudtrail:us-east-1:222222222222:trail/org"],
            id="existing by ARN",
        ),
    ],
)
def test_the_trail_is_watched_by_its_name_and_its_arn(
    settings: dict[str, str], expected: list[str]
) -> None:
    config = ChangeDetectionConfig.model_validate(settings)
    assert config.watched_trail_names("dev", ACCOUNT, REGION) == expected
    assert config.watch_foundation is True  # on unless turned off


def test_china_regions_name_their_partition() -> None:
    config = ChangeDetectionConfig.model_validate({"trail": "create"})
    (_, arn) = config.watched_trail_names("dev", ACCOUNT, "cn-north-1")
    assert arn.startswith("arn:aws-cn:cloudtrail:cn-north-1:")
