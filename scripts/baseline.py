"""Build a service's drift baseline from its training data: ``make baseline SERVICE=<name>
DATA=<train.csv> [ENV=<env>]``.

The CSV has a header; every column the endpoint receives (all but ``--exclude``, e.g. the label)
is a payload column, in this order (CSV requests carry no header). A column is numeric when
every non-empty value is a number (``--categorical`` forces categorical, e.g. codes). Writes
the baseline JSON (mlops_cdk/functions/drift/drift_stats.py, schema version 1: quantile bin
edges and shares plus a KS reference sample per numeric feature, category shares per categorical
one, row count, date, SHA-256 of the source file) and prints the ``aws s3 cp`` command that
publishes it to ``s3://<bucket>/baselines/<service>/baseline.json`` (publishers only may write
there).

Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import json
import os
import re
import shlex
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "mlops_cdk" / "functions" / "drift"))
sys.path.insert(1, str(ROOT))  # mlops_cdk, for --env

import drift_stats as ds  # noqa: E402 - the Lambda's module, by path

from mlops_tools.files import write_atomically  # noqa: E402 - after ROOT is on sys.path

# services.<name> (mlops_cdk/config/service.py, SERVICE_NAME_PATTERN)
SERVICE_NAME = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")
BUCKET_OUTPUT = "ModelArtifactBucketName"  # mlops_cdk/app/foundation.py


class BadInput(Exception):  # noqa: N818 - reported as "bad input"
    """One line for the user."""


def _names(raw: str | None) -> list[str]:
    return [n.strip() for n in (raw or "").split(",") if n.strip()]


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a UTF-8 CSV file (a byte-order mark is allowed)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a directory, not a CSV file") from None
    except OSError as err:
        raise BadInput(f"{path}: cannot read: {err.strerror}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise BadInput(f"{path}: the file is UTF-16 encoded: save it as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise BadInput(
            f"{path}:{line}: the file is not UTF-8 (byte 0x{raw[err.start]:02x}): save it as UTF-8"
        ) from None
    records = list(_records(path, text))
    if not records:
        raise BadInput(f"{path}: the file is empty: expected a header line and data rows")
    (first, names), data = records[0], records[1:]
    header = [name.strip() for name in names]
    if not all(header) or len(set(header)) != len(header):
        raise BadInput(
            f"{path}:{first}: the header needs distinct, non-empty column names: {names}"
        )
    if all(ds.parse_number(name) is not None for name in header):
        raise BadInput(
            f"{path}:{first}: the first line is all numbers: the file needs a header line"
        )
    if not data:
        raise BadInput(f"{path}: only a header line: no data rows")
    for line, row in data:
        if len(row) != len(header):
            raise BadInput(
                f"{path}:{line}: {len(row)} values, the header has {len(header)} columns"
            )
    return header, [row for _, row in data]


def _records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank records with the file line each starts on (a quoted value may span
    lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for row in reader:
            if any(v.strip() for v in row):
                yield line, row
            line = reader.line_num + 1
    except csv.Error as err:
        reason = str(err)
        if "field limit" in reason:
            reason = f"a value longer than {csv.field_size_limit()} characters: unterminated quote?"
        raise BadInput(f"{path}:{line}: {reason}") from None


def _check_known(names: Sequence[str], columns: Sequence[str], option: str) -> None:
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise BadInput(
            f"{option}: unknown feature {', '.join(repr(n) for n in unknown)} "
            f"(columns: {', '.join(columns)})"
        )


def is_numeric(values: Sequence[str]) -> bool:
    present = [v for v in values if v.strip()]
    return bool(present) and all(ds.parse_number(v) is not None for v in present)


def build(
    *,
    service: str,
    path: Path,
    exclude: Sequence[str] = (),
    features: Sequence[str] = (),
    features_from: str = "--features",
    categorical: Sequence[str] = (),
    bins: int = ds.DEFAULT_BINS,
    now: datetime | None = None,
) -> ds.Baseline:
    header, rows = read_csv(path)
    _check_known(exclude, header, "--exclude")
    columns = [c for c in header if c not in exclude]
    if not columns:
        raise BadInput("--exclude: leaves no payload column")
    _check_known(features, columns, features_from)
    _check_known(categorical, columns, "--categorical")
    if outside := [n for n in categorical if features and n not in features]:
        raise BadInput(
            f"--categorical: {', '.join(outside)} {'is' if len(outside) == 1 else 'are'} "
            f"not among the features ({', '.join(features)})"
        )
    references: dict[str, ds.Reference] = {}
    for name in features or columns:
        index = header.index(name)
        values = [row[index] for row in rows]
        if name not in categorical and is_numeric(values):
            references[name] = ds.numeric_reference((ds.parse_number(v) for v in values), bins=bins)
        else:
            references[name] = ds.categorical_reference(ds.category(v) for v in values)
    return ds.Baseline(
        service=service,
        columns=tuple(columns),
        features=references,
        row_count=len(rows),
        created=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        source=path.name,
        source_sha256=ds.file_sha256(str(path)),
    )


def publish_command(out: Path, key: str, env: str | None, bucket: str | None) -> str:
    """The exact ``aws s3 cp`` command (the bucket from the Foundation's output when only the
    environment is known)."""
    if bucket:
        destination = shlex.quote(f"s3://{bucket}/{key}")
    elif env:
        # A double-quoted query inside $(...) inside double quotes is valid shell; env names
        # are [a-z0-9-] (the config loader checked this one).
        lookup = (
            f"aws cloudformation describe-stacks --stack-name {env}-Foundation --query "
            f"\"Stacks[0].Outputs[?OutputKey=='{BUCKET_OUTPUT}'].OutputValue\" --output text"
        )
        destination = f'"s3://$({lookup})/{key}"'
    else:
        destination = f"s3://<bucket: the <env>-Foundation output {BUCKET_OUTPUT}>/{key}"
    return f"aws s3 cp {shlex.quote(str(out))} {destination}"


def _configured_features(env: str, service: str, config_dir: Path) -> tuple[str, list[str]]:
    """Where the service's drift.features are (``config/<env>.yaml: services.<service>.drift.
    features``) and what they are; the environment and the service must exist, whether or not
    the features are taken from there."""
    from mlops_cdk.config import ConfigError, load_environment  # imports aws-cdk-lib
    from mlops_cdk.config.loader import environment_file, known_environments, unknown_environment

    if unknown := unknown_environment(env, known_environments(config_dir)):
        raise BadInput(f"ENV: {unknown}")
    shown = environment_file(config_dir, env)
    try:
        config = load_environment(config_dir / f"{env}.yaml", display=shown)
    except ConfigError as err:
        raise BadInput(str(err).splitlines()[0]) from None
    spec = config.services.get(service)
    if spec is None:
        known = ", ".join(config.services) or "none"
        raise BadInput(f"SERVICE: {service!r} is not a service of {shown} (services: {known})")
    where = f"{shown}: services.{service}.drift.features"
    return where, list(spec.drift.features or []) if spec.drift else []


def _features(args: argparse.Namespace) -> tuple[list[str], str]:
    """The features to keep and where they come from: --features, which must keep every
    configured drift feature (the drift check refuses a baseline without one), else the
    configured ones."""
    features = _names(args.features)
    if not args.env:
        return features, "--features"
    where, configured = _configured_features(args.env, args.service, args.config_dir)
    if not features:
        return configured, where
    if missing := [n for n in configured if n not in features]:
        raise BadInput(
            f"--features: leaves out {', '.join(missing)}, which {where} checks for drift "
            "(the check refuses a baseline without them)"
        )
    return features, "--features"


def _check_out(out: Path, data: Path) -> None:
    if out.is_dir():
        raise BadInput(f"--out: {out} is a folder: give a file, e.g. {out / 'baseline.json'}")
    try:
        same = out.exists() and os.path.samefile(out, data)
    except OSError:
        same = False  # no data file: reading it says so
    if same:
        raise BadInput(f"--out: {out} is the data file: the baseline would overwrite it")


def write_baseline(out: Path, text: str) -> None:
    """``text`` to ``out`` whole or not at all (a temporary file next to it, then renamed)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise BadInput(f"--out: {out.parent} is a file, not a folder") from None
    except OSError as err:
        raise BadInput(f"--out: cannot create the folder of {out}: {err.strerror}") from None
    try:
        write_atomically(out, text)
    except OSError as err:
        raise BadInput(f"--out: cannot write {out}: {err.strerror or err}") from None


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--data", required=True, type=Path, help="training CSV with a header")
    parser.add_argument("--env", help="environment (config/<env>.yaml): checks the service")
    parser.add_argument("--config-dir", type=Path, default=ROOT / "config")
    parser.add_argument("--exclude", help="columns the endpoint does not receive, e.g. the label")
    parser.add_argument("--features", help="features to keep (default: drift.features or all)")
    parser.add_argument("--categorical", help="columns to treat as categories")
    parser.add_argument("--bins", type=int, default=ds.DEFAULT_BINS)
    parser.add_argument("--bucket", help="the bucket, if known (default: the Foundation output)")
    parser.add_argument("--out", type=Path, help="default .baselines/<env>/<service>/baseline.json")
    return parser.parse_args(argv)


