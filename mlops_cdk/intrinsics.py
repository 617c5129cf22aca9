"""Render resolved CloudFormation values as the readable strings cdk-nag uses in finding ids."""

from __future__ import annotations

import json
from typing import Any


def render_resource_value(value: Any, *, strict: bool = False) -> str:
    """``{"Fn::GetAtt": ["B", "Arn"]}`` -> ``<B.Arn>``, ``{"Ref": "X"}`` -> ``<X>``,
    ``{"Fn::ImportValue": "name"}`` -> ``name``, joins
    concatenated. Other intrinsics raise with ``strict``, else render as sorted JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, args),) = value.items()
        if function == "Fn::GetAtt":
            return f"<{args[0]}.{args[1]}>"
        if function == "Ref":
            return f"<{args}>"
        if function == "Fn::ImportValue" and isinstance(args, str):
            return args  # cdk-nag shows an import as its export name
        if function == "Fn::Join":
            return str(args[0]).join(render_resource_value(p, strict=strict) for p in args[1])
    if strict:
        raise ValueError(f"cannot render {value!r} as a cdk-nag resource string")
    return json.dumps(value, sort_keys=True)
