"""The review report's cost section: before -> after per part of the environment."""

from __future__ import annotations

import copy
from typing import Any

from mlops_tools.review.cost import cost_section
from mlops_tools.review.report import render_report

HOURLY = 0.257  # ml.m5.xlarge hosting in eu-west-1, from the committed price file


def service(count: int, maximum: int, instance_type: str = "ml.m5.xlarge") -> dict[str, Any]:
    return {
        "Resources": {
            "Config": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "ProductionVariants": [
                        {
                            "VariantName": "main",
                            "InstanceType": instance_type,
                            "InitialInstanceCount": count,
                        }
                    ],
                    # Stated, as every template of this app states it (unstated: AWS's
                    # billed detailed-observability default is priced too).
                    "MetricsConfig": {
                        "EnableDetailedObservability": False,
                        "EnableEnhancedMetrics": False,
                    },
                },
            },
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointName": "prod-churn",
                    "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
                },
            },
            "Target": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ResourceId": "endpoint/prod-churn/variant/main",
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                    "MinCapacity": count,
                    "MaxCapacity": maximum,
                },
            },
        }
    }


FOUNDATION = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {}}}}


def test_a_changed_service_shows_before_after_and_the_others_unchanged() -> None:
    before = {"prod-Foundation": FOUNDATION, "prod-churn": service(2, 4)}
    after = {"prod-Foundation": FOUNDATION, "prod-churn": service(3, 6)}
    lines = cost_section("prod", before, after, region="eu-west-1")
    assert lines[0] == "## Cost"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines if line.startswith("| ")}
    assert rows["Foundation"].count("→") == 0  # unchanged: one figure
    churn = rows["`churn`"]
    # idle: 2 -> 3 instances; peak: 4 -> 6 (request-driven items are the same on both sides)
    old, new = 2 * HOURLY * 730, 3 * HOURLY * 730
    assert churn.startswith(f"| `churn` | {old:,.2f} → {new:,.2f} (+{new - old:,.2f}) |")
    assert churn.endswith(f"(+{2 * HOURLY * 730:,.2f}) |")
    assert rows["**total**"].count("**") >= 2


def test_an_added_service_is_new() -> None:
    before = {"prod-Foundation": FOUNDATION}
    after = {"prod-Foundation": FOUNDATION, "prod-churn": service(2, 2)}
    lines = cost_section("prod", before, after, region="eu-west-1")
    (churn,) = [line for line in lines if line.startswith("| `churn`")]
    assert f"new: {2 * HOURLY * 730:,.2f}" in churn


def test_a_removed_service_keeps_its_cost_until_its_stacks_are_deleted() -> None:
    before = {"prod-Foundation": FOUNDATION, "prod-churn": service(2, 2)}
    after = {"prod-Foundation": FOUNDATION}
    lines = cost_section("prod", before, after, region="eu-west-1")
    assert (
        "The working tree's figures leave out `churn`: no deploy deletes their stacks, so their "
        "cost stays until they are deleted (the warning above lists them)."
    ) in lines
    unchanged = cost_section("prod", before, before, region="eu-west-1")
    assert not any(line.startswith("The working tree's figures leave out") for line in unchanged)


def test_a_missing_price_is_a_warning_naming_it_not_a_zero() -> None:
    before = {"prod-churn": service(2, 2)}
    after = {"prod-churn": service(2, 2, "ml.p5.48xlarge")}
    lines = cost_section("prod", before, after, region="eu-west-1")
    assert "> The working tree could not be estimated:" in lines
    (problem,) = [line for line in lines if line.startswith("> - ")]
    assert "no price for AWS::SageMaker::Endpoint instance type ml.p5.48xlarge" in problem
    assert not any(line.startswith("| ") for line in lines)


def test_the_report_has_a_cost_section_only_with_a_region() -> None:
    before = {"prod-Foundation": FOUNDATION, "prod-churn": service(2, 4)}
    after = copy.deepcopy(before)
    after["prod-churn"]["Resources"]["Target"]["Properties"]["MaxCapacity"] = 8
    with_cost = render_report("prod", "origin/main", before, after, region="eu-west-1")
    assert "\n## Cost\n" in with_cost
    assert with_cost.index("## Cost") < with_cost.index("## Service `churn`")
    assert "## Cost" not in render_report("prod", "origin/main", before, after)
