"""Every constructor at most 60 lines (issue 22): a long ``__init__`` is split into named private
methods (``_grants``, ``_alarms``, ``_outputs``, ...) that read as the steps it takes.

What is scanned: every ``.py`` file under ``mlops_cdk/`` and ``mlops_tools/``, except the function
assets under ``mlops_cdk/functions/`` (Lambda code, not the package). Every ``__init__`` of a
class, nested classes included.

How a constructor is counted: the physical lines from its ``def`` line (decorators excluded) to
the last line of its body, inclusive, minus the lines of its docstring, if it has one. Blank
lines and comments inside the body count: they are part of what a reader has to read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = (ROOT / "mlops_cdk", ROOT / "mlops_tools")
EXCLUDED = (ROOT / "mlops_cdk" / "functions",)
MAX_LINES = 60


@dataclass(frozen=True)
class Constructor:
    path: str
    line: int
    qualname: str
    lines: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.qualname} {self.lines} lines"


def constructor_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the ``def`` line to the end of the body, inclusive, less the docstring's."""
    assert node.end_lineno is not None
    total = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        assert first.end_lineno is not None
        total -= first.end_lineno - first.lineno + 1
    return total


def constructors(source: str, path: str) -> Iterator[Constructor]:
    """Every ``__init__`` defined directly in a class body of ``source`` (any nesting depth)."""

    def visit(node: ast.AST, prefix: str) -> Iterator[Constructor]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = f"{prefix}{child.name}"
                for item in child.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                        item.name == "__init__"
                    ):
                        yield Constructor(
                            path, item.lineno, f"{name}.__init__", constructor_lines(item)
                        )
                yield from visit(child, f"{name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(child, f"{prefix}{child.name}.<locals>.")
            else:
                yield from visit(child, prefix)

    yield from visit(ast.parse(source, filename=path), "")


def too_long(source: str, path: str) -> list[Constructor]:
    return [found for found in constructors(source, path) if found.lines > MAX_LINES]


def scanned_files() -> list[Path]:
    return sorted(
        path
        for root in SCANNED
        for path in root.rglob("*.py")
        if not any(path.is_relative_to(excluded) for excluded in EXCLUDED)
    )


def test_every_constructor_is_at_most_60_lines() -> None:
    offenders = [
        str(found)
        for path in scanned_files()
        for found in too_long(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not offenders, (
        f"constructors over {MAX_LINES} lines (split them into named private methods):\n"
        + "\n".join(offenders)
    )


def test_the_scan_sees_the_package_constructors() -> None:
    """The scan is not vacuous: it finds the package's constructs and skips the Lambda code."""
    files = scanned_files()
    assert ROOT / "mlops_cdk" / "constructs" / "endpoint.py" in files
    assert ROOT / "mlops_tools" / "preflight.py" in files
    assert not any(path.is_relative_to(ROOT / "mlops_cdk" / "functions") for path in files)
    found = {
        found.qualname
        for path in files
        for found in constructors(path.read_text(encoding="utf-8"), str(path))
    }
    assert {"WeightedEndpoint.__init__", "ServiceStack.__init__"} <= found


def _body(statements: int, *, indent: int = 8) -> str:
    return "\n".join(f"{' ' * indent}self.x{n} = {n}" for n in range(statements))


def test_control_a_long_constructor_is_flagged_with_file_line_and_count() -> None:
    source = (
        "class Long:\n"
        "    def __init__(self) -> None:\n"
        f"{_body(MAX_LINES)}\n"  # def line + 60 statements = 61 lines
    )
    assert [str(found) for found in too_long(source, "synthetic.py")] == [
        "synthetic.py:2 Long.__init__ 61 lines"
    ]


def test_control_exactly_at_the_limit_passes_and_the_docstring_does_not_count() -> None:
    docstring = '        """A docstring\n\n        of several lines\n        """\n'
    source = f"class AtLimit:\n    def __init__(self) -> None:\n{docstring}{_body(MAX_LINES - 1)}\n"
    (found,) = constructors(source, "synthetic.py")
    assert found.lines == MAX_LINES
    assert too_long(source, "synthetic.py") == []


def test_control_nested_classes_and_methods_are_not_constructors() -> None:
    source = (
        "class Outer:\n"
        "    class Inner:\n"
        "        def __init__(self) -> None:\n"
        f"{_body(MAX_LINES + 5, indent=12)}\n"
        "\n"
        "    def build(self) -> None:\n"
        f"{_body(MAX_LINES + 5, indent=8)}\n"
        "\n"
        "def __init__() -> None:\n"
        f"{_body(MAX_LINES + 5, indent=4)}\n"
    )
    assert [str(found) for found in too_long(source, "synthetic.py")] == [
        "synthetic.py:3 Outer.Inner.__init__ 66 lines"
    ]
