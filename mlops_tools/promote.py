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
  the new model instead (it takes a copy of live requests and answers nobody, so
  ``--traffic-percent`` is refused there) and the model it replaces is removed when nothing
  else uses it. Services of inference components or of an asynchronous endpoint (one
  variant, no shadow) are refused: their change is made by hand.

The file is edited as text, in the service's ``models`` and ``variants`` (or
``shadow_variants``) lists only: comments, order and layout of everything else stay as they
were (no YAML round trip); those lists must be block lists (``- `` items, indented or not),
not flow lists (``[...]``). The result is validated like any configuration (with the names of
the directory's other environments) before it is written, through a temporary file beside it
that replaces it whole (``os.replace``); the unified diff is printed. ``--dry-run`` prints it
only. ``--check`` (AWS credentials needed) then asks SageMaker (DescribeModelPackage) that the
version is ``Approved`` before anything is written.

Exit codes: 0 written (or printed with ``--dry-run``); 1 the package is not approved
(``--check``), the AWS call failed, or the file could not be written (it is left as it was);
2 bad input (unknown environment or service, a version that is not a positive integer or not
the ``--arn``'s, a version already promoted, a traffic share refused, a list it cannot edit, a
configuration that does not load as it is or a result that does not validate), one line on
stderr (one per problem of a configuration).
"""

from __future__ import annotations

import argparse
import difflib
import errno
import math
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_cdk.aws.names import model_package_group_name
from mlops_cdk.config import (
    ConfigError,
    EnvConfig,
    known_environments,
    load_environment,
    load_environments,
)
from mlops_cdk.config.loader import environment_file
from mlops_cdk.config.service import ServiceConfig
from mlops_cdk.props.model import MODEL_PACKAGE_GROUP_PATTERN, ModelPackageSpec
from mlops_tools.files import write_atomically

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
DEFAULT_TRAFFIC_PERCENT = 10.0
MIN_WEIGHT = 0.01  # weights are written with two decimals (_weight)
_VERSION = re.compile(r"^[1-9][0-9]{0,8}$")
_ENV = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?P<rest>.*)$")
_ITEM_KEY = re.compile(r"^ *- +[A-Za-z_][A-Za-z0-9_]*:")  # a list item that starts a mapping
APPROVED = "Approved"  # DescribeModelPackage ModelApprovalStatus


class PromotionError(Exception):
    """Bad input or a configuration the promotion cannot edit: one line."""


class LayoutError(PromotionError):
    """A list written in a way the text edit cannot extend; the message starts with its field."""


class InvalidConfigError(Exception):
    """A configuration's problems (each names its file and field), after ``context``."""

    def __init__(self, context: str, problems: Sequence[str]) -> None:
        super().__init__(context)
        self.context = context
        self.problems = list(problems)


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


def _inside(line: str, level: int) -> bool:
    """Whether ``line`` belongs to a key at ``level``: deeper, or one of its list items written
    at the key's own indentation (``key:`` then ``- item``), or a blank line or comment."""
    if not _significant(line) or _indent(line) > level:
        return True
    return _indent(line) == level and line.lstrip(" ").startswith("- ")


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
            while stop < end and _inside(lines[stop], level):
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
        if lines[i].lstrip(" ").startswith("- ") and _indent(lines[i]) >= block.indent
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


def _list(lines: Sequence[str], service: Block, key: str, name: str) -> tuple[Block, list[Block]]:
    """The block of the list ``key`` of service ``name`` and its items; LayoutError unless it
    is a block list of block mappings (a flow list ``[...]``, a value on the key's line or an
    item ``- {...}`` cannot be edited line by line)."""
    block = _block(lines, key, service.start + 1, service.end, None)
    match = _KEY.match(lines[block.start].rstrip("\n"))
    value = match["rest"].strip() if match is not None else ""
    items = _items(lines, block)
    keyed = all(_ITEM_KEY.match(lines[item.start]) for item in items)
    if not items or not keyed or (value and not value.startswith("#")):
        raise LayoutError(
            f"services.{name}.{key}: this layout of the list cannot be edited in place: write "
            "it as a block list, one '- name: ...' item per line"
        )
    return block, items


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


def smallest_percent(weights: Sequence[float]) -> float:
    """The smallest share (three significant digits, rounded up) whose canary weight is
    :data:`MIN_WEIGHT` or more next to ``weights``: a smaller one is written as weight 0."""
    exact = 100 * MIN_WEIGHT / (sum(weights) + MIN_WEIGHT)
    scale = 10.0 ** (2 - math.floor(math.log10(exact)))
    return math.ceil(exact * scale) / scale


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
    traffic_percent: float | None = None,
) -> str:
    """``text`` (an environment file) with the promotion of ``package`` written into the
    service's block; raises :class:`PromotionError` when it cannot be written.
    ``traffic_percent``: the canary's share (None: :data:`DEFAULT_TRAFFIC_PERCENT`), refused
    for a service with a shadow variant (the shadow is promoted; it takes no share)."""
    name = model_name(service, version)
    _refuse(spec, service=service, version=version, traffic_percent=traffic_percent)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    block = _service_block(lines, service)
    models, items = _list(lines, block, "models", service)
    edits: list[tuple[int, int, list[str]]] = [
        (models.end, models.end, _package_lines(items[0].indent, name, package))
    ]
    if spec.shadow_variants:
        edits += _shadow_edits(lines, block, spec, service=service, name=name)
    else:
        percent = DEFAULT_TRAFFIC_PERCENT if traffic_percent is None else traffic_percent
        edits.append(
            _canary_edit(lines, block, spec, service=service, version=version, percent=percent)
        )
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start:end] = new
    return "".join(lines)


