"""The estimate's arithmetic on small hand-written templates, the missing-price error, the
price file, and the CLI over a hand-written cloud assembly."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mlops_tools.cost.assumptions import HOURS_PER_MONTH, Assumptions
from mlops_tools.cost.cli import main
from mlops_tools.cost.estimate import EstimateError, estimate_environment
from mlops_tools.cost.prices import Price, PriceBook, PriceFileError, PriceKey, parse_prices
from tests.helpers import ROOT

REGION = "eu-west-1"
NO_TRAFFIC = Assumptions(
    requests_per_month=0,
    log_gb_per_month=0,
    flow_log_gb_per_month=0,
    kms_requests_per_month=0,
    endpoint_gb_processed=0,
)
HEADER = "service,item,region,unit,usd,date,source\n"


def book(**rows: tuple[str, str, str, float]) -> PriceBook:
    """Prices named freely: value = (service, item, unit, usd)."""
    return PriceBook(
        Price(PriceKey(service, item, REGION), unit, usd, date(2026, 1, 1), "test")
        for service, item, unit, usd in rows.values()
    )


PRICES = book(
    m5=("sagemaker", "ml.m5.xlarge hosting", "hour", 1.0),
    data=("sagemaker", "endpoint data processed", "GB", 0.02),
    s3=("s3", "standard storage", "GB-month", 0.025),
    ingest=("logs", "ingestion", "GB", 0.5),
    store=("logs", "storage", "GB-month", 0.03),
    alarm=("cloudwatch", "standard resolution alarm metric", "alarm-metric-month", 0.1),
    high=("cloudwatch", "high resolution alarm metric", "alarm-metric-month", 0.3),
    dashboard=("cloudwatch", "dashboard", "dashboard-month", 3.0),
    key=("kms", "customer managed key", "key-month", 1.0),
    requests=("kms", "requests", "10000 requests", 0.03),
    endpoint=("vpc", "interface endpoint", "AZ-hour", 0.01),
    processed=("vpc", "interface endpoint data processed", "GB", 0.01),
)


def service_template(instance_type: str = "ml.m5.xlarge") -> dict[str, Any]:
    """One endpoint (2 instances, 2-4 by day, 1-2 by night), data capture at 50 %, one
    standard and one high-resolution alarm, a dashboard."""
    return {
        "Resources": {
            "Config": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "ProductionVariants": [
                        {
                            "VariantName": "main",
                            "InstanceType": instance_type,
                            "InitialInstanceCount": 2,
                        }
                    ],
                    "DataCaptureConfig": {
                        "EnableCapture": True,
                        "InitialSamplingPercentage": 50,
                        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                    },
                    "MetricsConfig": {
                        "EnableDetailedObservability": False,
                        "EnableEnhancedMetrics": False,
                    },
                },
            },
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointName": "test-svc",
                    "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
                },
            },
            "Target": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ResourceId": {
                        "Fn::Join": ["", ["endpoint/", {"Ref": "Endpoint"}, "/variant/main"]]
                    },
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                    "MinCapacity": 2,
                    "MaxCapacity": 4,
                    "ScheduledActions": [
                        {
                            "ScheduledActionName": "NightDown",
                            "Schedule": "cron(0 20 * * ? *)",
                            "Timezone": "Europe/Dublin",
                            "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 2},
                        },
                        {
                            "ScheduledActionName": "DayUp",
                            "Schedule": "cron(0 8 * * ? *)",
                            "Timezone": "Europe/Dublin",
                            "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 4},
                        },
                    ],
                },
            },
            "Latency": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {"MetricName": "ModelLatency", "Period": 60},
            },
            "Errors": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Metrics": [
                        {"Id": "e", "MetricStat": {"Period": 10}},
                        {"Id": "i", "MetricStat": {"Period": 60}},
                        {"Id": "rate", "Expression": "e / i"},
                    ]
                },
            },
            "Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        }
    }


FOUNDATION = {
    "Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Runtime": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {
                "VpcEndpointType": "Interface",
                "ServiceName": "com.amazonaws.eu-west-1.sagemaker.runtime",
                "SubnetIds": ["subnet-1", "subnet-2", "subnet-3"],
            },
        },
        "S3": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
        "Mystery": {"Type": "AWS::Example::Thing", "Properties": {}},
    }
}


def estimate(templates: dict[str, Any], assumptions: Assumptions = NO_TRAFFIC) -> Any:
    return estimate_environment(
        "test", templates, region=REGION, prices=PRICES, assumptions=assumptions
    )


def test_instances_idle_expected_peak_with_a_scheduled_scale_down() -> None:
    cost = estimate({"test-svc": service_template()})
    (variant,) = [i for i in cost.part("svc").items if i.description.startswith("variant")]
    # 12 h a day at 1-2, 12 h at 2-4 (Dublin is UTC+0 in the January reference week):
    assert variant.idle == pytest.approx(1.5 * HOURS_PER_MONTH)  # 1 and 2 half the time each
    assert variant.expected == pytest.approx(2 * HOURS_PER_MONTH)  # 2 fits both windows
    assert variant.peak == pytest.approx(3 * HOURS_PER_MONTH)  # 2 and 4
    assert variant.description == (
        "variant main: ml.m5.xlarge x scheduled 1-2 50%, 2-4 50% of the week (initial 2)"
    )


def test_alarms_count_metrics_not_expressions_and_high_resolution_costs_more() -> None:
    items = {i.resource: i for i in estimate({"test-svc": service_template()}).part("svc").items}
    assert items["Latency"].idle == pytest.approx(0.1)
    assert items["Errors"].idle == pytest.approx(0.3 + 0.1)
    assert items["Dashboard"].idle == pytest.approx(3.0)


def test_foundation_endpoints_per_az_and_keys_gateway_free_unknown_reported() -> None:
    cost = estimate({"test-Foundation": FOUNDATION})
    part = cost.part("Foundation")
    assert part.idle == pytest.approx(3 * 0.01 * HOURS_PER_MONTH + 1.0)
    assert {i.description for i in part.items} == {
        "KMS key (+ requests)",
        "sagemaker.runtime endpoint x 3 AZ",
    }
    assert cost.not_estimated == ("AWS::Example::Thing x1",)


def test_request_driven_items_rest_on_their_assumptions() -> None:
    traffic = Assumptions(
        requests_per_month=1_000_000,
        request_kb=10,
        response_kb=10,
        log_gb_per_month=0,
        kms_requests_per_month=20_000,
        endpoint_gb_processed=0,
    )
    cost = estimate({"test-svc": service_template(), "test-Foundation": FOUNDATION}, traffic)
    items = {i.description: i for i in cost.part("svc").items}
    data = items["data in/out"]
    assert (data.idle, data.expected) == (0, pytest.approx(20 * 0.02))  # 20 GB in + out
    assert data.assumption == "1,000,000 requests/month, 10 KB in + 10 KB out each"
    capture = items["data capture 50 % to S3 (one month's captures; they accumulate)"]
    assert capture.expected == pytest.approx(10 * 0.025)  # half of 20 GB stored
    key = cost.part("Foundation").items[0]
    assert (key.idle, key.expected) == (pytest.approx(1.0), pytest.approx(1.0 + 2 * 0.03))
    assert key.assumption == "20,000 requests/month"
    # expected = instances at their initial count + request-driven items
    instances, alarms, dashboard = 2 * HOURS_PER_MONTH, 0.1 + 0.4, 3.0
    endpoints = 3 * 0.01 * HOURS_PER_MONTH
    assert cost.expected == pytest.approx(
        instances + 0.4 + 0.25 + alarms + dashboard + 1.06 + endpoints
    )


def test_a_missing_price_names_the_resource_type_and_instance_type() -> None:
    with pytest.raises(EstimateError) as caught:
        estimate({"test-svc": service_template("ml.p5.48xlarge")})
    assert caught.value.problems == [
        "test-svc/Endpoint: no price for AWS::SageMaker::Endpoint instance type "
        "ml.p5.48xlarge (variant main): sagemaker 'ml.p5.48xlarge hosting' in eu-west-1 is "
        "not in prices.csv (add a row with its unit, date and source)"
    ]


def test_a_value_that_is_not_a_literal_is_an_error_not_a_guess() -> None:
    template = service_template()
    variant = template["Resources"]["Config"]["Properties"]["ProductionVariants"][0]
    variant["InstanceType"] = {"Ref": "InstanceTypeParameter"}
    with pytest.raises(EstimateError, match="variant main InstanceType is not a literal value"):
        estimate({"test-svc": template})


def test_without_autoscaling_every_figure_is_the_initial_count() -> None:
    template = service_template()
    del template["Resources"]["Target"]
    items = estimate({"test-svc": template}).part("svc").items
    (variant,) = [i for i in items if i.description.startswith("variant")]
    assert (variant.idle, variant.expected, variant.peak) == (2 * HOURS_PER_MONTH,) * 3
    assert variant.description == "variant main: ml.m5.xlarge x 2 (no autoscaling)"


def test_the_committed_price_file_is_valid_and_dated() -> None:
    prices = PriceBook.load()
    assert prices.source == "mlops_tools/cost/prices.csv"
    assert all(p.source.strip() and p.date.year >= 2023 for p in prices.prices.values())
    assert all(p.key.region == "eu-west-1" for p in prices.prices.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n", "the header must be service,item,region,unit,usd,date,source"),
        (HEADER + "s,i,r,u,x,2026-01-01,src\n", "prices.csv:2: usd 'x' is not a number"),
        (HEADER + "s,i,r,u,-1,2026-01-01,src\n", "prices.csv:2: usd must be a finite number"),
        (HEADER + "s,i,r,u,1,01/01/2026,src\n", "prices.csv:2: date '01/01/2026' is not"),
        (HEADER + "s,i,r,u,1,2026-01-01,\n", "prices.csv:2: empty source"),
    ],
)
def test_price_file_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(PriceFileError, match=message):
        parse_prices(text, "prices.csv")


def test_a_price_in_another_unit_is_refused() -> None:
    prices = PriceBook(parse_prices(HEADER + "kms,customer managed key,eu-west-1,key-year,12,"
                                    "2026-01-01,src\n"))  # fmt: skip
    with pytest.raises(EstimateError, match="is per 'key-year'; the estimate computes per"):
        estimate_environment("test", {"test-Foundation": FOUNDATION}, region=REGION,
                             prices=prices)  # fmt: skip


# -- the CLI over a hand-written cloud assembly ---------------------------------------------


def write_assembly(root: Path, templates: dict[str, Any], region: str = REGION) -> Path:
    nested = root / "assembly-test"
    nested.mkdir(parents=True)
    artifacts = {}
    for name, template in templates.items():
        (nested / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://111111111111/{region}",
            "properties": {"templateFile": f"{name}.template.json", "stackName": name},
        }
    (nested / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    manifest = {
        "artifacts": {
            "assembly-test": {
                "type": "cdk:cloud-assembly",
                "properties": {"directoryName": "assembly-test", "displayName": "test"},
            }
        }
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_cli_prints_a_table_per_environment_and_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = write_assembly(
        tmp_path, {"test-svc": service_template(), "test-Foundation": FOUNDATION}
    )
    assert main([str(assembly), "--summary", "--requests-per-month", "0"]) == 0
    out = capsys.readouterr().out
    assert "== test (eu-west-1) ==" in out
    assert "730 hours a month" in out
    assert "sagemaker ml.m5.xlarge hosting (eu-west-1): 0.257 per hour" in out


def test_cli_missing_price_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = write_assembly(tmp_path, {"test-svc": service_template("ml.p5.48xlarge")})
    assert main([str(assembly)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(
        "cost: test-svc/Endpoint: no price for AWS::SageMaker::Endpoint instance type "
        "ml.p5.48xlarge (variant main): sagemaker 'ml.p5.48xlarge hosting' in eu-west-1 is "
        "not in mlops_tools/cost/prices.csv"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "prod"], "cost: unknown environment 'prod' in"),
        (["--bogus"], "cost: unrecognized arguments: --bogus"),
    ],
)
def test_cli_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assembly = write_assembly(tmp_path, {"test-Foundation": FOUNDATION})
    assert main([str(assembly), *args]) == 2
    assert capsys.readouterr().err.startswith(message)


@pytest.mark.parametrize(
    "flag", ["--requests-per-month", "--request-kb", "--bucket-gb", "--pipeline-runs-per-month"]
)
@pytest.mark.parametrize("value", ["-1", "nan", "inf", "Infinity", "many"])
def test_cli_an_assumption_must_be_a_finite_number_at_least_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    """As the price file requires of a price: a negative, nan or inf volume printed a
    negative or nan total."""
    assembly = write_assembly(
        tmp_path, {"test-svc": service_template(), "test-Foundation": FOUNDATION}
    )
    assert main([str(assembly), f"{flag}={value}"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    reason = "is not a number" if value == "many" else "must be a finite number >= 0"
    assert err == [
        f"cost: argument {flag}: {value!r} {reason} (python -m mlops_tools.cost --help lists "
        "the options)"
    ]


def test_cli_an_environment_agnostic_stack_cannot_be_priced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = write_assembly(tmp_path, {"test-Foundation": FOUNDATION}, region="unknown-region")
    assert main([str(assembly)]) == 1
    assert "stack test-Foundation has no region" in capsys.readouterr().err


# -- serverless, shared and pipeline resources ----------------------------------------------

MORE_PRICES = book(
    serverless=("sagemaker", "serverless inference", "GB-second", 0.00002),
    provisioned=("sagemaker", "serverless provisioned concurrency", "GB-second", 0.000005),
    data=("sagemaker", "endpoint data processed", "GB", 0.02),
    s3=("s3", "standard storage", "GB-month", 0.025),
    ingest=("logs", "ingestion", "GB", 0.5),
    vended=("logs", "vended log ingestion", "GB", 0.5),
    store=("logs", "storage", "GB-month", 0.03),
    nat=("vpc", "NAT gateway", "hour", 0.05),
    nat_data=("vpc", "NAT gateway data processed", "GB", 0.05),
    budget=("budgets", "budget", "budget-day", 0.02),
    requests=("lambda", "requests", "1000000 requests", 0.2),
    duration=("lambda", "duration", "GB-second", 0.0000166667),
    metric=("cloudwatch", "custom metric", "metric-month", 0.3),
    v1=("codepipeline", "V1 active pipeline", "pipeline-month", 1.0),
    v2=("codepipeline", "V2 action execution", "minute", 0.002),
    small=("codebuild", "BUILD_GENERAL1_SMALL linux", "minute", 0.005),
)


def serverless_template(provisioned: int, target: tuple[int, int] | None) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Config": {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {
                "ProductionVariants": [
                    {
                        "VariantName": "sls",
                        "ServerlessConfig": {
                            "MemorySizeInMB": 2048,
                            "MaxConcurrency": 5,
                            "ProvisionedConcurrency": provisioned,
                        },
                    }
                ]
            },
        },
        "Endpoint": {
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {"EndpointName": "test-sls", "EndpointConfigName": {"Ref": "Config"}},
        },
    }
    if target is not None:
        resources["Target"] = {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ResourceId": "endpoint/test-sls/variant/sls",
                "ScalableDimension": "sagemaker:variant:DesiredProvisionedConcurrency",
                "MinCapacity": target[0],
                "MaxCapacity": target[1],
            },
        }
    return {"Resources": resources}


def test_serverless_idles_at_its_provisioned_concurrency_and_peaks_at_max_concurrency() -> None:
    traffic = Assumptions(requests_per_month=1_000_000, serverless_duration_ms=100)
    cost = estimate_environment(
        "test",
        {"test-sls": serverless_template(2, (1, 3))},
        region=REGION,
        prices=MORE_PRICES,
        assumptions=traffic,
    )
    (variant,) = [i for i in cost.part("sls").items if i.description.startswith("serverless")]
    month = HOURS_PER_MONTH * 3600
    standing = 2 * month * 0.000005  # 2 GB provisioned per unit of concurrency
    assert variant.idle == pytest.approx(1 * standing)
    assert variant.expected == pytest.approx(2 * standing + 1_000_000 * 0.1 * 2 * 0.00002)
    assert variant.peak == pytest.approx(3 * standing + 5 * 2 * month * 0.00002)
    assert variant.assumption == ("1,000,000 requests/month x 100 ms; peak: 5 concurrent all month")


def test_on_demand_serverless_costs_nothing_idle() -> None:
    cost = estimate_environment(
        "test",
        {"test-sls": serverless_template(0, None)},
        region=REGION,
        prices=MORE_PRICES,
        assumptions=NO_TRAFFIC,
    )
    (variant,) = [i for i in cost.part("sls").items if i.description.startswith("serverless")]
    assert (variant.idle, variant.expected) == (0, 0)
    assert variant.prices == (PriceKey("sagemaker", "serverless inference", REGION),)


SHARED = {
    "Resources": {
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
        "Budget": {"Type": "AWS::Budgets::Budget", "Properties": {}},
        "Trail": {
            "Type": "AWS::CloudTrail::Trail",
            "Properties": {
                "AdvancedEventSelectors": [
                    {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}
                ]
            },
        },
        "FlowLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}},
        "FlowLog": {
            "Type": "AWS::EC2::FlowLog",
            "Properties": {"LogGroupName": {"Ref": "FlowLogs"}},
        },
        "Handler": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 900}},
        "Custom": {
            "Type": "Custom::Thing",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}},
        },
        "Retrain": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "MemorySize": 256,
                "Timeout": 60,
                "Environment": {"Variables": {"METRICS_NAMESPACE": "ns"}},
            },
        },
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {}},
        "Endpoint": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {"VpcEndpointType": "GatewayLoadBalancer"},
        },
    }
}


def test_shared_resources_each_on_their_own_line() -> None:
    a = Assumptions(
        nat_gb_processed=10,
        flow_log_gb_per_month=2,
        lambda_invocations_per_month=100,
        custom_metrics_per_function=5,
    )
    cost = estimate_environment(
        "test", {"test-Foundation": SHARED}, region=REGION, prices=MORE_PRICES, assumptions=a
    )
    items = {i.resource: i for i in cost.part("Foundation").items}
    assert items["Nat"].idle == pytest.approx(0.05 * HOURS_PER_MONTH)
    assert items["Nat"].expected == pytest.approx(0.05 * HOURS_PER_MONTH + 10 * 0.05)
    assert items["Budget"].idle == pytest.approx(0.02 * HOURS_PER_MONTH / 24)
    assert items["Trail"].expected == 0
    # free only as the region's first copy: under Control Tower it is a second one
    assert "organisation trail (Control Tower) it is a second copy" in items["Trail"].assumption
    assert items["Trail"].assumption.endswith("data events are selected and not estimated")
    # 2 GB a month kept 365 days: 2 x 0.5 ingestion + 2 x 12.0 months x 0.03 storage
    assert items["FlowLogs"].expected == pytest.approx(2 * 0.5 + 2 * 365 / (730 / 24) * 0.03)
    assert items["FlowLogs"].description.startswith("VPC flow logs")
    assert (items["Handler"].expected, items["Handler"].assumption) == (
        0,
        "runs during deployments only",
    )
    retrain = items["Retrain"]
    assert retrain.expected == pytest.approx(100 * (0.2 / 1e6 + 0.25 * 60 * 0.0000166667) + 5 * 0.3)
    assert cost.not_estimated == ("AWS::EC2::VPCEndpoint (GatewayLoadBalancer) x1",)


PIPELINE = {
    "Resources": {
        "Synth": {
            "Type": "AWS::CodeBuild::Project",
            "Properties": {
                "Description": "Pipeline step MlopsPipeline/Pipeline/Build/Synth",
                "Environment": {"ComputeType": "BUILD_GENERAL1_SMALL", "Type": "LINUX_CONTAINER"},
            },
        },
        "Smoke": {
            "Type": "AWS::CodeBuild::Project",
            "Properties": {
                "Description": "Pipeline step MlopsPipeline/Pipeline/dev/churn.Smoke-dev-churn",
                "Environment": {"ComputeType": "BUILD_GENERAL1_SMALL", "Type": "LINUX_CONTAINER"},
            },
        },
        "Pipeline": {
            "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "PipelineType": "V2",
                "Stages": [
                    {"Actions": [{"ActionTypeId": {"Category": "Source", "Provider": "X"}}]},
                    {
                        "Actions": [
                            {
                                "ActionTypeId": {"Category": "Build", "Provider": "CodeBuild"},
                                "Configuration": {"ProjectName": {"Ref": "Synth"}},
                            },
                            {
                                "ActionTypeId": {"Category": "Build", "Provider": "CodeBuild"},
                                "Configuration": {"ProjectName": {"Ref": "Smoke"}},
                            },
                            {"ActionTypeId": {"Category": "Approval", "Provider": "Manual"}},
                        ]
                    },
                ],
            },
        },
        "Legacy": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {"Stages": []}},
    }
}


def test_pipeline_minutes_rest_on_runs_and_build_minutes() -> None:
    a = Assumptions(
        pipeline_runs_per_month=10,
        synth_build_minutes=15,
        other_build_minutes=2,
        other_action_minutes=1,
    )
    cost = estimate_environment(
        "top-level", {"MlopsPipeline": PIPELINE}, region=REGION, prices=MORE_PRICES, assumptions=a
    )
    items = {i.resource: i for i in cost.part("MlopsPipeline").items}
    assert items["Synth"].expected == pytest.approx(10 * 15 * 0.005)
    assert items["Smoke"].expected == pytest.approx(10 * 2 * 0.005)
    # source 1 + synth 15 + smoke 2 (the approval is not counted)
    assert items["Pipeline"].expected == pytest.approx(10 * 18 * 0.002)
    assert items["Pipeline"].idle == 0
    assert items["Legacy"].idle == pytest.approx(1.0)  # V1: per active pipeline


def test_cli_details_list_every_item_with_its_assumption(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = write_assembly(tmp_path, {"test-svc": service_template()})
    assert main([str(assembly), "--env", "test"]) == 0
    out = capsys.readouterr().out
    assert "service svc:" in out
    assert "test-svc/Endpoint" in out
    assert "1,000,000 requests/month, 10 KB in + 10 KB out each" in out
    assert "[estimate]" in out  # the price list marks rows it could not confirm


@pytest.mark.slow  # a subprocess
def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    assembly = write_assembly(tmp_path, {"test-Foundation": FOUNDATION})
    result = subprocess.run(
        [sys.executable, "-m", "mlops_tools.cost", str(assembly), "--summary"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "Foundation" in result.stdout


# --- MetricsConfig: detailed observability and enhanced metrics are priced -------------------

METRIC_PRICES = book(
    **{
        f"p{i}": (p.key.service, p.key.item, p.unit, p.usd)
        for i, p in enumerate(PRICES.prices.values())
    },
    custom=("cloudwatch", "custom metric", "metric-month", 0.3),
)


def _metrics_line(metrics: dict[str, Any] | None) -> Any:
    template = service_template()
    config = template["Resources"]["Config"]["Properties"]
    if metrics is None:
        del config["MetricsConfig"]
    else:
        config["MetricsConfig"] = metrics
    assumptions = Assumptions(
        requests_per_month=0,
        log_gb_per_month=0,
        flow_log_gb_per_month=0,
        kms_requests_per_month=0,
        endpoint_gb_processed=0,
        detailed_observability_metrics_per_instance=30,
        enhanced_metrics_per_instance=10,
    )
    cost = estimate_environment(
        "test", {"test-svc": template}, region=REGION, prices=METRIC_PRICES,
        assumptions=assumptions,
    )  # fmt: skip
    return [
        i for p in cost.parts for i in p.items if "CloudWatch metrics per instance" in i.description
    ]


def test_stated_off_metrics_cost_nothing() -> None:
    assert (
        _metrics_line({"EnableDetailedObservability": False, "EnableEnhancedMetrics": False}) == []
    )


def test_unstated_metrics_are_priced_as_aws_default_detailed_observability() -> None:
    (line,) = _metrics_line(None)
    assert "AWS default: unstated" in line.description
    # 30 metrics x $0.30 per instance; instances as the variant's (idle 1.x, peak 4 by day).
    per_instance = 30 * 0.3
    variant = next(
        i for p in _cost_parts() for i in p.items if i.description.startswith("variant main")
    )
    assert line.peak == pytest.approx(variant.peak / HOURS_PER_MONTH * per_instance)
    assert line.idle == pytest.approx(variant.idle / HOURS_PER_MONTH * per_instance)


def test_enhanced_and_detailed_add_up() -> None:
    (line,) = _metrics_line({"EnableDetailedObservability": True, "EnableEnhancedMetrics": True})
    (detailed,) = _metrics_line(
        {"EnableDetailedObservability": True, "EnableEnhancedMetrics": False}
    )
    assert line.expected == pytest.approx(detailed.expected * 40 / 30)
    assert "40 metrics per instance" in line.assumption


def _cost_parts() -> Any:
    """The fixture's parts at $1/hour per ml.m5.xlarge instance (variant cost = instance-hours)."""
    return estimate_environment(
        "test", {"test-svc": service_template()}, region=REGION, prices=PRICES,
        assumptions=NO_TRAFFIC,
    ).parts  # fmt: skip
