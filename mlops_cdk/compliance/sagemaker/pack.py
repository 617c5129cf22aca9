"""The SageMaker pack as a CDK policy validation plugin.

CDK runs validation plugins after the cloud assembly is written and hands them every stack's
template, so the pack reads those files (one JSON read per stack) and evaluates every rule in
Python: no call into the CDK runtime per resource. Each finding names its template and logical
id; CDK maps that back to the construct path and applies acknowledgements
(``Validations.of(scope).acknowledge``, ids ``MlopsSageMaker::MlopsSageMaker-<Rule>``) as it does
for cdk-nag's packs, and an unacknowledged finding fails synthesis.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from mlops_cdk.compliance.sagemaker.index import StackIndex, StageIndex
from mlops_cdk.compliance.sagemaker.rule import NON_COMPLIANT, Rule
from mlops_cdk.compliance.sagemaker.rules import RULES

PACK_NAME = "MlopsSageMaker"


@dataclass(frozen=True)
class Finding:
    """One rule failing on one resource (``error``: the rule raised instead of deciding)."""

    rule: Rule
    template_path: str
    logical_id: str
    error: str | None = None


@dataclass(frozen=True)
class StackFile:
    """A stack as the validation context gives it: construct path, template file, and the
    account and region the app states for it (None when they are tokens)."""

    construct_path: str
    template_path: str
    account: str | None = None
    region: str | None = None


@jsii.implements(cdk.IPolicyValidationPlugin)
class SageMakerChecks:
    """``cdk.Validations.of(app).add_plugins(SageMakerChecks(app, ...))``.

    ``production_stages`` names the stages (environments) the production rules apply to, besides
    stages whose ``production`` attribute is true (``MlopsStage``). ``scope`` is accepted like
    cdk-nag's packs take it; the pack needs nothing from it."""

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        production_stages: Iterable[str] = (),
        rules: Sequence[Rule] = RULES,
    ) -> None:
        del scope
        self._production_stages = frozenset(production_stages)
        self._rules = tuple(rules)
        self._by_type: dict[str, list[Rule]] = {}
        for rule in self._rules:
            for cfn_type in sorted(rule.resource_types):
                self._by_type.setdefault(cfn_type, []).append(rule)
        self._members: dict[str, list[StackIndex]] = {}  # stage path -> its stacks
        self._stages: dict[str, StageIndex] = {}  # stage path -> index, built on first use

    @property
    def name(self) -> str:
        return PACK_NAME

    @property
    def version(self) -> str | None:
        return None

    @property
    def rule_ids(self) -> list[str] | None:
        return [f"{PACK_NAME}-{rule.rule_id}" for rule in self._rules]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        # ``context`` reaches Python as a proxy of several jsii interfaces, whose attribute
        # access reads a property twice (``hasattr``, then ``getattr``: jsii's
        # ``InterfaceDynamicProxy``); ``jsii.get`` reads it once, as generated bindings do.
        templates: list[cdk.PolicyValidationStack] = jsii.get(context, "stackTemplates")
        # Each stack's account and region come with its template (``accountId``, ``region``:
        # the stack's unless a token), so no stack is looked up in the tree for them: a stage's
        # first stack only, for the stage (each step of a lookup is a jsii round trip).
        stacks = self.read_stacks(
            jsii.get(context, "appConstruct"),
            [
                StackFile(s.stack_construct_path, s.template_path, s.account_id, s.region)
                for s in templates
            ],
        )
        return report(self.evaluate(stacks))

    def read_stacks(self, root: IConstruct, stacks: Sequence[StackFile]) -> list[StackIndex]:
        """Index each stack; stacks whose templates share a directory share a cloud assembly,
        so a stage: its production flag and its manifest's stack names are read once."""
        self._members, self._stages = {}, {}
        by_directory: dict[Path, list[StackFile]] = {}
        for stack in stacks:
            by_directory.setdefault(Path(stack.template_path).parent, []).append(stack)
        indexes = []
        for directory, members in by_directory.items():
            stage = cdk.Stage.of(_construct_at(root, members[0].construct_path))
            stage_path = stage.node.path if stage is not None else ""
            production = stage is not None and (
                stage.stage_name in self._production_stages
                or getattr(stage, "production", False) is True
            )
            names = _stack_names(directory)
            for member in members:
                index = StackIndex(
                    member.template_path,
                    _read_json(member.template_path),
                    production=production,
                    stage=partial(self._stage, stage_path),
                    account=member.account,
                    region=member.region,
                    stack_name=names.get(Path(member.template_path).name),
                )
                self._members.setdefault(stage_path, []).append(index)
                indexes.append(index)
        return indexes

    def _stage(self, stage_path: str) -> StageIndex:
        if stage_path not in self._stages:
            self._stages[stage_path] = StageIndex(self._members.get(stage_path, []))
        return self._stages[stage_path]

    def evaluate(self, stacks: Iterable[StackIndex]) -> list[Finding]:
        """Every rule on every resource of its types, in template order."""
        findings = []
        for stack in stacks:
            for resource in stack.resources.values():
                for rule in self._by_type.get(resource.type, ()):
                    try:
                        failed = rule.check(resource, stack) is NON_COMPLIANT
                    except Exception as error:  # reported, as cdk-nag does
                        findings.append(
                            Finding(rule, stack.template_path, resource.logical_id, repr(error))
                        )
                        continue
                    if failed:
                        findings.append(Finding(rule, stack.template_path, resource.logical_id))
        return findings


def report(findings: Iterable[Finding]) -> cdk.PolicyValidationPluginReport:
    """One violation per rule (and per rule error), listing its resources."""
    grouped: dict[tuple[str, str | None], list[Finding]] = {}
    for finding in findings:
        grouped.setdefault((finding.rule.rule_id, finding.error), []).append(finding)
    violations = [
        cdk.PolicyViolation(
            rule_name=f"{PACK_NAME}-{found[0].rule.rule_id}",
            description=found[0].rule.info
            if error is None
            else f"The rule raised an error on these resources: {error}",
            fix=found[0].rule.explanation,
            severity="error",
            violating_resources=[
                cdk.PolicyViolatingResource(
                    resource_logical_id=f.logical_id,
                    template_path=f.template_path,
                    locations=["Properties"],
                )
                for f in found
            ],
        )
        for (_, error), found in grouped.items()
    ]
    return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)


def _construct_at(root: IConstruct, path: str) -> IConstruct:
    node = root
    for part in filter(None, path.split("/")):
        node = node.node.find_child(part)
    return node


def _stack_names(assembly: Path) -> dict[str, str]:
    """Template file name -> CloudFormation stack name, from a cloud assembly's manifest."""
    manifest = assembly / "manifest.json"
    if not manifest.is_file():
        return {}
    names = {}
    for artifact_id, artifact in (_read_json(str(manifest)).get("artifacts") or {}).items():
        properties = artifact.get("properties") or {}
        if "templateFile" in properties:  # no stackName: the stack is named as its artifact
            names[str(properties["templateFile"])] = str(properties.get("stackName", artifact_id))
    return names


def _read_json(path: str) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return template
