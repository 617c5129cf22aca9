"""How a props field declares its type and bounds once, for both kinds of caller.

A field's type carries its bounds as ``Annotated`` metadata from ``annotated_types`` (``Ge``,
``Gt``, ``Le``, ``Lt``, ``MinLen``, ``MaxLen``), plus the markers below (a number, a pattern,
a check of the value alone). Pydantic reads
them when the configuration validates YAML into the props (its own messages, and the bounds
appear in the JSON Schema). For a library user who constructs the props directly,
:func:`checked_types` checks each value against its declared type first and
:func:`declared_problems` the same bounds (``__post_init__``); :func:`checked_arguments` checks
a construct's keyword arguments against their annotations. Pure Python: pydantic is imported
only by the markers' hooks, which only pydantic calls.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import annotated_types as at

from mlops_cdk.props.errors import PropProblems

# How pydantic validates the props from YAML: unknown keys and non-finite numbers are refused,
# and the docstring under a field is its description in the JSON Schema.
PROPS_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False, "use_attribute_docstrings": True}
# Numbers reach CloudFormation through jsii as JavaScript doubles: integers beyond 2**53 lose
# precision silently, so they are refused.
MAX_SAFE_INTEGER = 2**53 - 1
_NOT_FINITE = "must be a finite number"


def number_problem(value: object) -> str | None:
    """Why ``value`` is not a usable number (a boolean, or an integer beyond 2**53), or None."""
    if isinstance(value, bool):
        return (
            f"expected a number, got the boolean {str(value).lower()} (YAML reads "
            "true/false, yes/no and on/off as booleans)"
        )
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        return f"{value} is too large (at most {MAX_SAFE_INTEGER})"
    return None


def _refuse_non_numbers(value: Any) -> Any:
    problem = number_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class _Number:
    """Marker: a number, never a boolean (pydantic would read ``true`` as 1). Put it last in
    ``Annotated[...]`` so that the bounds before it stay in the JSON Schema."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema  # noqa: PLC0415 - only pydantic calls this hook

        return core_schema.no_info_before_validator_function(_refuse_non_numbers, handler(source))

    def __repr__(self) -> str:
        return "NUMBER"


NUMBER = _Number()


@dataclass(frozen=True)
class Pattern:
    """Marker: a string matching ``regex`` (pydantic's check and JSON Schema ``pattern``)."""

    regex: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        schema = handler(source)
        schema["pattern"] = self.regex
        return schema


@dataclass(frozen=True)
class Check:
    """Marker: ``problem(value)`` says why a value of this field is wrong, or None. Pydantic
    reports it as the field's own error (like a bound); :func:`declared_problems` calls it for
    a library user."""

    problem: Callable[[Any], str | None]

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema  # noqa: PLC0415 - only pydantic calls this hook

        def check(value: Any) -> Any:
            problem = self.problem(value)
            if problem is not None:
                raise ValueError(problem)
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))


def _split(hint: Any) -> tuple[Any, tuple[Any, ...], bool]:
    """``hint``'s bare type, its ``Annotated`` metadata and whether it may be None
    (``Annotated[X, ...] | None``)."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):  # X | None: X
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(members) < len(typing.get_args(hint))
        hint = members[0] if len(members) == 1 else hint
    if typing.get_origin(hint) is typing.Annotated:
        bare, *metadata = typing.get_args(hint)
        return bare, tuple(metadata), optional
    return hint, (), optional


@cache
def _declared(cls: Any) -> dict[str, tuple[Any, tuple[Any, ...], bool]]:
    """Each field's bare type, its ``Annotated`` metadata and whether it may be None."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return {field.name: _split(hints[field.name]) for field in dataclasses.fields(cls)}


# annotated_types' bounds: (kind, attribute, what the message says, the check).
_BOUNDS: tuple[tuple[type[Any], str, str, Callable[[Any, Any], bool]], ...] = (
    (at.Ge, "ge", "greater than or equal to", operator.ge),
    (at.Gt, "gt", "greater than", operator.gt),
    (at.Le, "le", "less than or equal to", operator.le),
    (at.Lt, "lt", "less than", operator.lt),
)


def _bound_problem(meta: Any, value: Any) -> str | None:
    for kind, attribute, words, holds in _BOUNDS:
        if isinstance(meta, kind):
            bound = getattr(meta, attribute)
            return None if holds(value, bound) else f"Input should be {words} {bound}"
    if isinstance(meta, at.MinLen) and len(value) < meta.min_length:
        return f"should have at least {meta.min_length} characters"
    if isinstance(meta, at.MaxLen) and len(value) > meta.max_length:
        return f"should have at most {meta.max_length} characters"
    if isinstance(meta, Pattern) and not re.search(meta.regex, value):
        return f"String should match pattern '{meta.regex}'"
    if isinstance(meta, Check):
        return meta.problem(value)
    return None


