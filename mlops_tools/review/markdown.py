"""Readable text for template values and GitHub-flavoured Markdown tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops_cdk.aws.cfn_values import export_key, reference
from mlops_tools.review.changes import exports

MISSING = "—"


@dataclass(frozen=True)
class Values:
    """Renders template values: ``${Logical.Attr}`` for references, joins and substitutions
    resolved, imports shown as ``${<exporting stack>:<Logical.Attr>}`` when the export is known.
    """

    exports: Mapping[str, tuple[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, templates: Mapping[str, Mapping[str, Any]]) -> Values:
        """A renderer that resolves imports of the exports of ``templates`` (stack -> template)."""
        found = {
            name: (stack, value)
            for stack, template in sorted(templates.items())
            for name, value in exports(template).items()
        }
        return cls(found)

    def text(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bool) or value is None:
            return json.dumps(value)
        if isinstance(value, int | float):
            return number(value)
        if isinstance(value, list):
            return ", ".join(self.text(item) for item in value)
        if isinstance(value, dict) and len(value) == 1:
            ((function, argument),) = value.items()
            rendered = self._intrinsic(function, argument)
            if rendered is not None:
                return rendered
        return json.dumps(value, sort_keys=True)

    def _intrinsic(self, function: str, argument: Any) -> str | None:
        found = reference({function: argument})
        if found is not None:
            return f"${{{'.'.join(p for p in found if p)}}}"
        if function == "Fn::Join" and _is_pair(argument) and isinstance(argument[1], list):
            return self.text(argument[0]).join(self.text(part) for part in argument[1])
        if function == "Fn::Sub":
            return self._sub(argument)
        if function == "Fn::ImportValue":
            return self._import(argument)
        return None

    def _sub(self, argument: Any) -> str | None:
        if isinstance(argument, str):
            return argument
        if _is_pair(argument) and isinstance(argument[0], str) and isinstance(argument[1], dict):
            text: str = argument[0]
            for name, value in argument[1].items():
                text = text.replace(f"${{{name}}}", self.text(value))
            return text
        return None

    def _import(self, argument: Any) -> str:
        name = export_key(argument)
        if name in self.exports:
            stack, value = self.exports[name]
            inner = self.text(value)
            if inner.startswith("${") and inner.endswith("}") and inner.count("${") == 1:
                return f"${{{stack}:{inner[2:-1]}}}"
        return f"${{import {name}}}"

    def label(self, export_name: str) -> str:
        """An export's name as shown for an import: ``<stack>:<Logical.Attr>`` when known."""
        return self._import(export_name)[2:-1]


def _is_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2


def number(value: float) -> str:
    """1 -> "1", 1.0 -> "1", 0.25 -> "0.25", 33.333 -> "33.3"."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3g}"


def code(text: str) -> str:
    """An inline code span that survives a table cell."""
    text = text.replace("\n", " ").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def codes(items: Iterable[str]) -> str:
    """Several values in one cell, one per line."""
    return "<br>".join(code(item) for item in items) or MISSING


def plain(text: str) -> str:
    """Free text (a reason, a description) for a table cell."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = [f"| {' | '.join(header)} |", f"|{'|'.join(' --- ' for _ in header)}|"]
    lines.extend(f"| {' | '.join(cell or MISSING for cell in row)} |" for row in rows)
    return lines


def before_after(before: str | None, after: str | None) -> str:
    """``x`` when unchanged, ``**x → y**`` when changed (``—`` for absent)."""
    if before == after:
        return before if before is not None else MISSING
    return f"**{before or MISSING} → {after or MISSING}**"
