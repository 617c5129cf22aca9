"""The error props raise: one or more problems, each naming its field.

A library user reads the message (``data capture: capture_input: capture at least one of input
or output``); the configuration reports each problem at the field's own location in the file
(``config/dev.yaml: services.churn.data_capture.capture_input: ...``), because pydantic keeps
the exception a dataclass's ``__post_init__`` raises and the loader reads its ``problems``."""

from __future__ import annotations

from collections.abc import Sequence


class PropProblems(ValueError):  # noqa: N818 - read as "the problems are in fields X, Y"
    """Every problem one validation found, each as ``(field path, message)`` relative to the
    props (or model) that raises it."""

    def __init__(self, problems: Sequence[tuple[str, str]], *, subject: str = "") -> None:
        self.problems = list(problems)
        lines = "; ".join(f"{path}: {message}" if path else message for path, message in problems)
        super().__init__(f"{subject}: {lines}" if subject else lines)