def _literal_problem(bare: Any, value: Any) -> str | None:
    if typing.get_origin(bare) is not typing.Literal:
        return None
    return None if value in typing.get_args(bare) else f"Input should be {_members(bare)}"


def _members(literal: Any) -> str:
    """A ``Literal``'s members in words: ``'a', 'b' or 'c'``."""
    shown = [repr(m) for m in typing.get_args(literal)]
    return ", ".join(shown[:-1]) + f" or {shown[-1]}" if len(shown) > 1 else shown[0]


# What a value of each plain type must be, in pydantic's words.
_PLAIN: dict[type[Any], str] = {
    bool: "a valid boolean",
    int: "a valid integer",
    float: "a valid number",
    str: "a valid string",
}


def _expected(hint: Any) -> str:
    """``hint`` in words: "a valid integer", "a tuple or list", "an InstanceAutoscaling"."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return _members(hint)
    if origin in _SEQUENCES or origin in _MAPPINGS:
        return "a valid dictionary" if origin in _MAPPINGS else "a tuple or list"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_expected(member) for member in typing.get_args(hint))
    if hint is type(None):
        return "None"
    name = getattr(hint, "__name__", repr(hint))
    return _PLAIN.get(hint, f"an {name}" if name[0] in "AEIOU" else f"a {name}")


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


_SEQUENCES: tuple[Any, ...] = (tuple, list, Sequence)
_MAPPINGS: tuple[Any, ...] = (dict, Mapping)
# What never stands for an object of a CDK interface (kms.IKey, ec2.IVpc: typing Protocols,
# which isinstance cannot check).
_PLAIN_DATA = (str, bytes, int, float, list, tuple, dict, type(None))


def type_problem(hint: Any, value: Any) -> tuple[str, str] | None:
    """(where, why) ``value`` is not of the type ``hint`` declares (its items too: ``[2]``,
    ``['key']``), or None. ``X | None`` is X or None; a sequence is a tuple or list, never a
    string; a CDK interface is any object but plain data; a ``Literal`` is a value of its
    members' type (which member, the caller's own check says)."""
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    origin = typing.get_origin(hint)
    if origin in _SEQUENCES or origin in _MAPPINGS:
        return _items_problem(hint, value)
    if origin is typing.Literal:
        fits = any(type(value) is type(member) for member in typing.get_args(hint))
    elif origin in (typing.Union, types.UnionType):
        fits = any(type_problem(member, value) is None for member in typing.get_args(hint))
    elif hint is float:  # a bool is an int, to Python: NUMBER refuses it
        fits = isinstance(value, int | float)
    elif getattr(hint, "_is_protocol", False):
        fits = not isinstance(value, _PLAIN_DATA)
    else:  # a class; anything else (Any, a callable's signature) is left to the caller
        fits = not isinstance(hint, type) or hint is Any or isinstance(value, hint)
    return None if fits else ("", f"Input should be {_expected(hint)}, got {_shown(value)}")


def _items_problem(hint: Any, value: Any) -> tuple[str, str] | None:
    """A sequence or mapping ``hint``: ``value``'s kind, then its first wrong item."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    items: list[tuple[str, Any, Any]]
    if isinstance(value, Mapping) and origin in _MAPPINGS:
        key_hint, item_hint = args or (Any, Any)
        items = [
            (f"[{key!r}]", each_hint, each)
            for key, item in value.items()
            for each_hint, each in ((key_hint, key), (item_hint, item))
        ]
    elif isinstance(value, tuple | list) and origin in _SEQUENCES:
        hints = args[:1] * len(value) if origin is not tuple or args[1:] == (...,) else args
        items = [(f"[{i}]", h, item) for i, (h, item) in enumerate(zip(hints, value, strict=False))]
    else:
        return "", f"Input should be {_expected(hint)}, got {_shown(value)}"
    for where, each_hint, each in items:
        problem = type_problem(each_hint, each)
        if problem is not None:
            return where + problem[0], problem[1]
    return None


