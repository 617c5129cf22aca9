"""The review warns when a release replaces a named resource under the same name, or moves it to
another logical ID: CloudFormation refuses ("You can't perform an update that causes a
custom-named resource to be replaced")."""

from __future__ import annotations

import copy
from typing import Any

from mlops_tools.review.changes import diff_stacks
from mlops_tools.review.named_replacements import NamedReplacement, named_replacements
from mlops_tools.review.report import render_report

STACK = "dev-churn"


def group(name: Any = "dev-churn", description: str = "Model versions") -> dict[str, Any]:
    properties = {"ModelPackageGroupDescription": description}
    if name is not None:
        properties["ModelPackageGroupName"] = name
    return {"Type": "AWS::SageMaker::ModelPackageGroup", "Properties": properties}


def stack(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def found(before: dict[str, Any], after: dict[str, Any]) -> list[NamedReplacement]:
    return named_replacements(before, after, diff_stacks(before, after))


def test_a_create_only_change_under_the_same_name_is_refused() -> None:
    """ModelPackageGroupDescription is create-only: a new description replaces the group,
    whose name stays."""
    before = {STACK: stack(Group=group())}
    after = {STACK: stack(Group=group(description="Approved model versions"))}
    (replaced,) = found(before, after)
    assert (replaced.stack, replaced.logical_id, replaced.name) == (STACK, "Group", "dev-churn")
    report = render_report("dev", "origin/main", before, after)
    assert "> **CloudFormation will refuse this release: a named resource is replaced" in report
    assert (
        "> - service `churn`: `dev-churn` / `Group` (`AWS::SageMaker::ModelPackageGroup`) is "
        "replaced (`ModelPackageGroupDescription` (create-only)) and keeps the name "
        "`dev-churn`" in report
    )


def test_a_new_name_an_update_or_a_generated_name_is_no_problem() -> None:
    before = {STACK: stack(Group=group(), Unnamed=group(name=None))}
    renamed = {STACK: stack(Group=group("dev-churn-2", "New"), Unnamed=group(name=None))}
    generated = {STACK: stack(Group=group(), Unnamed=group(None, "New"))}
    assert found(before, renamed) == []
    assert found(before, generated) == []  # replaced, but under a new generated name
    assert found(before, copy.deepcopy(before)) == []


def notification_rule(pipeline: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CodeStarNotifications::NotificationRule",
        "Properties": {"Name": "mlops-pipeline", "Resource": {"Fn::GetAtt": [pipeline, "Arn"]}},
    }


def test_a_replacement_through_a_reference_counts() -> None:
    """The pipeline's logical ID changes (a new resource), so the notification rule's create-only
    Resource names another pipeline: it is replaced and keeps its fixed name."""
    pipeline = {"Type": "AWS::CodePipeline::Pipeline", "Properties": {}}
    before = {STACK: stack(Pipeline=pipeline, Rule=notification_rule("Pipeline"))}
    after = {STACK: stack(Pipeline2=pipeline, Rule=notification_rule("Pipeline2"))}
    (replaced,) = found(before, after)
    assert replaced.logical_id == "Rule"
    assert (
        "is replaced (`Resource` (create-only)) and keeps the name `mlops-pipeline`"
        in render_report("dev", "origin/main", before, after)
    )


def test_a_named_resource_moved_to_another_logical_id_is_refused() -> None:
    trail = {"Type": "AWS::CloudTrail::Trail", "Properties": {"TrailName": "mlops-dev-changes"}}
    before = {"dev-Foundation": stack(ChangeTrail=trail)}
    after = {"dev-Foundation": stack(Trail=trail)}
    (moved,) = found(before, after)
    assert (moved.logical_id, moved.moved_from) == ("Trail", "ChangeTrail")
    assert (
        "> - Foundation: `dev-Foundation` / `Trail` (`AWS::CloudTrail::Trail`) takes the name "
        "`mlops-dev-changes` from `ChangeTrail`, which it replaces"
        in (render_report("dev", "origin/main", before, after))
    )


def test_stacks_on_one_side_only_are_not_compared() -> None:
    before = {STACK: stack(Group=group())}
    assert found(before, {}) == []
    assert found({}, before) == []
