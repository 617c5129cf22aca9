"""Write the configuration change that promotes an approved model package version.

``python -m mlops_tools.promote --env stage --service churn --version 4`` (``make promote
ENV=stage SERVICE=churn VERSION=4``, the command the approval notification sends) edits
``config/<env>.yaml`` so that the change goes through a pull request, the review report, the
gates and the pipeline like any other:

- a model ``<service>-pkg-v<version>`` pinned to the package (``model_package: {version: N}``:
  the service's model package group, ``<env>-<service>``; ``--group`` or ``--arn`` for another
  one); nothing is resolved at synth time;
- a canary variant ``pkg-v<version>`` (a copy of the first variant: its capacity and scaling)
  that receives ``--traffic-percent`` of the traffic (default 10 %) next to the others, whose
  weights are kept; or, when the service has a shadow variant, the shadow variant points at
  the new model instead (it takes a copy of live requests and answers nobody) and the model it
  replaces is removed when nothing else uses it.

The file is edited as text, in the service's ``models`` and ``variants`` (or
``shadow_variants``) lists only: comments, order and layout of everything else stay as they
were (no YAML round trip). The result is validated like any configuration (every environment
of the directory) before it is written; the unified diff is printed. ``--dry-run`` prints it
only. ``--check`` (AWS credentials needed) first asks SageMaker (DescribeModelPackage) that
the version is ``Approved``.

Exit codes: 0 written (or printed with ``--dry-run``); 1 the package is not approved
(``--check``) or the AWS call failed; 2 bad input (unknown environment or service, a version
that is not a positive integer, a version already promoted, a result that does not validate),
one line on stderr.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_cdk.aws.names import model_package_group_name
from mlops_cdk.config import ConfigError, EnvConfig, load_environments
from mlops_cdk.config.service import ServiceConfig
from mlops_cdk.props.model import MODEL_PACKAGE_GROUP_PATTERN, ModelPackageSpec

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
DEFAULT_TRAFFIC_PERCENT = 10.0
_VERSION = re.compile(r"^[1-9][0-9]{0,8}$")
_ENV = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?P<rest>.*)$")
APPROVED = "Approved"  # DescribeModelPackage ModelApprovalStatus


class PromotionError(Exception):
    """Bad input or a configuration the promotion cannot edit: one line."""


def model_name(service: str, version: int) -> str:
    return f"{service}-pkg-v{version}"


def variant_name(version: int) -> str:
    return f"pkg-v{version}"


@dataclass(frozen=True)
class Block:
    """Lines ``start`` (the key line) to ``end`` (exclusive) of a YAML mapping key."""

    start: int
    end: int
    indent: int


def _significant(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: Sequence[str], key: str, start: int, end: int, indent: int | None) -> Block:
    """The block of ``key:`` between lines ``start`` and ``end`` at ``indent`` (None: the
    first key's indentation there)."""
    for index in range(start, end):
        match = _KEY.match(lines[index].rstrip("\n"))
        if match is None or not _significant(lines[index]):
            continue
        level = len(match["indent"])
        if indent is None:
            indent = level
        if level == indent and match["key"] == key:
            stop = index + 1
            while stop < end and (not _significant(lines[stop]) or _indent(lines[stop]) > level):
                stop += 1
            while stop > index + 1 and not _significant(lines[stop - 1]):
                stop -= 1  # trailing blank lines and comments belong to what follows
            return Block(index, stop, level)
    raise PromotionError(f"no {key!r} key found")


def _items(lines: Sequence[str], block: Block) -> list[Block]:
    """The list items (``- ...``) of a block, each with its lines."""
    starts = [
        i
        for i in range(block.start + 1, block.end)
        if lines[i].lstrip(" ").startswith("- ") and _indent(lines[i]) > block.indent
    ]
    if not starts:
        return []
    level = _indent(lines[starts[0]])
    starts = [i for i in starts if _indent(lines[i]) == level]
    ends = [*starts[1:], block.end]
    items = []
    for first, end in zip(starts, ends, strict=True):
        last = end
        while last > first + 1 and not _significant(lines[last - 1]):
            last -= 1
        items.append(Block(first, last, level))
    return items


def _set(line: str, key: str, value: str) -> str | None:
    """``line`` with the value of ``key`` replaced (comment dropped), or None if not that key."""
    prefix = line[: _indent(line)]
    body = line.strip()
    dash = body.startswith("- ")
    if dash:
        body = body[2:]
    if not body.startswith(f"{key}:"):
        return None
    return f"{prefix}{'- ' if dash else ''}{key}: {value}\n"


def _weight(value: float) -> str:
    rounded = round(value, 2)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def canary_weight(weights: Sequence[float], percent: float) -> float:
    """The weight that gives ``percent`` of the traffic next to ``weights`` (kept)."""
    return sum(weights) * percent / (100 - percent)


def _package_lines(indent: int, name: str, package: ModelPackageSpec) -> list[str]:
    pad = " " * indent
    lines = [f"{pad}- name: {name}\n", f"{pad}  model_package:\n"]
    if package.arn is not None:
        lines.append(f'{pad}    arn: "{package.arn}"\n')
    else:
        lines.append(f"{pad}    version: {package.version}\n")
        if package.group is not None:
            lines.append(f"{pad}    group: {package.group}\n")
    return lines


def _service_block(lines: list[str], service: str) -> Block:
    services = _block(lines, "services", 0, len(lines), 0)
    try:
        return _block(lines, service, services.start + 1, services.end, None)
    except PromotionError:
        raise PromotionError(f"service {service!r} not found under services:") from None


def _used_elsewhere(spec: ServiceConfig, model: str) -> bool:
    used = [v.model for v in spec.variants]
    used += [v.model for v in spec.shadow_variants[1:]]
    used += [job.model for job in spec.batch_jobs]
    if spec.inference_components is not None:
        used += [c.model for c in spec.inference_components.components]
    return model in used


def promoted_text(
    text: str,
    spec: ServiceConfig,
    *,
    service: str,
    version: int,
    package: ModelPackageSpec,
    traffic_percent: float = DEFAULT_TRAFFIC_PERCENT,
) -> str:
    """``text`` (an environment file) with the promotion of ``package`` written into the
    service's block; raises :class:`PromotionError` when it cannot be written."""
    name = model_name(service, version)
    if any(model.name == name for model in spec.models):
        raise PromotionError(f"model {name!r} already exists: version {version} is promoted")
    if spec.inference_components is not None:
        raise PromotionError(
            f"service {service!r} hosts inference components: add the model and point a "
            "component at it by hand"
        )
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    block = _service_block(lines, service)
    models = _block(lines, "models", block.start + 1, block.end, None)
    items = _items(lines, models)
    indent = items[0].indent if items else models.indent + 2
    edits: list[tuple[int, int, list[str]]] = [
        (models.end, models.end, _package_lines(indent, name, package))
    ]
    if spec.shadow_variants:
        edits += _shadow_edits(lines, block, spec, name)
    else:
        edits.append(
            _canary_edit(
                lines, block, spec, name=name, version=version, traffic_percent=traffic_percent
            )
        )
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start:end] = new
    return "".join(lines)