def wrong_types(props: Any) -> list[tuple[str, str]]:
    """(field, message) for every value of ``props`` that is not of its declared type (None only
    where the field is optional: ``X | None``)."""
    problems: list[tuple[str, str]] = []
    cls: Any = type(props)
    for name, (bare, _metadata, optional) in _declared(cls).items():
        value = getattr(props, name)
        if value is not None:
            problem = type_problem(bare, value)
        elif not optional:
            problem = ("", f"Input should be {_expected(bare)}, got None")
        else:
            problem = None
        if problem is not None:
            problems.append((name + problem[0], problem[1]))
    return problems


_Props = typing.TypeVar("_Props")


def checked_types(cls: type[_Props]) -> type[_Props]:
    """Class decorator of a props dataclass, below ``@dataclass``: before the class's own
    ``__post_init__`` checks, a value of the wrong type raises :class:`PropProblems` naming the
    class and the field (``InstanceCapacity: initial_instance_count: Input should be a valid
    integer, got str '2'``). Without it a library user's wrong type ends in a TypeError from a
    bound or a check (``'>=' not supported between instances of 'str' and 'int'``). The
    configuration never reaches it: pydantic has converted or refused each value by then."""
    own: Callable[[Any], None] = getattr(cls, "__post_init__", lambda _: None)

    def post_init(self: Any) -> None:
        problems = wrong_types(self)
        if problems:
            raise PropProblems(problems, subject=type(self).__name__)
        own(self)

    cls.__post_init__ = post_init  # type: ignore[attr-defined]
    return cls


def _argument_problem(hint: Any, value: Any) -> tuple[str, str] | None:
    """(where, why) ``value`` is not of the type ``hint`` declares or, being of it, is outside
    the bounds its ``Annotated`` metadata declares; or None."""
    problem = type_problem(hint, value)
    if problem is not None or value is None:
        return problem
    bare, metadata, _optional = _split(hint)
    bounds = _value_problem(bare, metadata, value)
    return None if bounds is None else ("", bounds)


_Init = typing.TypeVar("_Init", bound=Callable[..., None])


def checked_arguments(init: _Init) -> _Init:
    """Decorator of a construct's ``__init__``: a keyword argument of the wrong type, or outside
    its annotation's bounds (``Annotated[str, Check(...)]``, as a props field's), raises
    :class:`PropProblems` naming the construct and the argument (``AlarmTopic: emails: Input
    should be a tuple or list, got str 'ml-oncall@example.com'``) before anything is built.
    Without it the mistake surfaces later and elsewhere: a string iterated as a list of
    one-letter addresses, a dict where a props dataclass belongs as an AttributeError, a
    number where a name belongs as jsii's page-long deserialization error."""
    hints: dict[str, Any] = {}

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        if not hints:
            hints.update(typing.get_type_hints(init, include_extras=True))
        problems: list[tuple[str, str]] = []
        for name, value in kwargs.items():
            problem = _argument_problem(hints.get(name, Any), value)
            if problem is not None:
                problems.append((name + problem[0], problem[1]))
        if problems:
            raise PropProblems(problems, subject=type(self).__name__)
        init(self, *args, **kwargs)

    return typing.cast(_Init, checked)


def declared_problems(props: Any) -> list[tuple[str, str]]:
    """(field, message) for every value of ``props`` outside its declared bounds: what
    pydantic checks before ``__post_init__`` for the configuration, checked again for a
    library user (a value of None is an unset optional field; the types are checked before,
    by :func:`checked_types`)."""
    problems: list[tuple[str, str]] = []
    cls: Any = type(props)
    for name, (bare, metadata, _optional) in _declared(cls).items():
        value = getattr(props, name)
        problem = None if value is None else _value_problem(bare, metadata, value)
        if problem is not None:
            problems.append((name, problem))
    return problems


def _value_problem(bare: Any, metadata: tuple[Any, ...], value: Any) -> str | None:
    """Why ``value`` (of the right type) is outside what ``bare`` and ``metadata`` declare: a
    ``Literal``'s members, :data:`NUMBER`, the bounds, patterns and checks; or None."""
    problem = _literal_problem(bare, value)
    if problem is None and NUMBER in metadata:
        problem = number_problem(value)
        if isinstance(value, float) and not math.isfinite(value):  # float("inf"): pydantic's
            problem = _NOT_FINITE  # allow_inf_nan refuses it in the configuration
    for meta in metadata:
        if problem is None and not isinstance(meta, _Number):
            problem = _bound_problem(meta, value)
    return problem


def indexed(prefix: str, problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``problems`` of a nested props, under ``prefix`` (``scheduled[0]``)."""
    return [(f"{prefix}.{path}" if path else prefix, message) for path, message in problems]
