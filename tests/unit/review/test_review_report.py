"""The Markdown report of one environment, from hand-built before/after templates."""

from __future__ import annotations

import copy
from typing import Any

from mlops_tools.review.assembly import Acknowledgement
from mlops_tools.review.report import STATEFUL_TYPES, render_report

FOUNDATION = "dev-Foundation"
SERVING = "dev-churn"  # service `churn`: its serving stack (<env>-<service>)


def render(before: dict[str, Any], after: dict[str, Any], **kwargs: Any) -> str:
    return render_report("dev", "origin/main", before, after, **kwargs)


def section(report: str, title: str) -> str:
    """The text of the first section titled ``title`` (``## Service `churn` ``, or a
    ``### Resources`` inside one), up to the next heading of its level or above."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip("#") == f" {title}")
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].startswith("#") and len(lines[i]) - len(lines[i].lstrip("#")) <= level
        ),
        len(lines),
    )
    return "\n".join(lines[start:end]) + "\n"


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
    warning = report[report.index("> [!CAUTION]") : report.index("## Foundation")]
    assert report.index("> [!CAUTION]") < report.index("## ")  # before every section
    lines = [line for line in warning.splitlines() if line.startswith("> - ")]
    assert lines == [
        "> - Foundation: **Replaced** `dev-Foundation` / `Data` (`AWS::S3::Bucket`): the old one "
        "is **orphaned**: kept, unmanaged (UpdateReplacePolicy `Retain`); create-only: "
        "`BucketName`",
        "> - Foundation: **Removed** `dev-Foundation` / `Key` (`AWS::KMS::Key`): it is "
        "**orphaned**: kept, unmanaged (DeletionPolicy `Retain`)",
        "> - Foundation: **Replaced** `dev-Foundation` / `Scratch` (`AWS::S3::Bucket`): the old "
        "one **will be deleted** (UpdateReplacePolicy default `Delete`); create-only: "
        "`BucketName`",
    ]
    assert "Alias" not in warning  # not stateful
    resources = section(report, "Resources")
    assert "#### Removed (2)" in resources
    assert "| `dev-Foundation` | `Alias` | `AWS::KMS::Alias` | deleted" in resources


def test_a_stateless_change_has_no_warning_and_lists_changed_properties() -> None:
    before = {SERVING: {"Resources": {"Config": endpoint_config([("a", 1, 1)])}}}
    after = {SERVING: {"Resources": {"Config": endpoint_config([("a", 1, 2)])}}}
    report = render(before, after)
    assert "[!CAUTION]" not in report
    assert (
        "| `dev-churn` | `Config` | `AWS::SageMaker::EndpointConfig` | "
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
    assert "#### `dev-Foundation` / `Policy` (`AWS::IAM::ManagedPolicy`): policy document" in iam
    assert (
        "| added | Allow | `s3:PutObject` | `*` | — | "
        "StringEquals `aws:SourceAccount` = `111111111111` |"
    ) in iam
    assert "s3:GetObject" not in iam  # only the order of its actions changed
    assert "#### `dev-Foundation` / `Role` (`AWS::IAM::Role`): trust policy" in iam
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
    assert "#### `dev-Foundation` / `Role` (`AWS::IAM::Role`): inline policy `logs`" in iam
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
        "| added | `dev-churn` | `Endpoints` | ingress | tcp | 8080-8090 | "
        "SourceSecurityGroupId: `Models` | — |"
    ) in rules
    assert (
        "| added | `dev-churn` | `Models` | egress | tcp | 443 | CidrIp: `0.0.0.0/0` | "
        "HTTPS to endpoints |"
    ) in rules
    assert (
        "| removed | `dev-churn` | `Models` | egress | tcp | 443 | CidrIp: `10.0.0.0/16` | "
        "HTTPS to endpoints |"
    ) in rules
    everything = group({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"})
    rules = section(render(before, {SERVING: {"Resources": {"Models": everything}}}), SG)
    assert "| added | `dev-churn` | `Models` | egress | all | all | CidrIp: `0.0.0.0/0` |" in rules


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
        "#### `dev-churn` / `Config` (replaced): before → after",
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


def test_acknowledgements_added_and_removed_in_the_section_of_their_stack() -> None:
    stacks = {FOUNDATION: {"Resources": {}}, SERVING: {"Resources": {}}}
    kept = Acknowledgement("dev/Foundation/Key", "AwsSolutions-KMS5", "Rotation is on | yearly")
    old = Acknowledgement("dev/Foundation/Data", "AwsSolutions-S1", "Logs go to <archive>")
    new = Acknowledgement(
        "dev/churn/Queue", "AwsSolutions-IAM5[Resource::*]", "ENI actions take no ARN"
    )
    report = render(
        stacks, stacks, acknowledgements_before=[kept, old], acknowledgements_after=[new, kept]
    )
    assert report.splitlines()[2].startswith("**0 added, 0 removed, 0 replaced, 0 updated**")
    assert overview(report) == [
        "| `dev-Foundation` | Foundation | **acknowledgements** | 0 | 0 | 0 | 0 |",
        "| `dev-churn` | `churn` | **acknowledgements** | 0 | 0 | 0 | 0 |",
    ]
    acks = section(section(report, "Foundation"), "Acknowledgements")
    assert acks.splitlines()[2:5] == [
        "| change | finding | construct path | reason |",
        "| --- | --- | --- | --- |",
        "| removed | `AwsSolutions-S1` | `dev/Foundation/Data` | Logs go to &lt;archive&gt; |",
    ]
    acks = section(section(report, "Service `churn`"), "Acknowledgements")
    assert acks.splitlines()[4] == (
        "| added | `AwsSolutions-IAM5[Resource::*]` | `dev/churn/Queue` | ENI actions take no ARN |"
    )
    assert "KMS5" not in report
    assert "Other acknowledgements" not in report


def test_an_acknowledgement_in_no_stack_is_listed_at_the_end() -> None:
    stacks = {FOUNDATION: {"Resources": {}}}
    elsewhere = Acknowledgement("dev/Gone/Queue", "AwsSolutions-SQS3", "no DLQ")
    report = render(stacks, stacks, acknowledgements_after=[elsewhere])
    assert overview(report) == ["| `dev-Foundation` | Foundation | unchanged | — | — | — | — |"]
    assert section(report, "Other acknowledgements").splitlines()[4] == (
        "| added | `AwsSolutions-SQS3` | `dev/Gone/Queue` | no DLQ |"
    )


def test_a_new_environment_or_stack_is_everything_added() -> None:
    after = {SERVING: {"Resources": {"Data": bucket("a")}}}
    report = render({}, after, base_has_environment=False)
    assert report.splitlines()[2:5] == [
        "**1 added, 0 removed, 0 replaced, 0 updated** resources (`origin/main` → this working "
        "tree). `origin/main` has no `dev` environment: all is new.",
        "",
        "- **service `churn` added**: stack `dev-churn` (1 resource).",
    ]
    assert "#### Added (1)" in report
    gone = render(after, {})
    assert (
        "- **service `churn` removed**: stack `dev-churn` (1 resource, each deleted or orphaned "
        "once destroyed)."
    ) in gone
    assert (
        "> - service `churn`: **Removed** `dev-churn` / `Data` (`AWS::S3::Bucket`): when "
        "`dev-churn` is destroyed, it **will be deleted**"
    ) in gone


def test_the_report_is_deterministic() -> None:
    before = {
        SERVING: {"Resources": {"B": bucket("b"), "A": bucket("a"), "P": policy(READ)}},
        FOUNDATION: {"Resources": {"C": bucket("c")}},
    }
    after = {SERVING: {"Resources": {"P": policy()}}, FOUNDATION: {"Resources": {"C": bucket("d")}}}
    reordered_before = {k: before[k] for k in reversed(list(before))}
    first = render(before, after)
    assert first == render(reordered_before, copy.deepcopy(after))
    removed = section(section(first, "Service `churn`"), "Resources")
    assert removed.index("`A`") < removed.index("`B`")
    # Foundation first, then each service; each part's resources in its own section.
    assert first.index("## Foundation") < first.index("## Service `churn`")
    assert "`dev-churn`" not in section(first, "Foundation")


# -- grouped per service --------------------------------------------------------------------


def overview(report: str) -> list[str]:
    """The rows of the table of every stack (without its header)."""
    lines = report.splitlines()
    start = lines.index("| stack | service | change | added | removed | replaced | updated |")
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def registry() -> dict[str, Any]:
    """A service's registry stack: its image repository."""
    repository = {
        "Type": "AWS::ECR::Repository",
        "Properties": {"ImageScanningConfiguration": {"ScanOnPush": True}},
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    }
    return {"Resources": {"Repository": repository}}


