"""AWS Control Tower proactive controls offline (mlops_cdk/compliance/control_tower.py and
scripts/control_tower.py): parsing cfn-guard's structured output, the exceptions file, the
comparison, and the bundled cfn-guard itself on small templates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from mlops_cdk.compliance.control_tower import (
    GUARD_OK_CODES,
    PACKAGE,
    RULES_SUBDIR,
    ControlException,
    ExceptionsFileError,
    Failure,
    chunks,
    compare,
    find_templates,
    guard_binary,
    guard_command,
    known_controls,
    load_exceptions,
    parse_exceptions,
    parse_guard_output,
    resource_types_of,
    rule_files_for,
)
from mlops_cdk.constructs.change_trail import ChangeTrail
from mlops_cdk.constructs.encryption import EncryptionKey
from tests.helpers import ROOT, new_stack

PACKAGE_DIR = ROOT / "node_modules" / PACKAGE
RULES = PACKAGE_DIR / RULES_SUBDIR
EXCEPTIONS = ROOT / "mlops_cdk" / "compliance" / "control_tower_exceptions.yaml"
needs_package = pytest.mark.skipif(
    not guard_binary(PACKAGE_DIR).is_file(),
    reason=f"node_modules lacks {PACKAGE} (run `npm ci`)",
)

KMS_MESSAGE = (
    "\n        [CT.KMS.PR.3]: Require an AWS KMS key policy to have a statement that limits\n"
    "        [FIX]: Configure a KMS key policy statement that denies kms:CreateGrant.\n        "
)


def guard_record(name: str, *rules: dict[str, Any]) -> dict[str, Any]:
    """One data file's record as `cfn-guard validate --structured -o json` writes it."""
    return {"name": name, "metadata": {}, "status": "FAIL", "not_compliant": list(rules)}


def failed_rule(message: str, *paths: str) -> dict[str, Any]:
    clauses = [
        {
            "Clause": {
                "Unary": {
                    "check": {
                        "UnResolved": {
                            "value": {"traversed_to": {"path": path, "value": {}}},
                            "remaining_query": "KeyPolicy",
                        }
                    },
                    "messages": {"custom_message": "", "error_message": "missing"},
                }
            }
        }
        for path in paths
    ]
    inner = {"Rule": {"name": "check", "messages": {"custom_message": message}, "checks": clauses}}
    return {"Rule": {"name": "kms_check", "messages": {"custom_message": None}, "checks": [inner]}}


def test_parse_names_template_stack_resource_control_and_message() -> None:
    records = [
        guard_record(
            "out/a.template.json",
            failed_rule(
                KMS_MESSAGE,
                "/Resources/KeyA/Properties[L:10,C:3]",
                "/Resources/KeyB/Properties/KeyPolicy",
                "/Resources/Other/Type",  # a resource only looked up through a reference
            ),
        )
    ]
    failures = parse_guard_output(
        records,
        stacks={"out/a.template.json": "dev/Foundation"},
        resource_types={"out/a.template.json": {"KeyA": "AWS::KMS::Key", "KeyB": "AWS::KMS::Key"}},
    )
    assert [(f.logical_id, f.resource_type, f.control, f.stack) for f in failures] == [
        ("KeyA", "AWS::KMS::Key", "CT.KMS.PR.3", "dev/Foundation"),
        ("KeyB", "AWS::KMS::Key", "CT.KMS.PR.3", "dev/Foundation"),
    ]
    assert failures[0].message.startswith("Require an AWS KMS key policy")
    assert "[FIX]: Configure" in failures[0].message
    line = failures[0].line()
    assert line.startswith("out/a.template.json (dev/Foundation): KeyA AWS::KMS::Key CT.KMS.PR.3:")


def test_parse_without_a_resource_path_names_the_template() -> None:
    records = [guard_record("b.template.json", failed_rule(KMS_MESSAGE))]
    (failure,) = parse_guard_output(records, stacks={}, resource_types={})
    assert (failure.logical_id, failure.stack) == ("", "b")
    assert "(template)" in failure.line()


def failure(control: str, logical_id: str, stack: str = "dev/Foundation") -> Failure:
    kind = {"CT.KMS": "AWS::KMS::Key", "CT.S3.": "AWS::S3::Bucket"}[control[:6]]
    return Failure("t.json", stack, logical_id, kind, control, "message")


