"""AWS Control Tower proactive controls, checked offline over the synthesized templates.

An organisation that enables Control Tower's proactive controls gets them as CloudFormation
hooks: a resource that fails an enabled control blocks the deployment ("Proactive controls",
AWS Control Tower Controls Reference,
https://docs.aws.amazon.com/controltower/latest/controlreference/proactive-controls.html;
"Proactive controls as Hooks", CloudFormation Hooks User Guide,
https://docs.aws.amazon.com/cloudformation-cli/latest/hooks-userguide/proactive-controls-hooks.html).
The npm package ``@cdklabs/cdk-validator-cfnguard`` (pinned in package.json) bundles cfn-guard
and the controls' Guard rules; ``scripts/control_tower.py`` (``make controls``) runs them over
every ``*.template.json`` and compares the failures with the committed exceptions,
``control_tower_exceptions.yaml``: each names a control, the resources it covers, why, what a
user in such an organisation must do, and whether it is an offline false positive (a value that
arrives through ``Fn::ImportValue`` is unresolved here but resolved for a deploy-time hook).

This module is the pure part: parse cfn-guard's ``--structured -o json`` output, load and check
the exceptions, compare. It imports neither aws_cdk nor PyYAML at module level.
"""

from __future__ import annotations

import fnmatch
import json
import platform
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONTROL_ID = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.\d+)\]")
_CONTROL_FORMAT = re.compile(r"^CT\.[A-Z0-9]+\.PR\.\d+$")
_NAMED_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")  # as Guard files name them
_RESOURCE_TYPE_FORMAT = re.compile(rf"^{_NAMED_TYPE.pattern}$")
_RESOURCE_PATH = re.compile(r"^/Resources/([^/\[]+)(/Properties)?")
MIN_TEXT_LENGTH = 20

# Where the package keeps its binary and the controls' rules (node_modules/<PACKAGE>/...).
PACKAGE = "@cdklabs/cdk-validator-cfnguard"
RULES_SUBDIR = Path("rules/control-tower/cfn-guard")
# cfn-guard's exit codes: 0 all compliant, 19 some rule failed; anything else is an error.
GUARD_OK_CODES = (0, 19)


class ExceptionsFileError(ValueError):
    """The exceptions file is invalid; the message is one line naming the file and field."""


@dataclass(frozen=True)
class Failure:
    """One control failed by one resource of one template."""

    template: str  # the template file as given to cfn-guard
    stack: str  # the stack's display name (e.g. ``dev/Foundation``), else the file's stem
    logical_id: str  # "" when cfn-guard named no resource
    resource_type: str
    control: str
    message: str

    def line(self) -> str:
        resource = self.logical_id or "(template)"
        kind = self.resource_type or "-"
        return f"{self.template} ({self.stack}): {resource} {kind} {self.control}: {self.message}"


@dataclass(frozen=True)
class ControlException:
    """A control that the templates fail by design (or falsely, offline) for some resources."""

    control: str
    resource_type: str
    reason: str
    user_action: str
    offline_false_positive: bool
    logical_ids: tuple[str, ...] = ("*",)  # fnmatch patterns
    stacks: tuple[str, ...] = ("*",)  # fnmatch patterns on the stack's display name

    def covers(self, failure: Failure) -> bool:
        return (
            failure.control == self.control
            and failure.resource_type == self.resource_type
            and any(fnmatch.fnmatchcase(failure.logical_id, p) for p in self.logical_ids)
            and any(fnmatch.fnmatchcase(failure.stack, p) for p in self.stacks)
        )

    def describe(self) -> str:
        return (
            f"{self.control} on {self.resource_type} logical_ids={list(self.logical_ids)} "
            f"stacks={list(self.stacks)}"
        )


@dataclass(frozen=True)
class Comparison:
    unexpected: tuple[Failure, ...]
    covered: tuple[tuple[Failure, ControlException], ...]
    stale: tuple[ControlException, ...]

    @property
    def ok(self) -> bool:
        return not self.unexpected and not self.stale


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of a nested JSON value."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _message_of(custom_messages: Iterable[str], control: str) -> str:
    """The control's title and fix from its Guard message, on one line."""
    for text in custom_messages:
        if f"[{control}]" in text:
            lines = [" ".join(part.split()) for part in text.strip().splitlines()]
            title = lines[0].replace(f"[{control}]:", "").strip()
            fix = next((x for x in lines[1:] if x.startswith("[FIX]")), "")
            return f"{title} {fix}".strip()
    return ""


def _failing_resources(rule: Mapping[str, Any]) -> list[str]:
    """Logical ids of the resources a failed rule checked: the ``/Resources/<id>/Properties``
    paths cfn-guard traversed (paths of resources only looked up through a reference, such as
    a key's ``Type``, are left out), else any ``/Resources/<id>`` path."""
    checked: list[str] = []
    seen: list[str] = []
    for key, value in _walk(rule):
        if key != "path" or not isinstance(value, str):
            continue
        match = _RESOURCE_PATH.match(value)
        if not match:
            continue
        target = checked if match.group(2) else seen
        if match.group(1) not in target:
            target.append(match.group(1))
    return checked or seen


