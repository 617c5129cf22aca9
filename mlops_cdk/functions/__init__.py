"""Lambda function sources, one folder per function, each bundled alone as its asset.

A function folder is not a Python package: its modules are the function's top-level modules
(``retrain.handler``, ``drift.handler``), they import nothing from ``mlops_cdk`` (the asset holds
that folder only) and use the boto3 of the Lambda runtime (``requirements.txt`` lists nothing to
bundle). They ship inside the installed package, so constructs find them next to this file
wherever the package is installed.
"""

from __future__ import annotations

from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parent
# What an asset never contains: bytecode, sample events, the (empty) requirements list.
ASSET_EXCLUDE: tuple[str, ...] = ("__pycache__", "*.pyc", "events", "requirements.txt")


def asset_dir(function: str) -> Path:
    """The folder of ``function`` (``retrain``, ``drift``); raises if the package lacks it."""
    path = FUNCTIONS_DIR / function
    if not (path / f"{function}.py").is_file():
        raise FileNotFoundError(f"no Lambda function source {function!r} in {FUNCTIONS_DIR}")
    return path