def exception(control: str, kind: str, **kwargs: Any) -> ControlException:
    return ControlException(
        control=control,
        resource_type=kind,
        reason="a reason long enough to read",
        user_action="what a user must do about it",
        offline_false_positive=False,
        **kwargs,
    )


def test_compare_lists_unexpected_passes_covered_and_reports_stale() -> None:
    covering = exception("CT.S3.PR.9", "AWS::S3::Bucket", logical_ids=("Artifacts*",))
    only_prod = exception("CT.KMS.PR.3", "AWS::KMS::Key", stacks=("prod/*",))
    failures = [failure("CT.S3.PR.9", "ArtifactsBucket1"), failure("CT.KMS.PR.3", "Key1")]
    result = compare(failures, [covering, only_prod])
    assert result.unexpected == (failures[1],)  # a dev stack: prod/* does not cover it
    assert result.covered == ((failures[0], covering),)
    assert result.stale == (only_prod,)
    assert not result.ok
    assert compare(failures[:1], [covering]).ok


def test_an_exception_covers_only_its_resource_type() -> None:
    wrong_type = exception("CT.S3.PR.9", "AWS::SQS::Queue")
    result = compare([failure("CT.S3.PR.9", "Bucket")], [wrong_type])
    assert len(result.unexpected) == 1
    assert result.stale == (wrong_type,)


ENTRY = {
    "control": "CT.S3.PR.9",
    "resource_type": "AWS::S3::Bucket",
    "logical_ids": ["Artifacts*"],
    "reason": "Object Lock conflicts with the lifecycle rules.",
    "user_action": "Exempt the buckets from the control.",
    "offline_false_positive": False,
}


def test_parse_exceptions_reads_entries() -> None:
    (entry,) = parse_exceptions({"exceptions": [ENTRY]}, source="x.yaml")
    assert entry.logical_ids == ("Artifacts*",)
    assert entry.stacks == ("*",)
    assert not entry.offline_false_positive


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"reason": None}, "x.yaml: exceptions[0].reason: required"),
        ({"colour": "red"}, "x.yaml: exceptions[0].colour: unknown field"),
        ({"control": "KMS.3"}, "x.yaml: exceptions[0].control: a proactive control id"),
        ({"control": "CT.XYZ.PR.1"}, "x.yaml: exceptions[0].control: CT.XYZ.PR.1 is not among"),
        ({"resource_type": "S3 bucket"}, "x.yaml: exceptions[0].resource_type: a type like"),
        ({"reason": "short"}, "x.yaml: exceptions[0].reason: a sentence of 20+ characters"),
        ({"logical_ids": []}, "x.yaml: exceptions[0].logical_ids: a non-empty list"),
        ({"offline_false_positive": "no"}, "x.yaml: exceptions[0].offline_false_positive: true"),
    ],
)
def test_bad_exceptions_name_file_and_field(change: dict[str, Any], expected: str) -> None:
    entry = {k: v for k, v in {**ENTRY, **change}.items() if v is not None}
    with pytest.raises(ExceptionsFileError) as raised:
        parse_exceptions(
            {"exceptions": [entry]}, source="x.yaml", known_controls=frozenset({"CT.S3.PR.9"})
        )
    assert str(raised.value).startswith(expected)
    assert "\n" not in str(raised.value)


def test_repeated_exception_and_bad_documents_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ExceptionsFileError, match=r"exceptions\[1\]: repeats exceptions\[0\]"):
        parse_exceptions({"exceptions": [ENTRY, ENTRY]}, source="x.yaml")
    with pytest.raises(ExceptionsFileError, match="one key, exceptions"):
        parse_exceptions([ENTRY], source="x.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("exceptions: [\n")
    with pytest.raises(ExceptionsFileError, match=r"bad\.yaml: line \d+ not valid YAML"):
        load_exceptions(bad)


def test_find_templates_names_stacks_from_nested_manifests(tmp_path: Path) -> None:
    nested = tmp_path / "assembly-dev"
    nested.mkdir()
    (nested / "devFoundationAB12.template.json").write_text("{}")
    (nested / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "devFoundationAB12": {
                        "type": "aws:cloudformation:stack",
                        "displayName": "dev/Foundation",
                        "properties": {"templateFile": "devFoundationAB12.template.json"},
                    }
                }
            }
        )
    )
    found = find_templates([tmp_path])
    assert found.files == (nested / "devFoundationAB12.template.json",)
    assert found.stacks == {str(nested / "devFoundationAB12.template.json"): "dev/Foundation"}


