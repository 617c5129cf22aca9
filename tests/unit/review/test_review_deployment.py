"""What a deploy does to a running SageMaker endpoint: retained counts, the two-step release
autoscaling forces, blue/green redeploys, deployment-config changes, unused models and
canary / linear step sizes. Small hand-built before/after templates."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mlops_tools.review.deployment import (
    ALARM,
    ENDPOINT,
    INSTANCE_COUNT_DIMENSION,
    MODEL,
    SCALABLE_TARGET,
    SCALING_POLICY,
    Endpoint,
    Routing,
    blue_green,
    retained,
    step_text,
)
from mlops_tools.review.report import render_report
from mlops_tools.review.variants import ENDPOINT_CONFIG

SERVING = "dev-churn"  # a service's stack, <env>-<service>
NAME = "dev-churn"  # its endpoint
CANARY = {
    "Type": "CANARY",
    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
    "WaitIntervalInSeconds": 600,
}
ALL_AT_ONCE = {"Type": "ALL_AT_ONCE"}
TWO_STEP = "**Two-step release: autoscaling blocks this endpoint update.**"
NOT_APPLIED = "is **not applied to the running endpoint**"


def render(before: dict[str, Any], after: dict[str, Any]) -> str:
    return render_report("dev", "origin/main", before, after)


def section(report: str, title: str) -> str:
    """The text of the first ``### title`` subsection (of a service's section)."""
    start = report.index(f"\n### {title}\n") + 1
    ends = [report.find(f"\n{h} ", start) for h in ("##", "###")]
    end = min((e for e in ends if e != -1), default=len(report))
    return report[start:end]


def variant(
    name: str,
    count: int = 2,
    weight: float = 1,
    instance_type: str = "ml.m5.large",
    model: str = "ModelA",
) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": {"Fn::GetAtt": [model, "ModelName"]},
        "InstanceType": instance_type,
        "InitialInstanceCount": count,
        "InitialVariantWeight": weight,
    }


def model(image: str = "img:1") -> dict[str, Any]:
    return {
        "Type": MODEL,
        "Properties": {
            "ExecutionRoleArn": "arn:aws:iam::111111111111:role/sagemaker",
            "PrimaryContainer": {"Image": image},
        },
    }


def config(*variants: dict[str, Any]) -> dict[str, Any]:
    return {"Type": ENDPOINT_CONFIG, "Properties": {"ProductionVariants": list(variants)}}


def endpoint(
    routing: dict[str, Any] | None = CANARY,
    *,
    name: str = NAME,
    retain: bool = True,
    excluded: tuple[str, ...] = ("DesiredWeight",),
    alarms: tuple[str, ...] = (),
    termination: int = 300,
    timeout: int = 3600,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "EndpointName": name,
        "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
    }
    if retain:
        properties["RetainAllVariantProperties"] = True
        properties["ExcludeRetainedVariantProperties"] = [
            {"VariantPropertyType": p} for p in excluded
        ]
    if routing is not None:
        deployment: dict[str, Any] = {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": termination,
                "MaximumExecutionTimeoutInSeconds": timeout,
            }
        }
        if alarms:
            deployment["AutoRollbackConfiguration"] = {
                "Alarms": [{"AlarmName": {"Ref": a}} for a in alarms]
            }
        properties["DeploymentConfig"] = deployment
    return {"Type": ENDPOINT, "Properties": properties}


def target(
    name: str,
    low: int = 2,
    high: int = 8,
    dimension: str = INSTANCE_COUNT_DIMENSION,
    resource_id: Any = None,
) -> dict[str, Any]:
    return {
        "Type": SCALABLE_TARGET,
        "Properties": {
            "ResourceId": resource_id or f"endpoint/{NAME}/variant/{name}",
            "ScalableDimension": dimension,
            "ServiceNamespace": "sagemaker",
            "MinCapacity": low,
            "MaxCapacity": high,
        },
    }


