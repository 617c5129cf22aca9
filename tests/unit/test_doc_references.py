"""References from code, configuration and alarm texts to the docs resolve: every
``docs/<page>.md`` named exists, a section named after it (``docs/x.md, "Heading"``) is a heading
of that page, and ``README, "Heading"`` is a heading of the README (most sections moved to the
docs site; an alarm description that sends an operator to a missing section is a dead end)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *sorted((ROOT / "mlops_cdk").rglob("*.py")),
    *sorted((ROOT / "mlops_cdk").rglob("*.yaml")),
    *sorted((ROOT / "mlops_tools").rglob("*.py")),
    *sorted((ROOT / "scripts").glob("*.py")),
    *sorted((ROOT / "config").glob("*.yaml")),
    *sorted((ROOT / "tests" / "fixtures" / "config").glob("*.yaml")),
    ROOT / "Makefile",
    ROOT / "app.py",
]
# The reference pages scripts/docs_reference.py generates (named in its docstring).
GENERATED = "docs/reference/"
GENERATOR = ROOT / "scripts" / "docs_reference.py"
# A line break inside a comment, docstring or implicitly concatenated string literal.
_BREAK = re.compile(r"""["']\s*\n\s*["']|\s*\n\s*(?:#\s*)?""")
_PAGE = re.compile(r"\bdocs/[\w/-]+\.md\b")
_SECTION = re.compile(r"""(README|docs/[\w/-]+\.md)(?:'s)?,? \\?"([^"\\]+)\\?\"""")
_PARENTHESIZED = re.compile(r"(docs/[\w/-]+\.md) \(([A-Z][^)]+)\)")  # docs/x.md (Heading)


def headings(page: Path) -> list[str]:
    return [
        line.lstrip("#").strip()
        for line in page.read_text(encoding="utf-8").splitlines()
        if re.match(r"#{1,4} ", line)
    ]


def references(text: str) -> list[tuple[str, str | None]]:
    """``(page, section or None)`` for each reference in ``text``, lines joined first."""
    joined = re.sub(" {2,}", " ", _BREAK.sub(" ", text))
    found: list[tuple[str, str | None]] = [(m[1], m[2]) for m in _SECTION.finditer(joined)]
    found += [(m[1], m[2]) for m in _PARENTHESIZED.finditer(joined)]
    found += [(m[0], None) for m in _PAGE.finditer(joined)]
    return found


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_docs_reference_resolves(source: Path) -> None:
    problems = []
    for page, section in references(source.read_text(encoding="utf-8")):
        path = ROOT / ("README.md" if page == "README" else page)
        if page.startswith(GENERATED):  # written by `make docs`, not committed
            if f"``{Path(page).name}``" not in GENERATOR.read_text(encoding="utf-8"):
                problems.append(f"{page}: {GENERATOR.name} does not write it")
        elif not path.is_file():
            problems.append(f"{page}: no such page")
        elif section is not None and not any(h.startswith(section) for h in headings(path)):
            problems.append(f'{page}, "{section}": no such section')
    assert not problems, problems


def test_the_scan_sees_references_across_lines_and_flags_stale_ones() -> None:
    text = (
        'x = ("see docs/cost.md, "\n    \'"Spot capacity")\'\n# see README, "Drift\n# check"\n'
        "# docs/pipeline.md (Failure\n# notification) and docs/compliance.md (generated)\n"
    )
    assert references(text) == [
        ("docs/cost.md", "Spot capacity"),
        ("README", "Drift check"),
        ("docs/pipeline.md", "Failure notification"),
        ("docs/cost.md", None),
        ("docs/pipeline.md", None),
        ("docs/compliance.md", None),
    ]
    assert not any(h.startswith("Drift check") for h in headings(ROOT / "README.md"))
