"""The committed region list is aws-cdk-lib's region database (the installed version)."""

from __future__ import annotations

from aws_cdk.region_info import RegionInfo

from mlops_cdk.aws.regions import REGIONS


def test_regions_match_the_installed_aws_cdk_lib() -> None:
    # Regenerate mlops_cdk/aws/regions.py from sorted(i.name for i in RegionInfo.regions).
    assert frozenset(info.name for info in RegionInfo.regions) == REGIONS
