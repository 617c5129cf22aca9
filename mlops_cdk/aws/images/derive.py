"""Derive the committed table of images AWS provides (``table.json``) from the SageMaker Python
SDK's image URI configuration, the well-kept source of every region's registry account
(``sagemaker/image_uri_config/<framework>.json`` in the ``sagemaker`` package on PyPI; the SDK's
``sagemaker.image_uris.retrieve`` reads the same files).

Regenerate (the SDK is not a dependency: unpack its wheel in a scratch directory)::

    pip download sagemaker==<version> --no-deps -d /tmp/sdk
    cd /tmp/sdk && unzip -o sagemaker-<version>-py3-none-any.whl 'sagemaker/image_uri_config/*'
    python -m mlops_cdk.aws.images.derive /tmp/sdk/sagemaker/image_uri_config <version>

The table keeps, for each framework of :data:`FRAMEWORKS`, the file's inference scope verbatim
except that each ``registries`` map (region -> account) is stored once under ``registries`` and
referenced by its id. ``tests/unit/aws/test_aws_images.py`` expands the table back and compares
the sha256 recorded here for every source scope, so a hand edit of the table fails the tests.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("table.json")
# Built-in algorithms and Deep Learning Containers for inference this package resolves.
FRAMEWORKS = ("xgboost", "linear-learner", "sklearn", "pytorch", "tensorflow", "huggingface")
SOURCE_PACKAGE = "sagemaker"
SOURCE_PATH = "sagemaker/image_uri_config/{framework}.json"


def canonical(value: Any) -> str:
    """The JSON text a sha256 is taken of: sorted keys, no whitespace."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def sha256(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def inference_scope(config: dict[str, Any]) -> dict[str, Any]:
    """The part of one SDK file that describes inference images (files listing their scopes
    under ``scope``, e.g. the built-in algorithms, serve every scope from one entry)."""
    if "inference" in config:
        return dict(config["inference"])
    if "inference" in config.get("scope", []):
        return {key: value for key, value in config.items() if key != "scope"}
    raise ValueError("no inference scope")


def _reduce(node: Any, registries: dict[str, str], ids: dict[str, dict[str, str]]) -> Any:
    if isinstance(node, dict):
        reduced: dict[str, Any] = {}
        for key, value in sorted(node.items()):  # ids in a stable order
            if key == "registries" and isinstance(value, dict):
                text = canonical(value)
                if text not in registries:
                    registries[text] = f"r{len(registries)}"
                    ids[registries[text]] = dict(sorted(value.items()))
                reduced[key] = registries[text]
            else:
                reduced[key] = _reduce(value, registries, ids)
        return reduced
    if isinstance(node, list):
        return [_reduce(item, registries, ids) for item in node]
    return node


def expand(node: Any, ids: dict[str, dict[str, str]]) -> Any:
    """Inverse of the reduction: each ``registries`` id replaced by its map."""
    if isinstance(node, dict):
        return {
            key: dict(ids[value])
            if key == "registries" and isinstance(value, str)
            else expand(value, ids)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [expand(item, ids) for item in node]
    return node


def derive(sources: dict[str, bytes], sdk_version: str) -> dict[str, Any]:
    """The table, from each framework's source file content (``{framework: bytes}``)."""
    registries: dict[str, str] = {}
    ids: dict[str, dict[str, str]] = {}
    frameworks: dict[str, Any] = {}
    files: dict[str, dict[str, str]] = {}
    for framework in FRAMEWORKS:
        scope = inference_scope(json.loads(sources[framework]))
        files[framework] = {
            "path": SOURCE_PATH.format(framework=framework),
            "file_sha256": sha256(sources[framework]),
            "inference_sha256": sha256(canonical(scope)),
        }
        frameworks[framework] = _reduce(scope, registries, ids)
    return {
        "source": {"package": SOURCE_PACKAGE, "version": sdk_version, "files": files},
        "registries": ids,
        "frameworks": frameworks,
    }


def write(table: dict[str, Any], path: Path = TABLE) -> None:
    path.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m mlops_cdk.aws.images.derive <image_uri_config dir> <sdk version>")
        return 2
    folder = Path(argv[0])
    sources = {f: (folder / f"{f}.json").read_bytes() for f in FRAMEWORKS}
    write(derive(sources, argv[1]))
    print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