def tracking(target_id: str) -> dict[str, Any]:
    return {
        "Type": SCALING_POLICY,
        "Properties": {
            "PolicyName": f"{target_id}Tracking",
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": target_id},
        },
    }


def alarm(name: str, *, math: bool = False) -> dict[str, Any]:
    dimensions = [
        {"Name": "EndpointName", "Value": NAME},
        {"Name": "VariantName", "Value": name},
    ]
    if math:
        metric = {"MetricName": "Invocation5XXErrors", "Dimensions": dimensions}
        properties: dict[str, Any] = {
            "Metrics": [
                {"Id": "e", "Expression": "100 * m"},
                {"Id": "m", "MetricStat": {"Metric": metric, "Stat": "Sum", "Period": 60}},
            ]
        }
    else:
        properties = {"MetricName": "ModelLatency", "Dimensions": dimensions}
    return {"Type": ALARM, "Properties": {**properties, "Threshold": 1, "EvaluationPeriods": 1}}


def serving(
    variants: list[dict[str, Any]],
    *,
    endpoint_resource: dict[str, Any] | None = None,
    **extra: dict[str, Any],
) -> dict[str, Any]:
    resources = {
        "ModelA": model(),
        "Config": config(*variants),
        "Endpoint": endpoint_resource if endpoint_resource is not None else endpoint(),
        **extra,
    }
    return {SERVING: {"Resources": resources}}


def scaled(name: str) -> dict[str, dict[str, Any]]:
    """A variant's scalable target and its target-tracking policy."""
    target_id = f"Scaling{name}Target"
    return {target_id: target(name), f"Scaling{name}Tracking": tracking(target_id)}


def row(report: str, name: str) -> str:
    (found,) = [line for line in report.splitlines() if line.startswith(f"| `{name}` |")]
    return found


# -- counts a running endpoint keeps -------------------------------------------------------


def test_a_count_change_is_not_applied_to_a_running_endpoint() -> None:
    before = serving([variant("champion", count=1)], **scaled("champion"))
    after = serving([variant("champion", count=2)], **scaled("champion"))
    variants = section(render(before, after), "Endpoint variants")
    assert "| **1 → 2** (not applied) |" in row(variants, "champion")
    assert (
        "- `champion`: count 1 → 2 is **not applied to the running endpoint** `dev-churn`: "
        "with `RetainAllVariantProperties` it keeps the variant's running instance count "
        "(`InitialInstanceCount` applies only when the endpoint or the variant is created). "
        "Change the autoscaling min/max instead (`ScalingchampionTarget`: min 2, max 8). "
        "The blue/green step above counts `InitialInstanceCount` instances."
    ) in variants


def test_without_autoscaling_the_count_note_says_to_add_it() -> None:
    before = serving([variant("champion", count=1)], endpoint_resource=endpoint(ALL_AT_ONCE))
    after = serving([variant("champion", count=2)], endpoint_resource=endpoint(ALL_AT_ONCE))
    variants = section(render(before, after), "Endpoint variants")
    assert "(the variant has no scalable target: add one)." in variants
    assert "blue/green step" not in variants  # all at once: no step column, no step remark


def test_a_new_endpoint_gets_the_count() -> None:
    after = serving([variant("champion", count=2)], **scaled("champion"))
    report = render({}, after)
    assert "not applied" not in report
    assert "| `champion` | **— → ml.m5.large** | **— → 2** |" in report


def test_a_replaced_endpoint_gets_the_count() -> None:
    before = serving([variant("champion", count=1)])
    after = serving([variant("champion", count=2)], endpoint_resource=endpoint(name="other"))
    report = render(before, after)
    assert "| `dev-churn` | `Endpoint` | `AWS::SageMaker::Endpoint` |" in section(
        report, "Resources"
    )
    assert "not applied" not in report


def test_a_variant_added_to_a_running_endpoint_gets_its_count() -> None:
    before = serving([variant("champion")])
    after = serving([variant("champion"), variant("challenger", count=3)])
    report = render(before, after)
    assert "not applied" not in report
    assert "**— → 3**" in row(report, "challenger")


