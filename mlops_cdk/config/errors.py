"""The one error type configuration problems are reported with."""

from __future__ import annotations


class ConfigError(Exception):
    """Invalid configuration: each line names the file, the field path and the reason.

    ``app.py`` prints ``str(error)`` and exits non-zero; nothing is synthesized.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class FieldProblem(ValueError):  # noqa: N818 - read as "the problem is in field X"
    """Raised by a cross-field (model) validator to name the field at fault.

    Pydantic reports model-validator errors at the model's own location; the error formatter
    appends ``path`` (dotted, relative to that model) so the message still names the field.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)