def main(argv: Sequence[str], now: datetime | None = None) -> int:
    args = parse_args(argv)
    try:
        if not SERVICE_NAME.match(args.service):
            raise BadInput(f"SERVICE: {args.service!r} is not a service name")
        if not 2 <= args.bins <= ds.MAX_BINS:
            raise BadInput(f"--bins: {args.bins} is not between 2 and {ds.MAX_BINS}")
        out = (
            args.out or Path(".baselines") / (args.env or "local") / args.service / "baseline.json"
        )
        _check_out(out, args.data)
        features, features_from = _features(args)
        baseline = build(
            service=args.service,
            path=args.data,
            exclude=_names(args.exclude),
            features=features,
            features_from=features_from,
            categorical=_names(args.categorical),
            bins=args.bins,
            now=now,
        )
        document: dict[str, Any] = baseline.to_json()
        write_baseline(out, json.dumps(document, indent=1) + "\n")
    except BadInput as err:
        print(f"baseline: {err}", file=sys.stderr)
        return 2
    key = f"baselines/{args.service}/baseline.json"  # mlops_cdk.config.drift_check.baseline_key
    print(f"baseline of {args.service}: {baseline.row_count} rows of {args.data} -> {out}")
    for name, reference in baseline.features.items():
        detail = (
            f"{len(reference.edges) + 1} bins"
            if isinstance(reference, ds.NumericReference)
            else f"{len(reference.frequencies)} categories"
        )
        print(f"  {name}: {reference.kind}, {detail}")
    print("publish it (with a publisher role's credentials):")
    print(f"  {publish_command(out, key, args.env, args.bucket)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