def service(weight: float = 1, *, sizes: tuple[int, ...] = (1,)) -> dict[str, Any]:
    """A service's serving stack: an endpoint config with one variant per size."""
    variants = [(f"v{i}", count, weight) for i, count in enumerate(sizes)]
    return {"Resources": {"Config": endpoint_config(variants)}}


def environment(**services: dict[str, Any]) -> dict[str, Any]:
    """dev-Foundation and, per service, dev-<service>-Registry and dev-<service>."""
    stacks: dict[str, Any] = {FOUNDATION: {"Resources": {"Key": {"Type": "AWS::KMS::Key"}}}}
    for name, serving in services.items():
        stacks[f"dev-{name}-Registry"] = registry()
        stacks[f"dev-{name}"] = serving
    return stacks


def test_a_change_of_one_service_shows_the_others_and_foundation_unchanged() -> None:
    before = environment(churn=service(), fraud=service())
    after = environment(churn=service(), fraud=service(weight=2))
    report = render(before, after)
    top = report[: report.index("\n## ")]
    assert overview(report) == [
        "| `dev-Foundation` | Foundation | unchanged | — | — | — | — |",
        "| `dev-churn-Registry` | `churn` | unchanged | — | — | — | — |",
        "| `dev-churn` | `churn` | unchanged | — | — | — | — |",
        "| `dev-fraud-Registry` | `fraud` | unchanged | — | — | — | — |",
        "| `dev-fraud` | `fraud` | **changed** | 0 | 0 | 1 | 0 |",
    ]
    assert "- **" not in top  # no part added or removed
    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert headings == ["## Foundation", "## Service `churn`", "## Service `fraud`"]
    assert section(report, "Foundation") == "## Foundation\n\nNo changes in `dev-Foundation`.\n\n"
    assert section(report, "Service `churn`") == (
        "## Service `churn`\n\nNo changes in `dev-churn-Registry`, `dev-churn`.\n\n"
    )
    fraud = section(report, "Service `fraud`")
    assert fraud.splitlines()[2] == "Stacks: `dev-fraud-Registry`, `dev-fraud`."
    assert "| `dev-fraud` | `Config` | `AWS::SageMaker::EndpointConfig` |" in fraud
    assert "#### `dev-fraud` / `Config` (replaced): before → after" in fraud
    assert "| `v0` | ml.m5.large | 1 | **1 → 2** | 100 % |" in fraud
    for subsection in ("IAM changes", "Security-group changes", "Acknowledgements"):
        assert f"### {subsection}\n" in fraud