def _shadow_edits(
    lines: list[str], block: Block, spec: ServiceConfig, name: str
) -> list[tuple[int, int, list[str]]]:
    """The first shadow variant serves ``name``; the model it served goes if unused."""
    shadows = _block(lines, "shadow_variants", block.start + 1, block.end, None)
    first = _items(lines, shadows)[0]
    edits: list[tuple[int, int, list[str]]] = []
    for index in range(first.start, first.end):
        replaced = _set(lines[index], "model", name)
        if replaced is not None:
            edits.append((index, index + 1, [replaced]))
            break
    old = spec.shadow_variants[0].model
    if not _used_elsewhere(spec, old):
        models = _block(lines, "models", block.start + 1, block.end, None)
        for item in _items(lines, models):
            if _set(lines[item.start], "name", old) is not None and re.search(
                rf"name:\s*['\"]?{re.escape(old)}['\"]?\s*(#.*)?$", lines[item.start]
            ):
                edits.append((item.start, item.end, []))
    return edits


def _canary_edit(
    lines: list[str],
    block: Block,
    spec: ServiceConfig,
    *,
    name: str,
    version: int,
    traffic_percent: float,
) -> tuple[int, int, list[str]]:
    """A copy of the first variant named ``pkg-v<version>``, serving ``name`` with
    ``traffic_percent`` of the traffic."""
    if not spec.variants:
        raise PromotionError("the service has no variants: nothing to send traffic to the model")
    variants = _block(lines, "variants", block.start + 1, block.end, None)
    first = _items(lines, variants)[0]
    weight = _weight(canary_weight([v.initial_weight for v in spec.variants], traffic_percent))
    values = {"name": variant_name(version), "model": name, "initial_weight": weight}
    copied = []
    for line in lines[first.start : first.end]:
        shallow = _indent(line) <= first.indent + 2  # the variant's own keys, not nested ones
        edited = (_set(line, key, value) for key, value in values.items()) if shallow else ()
        copied.append(next((e for e in edited if e is not None), line))
    return variants.end, variants.end, copied


