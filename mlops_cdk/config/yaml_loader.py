"""Strict YAML reading: duplicate keys are errors, problems carry file and line."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import yaml

from mlops_cdk.config.errors import ConfigError


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate mapping keys (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            line = key_node.start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {line})", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node)
    return mapping


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)

# libyaml's parser (PyYAML's CSafeLoader: the C parser with the same SafeConstructor and
# resolver, so the same values) reads a committed environment file about 5x faster. It reads
# only the files that parse: a file with any problem is read again by the pure-Python loader,
# whose messages (and line/column marks) are the ones users see.
_FastStrictLoader: type[Any] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CStrictLoader(yaml.CSafeLoader):
        """:class:`_StrictLoader` on libyaml's parser."""

    _CStrictLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
        _construct_mapping,
    )
    _FastStrictLoader = _CStrictLoader


def _load(text: str) -> Any:
    if _FastStrictLoader is not None:
        try:
            return yaml.load(text, Loader=_FastStrictLoader)  # noqa: S506 - a CSafeLoader
        except yaml.YAMLError:
            pass  # the pure-Python loader below says what is wrong, and where
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass


def decode_utf8(raw: bytes, display: str) -> str:
    """The text of a UTF-8 file (a UTF-8 byte-order mark is allowed); anything else is one
    clear line naming the file and where the first offending byte is."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
        raise ConfigError([f"{display}: the file is UTF-16/32 encoded: save it as UTF-8"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise ConfigError(
            [f"{display}:{line}:{column}: the file is not UTF-8 (byte 0x{byte}): save it as UTF-8"]
        ) from None


def read_yaml_mapping(path: Path, display: str) -> dict[str, Any]:
    """Read ``path`` as a YAML mapping; ``display`` is how the file is named in errors."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{display}: cannot read file: {exc.strerror}"]) from None
    text = decode_utf8(raw, display)
    try:
        data = _load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{display}:{mark.line + 1}:{mark.column + 1}" if mark else display
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError([f"{where}: invalid YAML: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{display}: invalid YAML: {exc}"]) from None
    if data is None:
        raise ConfigError([f"{display}: the file is empty; expected a mapping of settings"])
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ConfigError([f"{display}: expected a mapping of settings at the top, got {kind}"])
    return data
