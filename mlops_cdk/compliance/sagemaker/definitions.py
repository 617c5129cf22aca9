"""A JSON definition a template holds as a string property (a state machine's
``DefinitionString``, a SageMaker pipeline's ``PipelineDefinitionBody``): a literal, or an
``Fn::Join`` whose references each become a placeholder ``\\0ref<i>\\0`` (index i of the
returned references), so the JSON parses and a rule can still tell which value was a
reference."""

from __future__ import annotations

import json
from typing import Any

MARK = "\u0000ref{}\u0000"


class UnreadableDefinition(ValueError):  # noqa: N818 - "the definition is unreadable"
    """A definition that is not JSON once its references are replaced by placeholders."""


def parse_definition(body: Any, field: str) -> tuple[dict[str, Any], list[Any]]:
    """``body`` (the value of the template property ``field``) parsed, and the references its
    placeholders stand for."""
    refs: list[Any] = []
    if isinstance(body, dict) and "Fn::Join" in body:
        separator, parts = body["Fn::Join"]
        pieces = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
            else:
                pieces.append(MARK.format(len(refs)))
                refs.append(part)
        body = separator.join(pieces)
    if not isinstance(body, str):
        raise UnreadableDefinition(f"{field} is neither a string nor an Fn::Join")
    try:
        parsed = json.loads(body.replace("\u0000", "\\u0000"))
    except json.JSONDecodeError as exc:
        raise UnreadableDefinition(str(exc)) from exc
    if not isinstance(parsed, dict):
        raise UnreadableDefinition("the definition is not an object")
    return parsed, refs


def reference(value: Any, refs: list[Any]) -> Any:
    """The template value a placeholder stands for (or the value itself)."""
    if isinstance(value, str) and value.startswith("\u0000ref") and value.endswith("\u0000"):
        index = value[4:-1]
        if index.isdigit() and int(index) < len(refs):
            return refs[int(index)]
    return value