def parse_guard_output(
    records: Sequence[Mapping[str, Any]],
    *,
    stacks: Mapping[str, str],
    resource_types: Mapping[str, Mapping[str, str]],
) -> list[Failure]:
    """Failures from cfn-guard's structured JSON (one record per data file).

    ``stacks`` maps a data file name to its stack's display name; ``resource_types`` maps a
    data file name to ``{logical id: resource type}`` (read from the template)."""
    failures: set[Failure] = set()
    for record in records:
        template = str(record.get("name", ""))
        stack = stacks.get(template, Path(template).name.removesuffix(".template.json"))
        types = resource_types.get(template, {})
        for rule in record.get("not_compliant", []) or []:
            messages = [v for k, v in _walk(rule) if k == "custom_message" and isinstance(v, str)]
            controls = sorted({c for text in messages for c in CONTROL_ID.findall(text)})
            for control in controls:
                message = _message_of(messages, control)
                for logical_id in _failing_resources(rule) or [""]:
                    failures.add(
                        Failure(
                            template=template,
                            stack=stack,
                            logical_id=logical_id,
                            resource_type=types.get(logical_id, ""),
                            control=control,
                            message=message,
                        )
                    )
    return sorted(failures, key=lambda f: (f.template, f.control, f.logical_id))


def compare(failures: Iterable[Failure], exceptions: Sequence[ControlException]) -> Comparison:
    """Each failure is covered by the first exception that covers it, or unexpected; an
    exception that covers nothing is stale."""
    unexpected: list[Failure] = []
    covered: list[tuple[Failure, ControlException]] = []
    used: set[int] = set()
    for failure in failures:
        match = next((i for i, e in enumerate(exceptions) if e.covers(failure)), None)
        if match is None:
            unexpected.append(failure)
        else:
            used.add(match)
            covered.append((failure, exceptions[match]))
    stale = tuple(e for i, e in enumerate(exceptions) if i not in used)
    return Comparison(tuple(unexpected), tuple(covered), stale)


# --- the exceptions file ---------------------------------------------------------------------

_REQUIRED = ("control", "resource_type", "reason", "user_action", "offline_false_positive")
_OPTIONAL = ("logical_ids", "stacks")


def _text(where: str, value: Any, name: str) -> str:
    if not isinstance(value, str) or len(" ".join(value.split())) < MIN_TEXT_LENGTH:
        raise ExceptionsFileError(f"{where}.{name}: a sentence of {MIN_TEXT_LENGTH}+ characters")
    return " ".join(value.split())