def validate(config_dir: Path, env: str, text: str) -> EnvConfig:
    """The environment as the new ``text`` defines it, validated with every other file of
    ``config_dir`` (cross-environment checks included); raises ConfigError."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "config"
        shutil.copytree(config_dir, copy)
        (copy / f"{env}.yaml").write_text(text, encoding="utf-8")
        [config] = load_environments(copy, only=env)
        return config


def diff(old: str, new: str, env: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/config/{env}.yaml",
            tofile=f"b/config/{env}.yaml",
        )
    )


def approval_status(sagemaker: Any, arn: str) -> str:
    """The package's ModelApprovalStatus (DescribeModelPackage)."""
    response = sagemaker.describe_model_package(ModelPackageName=arn)
    return str(response.get("ModelApprovalStatus") or "unknown")


def _package(args: argparse.Namespace) -> ModelPackageSpec:
    try:
        if args.arn is not None:
            return ModelPackageSpec(arn=args.arn)
        return ModelPackageSpec(version=int(args.version), group=args.group)
    except ValueError as exc:
        raise PromotionError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_tools.promote",
        description="Write the configuration change that promotes an approved model package "
        "version: a pinned model and a canary variant (or the shadow variant).",
    )
    parser.add_argument("--env", required=True, help="environment (config/<env>.yaml)")
    parser.add_argument("--service", required=True, help="service (services.<name>)")
    parser.add_argument("--version", required=True, help="package version (1, 2, ...)")
    parser.add_argument("--group", help="model package group (default <env>-<service>)")
    parser.add_argument("--arn", help="the versioned package's ARN (another account's registry)")
    parser.add_argument(
        "--traffic-percent",
        type=float,
        default=DEFAULT_TRAFFIC_PERCENT,
        help="share of the traffic for the canary variant (default 10)",
    )
    parser.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG_DIR)
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    parser.add_argument(
        "--check",
        action="store_true",
        help="first ask SageMaker that the version is Approved (AWS credentials needed)",
    )
    return parser


def _inputs(args: argparse.Namespace) -> tuple[Path, EnvConfig, ModelPackageSpec]:
    """The environment file, its configuration and the package; PromotionError if bad."""
    if not _ENV.match(args.env):
        raise PromotionError(f"{args.env!r} is not an environment name")
    path = args.config_dir / f"{args.env}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in args.config_dir.glob("*.yaml") if p.stem != "pipeline")
        raise PromotionError(f"unknown environment {args.env!r} (known: {', '.join(known)})")
    if not _VERSION.match(args.version):
        raise PromotionError(f"VERSION {args.version!r} is not a package version (1, 2, ...)")
    if args.group is not None and not re.match(MODEL_PACKAGE_GROUP_PATTERN, args.group):
        raise PromotionError(f"{args.group!r} is not a model package group name")
    if not 0 < args.traffic_percent <= 50:
        raise PromotionError("--traffic-percent must be more than 0 and at most 50")
    [config] = load_environments(args.config_dir, only=args.env)
    if args.service not in config.services:
        raise PromotionError(
            f"unknown service {args.service!r} in {args.env} "
            f"(services: {', '.join(config.services) or 'none'})"
        )
    return path, config, _package(args)


def _check(config: EnvConfig, service: str, package: ModelPackageSpec) -> int | None:
    """None when the package is Approved; else the exit code after one line on stderr."""
    import boto3  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415 - --check only
    from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415
        BotoCoreError,
        ClientError,
    )

    arn = package.package_arn(
        region=config.region,
        account=config.account,
        default_group=model_package_group_name(config.name, service),
    )
    try:
        status = approval_status(boto3.client("sagemaker", region_name=config.region), arn)
    except (BotoCoreError, ClientError) as exc:
        print(f"DescribeModelPackage {arn} failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if status != APPROVED:
        print(f"{arn} is {status}, not {APPROVED}: approve it first", file=sys.stderr)
        return EXIT_FAILED
    print(f"{arn} is {APPROVED}")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        path, config, package = _inputs(args)
        if args.check and (code := _check(config, args.service, package)) is not None:
            return code
        old = path.read_text(encoding="utf-8")
        new = promoted_text(
            old,
            config.services[args.service],
            service=args.service,
            version=package.package_version,
            package=package,
            traffic_percent=args.traffic_percent,
        )
        validate(args.config_dir, args.env, new)
    except PromotionError as exc:
        print(f"promote: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"promote: the change would not validate: {problem}", file=sys.stderr)
        return EXIT_USAGE
    print(diff(old, new, args.env), end="")
    if not args.dry_run:
        path.write_text(new, encoding="utf-8")
        print(f"wrote config/{args.env}.yaml: open a pull request (review report, gates, pipeline)")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