def test_a_change_in_both_stacks_of_a_service_is_one_section() -> None:
    before = environment(churn=service(), fraud=service())
    after = copy.deepcopy(before)
    after["dev-fraud-Registry"]["Resources"]["Repository"]["Properties"]["ImageTagMutability"] = (
        "IMMUTABLE"
    )
    after["dev-fraud"] = service(sizes=(1, 2))
    report = render(before, after)
    assert overview(report)[3:] == [
        "| `dev-fraud-Registry` | `fraud` | **changed** | 0 | 0 | 0 | 1 |",
        "| `dev-fraud` | `fraud` | **changed** | 0 | 0 | 1 | 0 |",
    ]
    resources = section(section(report, "Service `fraud`"), "Resources")
    assert "| `dev-fraud-Registry` | `Repository` | `AWS::ECR::Repository` |" in resources
    assert "| `dev-fraud` | `Config` | `AWS::SageMaker::EndpointConfig` |" in resources
    assert [line for line in report.splitlines() if line.startswith("## ")][-1] == (
        "## Service `fraud`"
    )


def test_a_service_added_as_a_whole_is_one_line_at_the_top_and_collapsed_below() -> None:
    before = environment(churn=service())
    after = environment(churn=service(), fraud=service(sizes=(1, 2)))
    report = render(before, after)
    top = report[: report.index("\n## ")]
    assert top.splitlines()[2:5] == [
        "**2 added, 0 removed, 0 replaced, 0 updated** resources (`origin/main` → this working "
        "tree).",
        "",
        "- **service `fraud` added**: stacks `dev-fraud-Registry`, `dev-fraud` (2 resources).",
    ]
    assert overview(report) == [
        "| `dev-Foundation` | Foundation | unchanged | — | — | — | — |",
        "| `dev-churn-Registry` | `churn` | unchanged | — | — | — | — |",
        "| `dev-churn` | `churn` | unchanged | — | — | — | — |",
        "| `dev-fraud-Registry` | `fraud` | **new** | 1 | 0 | 0 | 0 |",
        "| `dev-fraud` | `fraud` | **new** | 1 | 0 | 0 | 0 |",
    ]
    assert "Repository" not in top
    assert "[!CAUTION]" not in top
    fraud = section(report, "Service `fraud`")
    lines = fraud.splitlines()
    assert lines[2:7] == [
        "Added as a whole: stacks `dev-fraud-Registry`, `dev-fraud`.",
        "",
        "<details>",
        "<summary>The 2 added resources, IAM statements, security-group rules, endpoint "
        "variants and acknowledgements</summary>",
        "",
    ]
    assert lines[-2:] == ["</details>", ""]
    assert "| `dev-fraud-Registry` | `Repository` | `AWS::ECR::Repository` |" in fraud
    assert "| `v1` | **— → ml.m5.large** | **— → 2** |" in fraud
    assert section(report, "Service `churn`").splitlines()[2].startswith("No changes in")