def test_chunks_deal_templates_to_jobs() -> None:
    paths = [Path(f"{i}.json") for i in range(5)]
    assert [len(c) for c in chunks(paths, 2)] == [3, 2]
    assert chunks(paths[:1], 4) == [[paths[0]]]


def test_rule_files_are_those_naming_a_deployed_resource_type(tmp_path: Path) -> None:
    (tmp_path / "s3").mkdir()
    bucket = tmp_path / "s3" / "ct-s3-pr-1.guard"
    bucket.write_text('# Reports on:\n#   AWS::S3::Bucket\nlet T = "AWS::S3::Bucket"\n')
    notebook = tmp_path / "ct-sagemaker-pr-1.guard"
    # A type in a comment only does not count; the code names another.
    notebook.write_text('#   AWS::S3::Bucket\nlet T = "AWS::SageMaker::NotebookInstance"\n')
    typeless = tmp_path / "ct-any-pr-1.guard"
    typeless.write_text("# AWS::SQS::Queue\nrule any when Resources exists { Resources !empty }\n")
    two = tmp_path / "ct-two-pr-1.guard"
    two.write_text("let A = 'AWS::SQS::Queue'\nlet B = 'AWS::SNS::Topic'\n")
    assert rule_files_for(tmp_path, {"AWS::S3::Bucket", "AWS::SNS::Topic"}) == [
        typeless,
        two,
        bucket,
    ]
    assert rule_files_for(tmp_path, set()) == [typeless]
    assert rule_files_for(tmp_path, {"AWS::SageMaker::NotebookInstance"}) == [typeless, notebook]


@needs_package
def test_the_committed_exceptions_load_and_name_bundled_controls() -> None:
    entries = load_exceptions(EXCEPTIONS, known_controls=known_controls(RULES))
    assert entries
    assert all(e.reason and e.user_action for e in entries)
    assert len(known_controls(RULES)) > 200


# --- the real cfn-guard ----------------------------------------------------------------------


def write_template(stack: cdk.Stack, folder: Path) -> Path:
    template = Template.from_stack(stack).to_json()
    path = folder / f"{stack.stack_name}.template.json"
    path.write_text(json.dumps(template))
    return path


def run_rules(templates: list[Path], *rule_files: str) -> list[Failure]:
    """The bundled cfn-guard with the named rule files only, parsed."""
    rules_dir = templates[0].parent / "rules"
    rules_dir.mkdir(exist_ok=True)
    for rule in rule_files:
        source = next(RULES.rglob(rule))
        (rules_dir / rule).write_text(source.read_text())
    command = guard_command(guard_binary(PACKAGE_DIR), [rules_dir], templates)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode in GUARD_OK_CODES, result.stderr[-2000:]
    types = {str(t): resource_types_of(t) for t in templates}
    return parse_guard_output(json.loads(result.stdout), stacks={}, resource_types=types)


