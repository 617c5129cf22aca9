"""Base model for every configuration section."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo

# Numbers reach CloudFormation through jsii as JavaScript doubles: integers beyond 2**53 lose
# precision silently, so they are refused (no AWS limit this app uses comes near it).
MAX_SAFE_INTEGER = 2**53 - 1


def _number_types(annotation: Any) -> set[type]:
    """The number types (int, float) an annotation accepts, looking through unions/Optional."""
    if annotation in (int, float):
        return {annotation}
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        found: set[type] = set()
        for arg in typing.get_args(annotation):
            found |= _number_types(arg)
        return found
    return set()


class StrictModel(BaseModel):
    """Unknown keys are errors; values are immutable once validated.

    Numbers are numbers: infinities and NaN (``.inf``, ``.nan``, ``1e999``) are refused
    (``allow_inf_nan``), as are booleans where a number is expected (pydantic would read
    ``initial_weight: true`` as 1; YAML 1.1 also reads ``yes``/``on`` as true).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    # Fields the loader sets (never written in a file): left out of "allowed keys" hints.
    loader_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None or not isinstance(value, bool | int):
            return value
        expected = _number_types(cls.model_fields[info.field_name].annotation)
        if not expected:
            return value
        if isinstance(value, bool):
            raise ValueError(
                f"expected a number, got the boolean {str(value).lower()} (YAML reads "
                "true/false, yes/no and on/off as booleans)"
            )
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"{value} is too large (at most {MAX_SAFE_INTEGER})")
        return value


M = TypeVar("M", bound=BaseModel)
_INVALID: Any = object()


def _adapter(field: FieldInfo) -> TypeAdapter[Any]:
    annotation: Any = field.annotation
    if field.metadata:
        annotation = Annotated[annotation, *field.metadata]
    return _type_adapter(annotation)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _type_adapter(annotation: Any) -> TypeAdapter[Any]:
    """``TypeAdapter(annotation)``, built once per annotation: building one generates the
    type's whole validation schema (for a props dataclass, pydantic also reads its source for
    the field docstrings), several ms each, and a partial validation builds dozens."""
    try:
        return _ADAPTERS[annotation]
    except KeyError:
        adapter = _ADAPTERS[annotation] = TypeAdapter(annotation)
        return adapter
    except TypeError:  # pragma: no cover - an unhashable annotation: not cached
        return TypeAdapter(annotation)


def _model_in(annotation: Any) -> type[Any] | None:
    """``X`` for an annotation ``X`` or ``X | None`` where X is a model or a construct's props
    (a dataclass, :mod:`mlops_cdk.props`)."""
    if isinstance(annotation, type) and (
        issubclass(annotation, BaseModel) or dataclasses.is_dataclass(annotation)
    ):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [m for m in map(_model_in, typing.get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None


def _partial_value(annotation: Any, raw: Any) -> Any:
    """The best-effort value of an invalid field: its models built partially, else _INVALID."""
    model = _model_in(annotation)
    if model is not None and not isinstance(raw, dict):
        return _INVALID
    if model is not None and issubclass(model, BaseModel):
        return partial_model(model, raw)
    if model is not None:
        return partial_props(model, raw)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict and len(args) == 2 and isinstance(raw, dict):
        built = {key: _valid_or_partial(args[1], item) for key, item in raw.items()}
        return {key: item for key, item in built.items() if item is not _INVALID}
    if origin in (list, tuple) and args and isinstance(raw, list):
        items = [_valid_or_partial(args[0], item) for item in raw]
        # Dropping an item would shift the indices the checks report: all or nothing.
        return _INVALID if any(item is _INVALID for item in items) else items
    return _INVALID


def _valid_or_partial(annotation: Any, raw: Any) -> Any:
    model = _model_in(annotation)
    if model is not None:
        try:
            return _type_adapter(model).validate_python(raw)
        except ValidationError:
            return _partial_value(annotation, raw)
    try:
        return _type_adapter(annotation).validate_python(raw)
    except ValidationError:
        return _INVALID


def _validate_field(cls: type[BaseModel], base: BaseModel, name: str, raw: Any) -> Any:
    """``raw`` validated as field ``name`` of ``cls`` with the field's own validators, or
    _INVALID. Assignment validation also runs the model's cross-field validators against
    ``base`` (the file's other raw values); their model-level errors are not this field's."""
    try:
        cls.__pydantic_validator__.validate_assignment(base, name, raw)
    except ValidationError as exc:
        if any(error["loc"][:1] == (name,) for error in exc.errors()):
            return _INVALID
        return _adapted(cls, name, raw)  # only cross-field errors: the value is valid
    except (AttributeError, TypeError):
        # A cross-field validator tripped over another field's raw value: it runs after the
        # field's own validators, so this value passed them.
        return _adapted(cls, name, raw)
    return base.__dict__[name]


def _adapted(cls: type[BaseModel], name: str, raw: Any) -> Any:
    try:
        return _adapter(cls.model_fields[name]).validate_python(raw)
    except ValidationError:  # pragma: no cover - the field's validators passed
        return _INVALID


def partial_props(cls: type[Any], data: dict[str, Any]) -> Any:
    """An instance of the props dataclass ``cls`` built like :func:`partial_model`: each field
    validated on its own, invalid fields left unset (reading one raises AttributeError), no
    ``__post_init__``. For cross-field checks over what is valid; never built into constructs."""
    hints = typing.get_type_hints(cls, include_extras=True)
    instance = object.__new__(cls)
    for field in dataclasses.fields(cls):
        if field.name in data:
            try:
                value = _type_adapter(hints[field.name]).validate_python(data[field.name])
            except ValidationError:
                value = _partial_value(hints[field.name], data[field.name])
        elif field.default is not dataclasses.MISSING:
            value = field.default
        elif field.default_factory is not dataclasses.MISSING:
            value = field.default_factory()
        else:
            continue
        if value is not _INVALID:
            object.__setattr__(instance, field.name, value)  # frozen: set as __init__ does
    return instance


def partial_model(cls: type[M], data: dict[str, Any]) -> M:
    """An instance of ``cls`` from data that does not validate: each field validated on its
    own (with its validators), nested models built the same way, invalid fields left unset
    (reading one raises AttributeError). For running cross-field checks over what is valid;
    never built into constructs."""
    base = cls.model_construct(**{k: v for k, v in data.items() if k in cls.model_fields})
    values: dict[str, Any] = {}
    invalid: list[str] = []
    for name, field in cls.model_fields.items():
        if name not in data:
            if not field.is_required():
                values[name] = field.get_default(call_default_factory=True)
            continue
        value = _validate_field(cls, base, name, data[name])
        if value is _INVALID:
            value = _partial_value(field.annotation, data[name])
        if value is _INVALID:
            invalid.append(name)
        else:
            values[name] = value
    instance = cls.model_construct(**values)
    for name in invalid:  # model_construct filled in defaults: reading them must fail
        instance.__dict__.pop(name, None)
    return instance
