"""Find, read and validate ``config/<env>.yaml`` files into :class:`EnvConfig` objects."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mlops_cdk.config.errors import ConfigError, FieldProblem
from mlops_cdk.config.pipeline import PIPELINE_FILE, PipelineConfig
from mlops_cdk.config.schema import ENV_NAME_PATTERN, EnvConfig
from mlops_cdk.config.yaml_loader import read_yaml_mapping

# Conventional promotion order; other environments follow alphabetically.
_PREFERRED_ORDER = ("dev", "stage", "prod")


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


def _format_loc(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _allowed_fields(model: type[BaseModel], loc: Sequence[int | str]) -> list[str] | None:
    """Field names of the model that owns ``loc``'s parent, to suggest on an unknown key."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (
            isinstance(current, type) and issubclass(current, BaseModel)
        ):
            if isinstance(part, int) or isinstance(current, dict):
                continue
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return None


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside ``X | None``, ``list[X]`` or ``dict[str, X]``, else the annotation."""
    for arg in getattr(annotation, "__args__", ()) or ():
        inner = _inner_model(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


def format_validation_error(
    display: str, error: ValidationError, model: type[BaseModel] = EnvConfig
) -> list[str]:
    """One line per problem: ``<file>: <field path>: <reason>``."""
    problems = []
    for item in error.errors():
        loc: list[int | str] = list(item["loc"])
        message = item["msg"]
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblem):
            loc.extend(cause.path.split("."))
            message = str(cause)
        elif item["type"] == "extra_forbidden":
            allowed = _allowed_fields(model, loc)
            message = "unknown field" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif item["type"] == "missing":
            message = "required field is missing"
        message = message.removeprefix("Value error, ")
        problems.append(f"{display}: {_format_loc(loc)}: {message}")
    return problems


def load_environment(path: Path, display: str | None = None) -> EnvConfig:
    """Read and validate one environment file; raise :class:`ConfigError` naming file and field."""
    shown = display or str(path)
    data = read_yaml_mapping(path, shown)
    if "name" in data:
        raise ConfigError([f"{shown}: name: unknown field (the file name is the environment name)"])
    try:
        return EnvConfig.model_validate({"name": path.stem, **data})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(shown, exc)) from None


def load_environments(config_dir: Path, only: str | None = None) -> list[EnvConfig]:
    """Validate every environment (or just ``only``); all problems of all files are reported."""
    known = known_environments(config_dir)
    if not known:
        raise ConfigError([f"{config_dir}: no environment files (<name>.yaml) found"])
    if only is not None and only not in known:
        raise ConfigError([f"unknown environment {only!r}; known environments: {', '.join(known)}"])
    selected = [only] if only is not None else known
    configs: list[EnvConfig] = []
    problems: list[str] = []
    for name in selected:
        path = config_dir / f"{name}.yaml"
        try:
            configs.append(load_environment(path, display=_display_path(path)))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return configs


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_pipeline(config_dir: Path, environments: list[EnvConfig]) -> PipelineConfig | None:
    """``config/pipeline.yaml`` validated against the environments, or None without the file."""
    path = config_dir / f"{PIPELINE_FILE}.yaml"
    if not path.exists():
        return None
    shown = _display_path(path)
    data = read_yaml_mapping(path, shown)
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(shown, exc, PipelineConfig)) from None
    problems = config.check_environments({env.name: env for env in environments})
    if problems:
        raise ConfigError([f"{shown}: {field}: {problem}" for field, problem in problems])
    return config
