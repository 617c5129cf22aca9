#!/usr/bin/env python3
"""The one line `make synth` ends with, read from the cloud assembly it wrote.

    synth: 3 environments (dev 7 stacks, prod 7, stage 7), 21 stacks, 1,234 resources,
    187 findings acknowledged, every gate passed -> cdk.out

Environments are the assembly's nested (stage) assemblies, stacks its CloudFormation stack
artifacts (a stack outside any stage, such as the pipeline's, counts under "top-level"),
resources the templates' ``Resources``, and acknowledged findings the entries of the
``aws:cdk:acknowledged-rules`` metadata (``cdk.Validations.of(scope).acknowledge``, recorded in
the manifest or each stack's ``additionalMetadataFile``), aws-cdk-lib's own
``CloudFormation-Validate::`` ones left out. Only JSON is read: no aws_cdk import, so it takes
milliseconds. ``python scripts/synth_summary.py [cdk.out]``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"  # cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
CDK_BUILT_IN = "CloudFormation-Validate::"
TOP_LEVEL = "top-level"


@dataclass
class Summary:
    stacks: Counter[str] = field(default_factory=Counter)  # per environment
    resources: int = 0
    acknowledged: int = 0

    def line(self, outdir: str) -> str:
        envs = sorted(self.stacks, key=lambda env: (env == TOP_LEVEL, env))
        per_env = ", ".join(
            f"{env} {self.stacks[env]}{' stacks' if i == 0 else ''}" for i, env in enumerate(envs)
        )
        named = [env for env in envs if env != TOP_LEVEL]
        noun = "environment" if len(named) == 1 else "environments"
        return (
            f"synth: {len(named)} {noun} ({per_env}), {sum(self.stacks.values())} stacks, "
            f"{self.resources:,} resources, {self.acknowledged:,} findings acknowledged, "
            f"every gate passed -> {outdir}"
        )


def _acknowledged(entries: dict[str, list[dict[str, Any]]]) -> int:
    return sum(
        1
        for path_entries in entries.values()
        for entry in path_entries
        if entry.get("type") == ACKNOWLEDGED
        for finding in dict(entry.get("data") or {})
        if not finding.startswith(CDK_BUILT_IN)
    )


def read(outdir: Path, summary: Summary | None = None, env: str = TOP_LEVEL) -> Summary:
    """Add the assembly in ``outdir`` (and the nested ones) to ``summary``."""
    summary = summary or Summary()
    manifest = json.loads((outdir / "manifest.json").read_text())
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        if artifact.get("type") == "cdk:cloud-assembly":
            nested = properties.get("displayName") or artifact.get("displayName") or artifact_id
            read(outdir / properties["directoryName"], summary, nested.split("/")[-1])
        elif artifact.get("type") == "aws:cloudformation:stack":
            template = json.loads((outdir / properties["templateFile"]).read_text())
            summary.stacks[env] += 1
            summary.resources += len(template.get("Resources", {}))
            summary.acknowledged += _acknowledged(artifact.get("metadata", {}))
            extra = artifact.get("additionalMetadataFile")
            if extra:
                summary.acknowledged += _acknowledged(json.loads((outdir / extra).read_text()))
    return summary


def main(argv: list[str]) -> int:
    outdir = argv[0] if argv else "cdk.out"
    if not (Path(outdir) / "manifest.json").is_file():
        print(
            f"synth summary: no cloud assembly in {outdir}/ (manifest.json missing)",
            file=sys.stderr,
        )
        return 1
    print(read(Path(outdir)).line(outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