def _refuse(
    spec: ServiceConfig, *, service: str, version: int, traffic_percent: float | None
) -> None:
    """PromotionError when the service cannot take this promotion."""
    name = model_name(service, version)
    if any(model.name == name for model in spec.models):
        raise PromotionError(f"model {name!r} already exists: version {version} is promoted")
    if spec.inference_components is not None:
        raise PromotionError(
            f"service {service!r} hosts inference components: add the model and point a "
            "component at it by hand"
        )
    if spec.async_inference is not None:
        raise PromotionError(
            f"service {service!r} is an asynchronous endpoint (one variant, no shadow: no "
            "canary beside it): add the model and point its variant at it by hand"
        )
    if spec.shadow_variants and traffic_percent is not None:
        raise PromotionError(
            f"--traffic-percent (PERCENT=): service {service!r} has a shadow variant, which is "
            "promoted instead of a canary and takes no share of the traffic: leave it out"
        )


def _shadow_edits(
    lines: list[str], block: Block, spec: ServiceConfig, *, service: str, name: str
) -> list[tuple[int, int, list[str]]]:
    """The first shadow variant serves ``name``; the model it served goes if unused."""
    first = _list(lines, block, "shadow_variants", service)[1][0]
    edits: list[tuple[int, int, list[str]]] = []
    for index in range(first.start, first.end):
        replaced = _set(lines[index], "model", name)
        if replaced is not None:
            edits.append((index, index + 1, [replaced]))
            break
    old = spec.shadow_variants[0].model
    if not _used_elsewhere(spec, old):
        for item in _list(lines, block, "models", service)[1]:
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
    service: str,
    version: int,
    percent: float,
) -> tuple[int, int, list[str]]:
    """A copy of the first variant named ``pkg-v<version>``, serving the package's model
    with ``percent`` of the traffic."""
    if not spec.variants:
        raise PromotionError("the service has no variants: nothing to send traffic to the model")
    variants, [first, *_] = _list(lines, block, "variants", service)
    weights = [v.initial_weight for v in spec.variants]
    weight = _weight(canary_weight(weights, percent))
    if float(weight) == 0:
        raise PromotionError(
            f"--traffic-percent {percent:g} rounds the canary's weight to 0 (two decimals, "
            f"next to a total weight of {_weight(sum(weights))}): give at least "
            f"{smallest_percent(weights):g}"
        )
    name = model_name(service, version)
    values = {"name": variant_name(version), "model": name, "initial_weight": weight}
    copied = []
    for line in lines[first.start : first.end]:
        shallow = _indent(line) <= first.indent + 2  # the variant's own keys, not nested ones
        edited = (_set(line, key, value) for key, value in values.items()) if shallow else ()
        copied.append(next((e for e in edited if e is not None), line))
    return variants.end, variants.end, copied