def _patterns(where: str, value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ("*",)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise ExceptionsFileError(f"{where}.{name}: a non-empty list of patterns")
    return tuple(value)


def _exception(where: str, entry: Any, known: frozenset[str] | None) -> ControlException:
    if not isinstance(entry, dict):
        raise ExceptionsFileError(f"{where}: a mapping with {', '.join(_REQUIRED)}")
    for key in entry:
        if key not in _REQUIRED + _OPTIONAL:
            raise ExceptionsFileError(f"{where}.{key}: unknown field")
    for key in _REQUIRED:
        if key not in entry:
            raise ExceptionsFileError(f"{where}.{key}: required")
    control = entry["control"]
    if not isinstance(control, str) or not _CONTROL_FORMAT.match(control):
        raise ExceptionsFileError(f"{where}.control: a proactive control id like CT.KMS.PR.3")
    if known is not None and control not in known:
        raise ExceptionsFileError(f"{where}.control: {control} is not among the bundled rules")
    resource_type = entry["resource_type"]
    if not isinstance(resource_type, str) or not _RESOURCE_TYPE_FORMAT.match(resource_type):
        raise ExceptionsFileError(f"{where}.resource_type: a type like AWS::S3::Bucket")
    if not isinstance(entry["offline_false_positive"], bool):
        raise ExceptionsFileError(f"{where}.offline_false_positive: true or false")
    return ControlException(
        control=control,
        resource_type=resource_type,
        reason=_text(where, entry["reason"], "reason"),
        user_action=_text(where, entry["user_action"], "user_action"),
        offline_false_positive=entry["offline_false_positive"],
        logical_ids=_patterns(where, entry.get("logical_ids"), "logical_ids"),
        stacks=_patterns(where, entry.get("stacks"), "stacks"),
    )


def parse_exceptions(
    document: Any, *, source: str, known_controls: frozenset[str] | None = None
) -> tuple[ControlException, ...]:
    """The exceptions of a loaded YAML document ``{exceptions: [...]}``."""
    if not isinstance(document, dict) or set(document) != {"exceptions"}:
        raise ExceptionsFileError(f"{source}: a mapping with one key, exceptions")
    entries = document["exceptions"]
    if not isinstance(entries, list):
        raise ExceptionsFileError(f"{source}: exceptions: a list")
    result: list[ControlException] = []
    for number, entry in enumerate(entries):
        where = f"{source}: exceptions[{number}]"
        exception = _exception(where, entry, known_controls)
        same = [
            i
            for i, e in enumerate(result)
            if (e.control, e.resource_type, e.logical_ids, e.stacks)
            == (exception.control, exception.resource_type, exception.logical_ids, exception.stacks)
        ]
        if same:
            raise ExceptionsFileError(f"{where}: repeats exceptions[{same[0]}]")
        result.append(exception)
    return tuple(result)


def load_exceptions(
    path: Path, *, known_controls: frozenset[str] | None = None
) -> tuple[ControlException, ...]:
    import yaml  # noqa: PLC0415 - only the checker needs PyYAML, never the constructs

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ExceptionsFileError(f"{path}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ExceptionsFileError(f"{path}:{where} not valid YAML") from None
    return parse_exceptions(document, source=str(path), known_controls=known_controls)


# --- templates, rules, binary ----------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSet:
    """The templates of one or more cloud assemblies, with their stacks' display names."""

    files: tuple[Path, ...]
    stacks: Mapping[str, str] = field(default_factory=dict)


def find_templates(folders: Iterable[Path]) -> TemplateSet:
    """Every ``*.template.json`` under ``folders`` (nested assemblies included), named after
    its stack's ``displayName`` in the manifests."""
    files: list[Path] = []
    stacks: dict[str, str] = {}
    for given in folders:
        # Absolute: cfn-guard names each data file by its absolute path in its report.
        folder = given.resolve()
        files.extend(sorted(folder.rglob("*.template.json")))
        for manifest in sorted(folder.rglob("manifest.json")):
            artifacts = json.loads(manifest.read_text(encoding="utf-8")).get("artifacts", {})
            for artifact in artifacts.values():
                template = artifact.get("properties", {}).get("templateFile")
                if artifact.get("type") == "aws:cloudformation:stack" and template:
                    stacks[str(manifest.parent / template)] = artifact.get("displayName", "")
    return TemplateSet(tuple(files), stacks)


def resource_types_of(template: Path) -> dict[str, str]:
    resources = json.loads(template.read_text(encoding="utf-8")).get("Resources", {})
    return {name: str(r.get("Type", "")) for name, r in resources.items()}


def known_controls(rules: Path) -> frozenset[str]:
    """The control ids the bundled Guard rules check."""
    return frozenset(
        c for guard in rules.rglob("*.guard") for c in CONTROL_ID.findall(guard.read_text())
    )


def guard_binary(package: Path) -> Path:
    """The cfn-guard the package bundles for this machine (bin/<ubuntu|macos>/<arch>)."""
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "AMD64": "x86_64", "arm64": "aarch64"}.get(
        platform.machine(), platform.machine()
    )
    if system is None:
        raise FileNotFoundError(f"{PACKAGE} bundles cfn-guard for Linux and macOS only")
    return package / "bin" / system / machine / "cfn-guard"


def chunks(items: Sequence[Path], count: int) -> list[list[Path]]:
    """``items`` dealt round-robin into at most ``count`` non-empty lists."""
    count = max(1, min(count, len(items)))
    return [list(items[i::count]) for i in range(count)]


def rule_files_for(rules: Path, resource_types: Iterable[str]) -> list[Path]:
    """The Guard files under ``rules`` that can fail a template holding ``resource_types``.

    Every Control Tower rule selects the resources it reports on by type, a type the file names
    as a string (``let S3_BUCKET_TYPE = "AWS::S3::Bucket"``, then ``Resources.*[ Type ==
    %S3_BUCKET_TYPE ]``); a rule none of whose types is in any template only skips. Leaving
    those files out changes no failure (a test runs both ways) and makes a run over this app's
    templates about three times faster: about 60 of the 237 files name a type it deploys. A
    file that names no type outside its comments is kept."""
    present = set(resource_types)
    chosen: list[Path] = []
    for guard in sorted(rules.rglob("*.guard")):
        code = "\n".join(
            line
            for line in guard.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("#")
        )
        named = set(_NAMED_TYPE.findall(code))
        if not named or named & present:
            chosen.append(guard)
    return chosen


def guard_command(binary: Path, rules: Sequence[Path], templates: Sequence[Path]) -> list[str]:
    """One cfn-guard run over many templates (``-d`` repeated) with the rule files or folders
    ``rules`` (``-r`` repeated): rules parse once per run."""
    command = [str(binary), "validate", "--structured", "--show-summary", "none"]
    command += ["--output-format", "json"]
    for rule in rules:
        command += ["--rules", str(rule)]
    for template in templates:
        command += ["--data", str(template)]
    return command
