"""The Markdown report of one environment, from hand-built before/after templates."""

from __future__ import annotations

import copy
from typing import Any

from mlops_cdk.review.assembly import Acknowledgement
from mlops_cdk.review.report import STATEFUL_TYPES, render_report

FOUNDATION = "dev-Foundation"
SERVING = "dev-Serving"


def render(before: dict[str, Any], after: dict[str, Any], **kwargs: Any) -> str:
    return render_report("dev", "origin/main", before, after, **kwargs)


def section(report: str, title: str) -> str:
    """The text of one `## title` section."""
    start = report.index(f"## {title}\n")
    end = report.find("\n## ", start + 1)
    return report[start : end if end != -1 else None]


def bucket(name: str, policy: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}}
    if policy:
        resource["DeletionPolicy"] = resource["UpdateReplacePolicy"] = policy
    return resource


def test_the_stateful_list_is_the_one_constant() -> None:
    assert {"AWS::KMS::Key", "AWS::S3::Bucket", "AWS::DynamoDB::Table"} <= STATEFUL_TYPES
    assert len(STATEFUL_TYPES) == 9


def test_no_changes_is_one_line() -> None:
    stacks = {FOUNDATION: {"Resources": {"Data": bucket("a")}}}
    report = render(stacks, copy.deepcopy(stacks), base_commit="0123456789ab")
    assert report == (
        "# Review of `dev` against `origin/main`\n\n"
        "**No changes**: every stack of `dev` is as in `origin/main` at `0123456789ab`.\n\n"
    )


def test_stateful_replacement_and_removal_are_warned_about_at_the_top() -> None:
    before = {
        FOUNDATION: {
            "Resources": {
                "Data": bucket("a", "Retain"),
                "Scratch": bucket("s"),
                "Key": {"Type": "AWS::KMS::Key", "Properties": {}, "DeletionPolicy": "Retain"},
                "Alias": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/a"}},
            }
        }
    }
    after = {FOUNDATION: {"Resources": {"Data": bucket("b", "Retain"), "Scratch": bucket("t")}}}
    report = render(before, after)
    summary = report.splitlines()[2]
    assert summary.startswith("**0 added, 2 removed, 2 replaced, 0 updated** resources")
    warning = report[report.index("> [!CAUTION]") : report.index("## Resources")]
    assert report.index("> [!CAUTION]") < report.index("## ")  # before every section
    lines = [line for line in warning.splitlines() if line.startswith("> - ")]
    assert lines == [
        "> - **Replaced** `dev-Foundation` / `Data` (`AWS::S3::Bucket`): the old one is "
        "**orphaned**: kept, unmanaged (UpdateReplacePolicy `Retain`); create-only: `BucketName`",
        "> - **Removed** `dev-Foundation` / `Key` (`AWS::KMS::Key`): it is **orphaned**: kept, "
        "unmanaged (DeletionPolicy `Retain`)",
        "> - **Replaced** `dev-Foundation` / `Scratch` (`AWS::S3::Bucket`): the old one **will be "
        "deleted** (UpdateReplacePolicy default `Delete`); create-only: `BucketName`",
    ]
    assert "Alias" not in warning  # not stateful
    resources = section(report, "Resources")
    assert "### Removed (2)" in resources
    assert "| `dev-Foundation` | `Alias` | `AWS::KMS::Alias` | deleted" in resources


def test_a_stateless_change_has_no_warning_and_lists_changed_properties() -> None:
    before = {SERVING: {"Resources": {"Config": endpoint_config([("a", 1, 1)])}}}
    after = {SERVING: {"Resources": {"Config": endpoint_config([("a", 1, 2)])}}}
    report = render(before, after)
    assert "[!CAUTION]" not in report
    assert (
        "| `dev-Serving` | `Config` | `AWS::SageMaker::EndpointConfig` | "
        "`ProductionVariants` (create-only) | deleted (UpdateReplacePolicy default `Delete`) |"
    ) in section(report, "Resources")


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}},
    }


READ = {
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:GetObjectVersion"],
    "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Data", "Arn"]}, "/models/*"]]},
}


