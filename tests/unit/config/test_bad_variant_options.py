"""Shadow variants, instance pools and rolling updates: each mistake is one line naming the file
and the field (the base file is tests/fixtures/config/dev.yaml, service ``churn``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.unit.config.test_bad_input import BASE, churn, problems_in

PREFIX = "config/dev.yaml: services.churn."


def _variant(name: str, model: str = "churn-v1", **instance: Any) -> dict[str, Any]:
    return {
        "name": name,
        "model": model,
        "initial_weight": 1,
        "instance": {"instance_type": "ml.m5.large", "initial_instance_count": 2, **instance},
    }


def _with(**fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    churn(data).update(fields)
    return data


def _rolling(**extra: Any) -> dict[str, Any]:
    return {
        "strategy": "rolling",
        "rolling_batch_size": {"type": "capacity_percent", "value": 50},
        "wait_seconds": 300,
        **extra,
    }


def test_two_shadow_variants_are_refused(tmp_path: Path) -> None:
    data = _with(shadow_variants=[_variant("shadow-a"), _variant("shadow-b")])
    assert problems_in(tmp_path, data) == [
        f"{PREFIX}shadow_variants: 2 shadow variants; SageMaker allows 1 per endpoint"
    ]


def test_a_shadow_beside_two_production_variants_is_refused(tmp_path: Path) -> None:
    data = _with(
        variants=[_variant("champion"), _variant("challenger")],
        shadow_variants=[_variant("shadow")],
    )
    assert problems_in(tmp_path, data) == [
        f"{PREFIX}variants: 2 production variants; an endpoint with a shadow variant has "
        "exactly 1 (SageMaker CreateEndpointConfig)"
    ]


def test_a_serverless_shadow_is_refused(tmp_path: Path) -> None:
    shadow = {
        "name": "shadow",
        "model": "churn-v1",
        "initial_weight": 1,
        "serverless": {"memory_size_mb": 2048, "max_concurrency": 5},
    }
    assert problems_in(tmp_path, _with(shadow_variants=[shadow])) == [
        f"{PREFIX}shadow_variants[0].serverless: SageMaker runs no shadow on serverless "
        "endpoints: use instance"
    ]


def test_a_shadow_named_like_production_is_refused(tmp_path: Path) -> None:
    assert problems_in(tmp_path, _with(shadow_variants=[_variant("champion")])) == [
        f"{PREFIX}shadow_variants[0].name: duplicate variant name 'champion'"
    ]


def test_rolling_update_of_a_multi_variant_endpoint_is_refused(tmp_path: Path) -> None:
    data = _with(variants=[_variant("champion"), _variant("challenger")], deployment=_rolling())
    assert problems_in(tmp_path, data) == [
        f"{PREFIX}deployment.strategy: rolling updates exclude multi-variant endpoints and this "
        "one has 2 variants (shadow included): use all_at_once, canary or linear"
    ]


def test_rolling_batch_too_large_for_the_fleet_is_refused(tmp_path: Path) -> None:
    data = _with(
        variants=[_variant("champion")],
        deployment=_rolling(rolling_batch_size={"type": "instance_count", "value": 2}),
    )
    assert problems_in(tmp_path, data) == [
        f"{PREFIX}deployment.rolling_batch_size.value: variant 'champion': rolling: 2 of 2 "
        "instances = 100 %; SageMaker requires a rolling batch of 5-50 % of the variant's fleet"
    ]


def test_rolling_without_a_batch_size_is_refused(tmp_path: Path) -> None:
    deployment = {"strategy": "rolling", "wait_seconds": 300}
    data = _with(variants=[_variant("champion")], deployment=deployment)
    assert problems_in(tmp_path, data) == [
        f"{PREFIX}deployment.rolling_batch_size: required for the rolling strategy"
    ]


def test_rollback_batch_size_outside_rolling_is_refused(tmp_path: Path) -> None:
    deployment = {
        "strategy": "all_at_once",
        "rollback_batch_size": {"type": "instance_count", "value": 1},
    }
    assert problems_in(tmp_path, _with(deployment=deployment)) == [
        f"{PREFIX}deployment.rollback_batch_size: only used by the rolling strategy, not "
        "all_at_once"
    ]


def test_six_instance_pools_are_refused(tmp_path: Path) -> None:
    fallbacks = ["ml.m5.large", "ml.m6i.large", "ml.m7i.large", "ml.c5.xlarge", "ml.r5.large"]
    variant = _variant("champion", fallback_instance_types=fallbacks)
    assert problems_in(tmp_path, _with(variants=[variant])) == [
        f"{PREFIX}variants[0].instance.fallback_instance_types: 5 fallbacks; SageMaker allows "
        "5 instance pools, instance_type included (at most 4 fallbacks)"
    ]


def test_a_fallback_type_of_another_size_is_refused(tmp_path: Path) -> None:
    variant = _variant("champion", fallback_instance_types=["ml.m5.xlarge"])
    assert problems_in(tmp_path, _with(variants=[variant])) == [
        f"{PREFIX}variants[0].instance.fallback_instance_types[0]: ml.m5.xlarge has 4 vCPUs "
        "and 0 GPUs, ml.m5.large 2 and 0: CPU and GPU utilization are summed over them, so one "
        "alarm threshold cannot fit both; use types of the same size"
    ]


def test_provision_timeout_outside_aws_range_is_refused(tmp_path: Path) -> None:
    variant = _variant("champion", provision_timeout_seconds=60)
    (line,) = problems_in(tmp_path, _with(variants=[variant]))
    assert line.startswith(f"{PREFIX}variants[0].instance.provision_timeout_seconds: ")
    assert "300" in line