@pytest.mark.parametrize(
    ("retain", "excluded"),
    [(False, ()), (True, ("DesiredInstanceCount", "DesiredWeight"))],
    ids=["no-retention", "count-excluded"],
)
def test_counts_apply_when_not_retained(retain: bool, excluded: tuple[str, ...]) -> None:
    kept = endpoint(retain=retain, excluded=excluded)
    before = serving([variant("champion", count=1)], endpoint_resource=kept)
    after = serving([variant("champion", count=2)], endpoint_resource=copy.deepcopy(kept))
    report = render(before, after)
    assert "not applied" not in report
    assert "| **1 → 2** |" in row(report, "champion")


def test_retained_weights_are_not_applied_either() -> None:
    kept = endpoint(excluded=())
    before = serving([variant("a", weight=1), variant("b", weight=1)], endpoint_resource=kept)
    after = serving([variant("a", weight=3), variant("b", weight=1)], endpoint_resource=kept)
    variants = section(render(before, after), "Endpoint variants")
    assert "| **1 → 3** (not applied) |" in row(variants, "a")
    assert f"- `a`: weight 1 → 3 {NOT_APPLIED} `dev-churn`" in variants
    # The project's endpoint excludes DesiredWeight: weights apply.
    before = serving([variant("a", weight=1), variant("b", weight=1)])
    after = serving([variant("a", weight=3), variant("b", weight=1)])
    assert "not applied" not in render(before, after)


def test_retention_settings() -> None:
    def of(properties: dict[str, Any]) -> Endpoint:
        return Endpoint(SERVING, "Endpoint", NAME, "Config", properties)

    assert retained(of({})) == frozenset()
    assert retained(of({"RetainAllVariantProperties": "true"})) == {
        "DesiredInstanceCount",
        "DesiredWeight",
    }
    project = endpoint()["Properties"]
    assert retained(of(project)) == {"DesiredInstanceCount"}


# -- the two-step release autoscaling forces -----------------------------------------------


def test_an_instance_type_change_of_an_autoscaled_variant_is_a_two_step_release() -> None:
    before = {
        SERVING: {
            "Resources": {
                **serving([variant("champion"), variant("challenger")], **scaled("champion"))[
                    SERVING
                ]["Resources"],
                "Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "a"}},
            }
        }
    }
    after = serving(
        [variant("champion", instance_type="ml.c5.large"), variant("challenger")],
        **scaled("champion"),
    )
    report = render(before, after)
    top = report[: report.index("## ")]
    assert top.index("> [!CAUTION]") < top.index("> [!WARNING]")  # next to the stateful one
    assert TWO_STEP in top
    assert (
        "> - service `churn`: `dev-churn` / `Endpoint` (endpoint `dev-churn`): variant `champion` "
        "changes instance type `ml.m5.large` → `ml.c5.large`; its autoscaling in the base: "
        "`ScalingchampionTarget`, `ScalingchampionTracking`"
    ) in top
    assert (
        "> 1. Release 1: remove only the autoscaling of these variants (scalable target and "
        "scaling policies), nothing else; deploy."
    ) in top
    assert (
        "> 2. Release 2: the instance type change / variant removal, with the autoscaling back "
        "(for the variants that remain); deploy."
    ) in top
    assert "challenger" not in top


def test_removing_an_autoscaled_variant_is_a_two_step_release_even_if_scaling_goes_too() -> None:
    before = serving([variant("champion"), variant("challenger")], **scaled("challenger"))
    after = serving([variant("champion")])  # the target and policy are removed as well
    top = render(before, after).split("## ", 1)[0]
    assert "[!CAUTION]" not in top
    assert (
        "variant `challenger` is removed or renamed; its autoscaling in the base: "
        "`ScalingchallengerTarget`, `ScalingchallengerTracking`"
    ) in top


def pooled(name: str, *types: str) -> dict[str, Any]:
    pools = [{"InstanceType": t, "Priority": i} for i, t in enumerate(types, start=1)]
    found = {k: v for k, v in variant(name).items() if k != "InstanceType"}
    return {**found, "InstancePools": pools}