def test_a_service_removed_as_a_whole_warns_about_its_repository() -> None:
    before = environment(churn=service(), fraud=service())
    after = environment(churn=service())
    report = render(before, after)
    top = report[: report.index("\n## ")]
    assert (
        "- **service `fraud` removed**: stacks `dev-fraud-Registry`, `dev-fraud` (2 resources, "
        "each deleted or orphaned once destroyed)."
    ) in top.splitlines()
    assert (
        "> - service `fraud`: **Removed** `dev-fraud-Registry` / `Repository` "
        "(`AWS::ECR::Repository`): when `dev-fraud-Registry` is destroyed, it is **orphaned**: "
        "kept, unmanaged (DeletionPolicy `Retain`)"
    ) in top.splitlines()
    # No deploy deletes a stack that leaves the app: destroy it while the config holds it.
    warning = top[top.index("**Stacks leave the app, and no deploy deletes them.**") :]
    assert "(aws/aws-cdk-cli#787, aws/aws-cdk#10190)" in warning
    assert "`aws cloudformation delete-stack --stack-name <stack>`" in warning
    assert "`make destroy ENV=dev SERVICE=<service>` run on the base" in warning
    assert "> - service `fraud`: `dev-fraud`, then `dev-fraud-Registry`" in warning.splitlines()
    assert overview(report)[3:] == [
        "| `dev-fraud-Registry` | `fraud` | **removed** | 0 | 1 | 0 | 0 |",
        "| `dev-fraud` | `fraud` | **removed** | 0 | 1 | 0 | 0 |",
    ]
    fraud = section(report, "Service `fraud`")
    assert fraud.splitlines()[2] == "Removed as a whole: stacks `dev-fraud-Registry`, `dev-fraud`."
    assert "<summary>The 2 removed resources," in fraud
    assert "| `dev-fraud-Registry` | `Repository` | `AWS::ECR::Repository` | retained" in fraud
    assert "churn" not in top.split("| stack |", 1)[0]


