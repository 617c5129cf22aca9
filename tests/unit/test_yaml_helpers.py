"""tests.helpers' YAML helpers give what yaml.safe_dump / yaml.safe_load give.

They go through libyaml (PyYAML's C classes) for speed; every configuration file the tests copy
or change must come out as the same text and read as the same data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import COMMITTED_CONFIG_DIR, CONFIG_DIR, ROOT, yaml_data, yaml_text

FILES = sorted(
    [*COMMITTED_CONFIG_DIR.glob("*.yaml"), *CONFIG_DIR.rglob("*.yaml")],
    key=str,
)


def test_there_are_files_to_compare() -> None:
    assert len(FILES) >= 6


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_same_data_and_same_text_as_safe_load_and_safe_dump(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert yaml_data(text) == data
    for sort_keys in (True, False):
        assert yaml_text(data, sort_keys=sort_keys) == yaml.safe_dump(data, sort_keys=sort_keys)


def test_values_that_need_quoting_or_folding_come_out_the_same() -> None:
    data = {
        "on": "yes",
        "number_like": "0123",
        "empty": "",
        "multi": "line one\nline two\n",
        "long": "word " * 40,
        "unicode": "café ✓",
        "nested": [{"a": None, "b": 1.5, "c": True}, []],
    }
    assert yaml_text(data) == yaml.safe_dump(data)
    assert yaml_data(yaml_text(data)) == data