def test_changing_an_autoscaled_variants_instance_pools_is_a_two_step_release() -> None:
    before = serving([pooled("champion", "ml.m5.large", "ml.m6i.large")], **scaled("champion"))
    after = serving([pooled("champion", "ml.c5.large", "ml.m6i.large")], **scaled("champion"))
    top = render(before, after).split("## ", 1)[0]
    assert TWO_STEP in top
    assert (
        "variant `champion` changes instance type `ml.m5.large > ml.m6i.large` → "
        "`ml.c5.large > ml.m6i.large`"
    ) in top
    same = serving([pooled("champion", "ml.m5.large", "ml.m6i.large")], **scaled("champion"))
    assert TWO_STEP not in render(before, same)


def test_removing_an_autoscaled_shadow_is_a_two_step_release() -> None:
    before = serving([variant("champion")], **scaled("candidate"))
    before[SERVING]["Resources"]["Config"]["Properties"]["ShadowProductionVariants"] = [
        variant("candidate")
    ]
    after = serving([variant("champion")])
    top = render(before, after).split("## ", 1)[0]
    assert TWO_STEP in top
    assert "variant `candidate` is removed or renamed" in top


def test_a_target_naming_the_endpoint_through_getatt_counts() -> None:
    resource_id = {
        "Fn::Join": [
            "",
            ["endpoint/", {"Fn::GetAtt": ["Endpoint", "EndpointName"]}, "/variant/champion"],
        ]
    }
    extra = {"Target": target("champion", resource_id=resource_id)}
    before = serving([variant("champion")], **extra)
    after = serving([variant("champion", instance_type="ml.c5.large")], **extra)
    assert "variant `champion` changes instance type" in render(before, after)


# -- variant names under an update policy ----------------------------------------------------

NAMES = "**Variant names change under an update policy.**"


def test_adding_or_removing_a_variant_under_a_canary_is_a_warning_naming_them() -> None:
    before = serving([variant("champion"), variant("challenger")])
    after = serving([variant("champion"), variant("pkg-v4", model="ModelA")])
    top = render(before, after).split("## ", 1)[0]
    assert NAMES in top
    assert "must have the same variant name as the old endpoint configuration" in top
    assert (
        "> - service `churn`: `dev-churn` / `Endpoint` (endpoint `dev-churn`, blue/green "
        "CANARY): adds `pkg-v4` and removes `challenger`"
    ) in top


def test_a_shadow_added_under_a_rolling_policy_is_named() -> None:
    rolling = endpoint(None)
    rolling["Properties"]["DeploymentConfig"] = {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
            "WaitIntervalInSeconds": 300,
        }
    }
    before = serving([variant("champion")], endpoint_resource=rolling)
    after = serving([variant("champion")], endpoint_resource=rolling)
    shadowed = after[SERVING]["Resources"]["Config"]["Properties"]
    shadowed["ShadowProductionVariants"] = [variant("candidate")]
    top = render(before, after).split("## ", 1)[0]
    assert "(endpoint `dev-churn`, rolling): adds `candidate`" in top


SERVERLESS = "**An instance-backed endpoint cannot become serverless.**"


