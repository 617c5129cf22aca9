"""Preflight's SageMaker quotas (instances per type and use, serverless endpoints and their
concurrency): what the configuration needs of each quota, read against the account's applied
(else default) values from Service Quotas."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from botocore.stub import Stubber

from mlops_cdk.config import EnvConfig, load_environments
from mlops_cdk.props.endpoint import CapacitySize, DeploymentSpec
from mlops_cdk.props.scaling import InstanceAutoscaling
from mlops_cdk.props.variants import InstanceCapacity, ServerlessCapacity, VariantSpec
from mlops_tools import sagemaker_quotas as quotas
from tests.helpers import ROOT, stubbed_client

FIXTURES = ROOT / "tests" / "fixtures" / "config"
REGION = "eu-west-1"


def variant(name: str, count: int, most: int | None = None) -> VariantSpec:
    scaling = (
        InstanceAutoscaling(min_capacity=count, max_capacity=most, target_value=100)
        if most
        else None
    )
    capacity = InstanceCapacity(
        instance_type="ml.g5.xlarge", initial_instance_count=count, autoscaling=scaling
    )
    return VariantSpec(name=name, model="m", initial_weight=1, instance=capacity)


def service(**fields: Any) -> SimpleNamespace:
    """What the needs read of a service: its variants, deployment, components, jobs."""
    defaults: dict[str, Any] = {
        "variants": [],
        "shadow_variants": [],
        "deployment": DeploymentSpec(),
        "inference_components": None,
        "batch_jobs": [],
        "retraining": None,
    }
    return SimpleNamespace(**(defaults | fields))


def environment(**services: SimpleNamespace) -> Any:
    return SimpleNamespace(services=services, region=REGION)


ENDPOINT = "ml.g5.xlarge for endpoint usage"


def test_a_blue_green_update_runs_a_second_fleet_of_the_largest_count() -> None:
    env = environment(churn=service(variants=[variant("a", 2, 6)]))
    need = quotas.quota_needs(env, ["churn"])[ENDPOINT]
    assert (need.required, need.peak) == (2, 12)  # 6 scaled out, 6 more while updating
    assert need.uses == ["churn variant a: 2-6, +6 while an update runs"]


@pytest.mark.parametrize(
    ("batch", "peak"),
    [(CapacitySize("instance_count", 1), 7), (CapacitySize("capacity_percent", 25), 8)],
)
def test_a_rolling_update_adds_one_batch(batch: CapacitySize, peak: int) -> None:
    rolling = DeploymentSpec(strategy="rolling", rolling_batch_size=batch)
    env = environment(churn=service(variants=[variant("a", 2, 6)], deployment=rolling))
    # 25 % of 6 instances rounds up to 2
    assert quotas.quota_needs(env, ["churn"])[ENDPOINT].peak == peak


def serverless(name: str, concurrency: int) -> VariantSpec:
    capacity = ServerlessCapacity(memory_size_mb=2048, max_concurrency=concurrency)
    return VariantSpec(name=name, model="m", initial_weight=1, serverless=capacity)


def test_shadows_count_serverless_variants_hold_no_instances_and_services_add_up() -> None:
    env = environment(
        churn=service(variants=[variant("a", 1)], shadow_variants=[variant("shadow", 1)]),
        fraud=service(variants=[serverless("s", 5)]),
        ranking=service(variants=[variant("b", 3)]),
    )
    needs = quotas.quota_needs(env, ["churn", "fraud", "ranking"])
    assert ENDPOINT in needs
    assert (needs[ENDPOINT].required, needs[ENDPOINT].peak) == (5, 10)
    assert ENDPOINT not in quotas.quota_needs(env, ["fraud"])


SERVERLESS_ENDPOINTS = "Maximum number of serverless endpoints"
SERVERLESS_CONCURRENCY = (
    "Maximum total concurrency that can be allocated across all serverless endpoints"
)


def test_serverless_endpoints_and_their_concurrency_add_up_over_the_services() -> None:
    env = environment(
        churn=service(variants=[serverless("s", 20)]),
        fraud=service(variants=[serverless("t", 5)]),
        ranking=service(variants=[variant("b", 3)]),
    )
    needs = quotas.quota_needs(env, ["churn", "fraud", "ranking"])
    assert list(needs) == [SERVERLESS_ENDPOINTS, SERVERLESS_CONCURRENCY, ENDPOINT]
    endpoints, concurrency = needs[SERVERLESS_ENDPOINTS], needs[SERVERLESS_CONCURRENCY]
    assert (endpoints.required, endpoints.peak, endpoints.unit) == (2, 2, "endpoints")
    assert (concurrency.required, concurrency.peak) == (25, 25)  # nothing scales it
    assert concurrency.uses == ["churn variant s: 20", "fraud variant t: 5"]


def test_a_component_fleet_counts_its_managed_scaling_maximum() -> None:
    fleet = SimpleNamespace(
        instance_type="ml.g5.xlarge",
        initial_instance_count=1,
        managed_scaling=SimpleNamespace(max_instance_count=4),
    )
    env = environment(ranking=service(inference_components=SimpleNamespace(fleet=fleet)))
    need = quotas.quota_needs(env, ["ranking"])[ENDPOINT]
    assert (need.required, need.peak) == (1, 8)


def job(name: str, count: int, instance_type: str = "ml.m5.large") -> SimpleNamespace:
    return SimpleNamespace(name=name, instance_type=instance_type, instance_count=count)


def test_one_run_of_the_largest_batch_job_is_required_every_job_at_once_at_most() -> None:
    env = environment(
        churn=service(batch_jobs=[job("nightly", 2), job("weekly", 3)]),
        fraud=service(batch_jobs=[job("hourly", 1)]),
    )
    need = quotas.quota_needs(env, ["churn", "fraud"])["ml.m5.large for transform job usage"]
    assert (need.required, need.peak) == (3, 6)


def retraining(**fields: Any) -> SimpleNamespace:
    return SimpleNamespace(**({"training_job": None, "managed_pipeline": None} | fields))


def test_training_jobs_count_against_the_spot_or_on_demand_quota() -> None:
    template = {"ResourceConfig": {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 2}}
    spot = template | {"EnableManagedSpotTraining": True}
    env = environment(
        churn=service(retraining=retraining(training_job=SimpleNamespace(template=template))),
        fraud=service(retraining=retraining(training_job=SimpleNamespace(template=spot))),
    )
    needs = quotas.quota_needs(env, ["churn", "fraud"])
    assert needs["ml.p3.2xlarge for training job usage"].required == 2
    assert needs["ml.p3.2xlarge for spot training job usage"].uses == ["fraud retraining job: 2"]


def test_a_heterogeneous_cluster_counts_each_instance_group() -> None:
    groups = [
        {"InstanceGroupName": "data", "InstanceType": "ml.c5.18xlarge", "InstanceCount": 2},
        {"InstanceGroupName": "gpu", "InstanceType": "ml.p3dn.24xlarge", "InstanceCount": 1},
        {"InstanceGroupName": "more", "InstanceType": "ml.c5.18xlarge", "InstanceCount": 1},
        {"InstanceGroupName": "idle", "InstanceType": "ml.m5.large", "InstanceCount": 0},
    ]
    template = {"ResourceConfig": {"InstanceGroups": groups, "VolumeSizeInGB": 30}}
    job_ = SimpleNamespace(template=template)
    env = environment(churn=service(retraining=retraining(training_job=job_)))
    needs = quotas.quota_needs(env, ["churn"])
    assert {name: need.required for name, need in needs.items()} == {
        "ml.c5.18xlarge for training job usage": 3,
        "ml.p3dn.24xlarge for training job usage": 1,
    }


def test_a_training_template_without_a_count_runs_one_instance() -> None:
    template = {"ResourceConfig": {"InstanceType": "ml.m5.xlarge"}}
    env = environment(
        churn=service(retraining=retraining(training_job=SimpleNamespace(template=template)))
    )
    assert quotas.quota_needs(env, ["churn"])["ml.m5.xlarge for training job usage"].required == 1


def test_the_managed_pipeline_trains_and_evaluates() -> None:
    managed = SimpleNamespace(
        training=SimpleNamespace(instance_type="ml.m5.xlarge", instance_count=1, spot=object()),
        evaluation=SimpleNamespace(instance_type="ml.m5.large", instance_count=1),
    )
    env = environment(churn=service(retraining=retraining(managed_pipeline=managed)))
    assert list(quotas.quota_needs(env, ["churn"])) == [
        "ml.m5.xlarge for spot training job usage",
        "ml.m5.large for processing job usage",
    ]


def test_the_fixture_environments_need_what_their_files_say() -> None:
    [prod] = load_environments(FIXTURES, only="prod")
    needs = quotas.quota_needs(prod, list(prod.services))
    endpoint = needs["ml.m5.xlarge for endpoint usage"]
    # churn: champion 2-8 and challenger 2-4 instances, blue/green updates
    assert (endpoint.required, endpoint.peak) == (4, 24)
    assert needs["ml.m5.xlarge for spot training job usage"].required == 1


# --- the account's values ------------------------------------------------------------------


def client() -> Any:
    return stubbed_client("service-quotas", REGION)


def page(*quotas_: tuple[str, float], next_page: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "Quotas": [
            {"QuotaName": name, "Value": value, "QuotaCode": f"L-{i}"}
            for i, (name, value) in enumerate(quotas_)
        ]
    }
    return found | ({"NextToken": next_page} if next_page else {})


def test_applied_values_win_and_defaults_fill_in_over_every_page() -> None:
    sq = client()
    with Stubber(sq) as stub:
        stub.add_response("list_service_quotas", page((ENDPOINT, 4), next_page="t"))
        stub.add_response(
            "list_service_quotas",
            page(("other", 1)),
            {"ServiceCode": "sagemaker", "NextToken": "t"},
        )
        stub.add_response(
            "list_aws_default_service_quotas",
            page((ENDPOINT, 0), ("ml.m5.large for transform job usage", 8)),
        )
        found = quotas.account_quotas(sq, [ENDPOINT, "ml.m5.large for transform job usage"])
        stub.assert_no_pending_responses()
    assert found == {ENDPOINT: (4.0, "L-0"), "ml.m5.large for transform job usage": (8.0, "L-1")}


def test_defaults_are_not_read_when_every_quota_is_applied() -> None:
    sq = client()
    with Stubber(sq) as stub:
        stub.add_response("list_service_quotas", page((ENDPOINT, 4)))
        assert quotas.account_quotas(sq, [ENDPOINT]) == {ENDPOINT: (4.0, "L-0")}


NEED = quotas.Need(ENDPOINT, required=2, peak=12, uses=["churn variant a: 2-6"])


def test_under_the_required_count_fails_with_the_request_to_make() -> None:
    result = quotas.quota_result(NEED, (1.0, "L-ABC"), REGION)
    assert result.line() == (
        f"FAIL quota {ENDPOINT}: 1 instances; needed 2, up to 12 (churn variant a: 2-6): "
        "SageMaker would refuse with ResourceLimitExceeded; request an increase (aws "
        "service-quotas request-service-quota-increase --region eu-west-1 --service-code "
        "sagemaker --quota-code L-ABC --desired-value 12), or use another instance type"
    )


def test_under_the_peak_warns_and_enough_passes() -> None:
    warned = quotas.quota_result(NEED, (4.0, "L-ABC"), REGION).line()
    assert warned.startswith(f"WARN quota {ENDPOINT}: 4 instances; needed 2, up to 12")
    assert "scale-out, an update's second fleet or overlapping runs beyond 4 fail" in warned
    assert quotas.quota_result(NEED, (12.0, "L-ABC"), REGION).line() == (
        f"PASS quota {ENDPOINT}: 12 instances; needed 2, up to 12 (churn variant a: 2-6); "
        "other use in the account counts too"
    )


def test_a_quota_sagemaker_does_not_have_there_warns() -> None:
    result = quotas.quota_result(NEED, None, REGION)
    assert result.passed
    assert result.line().startswith(f"WARN quota {ENDPOINT}: no such quota in eu-west-1")


def test_service_quotas_refusing_is_one_fail_line() -> None:
    env = environment(churn=service(variants=[variant("a", 1)]))
    sq = client()
    with Stubber(sq) as stub:
        stub.add_client_error("list_service_quotas", "AccessDeniedException", "no")
        lines = [r.line() for r in quotas.check_sagemaker_quotas(sq, env, ["churn"])]
    assert lines == ["FAIL quotas: ListServiceQuotas failed: AccessDeniedException: no"]


def test_nothing_is_asked_without_instances() -> None:
    env: EnvConfig = environment(churn=service())
    assert quotas.check_sagemaker_quotas(object(), env, ["churn"]) == []


def test_a_new_accounts_serverless_concurrency_fails_a_variant_of_20() -> None:
    """New accounts get 10 (aws re:Post): CreateEndpoint would fail with 20."""
    env = environment(churn=service(variants=[serverless("s", 20)]))
    sq = client()
    with Stubber(sq) as stub:
        stub.add_response("list_service_quotas", page())
        stub.add_response(
            "list_aws_default_service_quotas",
            page((SERVERLESS_ENDPOINTS, 5), (SERVERLESS_CONCURRENCY, 10)),
        )
        lines = [r.line() for r in quotas.check_sagemaker_quotas(sq, env, ["churn"])]
    assert lines == [
        f"PASS quota {SERVERLESS_ENDPOINTS}: 5 endpoints; needed 1 (churn variant s); other "
        "use in the account counts too",
        f"FAIL quota {SERVERLESS_CONCURRENCY}: 10 concurrent invocations; needed 20 (churn "
        "variant s: 20): SageMaker would refuse with ResourceLimitExceeded; request an "
        "increase (aws "
        "service-quotas request-service-quota-increase --region eu-west-1 --service-code "
        "sagemaker --quota-code L-1 --desired-value 20), or lower max_concurrency, or serve "
        "from instances",
    ]


# --- one service of several (the pipeline's per-service preflight step) ---------------------


def two_services() -> Any:
    return environment(
        churn=service(variants=[variant("a", 2)]), fraud=service(variants=[variant("b", 2)])
    )


def checked_lines(env: Any, services: list[str], value: float) -> list[str]:
    sq = client()
    with Stubber(sq) as stub:
        stub.add_response("list_service_quotas", page((ENDPOINT, value)))
        lines = [r.line() for r in quotas.check_sagemaker_quotas(sq, env, services)]
        stub.assert_no_pending_responses()
    return lines


def test_one_service_that_fits_warns_when_the_others_take_the_sum_over_the_quota() -> None:
    """Each needs 2 and blue/green peaks at 4: 3 fits churn alone, not churn with fraud."""
    [line] = checked_lines(two_services(), ["churn"], 3)
    assert line == (
        f"WARN quota {ENDPOINT}: 3 instances; needed 2, up to 4 (churn variant a: 2, +2 while "
        "an update runs); with the environment's other services needed 4, up to 8 (fraud "
        "variant b: 2, +2 while an update runs): deploying every service fails with "
        "ResourceLimitExceeded (aws service-quotas request-service-quota-increase --region "
        "eu-west-1 --service-code sagemaker --quota-code L-0 --desired-value 8)"
    )


def test_the_others_peak_alone_over_the_quota_is_the_scale_out_warning() -> None:
    [line] = checked_lines(two_services(), ["churn"], 6)
    assert line.startswith(f"WARN quota {ENDPOINT}: 6 instances; needed 2, up to 4 (churn ")
    assert line.endswith(
        "with the environment's other services needed 4, up to 8 (fraud variant b: 2, +2 "
        "while an update runs): scale-out, an update's second fleet or overlapping runs "
        "beyond 6 fail (aws service-quotas request-service-quota-increase --region eu-west-1 "
        "--service-code sagemaker --quota-code L-0 --desired-value 8)"
    )


def test_what_the_checked_service_needs_itself_still_fails_it() -> None:
    [line] = checked_lines(two_services(), ["churn"], 1)
    assert line.startswith(f"FAIL quota {ENDPOINT}: 1 instances; needed 2, up to 4 (churn ")
    assert "other services" not in line


def test_room_for_every_service_passes_and_the_whole_environment_is_weighed_once() -> None:
    env = two_services()
    assert checked_lines(env, ["churn"], 8) == [
        f"PASS quota {ENDPOINT}: 8 instances; needed 2, up to 4 (churn variant a: 2, +2 while "
        "an update runs); other use in the account counts too"
    ]
    [whole] = checked_lines(env, ["churn", "fraud"], 3)
    assert whole.startswith(f"FAIL quota {ENDPOINT}: 3 instances; needed 4, up to 8 (churn ")
    assert "other services" not in whole


def test_a_quota_only_the_other_services_use_is_not_a_line() -> None:
    env = environment(
        churn=service(variants=[variant("a", 1)]),
        fraud=service(batch_jobs=[job("hourly", 5)]),
    )
    lines = checked_lines(env, ["churn"], 8)
    assert [line.split(":")[0] for line in lines] == [f"PASS quota {ENDPOINT}"]
