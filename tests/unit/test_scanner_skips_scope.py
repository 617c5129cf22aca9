"""add_scanner_skips: the same checkov skips as the ScannerSkips aspect, written in one visit per
App or Stage (the aspect costs one jsii round trip per construct), within the same scope."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.app import scanner_skips
from mlops_cdk.app.scanner_skips import ScannerSkips, add_scanner_skips
from tests.helpers import TEST_ENV, cdk_context


def _resources(stack: cdk.Stack) -> None:
    lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
    )
    s3.Bucket(stack, "B", auto_delete_objects=True, removal_policy=cdk.RemovalPolicy.DESTROY)
    s3.Bucket(stack, "AccessLogs")
    iam.ManagedPolicy(
        stack,
        "P",
        statements=[iam.PolicyStatement(actions=["cloudwatch:PutMetricData"], resources=["*"])],
    )


def _skips(template: Template) -> dict[str, list[str]]:
    return {
        logical_id: [entry["id"] for entry in resource["Metadata"]["checkov"]["skip"]]
        for logical_id, resource in template.to_json()["Resources"].items()
        if "checkov" in resource.get("Metadata", {})
    }


def _stage_template(*, whole_scope: bool) -> Template:
    app = cdk.App(context=cdk_context())
    stage = cdk.Stage(app, "Env", env=TEST_ENV)
    if whole_scope:
        add_scanner_skips(stage)  # before the resources: they are found at synthesis
    else:
        cdk.Aspects.of(stage).add(ScannerSkips())
    stack = cdk.Stack(stage, "S")
    _resources(stack)
    return Template.from_stack(stack)


def test_same_skips_as_the_aspect() -> None:
    by_aspect = _skips(_stage_template(whole_scope=False))
    # our function, the provider's handler, the access log bucket, the managed policy
    assert len(by_aspect) == 4
    assert _skips(_stage_template(whole_scope=True)) == by_aspect


def test_only_resources_with_rules_are_visited(monkeypatch: pytest.MonkeyPatch) -> None:
    visited: list[str] = []
    original = scanner_skips.write

    def write(node: Any, rules: Any, stack: Any = None) -> None:
        visited.append(node.node.path)
        original(node, rules, stack)

    monkeypatch.setattr(scanner_skips, "write", write)
    template = _stage_template(whole_scope=True)
    # 2 functions, 2 buckets, 1 managed policy: not their roles, policies, permissions, ...
    assert len(visited) == 5
    assert len(template.to_json()["Resources"]) >= 2 * len(visited)


def test_a_scope_leaves_nested_stages_to_their_own_skips() -> None:
    app = cdk.App(context=cdk_context())
    add_scanner_skips(app)
    top = cdk.Stack(app, "Top", env=TEST_ENV)
    s3.Bucket(top, "AccessLogs")
    stage = cdk.Stage(app, "Env", env=TEST_ENV)  # no skips of its own
    in_stage = cdk.Stack(stage, "S")
    s3.Bucket(in_stage, "AccessLogs")
    nested = cdk.Stage(top, "Nested", env=TEST_ENV)  # a stage inside a stack (CDK Pipelines)
    in_nested = cdk.Stack(nested, "S")
    s3.Bucket(in_nested, "AccessLogs")
    assert list(_skips(Template.from_stack(top)).values()) == [["CKV_AWS_18"]]
    assert _skips(Template.from_stack(in_stage)) == {}
    assert _skips(Template.from_stack(in_nested)) == {}