def serverless_variant(name: str) -> dict[str, Any]:
    found = {
        k: v for k, v in variant(name).items() if k not in ("InstanceType", "InitialInstanceCount")
    }
    return {**found, "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}


def test_turning_a_running_endpoint_serverless_is_a_warning() -> None:
    before = serving([variant("champion")], endpoint_resource=endpoint(None))
    after = serving([serverless_variant("champion")], endpoint_resource=endpoint(None))
    top = render(before, after).split("## ", 1)[0]
    assert SERVERLESS in top
    assert "is currently not supported" in top
    assert "(endpoint `dev-churn`): instances → serverless (`champion`)" in top
    back = render(after, before)  # serverless -> instances: supported
    assert SERVERLESS not in back
    assert SERVERLESS not in render(after, after)


@pytest.mark.parametrize("case", ["same-names", "no-policy", "new-endpoint"])
def test_no_variant_name_warning(case: str) -> None:
    before = serving([variant("champion"), variant("challenger")])
    after = serving([variant("champion"), variant("pkg-v4")])
    if case == "same-names":  # a new model in the same variant: what the canary guards
        after = serving([variant("champion", model="ModelB"), variant("challenger")])
        after[SERVING]["Resources"]["ModelB"] = model("img:2")
    elif case == "no-policy":  # SageMaker's default update
        before = serving([variant("champion")], endpoint_resource=endpoint(None))
        after = serving([variant("champion"), variant("b")], endpoint_resource=endpoint(None))
    elif case == "new-endpoint":
        after = serving(
            [variant("champion"), variant("pkg-v4")],
            endpoint_resource=endpoint(name="dev-churn-2"),
        )
    assert NAMES not in render(before, after)


@pytest.mark.parametrize(
    "case",
    ["count-only", "other-variant", "added-target", "provisioned-concurrency", "new-endpoint"],
)
def test_no_two_step_warning_when_autoscaling_does_not_block(case: str) -> None:
    bigger = variant("champion", instance_type="ml.c5.large")
    before = serving([variant("champion"), variant("challenger")], **scaled("champion"))
    after = serving([bigger, variant("challenger")], **scaled("champion"))
    if case == "count-only":
        after = serving([variant("champion", count=4), variant("challenger")], **scaled("champion"))
    elif case == "other-variant":
        before = serving([variant("champion"), variant("challenger")], **scaled("challenger"))
    elif case == "added-target":
        before = serving([variant("champion"), variant("challenger")])
    elif case == "provisioned-concurrency":
        dimension = "sagemaker:variant:DesiredProvisionedConcurrency"
        extra = {"Target": target("champion", dimension=dimension)}
        before = serving([variant("champion"), variant("challenger")], **extra)
    elif case == "new-endpoint":
        after = serving(
            [bigger, variant("challenger")],
            endpoint_resource=endpoint(name="dev-churn-2"),
            **scaled("champion"),
        )
    report = render(before, after)
    assert "[!WARNING]" not in report
    assert "Two-step" not in report


# -- blue/green: weight-only changes, removed variants -------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (endpoint(CANARY), "expect CANARY with 600 s bake"),
        (endpoint(ALL_AT_ONCE, termination=120), "expect ALL_AT_ONCE with 0 s bake"),
        (
            endpoint({**ALL_AT_ONCE, "WaitIntervalInSeconds": 120}, termination=0),
            "expect ALL_AT_ONCE with 120 s bake",
        ),
        (endpoint(None), "expect ALL_AT_ONCE (SageMaker's default) with 0 s bake"),
    ],
    ids=["canary", "all-at-once", "all-at-once-bake", "no-deployment-config"],
)
def test_a_weight_only_change_still_redeploys_the_fleet(
    resource: dict[str, Any], expected: str
) -> None:
    before = serving([variant("a", weight=90), variant("b", weight=10)], endpoint_resource=resource)
    after = serving([variant("a", weight=80), variant("b", weight=20)], endpoint_resource=resource)
    variants = section(render(before, after), "Endpoint variants")
    assert (
        f"- weight-only change: blue/green redeploys the fleet; {expected} "
        "(every new endpoint config is a new fleet, weights included)"
    ) in variants


