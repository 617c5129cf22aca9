"""Shared test helpers: project paths, CDK context, synthesized-app access.

aws_cdk is imported where it is used, not here: the conftest imports this module, and a run of
config or tool tests alone need not start jsii (its Node process) at all."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import aws_cdk as cdk
    from aws_cdk import assertions
    from aws_cdk import aws_ec2 as ec2

    from mlops_cdk.app.stage import MlopsStage

ROOT = Path(__file__).resolve().parents[1]
# The environments the suite synthesizes: fixtures, so users may edit or add config/ files
# without breaking tests (tests/test_committed_config.py checks config/ itself).
CONFIG_DIR = ROOT / "tests" / "fixtures" / "config"
COMMITTED_CONFIG_DIR = ROOT / "config"
MAKE = shutil.which("make") or "make"
ENVIRONMENTS = ("dev", "stage", "prod")
# (environment, service) pairs of the fixture configs.
SERVICES = (("dev", "churn"), ("stage", "churn"), ("stage", "fraud"), ("prod", "churn"),
            ("prod", "fraud"))  # fmt: skip
TEST_ACCOUNT, TEST_REGION = "123456789012", "eu-west-1"
# Test modules that read the committed config/ (not the fixtures), found by what they open, so a
# new one is found too: tests/test_add_environment.py runs them again in a copy of the checkout
# with one environment more.
READS_CONFIG = re.compile(r'COMMITTED_CONFIG_DIR|\b(ROOT|clone|parents\[\d\]) / "config"')
ADD_ENVIRONMENT_TEST = "test_add_environment.py"


def config_reading_modules(root: Path) -> list[Path]:
    """The test modules under ``root``/tests that read ``root``/config, sorted; not the
    add-environment test's own module, which runs them."""
    return sorted(
        path
        for path in (root / "tests").rglob("test_*.py")
        if path.name != ADD_ENVIRONMENT_TEST
        and READS_CONFIG.search(path.read_text(encoding="utf-8"))
    )


def run_make(
    *args: str, env: Mapping[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """``make --no-print-directory ARGS`` in this checkout, its output captured, never raising;
    ``env``: variables set on top of this process's environment."""
    return subprocess.run(
        [MAKE, "--no-print-directory", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@cache
def _test_env() -> cdk.Environment:
    import aws_cdk as cdk

    return cdk.Environment(account=TEST_ACCOUNT, region=TEST_REGION)


def __getattr__(name: str) -> Any:
    """``TEST_ENV``: a fixed account/region for construct tests, built on first use."""
    if name == "TEST_ENV":
        return _test_env()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# libyaml's emitter and parser (PyYAML's C classes, same representer, constructor and resolver):
# the same YAML as yaml.safe_dump / yaml.safe_load, 4x and 15x faster on an environment file. The
# tests write and read hundreds of configuration files (tests/unit/test_yaml_helpers.py pins that
# the text and the data are the same).
_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def stubbed_client(service: str, region: str = "eu-west-1") -> Any:
    """A boto3 client for a botocore ``Stubber``: fixed credentials, as it never signs a call."""
    import boto3

    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106 - a stubbed client never signs a real call
    )


def yaml_text(data: Any, *, sort_keys: bool = True) -> str:
    """``yaml.safe_dump(data, sort_keys=sort_keys)``, through libyaml when PyYAML has it."""
    text: str = yaml.dump(data, Dumper=_DUMPER, sort_keys=sort_keys)
    return text


def yaml_data(text: str) -> Any:
    """``yaml.safe_load(text)``, through libyaml when PyYAML has it."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader (C or Python)


def cdk_context() -> dict[str, Any]:
    """The context the CLI passes: cdk.json feature flags plus the committed lookups."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update(json.loads((ROOT / "cdk.context.json").read_text()))
    return context


def new_app() -> cdk.App:
    """An App with the project's feature flags (what `cdk init` gives any consuming app)."""
    import aws_cdk as cdk

    return cdk.App(context=cdk_context())


def new_stack(name: str = "Test") -> cdk.Stack:
    """A bare stack in a fixed account/region for construct tests."""
    import aws_cdk as cdk

    return cdk.Stack(new_app(), name, env=_test_env())


def imported_vpc(
    scope: cdk.Stack, construct_id: str = "Vpc", *, cidr: str | None = "10.0.0.0/16"
) -> ec2.IVpc:
    """An existing VPC with two isolated subnets, imported by ids (no lookup)."""
    from aws_cdk import aws_ec2 as ec2

    return ec2.Vpc.from_vpc_attributes(
        scope,
        construct_id,
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block=cidr,
        availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=["subnet-01234567", "subnet-89abcdef"],
        isolated_subnet_route_table_ids=["rtb-01234567", "rtb-89abcdef"],
    )


@dataclass
class Synthesized:
    """A synthesized app: stages by environment, templates read once from the cloud assembly."""

    outdir: Path
    stages: dict[str, MlopsStage]
    _templates: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def stack(self, env: str, stack: str) -> cdk.Stack:
        """``foundation``, a service name (its serving stack) or ``<service>-registry``."""
        stage = self.stages[env]
        if stack == "foundation":
            return stage.foundation
        if stack.endswith("-registry"):
            return stage.services[stack.removesuffix("-registry")].registry
        return stage.services[stack].serving

    def template_json(self, env: str, stack: str) -> dict[str, Any]:
        key = (env, stack)
        if key not in self._templates:
            path = Path(self.stages[env].outdir) / self.stack(env, stack).template_file
            self._templates[key] = json.loads(path.read_text())
        return self._templates[key]

    def template(self, env: str, stack: str) -> assertions.Template:
        from aws_cdk import assertions

        return assertions.Template.from_json(self.template_json(env, stack))


_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def imports_of(path: Path) -> set[str]:
    """The absolute imports of a Python file: each imported module, and ``module.name`` for each
    name imported from one (``from a import b`` gives ``a`` and ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def normalize_asset_hashes(value: Any) -> Any:
    """Replace 64-hex asset hashes so code changes do not churn every snapshot."""
    return json.loads(_ASSET_HASH.sub("<asset-hash>", json.dumps(value)))


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def environment_key(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A Foundation template's environment key, and its logical id (the foundation watch's topic
    has a key of its own)."""
    ((logical_id, key),) = [
        (logical_id, key)
        for logical_id, key in resources_of_type(template, "AWS::KMS::Key").items()
        if logical_id.startswith("EncryptionKey")
    ]
    return logical_id, key


def delivered_message(target: dict[str, Any], event: dict[str, Any]) -> str:
    """What an EventBridge rule ``target`` (a template's target, with an InputTransformer)
    delivers for ``event``: each placeholder filled from the event's path, the template read as
    the JSON string it is. Fails on a placeholder left unfilled."""
    transformer = target["InputTransformer"]
    text = str(transformer["InputTemplate"])
    for name, path in transformer["InputPathsMap"].items():
        value: Any = event
        for part in str(path).removeprefix("$.").split("."):
            value = value[part]
        text = text.replace(f"<{name}>", str(value))
    assert not re.search(r"<[^>]+>", text), text
    return str(json.loads(text))
