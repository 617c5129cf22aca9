"""Find, read and validate ``config/<env>.yaml`` files into :class:`EnvConfig` objects.

Every problem of every file is reported in one run, one line each:
``<file>: <field path>: <reason>``. Pydantic skips a model's cross-field checks while one of
its fields is invalid, so after a failed validation the offending values that can be left out
(unknown keys, invalid values of fields with a default) are removed and the file is validated
again, up to a few rounds: a typo and a cross-field problem are reported together.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from mlops_cdk.config.cross_file import cross_file_problems
from mlops_cdk.config.errors import ConfigError
from mlops_cdk.config.pipeline import PIPELINE_FILE, PipelineConfig
from mlops_cdk.config.schema import ENV_NAME_PATTERN, EnvConfig
from mlops_cdk.config.yaml_loader import read_yaml_mapping
from mlops_cdk.props.errors import PropProblems

# Conventional promotion order; other environments follow alphabetically.
_PREFERRED_ORDER = ("dev", "stage", "prod")
# Re-validation rounds after removing the values that failed (each round can only uncover
# problems in models whose fields all became valid).
_MAX_ROUNDS = 4
_YAML_SUFFIXES = (".yaml", ".yml")
M = TypeVar("M", bound=BaseModel)


def _order_key(name: str) -> tuple[int, str]:
    if name in _PREFERRED_ORDER:
        return (_PREFERRED_ORDER.index(name), name)
    return (len(_PREFERRED_ORDER), name)


def known_environments(config_dir: Path) -> list[str]:
    """Environment names with a ``<name>.yaml`` file in ``config_dir``, in promotion order."""
    names = [
        p.stem
        for p in config_dir.glob("*.yaml")
        if ENV_NAME_PATTERN.match(p.stem) and p.stem != PIPELINE_FILE
    ]
    return sorted(names, key=_order_key)


def ignored_files(config_dir: Path) -> list[str]:
    """Why each YAML-looking file in ``config_dir`` is not an environment (one line each).

    A file that looks like configuration but is silently skipped (``QA.yaml``, ``qa.yml``)
    would leave an environment undeployed without anyone noticing."""
    problems = []
    for path in sorted(config_dir.iterdir()):
        suffix = path.suffix.lower()
        if path.name.startswith(".") or suffix not in _YAML_SUFFIXES or not path.is_file():
            continue
        stem = path.stem
        shown = _display_path(path)
        if path.suffix != ".yaml":
            problems.append(
                f"{shown}: not read: environment files end in '.yaml' (rename it to "
                f"{stem.lower()}.yaml)"
            )
        elif stem != PIPELINE_FILE and not ENV_NAME_PATTERN.match(stem):
            hint = stem.lower()
            rename = f" (rename it to {hint}.yaml)" if ENV_NAME_PATTERN.match(hint) else ""
            problems.append(
                f"{shown}: not read: environment names are 1-20 lowercase letters, digits or "
                f"'-', starting with a letter{rename}"
            )
    return problems


def _format_loc(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


# An unknown key: in a pydantic model, or in a construct's props dataclass (pydantic validates
# those by calling them, and reports an unknown key as an unexpected keyword argument).
UNKNOWN_KEY_ERRORS = frozenset({"extra_forbidden", "unexpected_keyword_argument"})


def _step(annotation: Any, part: int | str) -> Any:
    """The annotation one step down ``loc``: a model's or props' field, a list or tuple item
    or a dict value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return None if field is None else field.annotation
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):  # a props class
        return typing.get_type_hints(annotation).get(str(part))
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):  # X | None: step into the non-None member
        members = [a for a in args if a is not type(None)]
        return _step(members[0], part) if len(members) == 1 else None
    if origin in (list, tuple) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[Any] | None:
    """The model that owns the last key of ``loc`` (its parent), if ``loc`` walks models."""
    current: Any = model
    for part in loc[:-1]:
        current = _step(current, part)
        if current is None:
            return None
    while typing.get_origin(current) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(current) if a is not type(None)]
        current = members[0] if len(members) == 1 else None
    if isinstance(current, type) and (
        issubclass(current, BaseModel) or dataclasses.is_dataclass(current)
    ):
        return current
    return None


def _allowed_fields(model: type[BaseModel], loc: Sequence[int | str]) -> list[str] | None:
    """Keys a file may set where ``loc``'s last key is (never a key only the loader sets)."""
    owner: Any = _model_at(model, loc)
    if owner is None:
        return None
    if dataclasses.is_dataclass(owner):  # a construct's props (mlops_cdk.props)
        return sorted(f.name for f in dataclasses.fields(owner))
    hidden: frozenset[str] = getattr(owner, "loader_fields", frozenset())
    return sorted(name for name in owner.model_fields if name not in hidden)


def _unknown_field(model: type[BaseModel], loc: Sequence[int | str]) -> str:
    allowed = _allowed_fields(model, loc)
    if not allowed:
        return "unknown field"
    key = str(loc[-1])
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown field ({hint}allowed: {', '.join(allowed)})"


def _error_lines(display: str, item: ErrorDetails, model: type[BaseModel]) -> list[tuple[str, str]]:
    """(field path, message) pairs for one pydantic error."""
    loc: list[int | str] = list(item["loc"])
    message = item["msg"]
    cause = (item.get("ctx") or {}).get("error")
    if isinstance(cause, PropProblems):  # a model's or a construct's props' own problems
        return [
            (_format_loc([*loc, *filter(None, path.split("."))]), text)
            for path, text in cause.problems
        ]
    if item["type"] in UNKNOWN_KEY_ERRORS:
        message = _unknown_field(model, loc)
    elif item["type"] == "missing":
        message = "required field is missing"
    elif item["type"] == "finite_number":
        message = "must be a finite number (not .inf, .nan or beyond ±1.8e308)"
    return [(_format_loc(loc), message.removeprefix("Value error, "))]