@pytest.mark.parametrize(
    "case", ["count-too", "model-replaced", "new-endpoint", "rolling", "unchanged-weights"]
)
def test_no_weight_only_note_when_more_changes_or_no_blue_green(case: str) -> None:
    before = serving([variant("a", weight=90), variant("b", weight=10)])
    after = serving([variant("a", weight=80), variant("b", weight=20)])
    if case == "count-too":
        after = serving([variant("a", weight=80), variant("b", count=3, weight=20)])
    elif case == "model-replaced":
        after[SERVING]["Resources"]["ModelA"] = model("img:2")
    elif case == "new-endpoint":
        before = {}
    elif case == "rolling":
        rolling = endpoint(None)
        rolling["Properties"]["DeploymentConfig"] = {
            "RollingUpdatePolicy": {
                "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                "WaitIntervalInSeconds": 60,
            }
        }
        before = serving(
            [variant("a", weight=90), variant("b", weight=10)], endpoint_resource=rolling
        )
        after = serving(
            [variant("a", weight=80), variant("b", weight=20)], endpoint_resource=rolling
        )
    elif case == "unchanged-weights":
        after = serving(
            [variant("a", weight=90), variant("b", weight=10, instance_type="ml.c5.large")]
        )
    assert "weight-only change" not in render(before, after)


def test_a_removed_variant_under_blue_green_is_shown_with_what_goes_away() -> None:
    kept_alarm, gone_alarm = alarm("challenger"), alarm("challenger", math=True)
    before = serving(
        [variant("champion", weight=90), variant("challenger", weight=10)],
        **scaled("challenger"),
        ChallengerLatency=kept_alarm,
        ChallengerErrors=gone_alarm,
        ChampionLatency=alarm("champion"),
    )
    after = serving([variant("champion", weight=90)], ChallengerLatency=kept_alarm)
    variants = section(render(before, after), "Endpoint variants")
    assert (
        "- **variant `challenger` removed or renamed** under blue/green CANARY: the new fleet has "
        "no `challenger`; its traffic (10 %) moves to the remaining variants (`champion` 100 %); "
        "its alarms and autoscaling go away: `ChallengerErrors`, `ScalingchallengerTarget`, "
        "`ScalingchallengerTracking`; still in the template, for a variant that is gone: "
        "`ChallengerLatency`"
    ) in variants
    assert "ChampionLatency" not in variants
    assert "weight-only change" not in variants


def test_a_renamed_variant_names_the_new_one() -> None:
    before = serving([variant("champion"), variant("challenger")])
    after = serving([variant("champion"), variant("contender")])
    variants = section(render(before, after), "Endpoint variants")
    assert (
        "- **variant `challenger` removed or renamed** under blue/green CANARY: the new fleet has "
        "no `challenger`; its traffic (50 %) moves to the remaining variants (`champion` 50 %, "
        "`contender` 50 %) (new: `contender`); it had no alarms or autoscaling"
    ) in variants


def test_no_removed_variant_note_when_none_is_removed() -> None:
    before = serving([variant("champion")])
    after = serving([variant("champion"), variant("challenger")])
    assert "removed or renamed" not in render(before, after)


# -- deployment config changes -------------------------------------------------------------


def test_each_changed_deployment_field_is_listed_before_and_after() -> None:
    linear = {
        "Type": "LINEAR",
        "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1},
        "WaitIntervalInSeconds": 120,
    }
    before = serving(
        [variant("champion", count=4)],
        endpoint_resource=endpoint(CANARY, alarms=("Latency", "Errors")),
    )
    after = serving(
        [variant("champion", count=4)],
        endpoint_resource=endpoint(linear, alarms=("Errors", "Disk"), termination=60, timeout=7200),
    )
    variants = section(render(before, after), "Endpoint variants")
    lines = variants.splitlines()
    heading = (
        "#### `dev-churn` / `Endpoint` (updated, endpoint `dev-churn`): "
        "deployment config before → after"
    )
    start = lines.index(heading)
    assert lines[start + 2 : start + 13] == [
        "| field | before | after |",
        "| --- | --- | --- |",
        "| traffic routing type | CANARY | LINEAR |",
        "| canary size | 10 % of capacity | — |",
        "| linear step size | — | 1 instance |",
        "| wait interval (bake) | 600 s | 120 s |",
        "| termination wait | 300 s | 60 s |",
        "| max execution timeout | 3600 s | 7200 s |",
        "| rollback alarm (removed) | `${Latency}` | — |",
        "| rollback alarm (added) | — | `${Disk}` |",
        "| `champion` step | canary: 1 of 4 instances = 25 % | linear: 1 of 4 instances = 25 % "
        "per step |",
    ]
    assert "${Errors}" not in variants  # a rollback alarm on both sides is not listed