@needs_package
@pytest.mark.slow  # runs the cfn-guard binary
def test_guard_fails_a_key_without_the_grant_deny_and_passes_ours(tmp_path: Path) -> None:
    plain = new_stack("Plain")
    kms.Key(plain, "CdkDefault")  # CDK's default policy: the account root, kms:*
    ours = new_stack("Ours")
    EncryptionKey(
        ours,
        "Encryption",
        alias="alias/test",
        description="test key",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    failures = run_rules(
        [write_template(plain, tmp_path), write_template(ours, tmp_path)], "ct-kms-pr-3.guard"
    )
    assert [(Path(f.template).name, f.control, f.resource_type) for f in failures] == [
        ("Plain.template.json", "CT.KMS.PR.3", "AWS::KMS::Key")
    ]
    assert failures[0].logical_id.startswith("CdkDefault")


@needs_package
@pytest.mark.slow  # runs the cfn-guard binary
def test_guard_passes_the_change_trail_bucket_kms_and_events(tmp_path: Path) -> None:
    """The trail's log bucket: SSE-KMS default encryption (CT.S3.PR.10) and EventBridge events
    (CT.S3.PR.4); an SSE-S3 bucket without notifications fails both."""
    stack = new_stack("Trail")
    key = EncryptionKey(
        stack,
        "Encryption",
        alias="alias/t",
        description="t",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    logs = s3.Bucket(stack, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED)
    ChangeTrail(
        stack,
        "ChangeTrail",
        key=key.key,
        trail_name="mlops-dev-changes",
        access_log_bucket=logs,
        log_retention=cdk.Duration.days(400),
        noncurrent_version_expiry=cdk.Duration.days(30),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    failures = run_rules([write_template(stack, tmp_path)], "ct-s3-pr-10.guard", "ct-s3-pr-4.guard")
    failed = {(f.logical_id.rstrip("0123456789ABCDEF"), f.control) for f in failures}
    assert failed == {("AccessLogs", "CT.S3.PR.10"), ("AccessLogs", "CT.S3.PR.4")}


@needs_package
@pytest.mark.slow  # runs the cfn-guard binary twice over every bundled rule
def test_the_rule_files_left_out_change_no_failure(tmp_path: Path) -> None:
    """The rule files naming no type of the templates only skip: the same failures either way."""
    stack = new_stack("Mixed")
    kms.Key(stack, "CdkDefault")
    s3.Bucket(stack, "Plain", encryption=s3.BucketEncryption.S3_MANAGED)
    sqs.Queue(stack, "Queue", encryption=sqs.QueueEncryption.UNENCRYPTED)
    template = write_template(stack, tmp_path)
    types = {str(template): resource_types_of(template)}
    chosen = rule_files_for(RULES, types[str(template)].values())
    assert 0 < len(chosen) < len(list(RULES.rglob("*.guard"))) / 4

    def failures(rules: list[Path]) -> set[Failure]:
        command = guard_command(guard_binary(PACKAGE_DIR), rules, [template])
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode in GUARD_OK_CODES, result.stderr[-2000:]
        return set(parse_guard_output(json.loads(result.stdout), stacks={}, resource_types=types))

    everything = failures([RULES])
    assert {f.control.split(".")[1] for f in everything} >= {"KMS", "S3", "SQS"}
    assert failures(chosen) == everything


@needs_package
@pytest.mark.slow  # runs the CLI and the cfn-guard binary
def test_cli_lists_unexpected_failures_and_stale_exceptions(tmp_path: Path) -> None:
    stack = new_stack("Cli")
    kms.Key(stack, "CdkDefault")
    assembly = tmp_path / "cdk.out"
    assembly.mkdir()
    write_template(stack, assembly)
    stale = {**ENTRY, "control": "CT.SQS.PR.1", "resource_type": "AWS::SQS::Queue"}
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(json.dumps({"exceptions": [stale]}))  # JSON is YAML
    command = [sys.executable, str(ROOT / "scripts" / "control_tower.py"), str(assembly)]
    result = subprocess.run(
        [*command, "--exceptions", str(exceptions), "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("UNEXPECTED ") and "CdkDefault" in line and "CT.KMS.PR.3" in line
        for line in lines
    ), result.stdout
    assert any(line.startswith("STALE exception CT.SQS.PR.1") for line in lines)
    assert "1 templates" in lines[-1]
    assert " s, 1 cfn-guard runs, " in lines[-1]


@pytest.mark.slow  # runs the bundled cfn-guard
def test_cli_covers_failures_of_a_relative_folder_by_their_stack_name(tmp_path: Path) -> None:
    """As `make lint` calls it (relative folders, manifests naming the stacks): cfn-guard reports
    absolute paths, and every failure is still matched to its template, stack and type."""
    stack = new_stack("Cli")
    kms.Key(stack, "CdkDefault", enable_key_rotation=True)  # fails CT.KMS.PR.3 only
    assembly = tmp_path / "cdk.out"
    assembly.mkdir()
    template = write_template(stack, assembly)
    (assembly / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "Cli": {
                        "type": "aws:cloudformation:stack",
                        "displayName": "dev/Cli",
                        "properties": {"templateFile": template.name},
                    }
                }
            }
        )
    )
    covering = {
        **ENTRY,
        "control": "CT.KMS.PR.3",
        "resource_type": "AWS::KMS::Key",
        "logical_ids": ["CdkDefault*"],
        "stacks": ["dev/*"],
    }
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(json.dumps({"exceptions": [covering]}))
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "control_tower.py"),
            "cdk.out",
            "--exceptions",
            str(exceptions),
            "--jobs",
            "1",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 covered by 1 exceptions, 0 unexpected" in result.stdout


@pytest.mark.slow  # a subprocess
def test_cli_without_templates_says_so_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "control_tower.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    message = result.stderr.strip()
    assert message.startswith("control tower: ")
    assert len(message.splitlines()) == 1