def _remove(data: Any, loc: Sequence[int | str]) -> bool:
    """Delete the value at ``loc`` from nested dicts/lists; True when something was removed."""
    current = data
    for part in loc[:-1]:
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(current, dict) and loc and loc[-1] in current:
        del current[loc[-1]]
        return True
    return False


def validate_all(model: type[M], data: dict[str, Any], display: str) -> tuple[M | None, list[str]]:
    """Validate ``data``; every problem as ``<display>: <path>: <reason>``, without duplicates.

    Unknown keys are removed and the data validated again (a model with an unknown key runs
    no cross-field check), and a model that offers ``partial_problems`` (:class:`EnvConfig`)
    runs its cross-field checks over the fields that are valid."""
    lines: list[str] = []

    def add(path: str, message: str) -> None:
        line = f"{display}: {path}: {message}"
        if line not in lines:
            lines.append(line)

    current = copy.deepcopy(data)
    top_level_failed = False
    for _ in range(_MAX_ROUNDS):
        try:
            result = model.model_validate(current)
        except ValidationError as exc:
            removed = False
            for item in exc.errors():
                top_level_failed = top_level_failed or not item["loc"]
                for path, message in _error_lines(display, item, model):
                    add(path, message)
                if item["type"] in UNKNOWN_KEY_ERRORS:
                    removed = _remove(current, item["loc"]) or removed
            if not removed:
                break
        else:
            if not lines:
                return result, []
            break
    partial = getattr(model, "partial_problems", None)
    if lines and not top_level_failed and partial is not None:
        for path, message in partial(current):
            add(_format_loc(list(filter(None, path.split(".")))), message)
    return None, lines


def load_environment(
    path: Path, display: str | None = None, *, other_environments: Iterable[str] = ()
) -> EnvConfig:
    """Read and validate one environment file; raise :class:`ConfigError` naming file and field.

    ``other_environments`` are the names of the other environment files: a name copied from
    one of them (``churn-retraining-dev`` in ``stage.yaml``) is an error."""
    shown = display or str(path)
    data = read_yaml_mapping(path, shown)
    if "name" in data:
        raise ConfigError([f"{shown}: name: unknown field (the file name is the environment name)"])
    config, problems = validate_all(EnvConfig, {"name": path.stem, **data}, shown)
    if config is None:
        raise ConfigError(problems)
    copied = config.copied_names({n for n in other_environments if n != config.name})
    if copied:
        raise ConfigError([f"{shown}: {field}: {problem}" for field, problem in copied])
    return config


def unknown_environment(name: str, known: Sequence[str]) -> str | None:
    """The one line saying ``name`` is none of the ``known`` environments (None: it is one)."""
    if name in known:
        return None
    return f"unknown environment {name!r}; known environments: {', '.join(known)}"


def load_environments(config_dir: Path, only: str | None = None) -> list[EnvConfig]:
    """Validate every environment (or just ``only``); all problems of all files are reported.

    Every environment read together is also checked against the others: what a file copied
    from another still holds of it (:mod:`mlops_cdk.config.cross_file`)."""
    problems = ignored_files(config_dir) if config_dir.is_dir() else []
    known = known_environments(config_dir) if config_dir.is_dir() else []
    if not known:
        raise ConfigError([*problems, f"{config_dir}: no environment files (<name>.yaml) found"])
    if only is not None and (unknown := unknown_environment(only, known)):
        raise ConfigError([unknown])
    selected = [only] if only is not None else known
    configs: list[EnvConfig] = []
    for name in selected:
        path = config_dir / f"{name}.yaml"
        try:
            configs.append(
                load_environment(path, display=_display_path(path), other_environments=known)
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
    if only is None:
        problems.extend(cross_file_problems(configs, partial(environment_file, config_dir)))
    if problems:
        raise ConfigError(problems)
    return configs


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def environment_file(config_dir: Path, name: str) -> str:
    """How the file of environment ``name`` is shown in messages."""
    return _display_path(config_dir / f"{name}.yaml")


def load_pipeline(config_dir: Path, environments: list[EnvConfig] | None) -> PipelineConfig | None:
    """``config/pipeline.yaml`` validated against the environments (on its own when they are
    None: invalid), or None without the file."""
    path = config_dir / f"{PIPELINE_FILE}.yaml"
    if not path.exists():
        return None
    shown = _display_path(path)
    data = read_yaml_mapping(path, shown)
    config, problems = validate_all(PipelineConfig, data, shown)
    if config is None:
        raise ConfigError(problems)
    if environments is None:
        return config
    checked = config.check_environments({env.name: env for env in environments})
    if checked:
        raise ConfigError([f"{shown}: {field}: {problem}" for field, problem in checked])
    return config


def load_config_dir(config_dir: Path) -> tuple[list[EnvConfig], PipelineConfig | None]:
    """Every environment and the pipeline file; every problem of every file in one error."""
    problems: list[str] = []
    environments: list[EnvConfig] | None = None
    try:
        environments = load_environments(config_dir)
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        pipeline = load_pipeline(config_dir, environments)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems or environments is None:
        raise ConfigError(problems)
    return environments, pipeline


__all__ = [
    "environment_file",
    "ignored_files",
    "known_environments",
    "load_config_dir",
    "load_environment",
    "load_environments",
    "load_pipeline",
    "validate_all",
]