def test_a_deployment_change_with_a_config_change_follows_the_variants() -> None:
    before = serving([variant("champion", weight=1)], endpoint_resource=endpoint(CANARY))
    after = serving(
        [variant("champion", weight=2)], endpoint_resource=endpoint(CANARY, termination=600)
    )
    variants = section(render(before, after), "Endpoint variants")
    assert variants.index("#### `dev-churn` / `Config` (replaced): before → after") < (
        variants.index("Deployment config of endpoint `dev-churn` (`Endpoint`), before → after:")
    )
    assert "| termination wait | 300 s | 600 s |" in variants
    assert "deployment config before → after" not in variants  # no second heading


def test_no_deployment_table_when_the_deployment_config_is_unchanged() -> None:
    before = serving([variant("champion", weight=1)])
    after = serving([variant("champion", weight=2)])
    assert "| field | before | after |" not in render(before, after)


# -- unused models -------------------------------------------------------------------------


def test_a_model_no_variant_serves_is_shown() -> None:
    before = serving([variant("champion", model="ModelA")], ModelB=model("img:2"))
    after = serving([variant("champion", model="ModelB")], ModelB=model("img:2"))
    variants = section(render(before, after), "Endpoint variants")
    assert (
        "- unused model: `ModelA`, no variant serves it "
        "(stack `dev-churn`; a variant served it in the base)"
    ) in variants
    assert "`ModelB`, no variant" not in variants
    added = serving([variant("champion")], ModelC=model("img:3"))
    assert "- unused model: `ModelC`, no variant serves it (stack `dev-churn`)\n" in render(
        serving([variant("champion")]), added
    )


def test_models_served_by_shadow_variants_or_across_stacks_are_used() -> None:
    after = serving([variant("champion")], ModelB=model("img:2"))
    shadow = variant("shadow", model="ModelB")
    after[SERVING]["Resources"]["Config"]["Properties"]["ShadowProductionVariants"] = [shadow]
    assert "unused model" not in render(serving([variant("champion")]), after)

    models = {
        "Resources": {"Shared": model()},
        "Outputs": {
            "M": {
                "Value": {"Fn::GetAtt": ["Shared", "ModelName"]},
                "Export": {"Name": "models:Shared"},
            }
        },
    }
    imported = variant("champion")
    imported["ModelName"] = {"Fn::ImportValue": "models:Shared"}
    after = {**serving([imported]), "dev-Models": models}
    after[SERVING]["Resources"].pop("ModelA")
    assert "unused model" not in render({}, after)


# -- canary / linear step sizes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "step", "count", "expected"),
    [
        ("CANARY", {"Type": "CAPACITY_PERCENT", "Value": 10}, 2, "canary: 1 of 2 instances = 50 %"),
        (
            "CANARY",
            {"Type": "CAPACITY_PERCENT", "Value": 34},
            3,
            "canary: 2 of 3 instances = 66.7 %",
        ),
        ("CANARY", {"Type": "CAPACITY_PERCENT", "Value": 50}, 4, "canary: 2 of 4 instances = 50 %"),
        ("CANARY", {"Type": "CAPACITY_PERCENT", "Value": 10}, 1, "canary: 1 of 1 instance = 100 %"),
        ("CANARY", {"Type": "INSTANCE_COUNT", "Value": 2}, 8, "canary: 2 of 8 instances = 25 %"),
        (
            "LINEAR",
            {"Type": "CAPACITY_PERCENT", "Value": 25},
            6,
            "linear: 2 of 6 instances = 33.3 % per step",
        ),
        ("ALL_AT_ONCE", None, 2, None),
        ("CANARY", {"Type": "CAPACITY_PERCENT", "Value": {"Ref": "Size"}}, 2, None),
        ("CANARY", {"Type": "CAPACITY_PERCENT", "Value": 10}, None, None),
    ],
)
def test_step_sizes_round_a_percentage_up_to_whole_instances(
    strategy: str, step: dict[str, Any] | None, count: int | None, expected: str | None
) -> None:
    assert step_text(Routing(strategy, step, 600), count) == expected


