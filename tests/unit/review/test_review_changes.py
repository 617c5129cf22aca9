"""Update vs replacement, as CloudFormation decides it (mlops_tools.review.changes)."""

from __future__ import annotations

import copy
from typing import Any

from mlops_cdk.aws.cfn_values import imports, references
from mlops_tools.review.changes import (
    PropertyChange,
    changed_exports,
    classify,
    create_only,
    diff_stacks,
    diff_template,
)


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def bucket(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::S3::Bucket", "Properties": properties}


def role(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}, **properties}}


def sg(**properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {"GroupDescription": "models", "VpcId": "vpc-1", **properties},
    }


def test_create_only_comes_from_the_cloudformation_schema() -> None:
    assert {"ProductionVariants", "KmsKeyId"} <= create_only("AWS::SageMaker::EndpointConfig")
    assert "DnsOptions/PrivateDnsPreference" in create_only("AWS::EC2::VPCEndpoint")
    assert create_only("AWS::Not::AType") == frozenset()


def test_references_follow_ref_getatt_and_sub() -> None:
    value = {
        "A": {"Ref": "One"},
        "B": [{"Fn::GetAtt": ["Two", "Arn"]}, {"Fn::GetAtt": "Three.Arn"}],
        "C": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Four}/${!Literal}"},
        "D": {"Fn::Sub": ["${Five.Arn}/${Var}", {"Var": {"Ref": "Six"}}]},
    }
    assert references(value) == {"One", "Two", "Three", "AWS::Partition", "Four", "Five", "Six"}
    assert references("plain") == set()
    assert imports({"X": [{"Fn::ImportValue": "dev-Foundation:Key"}]}) == {"dev-Foundation:Key"}


def test_a_changed_property_updates_in_place() -> None:
    before = template(Logs=bucket(VersioningConfiguration={"Status": "Suspended"}))
    after = template(Logs=bucket(VersioningConfiguration={"Status": "Enabled"}))
    changes = diff_template(before, after)
    assert changes["Logs"].action == "update"
    assert changes["Logs"].properties == (PropertyChange("VersioningConfiguration"),)


def test_a_changed_create_only_property_replaces() -> None:
    before = template(Data=bucket(BucketName="a"), Other=bucket())
    after = template(Data=bucket(BucketName="b"), Other=bucket())
    assert classify(before, after) == {"Data": "replace", "Other": "unchanged"}
    assert diff_template(before, after)["Data"].properties[0].replaces


def test_a_reference_to_a_replaced_resource_updates_the_referrer() -> None:
    before = template(
        Data=bucket(BucketName="a"),
        Reader=role(Description={"Fn::GetAtt": ["Data", "Arn"]}),
    )
    after = copy.deepcopy(before)
    after["Resources"]["Data"]["Properties"]["BucketName"] = "b"
    changes = diff_template(before, after)
    assert changes["Data"].action == "replace"
    assert changes["Reader"].action == "update"
    assert changes["Reader"].properties == (PropertyChange("Description", via=("Data",)),)


