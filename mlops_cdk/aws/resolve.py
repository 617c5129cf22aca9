"""Resolving many values at once: each call into the CDK runtime is a jsii round trip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk


def resolve_each(stack: cdk.Stack, values: Sequence[Any]) -> list[Any]:
    """``[stack.resolve(value) for value in values]`` in one call into the CDK runtime. By
    position in an object, not as an array: resolving an array drops the elements that resolve
    to ``undefined``, which would shift the others."""
    if not values:
        return []
    resolved = stack.resolve({str(index): value for index, value in enumerate(values)}) or {}
    return [resolved.get(str(index)) for index in range(len(values))]
