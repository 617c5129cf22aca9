"""The review warns when a release changes or removes an export that a deployed stack imports:
CloudFormation refuses to update the exporting stack then (Fn::ImportValue)."""

from __future__ import annotations

import copy
from typing import Any

from mlops_tools.review.changes import changing_exports, diff_stacks
from mlops_tools.review.exports_in_use import ExportInUse, exports_in_use
from mlops_tools.review.report import render_report

FOUNDATION = "dev-Foundation"
EXPORT = "dev-Foundation:Bucket"


def bucket(name: str, **properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name, **properties}}


def exporting(value: Any = None, *, exported: bool = True) -> dict[str, Any]:
    template: dict[str, Any] = {"Resources": {"Data": bucket("a")}}
    if exported:
        value = {"Ref": "Data"} if value is None else value
        template["Outputs"] = {"B": {"Value": value, "Export": {"Name": EXPORT}}}
    return template


def importing(*, imports: bool = True) -> dict[str, Any]:
    resource = {"Fn::ImportValue": EXPORT} if imports else "arn:aws:s3:::other"
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}
    policy = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": {"Statement": [statement]}},
    }
    return {"Resources": {"Read": policy}}


def found(before: dict[str, Any], after: dict[str, Any]) -> list[ExportInUse]:
    changing = changing_exports(before, after, diff_stacks(before, after))
    return exports_in_use(before, after, changing)


def test_a_replaced_resource_changes_the_export_its_importers_hold() -> None:
    before = {FOUNDATION: exporting(), "dev-churn": importing(), "dev-fraud": importing()}
    after = copy.deepcopy(before)
    after[FOUNDATION]["Resources"]["Data"] = bucket("b")  # BucketName is create-only
    assert found(before, after) == [
        ExportInUse(FOUNDATION, EXPORT, False, ("dev-churn", "dev-fraud"))
    ]
    report = render_report("dev", "origin/main", before, after)
    assert "> [!WARNING]\n> **This release stops at the stack that exports" in report
    assert (
        "> - Foundation: `dev-Foundation` changes the value of export `dev-Foundation:Data`, "
        "which `dev-churn`, `dev-fraud` import." in report
    )


def test_a_new_export_text_changes_it() -> None:
    before = {FOUNDATION: exporting(), "dev-churn": importing()}
    after = {FOUNDATION: exporting({"Fn::GetAtt": ["Data", "Arn"]}), "dev-churn": importing()}
    assert [e.name for e in found(before, after)] == [EXPORT]


def test_an_update_in_place_keeps_the_export() -> None:
    before = {FOUNDATION: exporting(), "dev-churn": importing()}
    after = copy.deepcopy(before)
    after[FOUNDATION]["Resources"]["Data"] = bucket("a", VersioningConfiguration={"Status": "x"})
    assert found(before, after) == []
    assert "[!WARNING]" not in render_report("dev", "origin/main", before, after)


def test_a_removed_export_whose_importers_drop_it_says_to_deploy_them_first() -> None:
    before = {FOUNDATION: exporting(), "dev-churn": importing()}
    after = {FOUNDATION: exporting(exported=False), "dev-churn": importing(imports=False)}
    assert found(before, after) == [
        ExportInUse(FOUNDATION, EXPORT, True, ("dev-churn",), ("dev-churn",))
    ]
    report = render_report("dev", "origin/main", before, after)
    assert (
        "`dev-Foundation` removes export `dev-Foundation:Data`, which `dev-churn` imports: "
        "none imports it after this release, so deploy `dev-churn` first and alone "
        "(`cdk deploy --exclusively`), or keep the export one more release "
        "(`Stack.export_value`)." in report
    )


def test_a_removed_export_that_one_importer_keeps_has_no_shortcut() -> None:
    before = {FOUNDATION: exporting(), "dev-churn": importing(), "dev-fraud": importing()}
    after = {
        FOUNDATION: exporting(exported=False),
        "dev-churn": importing(imports=False),
        "dev-fraud": importing(),
    }
    assert found(before, after)[0].dropped == ("dev-churn",)
    report = render_report("dev", "origin/main", before, after)
    assert "which `dev-churn`, `dev-fraud` import." in report
    assert "first and alone" not in report


def test_an_importer_that_leaves_the_app_is_deleted_first() -> None:
    before = {FOUNDATION: exporting(), "dev-churn": importing(), "dev-fraud": importing()}
    after = {FOUNDATION: exporting(exported=False), "dev-churn": importing(imports=False)}
    assert found(before, after) == [
        ExportInUse(
            FOUNDATION, EXPORT, True, ("dev-churn", "dev-fraud"), ("dev-churn",), ("dev-fraud",)
        )
    ]
    report = render_report("dev", "origin/main", before, after)
    assert (
        "none imports it after this release, so delete `dev-fraud` first (leaving the app); "
        "deploy `dev-churn` first and alone (`cdk deploy --exclusively`), or keep the export "
        "one more release (`Stack.export_value`)." in report
    )


def test_nothing_is_said_without_a_deployed_importer_or_a_change() -> None:
    unused = {FOUNDATION: exporting(), "dev-churn": importing(imports=False)}
    replaced = copy.deepcopy(unused)
    replaced[FOUNDATION]["Resources"]["Data"] = bucket("b")
    assert found(unused, replaced) == []  # nobody imports it
    added = {FOUNDATION: exporting(exported=False), "dev-churn": importing(imports=False)}
    assert found(added, {FOUNDATION: exporting(), "dev-churn": importing()}) == []  # new
    before = {FOUNDATION: exporting(), "dev-churn": importing()}
    assert found(before, {"dev-churn": importing()}) == []  # the exporter leaves the app


def test_an_export_that_passes_on_a_changing_import_changes_too() -> None:
    relay = {
        "Resources": {},
        "Outputs": {
            "R": {"Value": {"Fn::ImportValue": EXPORT}, "Export": {"Name": "dev-relay:Bucket"}}
        },
    }
    reader = importing()
    reader["Resources"]["Read"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] = {
        "Fn::ImportValue": "dev-relay:Bucket"
    }
    before = {FOUNDATION: exporting(), "dev-relay": relay, "dev-churn": reader}
    after = copy.deepcopy(before)
    after[FOUNDATION]["Resources"]["Data"] = bucket("b")
    assert [(e.stack, e.importers) for e in found(before, after)] == [
        (FOUNDATION, ("dev-relay",)),
        ("dev-relay", ("dev-churn",)),
    ]
