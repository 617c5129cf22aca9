"""argparse types the operator tools share (smoke, preflight, batch-run, cost). Pure Python:
the cost tool imports it without boto3."""

from __future__ import annotations

import argparse
import math


def non_negative(value: str) -> float:
    """A finite number >= 0: ``nan`` and ``inf`` would make a bounded wait endless and a cost
    assumption meaningless, a negative one is neither a wait nor a volume."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be a finite number >= 0")
    return number


def non_empty(value: str) -> str:
    """A name that is not empty (an empty ``--role-arn`` would otherwise run as the caller, an
    empty name fall back to the default)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value
