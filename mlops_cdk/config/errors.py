"""The error types configuration problems are reported with."""

from __future__ import annotations

from collections.abc import Sequence

from mlops_cdk.props.errors import PropProblems


class ConfigError(Exception):
    """Invalid configuration: each line names the file, the field path and the reason.

    ``app.py`` prints ``str(error)`` and exits non-zero; nothing is synthesized.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class FieldProblems(PropProblems):
    """Every problem one cross-field (model) validator found, each as ``(path, message)``.

    Pydantic reports model-validator errors at the model's own location; the error formatter
    appends each ``path`` (dotted, relative to that model) so every line names its field, and a
    validator reports all its problems in one run instead of the first one only.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__(problems)
        # Pydantic prints the message: the reasons alone (the loader names each field).
        self.args = ("; ".join(message for _, message in self.problems),)


class FieldProblem(FieldProblems):
    """One problem, in the field at ``path`` (relative to the model that raises it)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__([(path, message)])


class Problems:
    """Collects a validator's problems; :meth:`raise_any` raises them together."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def merge(self, error: FieldProblems, prefix: str = "") -> None:
        """Add the problems of ``error`` (raised by a helper), under ``prefix``."""
        for path, message in error.problems:
            self.add(".".join(p for p in (prefix, path) if p), message)

    def raise_any(self) -> None:
        if self.items:
            raise FieldProblems(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)