def test_a_stack_added_to_an_existing_service_is_named() -> None:
    before = environment(churn=service())
    before.pop("dev-churn")
    after = environment(churn=service())
    report = render(before, after)
    assert "- stack `dev-churn` of service `churn` is new." in report.splitlines()
    assert overview(report)[1:] == [
        "| `dev-churn-Registry` | `churn` | unchanged | — | — | — | — |",
        "| `dev-churn` | `churn` | **new** | 1 | 0 | 0 | 0 |",
    ]
    assert section(report, "Service `churn`").splitlines()[2] == (
        "Stacks: `dev-churn-Registry`, `dev-churn`."
    )


def test_from_the_single_endpoint_layout_the_old_stack_is_a_part_of_its_own() -> None:
    before = {FOUNDATION: environment()[FOUNDATION], "dev-Serving": service()}
    after = environment(churn=service())
    report = render(before, after)
    top = report[: report.index("\n## ")].splitlines()
    assert (
        "- **service `churn` added**: stacks `dev-churn-Registry`, `dev-churn` (2 resources)."
        in (top)
    )
    assert (
        "- **stack `dev-Serving` removed**: stack `dev-Serving` (1 resource, each deleted or "
        "orphaned once destroyed)."
    ) in top
    assert "> - stack `dev-Serving`: `dev-Serving`" in top
    assert overview(report) == [
        "| `dev-Foundation` | Foundation | unchanged | — | — | — | — |",
        "| `dev-churn-Registry` | `churn` | **new** | 1 | 0 | 0 | 0 |",
        "| `dev-churn` | `churn` | **new** | 1 | 0 | 0 | 0 |",
        "| `dev-Serving` | — | **removed** | 0 | 1 | 0 | 0 |",
    ]
    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert headings == ["## Foundation", "## Service `churn`", "## Stack `dev-Serving`"]


def test_a_foundation_export_change_reaches_only_the_services_that_import_it() -> None:
    exported = {
        "Resources": {"Data": bucket("a")},
        "Outputs": {
            "B": {"Value": {"Ref": "Data"}, "Export": {"Name": "dev-Foundation:Bucket"}},
        },
    }
    reader = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": {"Fn::ImportValue": "dev-Foundation:Bucket"},
                    }
                ]
            }
        },
    }
    before = environment(churn={"Resources": {"Read": reader}}, fraud=service())
    before[FOUNDATION] = exported
    after = copy.deepcopy(before)
    after[FOUNDATION]["Resources"]["Data"] = bucket("b")
    report = render(before, after)
    assert overview(report) == [
        "| `dev-Foundation` | Foundation | **changed** | 0 | 0 | 1 | 0 |",
        "| `dev-churn-Registry` | `churn` | unchanged | — | — | — | — |",
        "| `dev-churn` | `churn` | **changed** | 0 | 0 | 0 | 1 |",
        "| `dev-fraud-Registry` | `fraud` | unchanged | — | — | — | — |",
        "| `dev-fraud` | `fraud` | unchanged | — | — | — | — |",
    ]
    churn = section(report, "Service `churn`")
    assert "`PolicyDocument` (via import `dev-Foundation:Data`)" in churn
    assert "> - Foundation: **Replaced** `dev-Foundation` / `Data`" in report
