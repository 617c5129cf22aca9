"""Generated data for ``make drift-demo`` and ``make bench-drift``: churn-like training rows and
SageMaker data-capture lines (JSON Lines, ``captureData.endpointInput``; see
mlops_cdk/functions/drift/drift.py for the format and its source)."""

from __future__ import annotations

import base64
import json
import random

COLUMNS = ("tenure", "monthly_charges", "support_calls", "plan", "region")
PLANS = ("basic", "pro", "family")
REGIONS = ("north", "south", "east", "west")

Row = tuple[float, float, int, str, str]


def rows(count: int, seed: int, *, drift: float = 0.0) -> list[Row]:
    """``count`` rows; ``drift`` (0-1) moves tenure and charges and the plan mix."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not secrets
    plan_weights = (0.5 - 0.3 * drift, 0.3, 0.2 + 0.3 * drift)
    return [
        (
            round(max(0.0, rng.gauss(24 + 18 * drift, 8)), 1),
            round(rng.gauss(70 + 10 * drift, 15), 2),
            min(10, int(rng.expovariate(1 / 1.5))),
            rng.choices(PLANS, plan_weights)[0],
            rng.choice(REGIONS),
        )
        for _ in range(count)
    ]


def csv_text(row: Row) -> str:
    return ",".join(str(v) for v in row)


def csv_file(header: tuple[str, ...], data: list[Row]) -> str:
    return "\n".join([",".join(header), *(csv_text(r) for r in data)]) + "\n"


def capture_line(payload: str, content_type: str = "text/csv", encoding: str = "CSV") -> str:
    """One data-capture record as SageMaker writes it."""
    data = base64.b64encode(payload.encode()).decode() if encoding == "BASE64" else payload
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type,
                    "mode": "INPUT",
                    "data": data,
                    "encoding": encoding,
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": '{"churn_probability": 0.12}',
                    "encoding": "JSON",
                },
            },
            "eventMetadata": {
                "eventId": "0b7f3f8e-5d5e-4f0e-9a57-3c8b7d1f6a11",
                "inferenceTime": "2026-05-01T09:30:00Z",
            },
            "eventVersion": "0",
        },
        separators=(",", ":"),
    )
