"""An environment that imports an existing VPC synthesizes with every gate on."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from mlops_cdk.app.builder import build_app
from mlops_cdk.config import ConfigError, load_environment
from tests.helpers import CONFIG_DIR, cdk_context, yaml_data, yaml_text


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Template]:
    data = yaml_data((CONFIG_DIR / "stage.yaml").read_text())
    # One service is enough: the network is what this test is about.
    data["services"] = {"churn": data["services"]["churn"]}
    data["network"] = {
        "existing_vpc": {
            "vpc_id": "vpc-0123456789abcdef0",
            "cidr": "10.60.0.0/16",
            "secondary_cidrs": ["100.64.0.0/16"],
            "availability_zones": ["eu-west-1a", "eu-west-1b"],
            "private_subnet_ids": ["subnet-01234567", "subnet-89abcdef"],
            "route_table_ids": ["rtb-01234567", "rtb-89abcdef"],
        }
    }
    folder: Path = tmp_path_factory.mktemp("config")
    (folder / "shared.yaml").write_text(yaml_text(data))
    config = load_environment(folder / "shared.yaml")
    app, stages = build_app([config], outdir=str(folder / "out"), context=cdk_context())
    app.synth()  # every compliance pack runs here
    stage = stages["shared"]
    return Template.from_stack(stage.foundation), Template.from_stack(
        stage.services["churn"].serving
    )


def test_no_new_vpc_but_endpoints_and_flow_logs_in_the_existing_one(
    templates: tuple[Template, Template],
) -> None:
    template = templates[0]
    template.resource_count_is("AWS::EC2::VPC", 0)
    template.resource_count_is("AWS::EC2::VPCEndpoint", 9)
    template.has_resource_properties("AWS::EC2::FlowLog", {"ResourceId": "vpc-0123456789abcdef0"})


def test_execution_role_manages_enis_in_the_existing_vpc_only(
    templates: tuple[Template, Template],
) -> None:
    (policy,) = (
        templates[1]
        .find_resources(
            "AWS::IAM::ManagedPolicy",
            {"Properties": {"Description": "SageMaker hosting: this environment's resources only"}},
        )
        .values()
    )
    (eni,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Sid"] == "ManageNetworkInterfacesInVpc"
    ]
    assert eni["Condition"]["ArnEquals"]["ec2:Vpc"] == (
        "arn:aws:ec2:eu-west-1:222222222222:vpc/vpc-0123456789abcdef0"
    )


def test_the_endpoints_admit_https_from_each_block_of_the_vpc(
    templates: tuple[Template, Template],
) -> None:
    """Private subnets may lie in a secondary block (network.existing_vpc.secondary_cidrs)."""
    groups = templates[0].find_resources("AWS::EC2::SecurityGroup").values()
    (rules,) = [
        g["Properties"]["SecurityGroupIngress"]
        for g in groups
        if "VPC interface endpoints" in g["Properties"]["GroupDescription"]
    ]
    assert {(r["CidrIp"], r["FromPort"]) for r in rules} == {
        ("10.60.0.0/16", 443),
        ("100.64.0.0/16", 443),
    }


@pytest.mark.parametrize(
    ("secondaries", "problem"),
    [
        (["10.60.16.0/20"], "10.60.16.0/20 overlaps 10.60.0.0/16"),
        (["100.64.0.0/12"], "100.64.0.0/12: a VPC's CIDR blocks are /16 to /28"),
    ],
)
def test_a_secondary_block_that_cannot_be_is_one_line(
    tmp_path: Path, secondaries: list[str], problem: str
) -> None:
    data = yaml_data((CONFIG_DIR / "stage.yaml").read_text())
    data["network"] = {
        "existing_vpc": {
            "vpc_id": "vpc-0123456789abcdef0",
            "cidr": "10.60.0.0/16",
            "secondary_cidrs": secondaries,
            "availability_zones": ["eu-west-1a", "eu-west-1b"],
            "private_subnet_ids": ["subnet-01234567", "subnet-89abcdef"],
            "route_table_ids": ["rtb-01234567", "rtb-89abcdef"],
        }
    }
    (tmp_path / "stage.yaml").write_text(yaml_text(data))
    with pytest.raises(ConfigError) as raised:
        load_environment(tmp_path / "stage.yaml", display="config/stage.yaml")
    assert raised.value.problems == [
        f"config/stage.yaml: network.existing_vpc.secondary_cidrs: {problem}"
    ]
