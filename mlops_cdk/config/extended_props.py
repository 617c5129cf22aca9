"""Configuration sections that are a construct's props plus configuration-only fields.

Such a section is a dataclass subclass of the props (``DriftConfig(DriftSpec)`` adds
``retrain``): the props' fields, bounds and checks are declared once, in the props. Pydantic
reads the attribute docstrings of the class itself only (not of its dataclass bases), so
:func:`extended_props_config` gives the subclass's JSON Schema the props' own field descriptions.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from mlops_cdk.props.fields import PROPS_CONFIG


def extended_props_config(props: type[Any]) -> Any:
    """``PROPS_CONFIG`` for a subclass of ``props``: its schema's properties without a
    description take the one ``props`` declares."""

    def describe(schema: dict[str, Any], cls: type[Any]) -> None:
        declared = TypeAdapter(props).json_schema()["properties"]
        for name, prop in schema.get("properties", {}).items():
            description = declared.get(name, {}).get("description")
            if description is not None:
                prop.setdefault("description", description)

    return {**PROPS_CONFIG, "json_schema_extra": describe}
