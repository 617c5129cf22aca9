"""The review's variant table: a shadow promoted to production reads "shadow → production";
instance pools show their types in priority order."""

from __future__ import annotations

from typing import Any

from mlops_tools.review.variants import variant_table


def _config(production: list[dict[str, Any]], shadows: list[dict[str, Any]]) -> dict[str, Any]:
    properties: dict[str, Any] = {"ProductionVariants": production}
    if shadows:
        properties["ShadowProductionVariants"] = shadows
    return {"Type": "AWS::SageMaker::EndpointConfig", "Properties": properties}


def _variant(name: str, weight: float = 1) -> dict[str, Any]:
    return {
        "VariantName": name,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 2,
        "InitialVariantWeight": weight,
    }


def _row(lines: list[str], name: str) -> str:
    (row,) = [line for line in lines if line.startswith(f"| `{name}`")]
    return row


def test_promoting_the_shadow_reads_shadow_to_production() -> None:
    before = _config([_variant("live")], [_variant("next")])
    after = _config([_variant("next")], [])
    lines = variant_table(before, after)
    assert "role" in lines[0]
    assert "**shadow → production**" in _row(lines, "next")
    assert "**production → —**" in _row(lines, "live")


def test_a_shadow_takes_no_traffic_share() -> None:
    lines = variant_table(
        _config([_variant("live")], []), _config([_variant("live")], [_variant("next")])
    )
    assert "copy of production" in _row(lines, "next")
    assert "100 %" in _row(lines, "live")


def test_without_shadows_there_is_no_role_column() -> None:
    config = _config([_variant("a"), _variant("b")], [])
    assert "role" not in variant_table(config, config)[0]


def test_instance_pools_show_in_priority_order() -> None:
    pooled = {
        "VariantName": "gpu",
        "InitialInstanceCount": 2,
        "InstancePools": [
            {"InstanceType": "ml.g6.xlarge", "Priority": 2},
            {"InstanceType": "ml.g5.xlarge", "Priority": 1},
        ],
    }
    lines = variant_table(_config([pooled], []), _config([pooled], []))
    assert "ml.g5.xlarge > ml.g6.xlarge" in _row(lines, "gpu")