def test_iam_statements_added_and_removed_are_rendered() -> None:
    write = {
        "Effect": "Allow",
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}},
    }
    trust = {
        "Effect": "Allow",
        "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    reordered = {**READ, "Action": list(reversed(READ["Action"]))}
    before = {FOUNDATION: {"Resources": {"Policy": policy(READ)}}}
    after = {
        FOUNDATION: {
            "Resources": {
                "Policy": policy(reordered, write),
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "AssumeRolePolicyDocument": {"Statement": [trust]},
                        "ManagedPolicyArns": [{"Ref": "Policy"}],
                    },
                },
            }
        }
    }
    iam = section(render(before, after), "IAM changes")
    assert "### `dev-Foundation` / `Policy` (`AWS::IAM::ManagedPolicy`): policy document" in iam
    assert (
        "| added | Allow | `s3:PutObject` | `*` | — | "
        "StringEquals `aws:SourceAccount` = `111111111111` |"
    ) in iam
    assert "s3:GetObject" not in iam  # only the order of its actions changed
    assert "### `dev-Foundation` / `Role` (`AWS::IAM::Role`): trust policy" in iam
    assert (
        "| added | Allow | `sts:AssumeRole` | — | Service: `sagemaker.amazonaws.com` | — |" in iam
    )
    assert "| attached | `${Policy}` |" in iam

    removed = section(render(after, before), "IAM changes")
    assert "| removed | Allow | `s3:PutObject` | `*` |" in removed
    assert "| detached | `${Policy}` |" in removed


def test_inline_role_policies_are_compared_per_policy() -> None:
    def inline(statement: dict[str, Any]) -> dict[str, Any]:
        document = {"Statement": statement}  # a single statement need not be a list
        return {
            "Type": "AWS::IAM::Role",
            "Properties": {"Policies": [{"PolicyName": "logs", "PolicyDocument": document}]},
        }

    read = {"Sid": "Read", "Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"}
    before = {FOUNDATION: {"Resources": {"Role": inline(read)}}}
    after = {FOUNDATION: {"Resources": {"Role": inline({**read, "Effect": "Deny"})}}}
    iam = section(render(before, after), "IAM changes")
    assert "### `dev-Foundation` / `Role` (`AWS::IAM::Role`): inline policy `logs`" in iam
    assert "| added | Deny (`Read`) | `logs:GetLogEvents` | `*` | — | — |" in iam
    assert "| removed | Allow (`Read`) | `logs:GetLogEvents` | `*` | — | — |" in iam


def test_kms_key_policy_statements_show_imports_and_joins() -> None:
    def key(*statements: dict[str, Any]) -> dict[str, Any]:
        return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": statements}}}

    admin = {
        "Effect": "Allow",
        "Principal": {
            "AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::1:root"]]}
        },
        "Action": "kms:*",
        "Resource": "*",
    }
    use = {
        "Effect": "Allow",
        "Principal": {"AWS": {"Fn::ImportValue": "dev-Foundation:RoleArn"}},
        "NotAction": ["kms:ScheduleKeyDeletion"],
        "Resource": "*",
    }
    exporter = {
        "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {}}},
        "Outputs": {
            "R": {
                "Value": {"Fn::GetAtt": ["Role", "Arn"]},
                "Export": {"Name": "dev-Foundation:RoleArn"},
            }
        },
    }
    before = {FOUNDATION: exporter, SERVING: {"Resources": {"Key": key(admin)}}}
    after = {FOUNDATION: exporter, SERVING: {"Resources": {"Key": key(admin, use)}}}
    iam = section(render(before, after), "IAM changes")
    assert "(`AWS::KMS::Key`): key policy" in iam
    assert (
        "| added | Allow | NOT `kms:ScheduleKeyDeletion` | `*` | "
        "AWS: `${dev-Foundation:Role.Arn}` | — |"
    ) in iam
    assert "arn:${AWS::Partition}:iam::1:root" not in iam  # unchanged statement


def group(*egress: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {"GroupDescription": "d", "VpcId": "vpc-1", "SecurityGroupEgress": egress},
    }


HTTPS = {
    "IpProtocol": "tcp",
    "FromPort": 443,
    "ToPort": 443,
    "CidrIp": "10.0.0.0/16",
    "Description": "HTTPS to endpoints",
}


SG = "Security-group changes"