def test_routing_of_an_endpoint() -> None:
    def of(resource: dict[str, Any]) -> Routing | None:
        return blue_green(Endpoint(SERVING, "Endpoint", NAME, "Config", resource["Properties"]))

    assert of(endpoint(CANARY)) == Routing("CANARY", CANARY["CanarySize"], 600)
    # the bake is WaitIntervalInSeconds for every type; TerminationWaitInSeconds is not a bake
    assert of(endpoint(ALL_AT_ONCE, termination=30)) == Routing("ALL_AT_ONCE", None, 0)
    baked = endpoint({**ALL_AT_ONCE, "WaitIntervalInSeconds": 30})
    assert of(baked) == Routing("ALL_AT_ONCE", None, 30)
    assert of(endpoint(None)) == Routing("ALL_AT_ONCE", None, 0, default=True)
    rolling = endpoint(None)
    rolling["Properties"]["DeploymentConfig"] = {"RollingUpdatePolicy": {}}
    assert of(rolling) is None


def test_the_step_column_shows_each_side_where_a_canary_exists() -> None:
    serverless = {
        "VariantName": "serverless",
        "ModelName": {"Fn::GetAtt": ["ModelA", "ModelName"]},
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
    }
    before = serving([variant("champion", count=2)], endpoint_resource=endpoint(ALL_AT_ONCE))
    after = serving([variant("champion", count=2), serverless])
    variants = section(render(before, after), "Endpoint variants")
    assert "| blue/green step |" in variants
    assert row(variants, "champion").endswith("| **— → canary: 1 of 2 instances = 50 %** |")
    assert row(variants, "serverless").endswith("| — |")  # no instances, no step


def test_no_step_column_without_canary_or_linear() -> None:
    before = serving([variant("champion", weight=1)], endpoint_resource=endpoint(ALL_AT_ONCE))
    after = serving([variant("champion", weight=2)], endpoint_resource=endpoint(ALL_AT_ONCE))
    variants = section(render(before, after), "Endpoint variants")
    assert "step" not in variants.split("- weight-only", 1)[0]


# -- everything together stays deterministic -----------------------------------------------


def test_endpoint_statements_are_deterministic() -> None:
    before = serving(
        [variant("champion", count=1), variant("challenger")],
        **scaled("champion"),
        **scaled("challenger"),
        ChallengerLatency=alarm("challenger"),
        ModelB=model("img:2"),
    )
    after = serving(
        [variant("champion", count=2, instance_type="ml.c5.large")],
        endpoint_resource=endpoint(ALL_AT_ONCE),
        **scaled("champion"),
        ModelB=model("img:2"),
    )
    first = render(before, after)
    reordered = {SERVING: {"Resources": dict(reversed(before[SERVING]["Resources"].items()))}}
    assert first == render(reordered, copy.deepcopy(after))
    for expected in (TWO_STEP, "(not applied)", "removed or renamed", "unused model: `ModelB`"):
        assert expected in first


def test_an_endpoint_switching_configs_compares_the_configs_it_serves() -> None:
    before = serving([variant("champion", count=1)])
    after = serving([variant("champion", count=2)])
    resources = after[SERVING]["Resources"]
    resources["Config2"] = resources.pop("Config")
    resources["Endpoint"]["Properties"]["EndpointConfigName"] = {
        "Fn::GetAtt": ["Config2", "EndpointConfigName"]
    }
    variants = section(render(before, after), "Endpoint variants")
    assert variants.count("#### ") == 1  # the removed `Config` is not shown on its own
    assert "#### `dev-churn` / `Config2` (added, was `Config`): before → after" in variants
    assert "| **1 → 2** (not applied) |" in row(variants, "champion")