def validate(config_dir: Path, env: str, text: str) -> EnvConfig:
    """The environment as the new ``text`` defines it, validated as ``config_dir``'s file
    (named so in every problem) next to the directory's other environments (a name copied
    from one of them is refused); raises ConfigError."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"{env}.yaml"
        path.write_text(text, encoding="utf-8")
        return load_environment(
            path,
            display=environment_file(config_dir, env),
            other_environments=known_environments(config_dir),
        )


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
    """The package of ``--version`` (and ``--group``), or of ``--arn``, whose version must be
    ``--version``'s and which names the group itself."""
    if args.arn is not None and args.group is not None:
        raise PromotionError("--group with --arn: the arn names the group: remove --group")
    try:
        if args.arn is None:
            return ModelPackageSpec(version=int(args.version), group=args.group)
        package = ModelPackageSpec(arn=args.arn)
    except ValueError as exc:
        raise PromotionError(str(exc)) from None
    if package.package_version != int(args.version):
        raise PromotionError(
            f"--version {args.version} is not the version of --arn "
            f"({package.package_version}): give the same one"
        )
    return package


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
    parser.add_argument(
        "--arn", help="the versioned package's ARN (another account's registry; not with --group)"
    )
    parser.add_argument(
        "--traffic-percent",
        type=float,
        default=None,  # None: not given (the default is DEFAULT_TRAFFIC_PERCENT; a shadow: none)
        help="share of the traffic for the canary variant (default 10; refused for a shadow)",
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
    """The environment file, its configuration and the package; PromotionError if bad,
    InvalidConfigError when the configuration does not load as it is."""
    if not _ENV.match(args.env):
        raise PromotionError(f"{args.env!r} is not an environment name")
    known = known_environments(args.config_dir) if args.config_dir.is_dir() else []
    if args.env not in known:
        raise PromotionError(
            f"unknown environment {args.env!r} (known: {', '.join(known) or 'none'})"
        )
    if not _VERSION.match(args.version):
        raise PromotionError(f"VERSION {args.version!r} is not a package version (1, 2, ...)")
    if args.group is not None and not re.match(MODEL_PACKAGE_GROUP_PATTERN, args.group):
        raise PromotionError(f"{args.group!r} is not a model package group name")
    if args.traffic_percent is not None and not 0 < args.traffic_percent <= 50:
        raise PromotionError("--traffic-percent must be more than 0 and at most 50")
    package = _package(args)
    try:
        [config] = load_environments(args.config_dir, only=args.env)
    except ConfigError as exc:
        raise InvalidConfigError("the configuration does not load as it is", exc.problems) from None
    if args.service not in config.services:
        raise PromotionError(
            f"unknown service {args.service!r} in {args.env} "
            f"(services: {', '.join(config.services) or 'none'})"
        )
    return args.config_dir / f"{args.env}.yaml", config, package


def _change(
    args: argparse.Namespace, path: Path, config: EnvConfig, package: ModelPackageSpec
) -> tuple[str, str]:
    """The environment file's text and its promoted text, validated; PromotionError if it
    cannot be written, InvalidConfigError if it does not validate."""
    shown = environment_file(args.config_dir, args.env)
    old = path.read_text(encoding="utf-8")
    try:
        new = promoted_text(
            old,
            config.services[args.service],
            service=args.service,
            version=package.package_version,
            package=package,
            traffic_percent=args.traffic_percent,
        )
    except LayoutError as exc:
        raise PromotionError(f"{shown}: {exc}") from None
    try:
        validate(args.config_dir, args.env, new)
    except ConfigError as exc:
        raise InvalidConfigError("the change would not validate", exc.problems) from None
    return old, new


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


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
    try:  # ValueError: a malformed AWS_* setting botocore rejects (AWS_ENDPOINT_URL=not-a-url)
        status = approval_status(boto3.client("sagemaker", region_name=config.region), arn)
    except (BotoCoreError, ClientError, ValueError) as exc:
        print(f"DescribeModelPackage {arn} failed: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    if status != APPROVED:
        print(f"{arn} is {status}, not {APPROVED}: approve it first", file=sys.stderr)
        return EXIT_FAILED
    print(f"{arn} is {APPROVED}")
    return None


def _write(args: argparse.Namespace, path: Path, old: str, new: str) -> int:
    """``new`` written unless ``--dry-run`` (one line if that fails), then the diff."""
    if not args.dry_run:
        try:
            if not os.access(path.resolve(), os.W_OK):  # a read-only file is not replaced
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            write_atomically(path, new)
        except OSError as exc:
            shown = environment_file(args.config_dir, args.env)
            print(
                f"promote: cannot write {shown}: {exc.strerror or _one_line(exc)}: it is "
                "left as it was",
                file=sys.stderr,
            )
            return EXIT_FAILED
    print(diff(old, new, args.env), end="")
    if not args.dry_run:
        print(f"wrote config/{args.env}.yaml: open a pull request (review report, gates, pipeline)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        path, config, package = _inputs(args)
        old, new = _change(args, path, config, package)
    except PromotionError as exc:
        print(f"promote: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidConfigError as exc:
        for problem in exc.problems:
            print(f"promote: {exc.context}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # reading the file, or the scratch file validate writes
        print(f"promote: {_one_line(exc)}: nothing written", file=sys.stderr)
        return EXIT_FAILED
    if args.check and (code := _check(config, args.service, package)) is not None:
        return code
    return _write(args, path, old, new)


if __name__ == "__main__":
    sys.exit(main())