def test_security_group_rule_changes_are_rendered() -> None:
    ingress = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {
            "GroupId": {"Fn::GetAtt": ["Endpoints", "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": ["Models", "GroupId"]},
            "IpProtocol": "tcp",
            "FromPort": 8080,
            "ToPort": 8090,
        },
    }
    before = {SERVING: {"Resources": {"Models": group(HTTPS)}}}
    after = {
        SERVING: {
            "Resources": {
                "Models": group({**HTTPS, "CidrIp": "0.0.0.0/0"}),
                "Endpoints": group(),
                "FromModels": ingress,
            }
        }
    }
    rules = section(render(before, after), SG)
    assert "| change | stack | security group | direction | protocol | ports | peer |" in rules
    assert (
        "| added | `dev-Serving` | `Endpoints` | ingress | tcp | 8080-8090 | "
        "SourceSecurityGroupId: `Models` | — |"
    ) in rules
    assert (
        "| added | `dev-Serving` | `Models` | egress | tcp | 443 | CidrIp: `0.0.0.0/0` | "
        "HTTPS to endpoints |"
    ) in rules
    assert (
        "| removed | `dev-Serving` | `Models` | egress | tcp | 443 | CidrIp: `10.0.0.0/16` | "
        "HTTPS to endpoints |"
    ) in rules
    everything = group({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"})
    rules = section(render(before, {SERVING: {"Resources": {"Models": everything}}}), SG)
    assert (
        "| added | `dev-Serving` | `Models` | egress | all | all | CidrIp: `0.0.0.0/0` |" in rules
    )


def endpoint_config(variants: list[tuple[str, int, float]], **extra: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::EndpointConfig",
        "Properties": {
            "ProductionVariants": [
                {
                    "VariantName": name,
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": count,
                    "InitialVariantWeight": weight,
                    **extra,
                }
                for name, count, weight in variants
            ]
        },
    }


def test_variant_weights_and_counts_before_and_after() -> None:
    before = {SERVING: {"Resources": {"Config": endpoint_config([("champion", 2, 90.0)])}}}
    after = {
        SERVING: {
            "Resources": {
                "Config": endpoint_config([("champion", 2, 80), ("challenger", 1, 20)]),
            }
        }
    }
    variants = section(render(before, after), "Endpoint variants")
    assert variants.splitlines()[2:8] == [
        "### `dev-Serving` / `Config` (replaced): before → after",
        "",
        "| variant | instance type | count | weight | traffic share |",
        "| --- | --- | --- | --- | --- |",
        "| `challenger` | **— → ml.m5.large** | **— → 1** | **— → 20** | **— → 20 %** |",
        "| `champion` | ml.m5.large | 2 | **90 → 80** | **100 % → 80 %** |",
    ]


def test_serverless_config_is_shown_where_present() -> None:
    serverless = {
        "VariantName": "only",
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
    }
    before = {SERVING: {"Resources": {"Config": endpoint_config([])}}}
    after = {
        SERVING: {
            "Resources": {
                "Config": {
                    "Type": "AWS::SageMaker::EndpointConfig",
                    "Properties": {"ProductionVariants": [serverless]},
                }
            }
        }
    }
    variants = section(render(before, after), "Endpoint variants")
    assert "| variant | instance type | count | weight | traffic share | serverless |" in variants
    assert (
        "| `only` | — | — | **— → 1** | **— → 100 %** | **— → 2048 MB, max concurrency 5** |"
    ) in variants


def test_acknowledgements_added_and_removed() -> None:
    stacks = {FOUNDATION: {"Resources": {}}}
    kept = Acknowledgement("dev/Foundation/Key", "AwsSolutions-KMS5", "Rotation is on | yearly")
    old = Acknowledgement("dev/Foundation/Data", "AwsSolutions-S1", "Logs go to <archive>")
    new = Acknowledgement(
        "dev/Serving/Queue", "AwsSolutions-IAM5[Resource::*]", "ENI actions take no ARN"
    )
    report = render(
        stacks, stacks, acknowledgements_before=[kept, old], acknowledgements_after=[new, kept]
    )
    assert report.splitlines()[2].startswith("**0 added, 0 removed, 0 replaced, 0 updated**")
    acks = section(report, "Acknowledgements")
    assert acks.splitlines()[2:6] == [
        "| change | finding | construct path | reason |",
        "| --- | --- | --- | --- |",
        "| removed | `AwsSolutions-S1` | `dev/Foundation/Data` | Logs go to &lt;archive&gt; |",
        "| added | `AwsSolutions-IAM5[Resource::*]` | `dev/Serving/Queue` | "
        "ENI actions take no ARN |",
    ]
    assert "KMS5" not in acks


def test_a_new_environment_or_stack_is_everything_added() -> None:
    after = {SERVING: {"Resources": {"Data": bucket("a")}}}
    report = render({}, after, base_has_environment=False)
    assert report.splitlines()[2] == (
        "**1 added, 0 removed, 0 replaced, 0 updated** resources (`origin/main` → this working "
        "tree). `origin/main` has no `dev` environment: all is new. Stack `dev-Serving` is new."
    )
    assert "### Added (1)" in report
    gone = render(after, {})
    assert "Stack `dev-Serving` is removed" in gone
    assert (
        "> - **Removed** `dev-Serving` / `Data` (`AWS::S3::Bucket`): it **will be deleted**" in gone
    )


def test_the_report_is_deterministic() -> None:
    before = {
        SERVING: {"Resources": {"B": bucket("b"), "A": bucket("a"), "P": policy(READ)}},
        FOUNDATION: {"Resources": {"C": bucket("c")}},
    }
    after = {SERVING: {"Resources": {"P": policy()}}, FOUNDATION: {"Resources": {"C": bucket("d")}}}
    reordered_before = {k: before[k] for k in reversed(list(before))}
    first = render(before, after)
    assert first == render(reordered_before, copy.deepcopy(after))
    removed = section(first, "Resources")
    assert removed.index("`A`") < removed.index("`B`")