def test_a_create_only_reference_to_a_replaced_resource_replaces_it_and_so_on() -> None:
    # Net replaced -> Group replaced (its create-only VpcId refers to Net) -> Endpoint updated
    # (a tag refers to Group): propagated until nothing more changes.
    before = template(
        Net={"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        Group=sg(VpcId={"Ref": "Net"}),
        Endpoint={
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {"EndpointConfigName": "x", "Tags": [{"Value": {"Ref": "Group"}}]},
        },
    )
    after = copy.deepcopy(before)
    after["Resources"]["Net"]["Properties"]["CidrBlock"] = "10.1.0.0/16"
    assert classify(before, after) == {"Endpoint": "update", "Group": "replace", "Net": "replace"}


def test_added_and_removed_resources_and_what_refers_to_them() -> None:
    before = template(Old=bucket(), User=role(Description={"Ref": "Old"}))
    after = template(New=bucket(), User=role(Description={"Ref": "New"}))
    assert classify(before, after) == {"New": "added", "Old": "removed", "User": "update"}
    before = template(Gone=bucket(), Stays=role(Description={"Fn::Sub": "${Kept}"}), Kept=bucket())
    after = template(Stays=role(Description={"Fn::Sub": "${Kept}"}), Kept=bucket())
    assert classify(before, after) == {"Gone": "removed", "Kept": "unchanged", "Stays": "unchanged"}


def test_a_nested_create_only_path_replaces_only_when_it_changes() -> None:
    def endpoint(dns: dict[str, Any], private: bool) -> dict[str, Any]:
        properties = {"ServiceName": "s3", "VpcId": "vpc-1", "PrivateDnsEnabled": private}
        return {"Type": "AWS::EC2::VPCEndpoint", "Properties": {**properties, "DnsOptions": dns}}

    base = {"DnsRecordIpType": "ipv4", "PrivateDnsPreference": "ALL_DOMAINS"}
    before = template(E=endpoint(base, private=True))
    updated = template(E=endpoint({**base, "DnsRecordIpType": "dualstack"}, private=True))
    replaced = template(E=endpoint({**base, "PrivateDnsPreference": "NONE"}, private=True))
    assert classify(before, updated) == {"E": "update"}
    assert classify(before, replaced) == {"E": "replace"}


def test_a_type_change_replaces_and_attributes_update() -> None:
    before = template(A=bucket(), B=bucket())
    after = template(A={"Type": "AWS::SQS::Queue", "Properties": {}}, B=bucket())
    after["Resources"]["B"]["DeletionPolicy"] = "Retain"
    changes = diff_template(before, after)
    assert changes["A"].action == "replace"
    assert changes["A"].properties == (PropertyChange("Type", replaces=True),)
    assert changes["B"].action == "update"
    assert changes["B"].properties == (PropertyChange("DeletionPolicy"),)


def foundation(cidr: str) -> dict[str, Any]:
    return {
        "Resources": {"Net": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": cidr}}},
        "Outputs": {
            "NetId": {"Value": {"Ref": "Net"}, "Export": {"Name": "dev-Foundation:NetId"}},
            "Cidr": {"Value": "fixed", "Export": {"Name": "dev-Foundation:Fixed"}},
        },
    }


SERVICE = template(
    Group=sg(VpcId={"Fn::ImportValue": "dev-Foundation:NetId"}),
    Alarm={
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"AlarmDescription": {"Fn::ImportValue": "dev-Foundation:NetId"}},
    },
    Other={
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"AlarmDescription": {"Fn::ImportValue": "dev-Foundation:Fixed"}},
    },
)


def test_an_import_of_a_changed_export_counts_as_a_change_of_the_importer() -> None:
    before = {"dev-Foundation": foundation("10.0.0.0/16"), "dev-churn": SERVICE}
    after = {"dev-Foundation": foundation("10.1.0.0/16"), "dev-churn": SERVICE}
    changes = diff_stacks(before, after)
    assert changes["dev-Foundation"]["Net"].action == "replace"
    serving = changes["dev-churn"]
    assert serving["Alarm"].action == "update"
    assert serving["Alarm"].properties == (
        PropertyChange("AlarmDescription", imports=("dev-Foundation:NetId",)),
    )
    assert serving["Group"].action == "replace"  # VpcId is create-only
    assert serving["Other"].action == "unchanged"
    assert changed_exports(
        before["dev-Foundation"], after["dev-Foundation"], changes["dev-Foundation"]
    ) == {"dev-Foundation:NetId"}


def test_a_stack_on_one_side_only_is_all_added_or_removed() -> None:
    changes = diff_stacks({"old": template(A=bucket())}, {"new": template(B=bucket())})
    assert {k: v.action for k, v in changes["old"].items()} == {"A": "removed"}
    assert {k: v.action for k, v in changes["new"].items()} == {"B": "added"}
