"""The session's second synth (tests/conftest.py ``second_synth``), run as cdk.json runs the app:
``python -O -m tests.second_synth OUTDIR`` (optimized: no jsii type checks, no asserts).

Every fixture environment with acknowledgements recorded but not applied and findings reported
but not failing; writes the cloud assembly to OUTDIR and the recorded acknowledgements to
OUTDIR/acknowledgements.json."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from mlops_cdk.app.builder import build_app
from mlops_cdk.compliance import record_acknowledgements_only
from mlops_cdk.config import load_environments
from tests.helpers import CONFIG_DIR, cdk_context

RECORDS = "acknowledgements.json"


def main(outdir: Path) -> None:
    with record_acknowledgements_only() as records:
        app, _ = build_app(
            load_environments(CONFIG_DIR),
            outdir=str(outdir),
            context=cdk_context(),
            fail_on_findings=False,
        )
        app.synth()
    (outdir / RECORDS).write_text(json.dumps([dataclasses.asdict(r) for r in records]))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
