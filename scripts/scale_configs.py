"""Environment files with N copies of one service, for the scale benchmark and tests.

    from scripts.scale_configs import write_scale_config
    env_file = write_scale_config(tmp_dir, services=10)   # tmp_dir/stage.yaml

The shared part (account, region, network, publishers, monitoring, ...) is copied from
``config/stage.yaml``; its ``churn`` service is replicated as ``svc-01``, ``svc-02``, ...
with every ``churn`` in the service (model names, ``models/churn/...`` keys, retraining
pipeline, quality-alarm dimensions) renamed to the new service. The stage account's
availability zones are in the committed cdk.context.json, so synthesis stays offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE_CONFIG = ROOT / "config" / "stage.yaml"
SOURCE_PIPELINE = ROOT / "config" / "pipeline.yaml"
TEMPLATE_SERVICE = "churn"


def service_name(index: int) -> str:
    """``svc-01``, ``svc-02``, ... (1-based)."""
    return f"svc-{index:02d}"


def _renamed(value: Any, old: str, new: str) -> Any:
    """``value`` with ``old`` replaced by ``new`` in every string (keys and values)."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {_renamed(k, old, new): _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(item, old, new) for item in value]
    return value


def scale_config(
    services: int,
    *,
    source: Path = SOURCE_CONFIG,
    template_service: str = TEMPLATE_SERVICE,
) -> dict[str, Any]:
    """The environment mapping: ``source`` without its services, plus ``services`` copies of
    ``template_service`` named ``svc-01`` ... (``models/<name>/...`` keys)."""
    if services < 1:
        raise ValueError("services must be at least 1")
    data: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    template = data.get("services", {}).get(template_service)
    if template is None:
        raise ValueError(f"{source} has no service {template_service!r} to replicate")
    data["services"] = {
        service_name(i): _renamed(template, template_service, service_name(i))
        for i in range(1, services + 1)
    }
    return data


def write_scale_config(
    directory: Path,
    services: int,
    *,
    env: str = "stage",
    source: Path = SOURCE_CONFIG,
    pipeline: Path | None = SOURCE_PIPELINE,
) -> Path:
    """Write ``<directory>/<env>.yaml`` with ``services`` services and return its path.

    With ``pipeline`` (default ``config/pipeline.yaml``), also write ``pipeline.yaml`` with
    ``stages: [<env>]``, so that every service gets its smoke-test role as in a real synth
    (``pipeline=None`` leaves it out). Never writes outside ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{env}.yaml"
    path.write_text(
        yaml.safe_dump(scale_config(services, source=source), sort_keys=False), encoding="utf-8"
    )
    if pipeline is not None and pipeline.exists():
        data: dict[str, Any] = yaml.safe_load(pipeline.read_text(encoding="utf-8"))
        data["stages"] = [env]
        data["manual_approval_before"] = [
            s for s in data.get("manual_approval_before", ["prod"]) if s == env
        ]
        (directory / "pipeline.yaml").write_text(
            yaml.safe_dump(data, sort_keys=False), encoding="utf-8"
        )
    return path


# --- serving modes: what one more async service or batch job adds ------------------------------
MODE_COPIES = 10  # copies per mode: the marginal cost is (t(base + copies) - t(base)) / copies
BASE = "base"


def _without_batch_jobs(service: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in service.items() if key != "batch_jobs"}


def components_service(name: str, components: int = 5) -> dict[str, Any]:
    """A service of ``components`` inference components (one model each: 1 vCPU, 2 GiB, up to
    one copy) on an ml.m5.xlarge fleet of 0-2 instances."""
    return {
        "models": [
            {
                "name": f"m{i}",
                "image_tag": "1.0.0",
                "model_data_key": f"models/{name}/1.0.0/m{i}.tar.gz",
            }
            for i in range(1, components + 1)
        ],
        "inference_components": {
            "fleet": {
                "instance_type": "ml.m5.xlarge",
                "initial_instance_count": 1,
                "managed_scaling": {"min_instance_count": 0, "max_instance_count": 2},
            },
            "components": [
                {
                    "name": f"c{i}",
                    "model": f"m{i}",
                    "cpu_cores": 1,
                    "memory_mb": 2048,
                    "copies": 1,
                    "autoscaling": {"min_copies": 0, "max_copies": 1},
                }
                for i in range(1, components + 1)
            ],
        },
        "smoke_test": {"content_type": "application/json", "body": '{"items": [1, 2, 3]}'},
    }


def mode_configs(
    directory: Path,
    *,
    copies: int = MODE_COPIES,
    source: Path = SOURCE_CONFIG,
    pipeline: Path | None = SOURCE_PIPELINE,
) -> dict[str, Path]:
    """Environment directories for the serving-mode benchmark, by label:

    - ``base``: ``source``'s ``churn`` once (as ``svc-01``), without batch jobs;
    - ``batch job``: the same service with ``copies`` copies of churn's first batch job;
    - ``async service``: the base plus ``copies`` copies of the ``documents`` service (an
      asynchronous endpoint) named ``doc-01`` ...;
    - ``5-component service``: the base plus ``copies`` services of five inference components
      each on a shared fleet that scales to zero (``ic-01`` ...);
    - ``loop service``: the base plus ``copies`` copies of ``churn`` with its whole retraining
      loop (quality check, managed pipeline, package group, approval rule), named ``loop-01`` ...

    Each directory holds ``stage.yaml`` (and ``pipeline.yaml``, as :func:`write_scale_config`)."""
    data: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    services = data.get("services", {})
    churn, documents = services.get(TEMPLATE_SERVICE), services.get("documents")
    if churn is None or not churn.get("batch_jobs") or documents is None:
        raise ValueError(f"{source} needs a 'churn' service with a batch job and 'documents'")
    base = _renamed(_without_batch_jobs(churn), TEMPLATE_SERVICE, service_name(1))
    job = _renamed(churn["batch_jobs"][0], TEMPLATE_SERVICE, service_name(1))
    variants = {
        BASE: {service_name(1): base},
        "batch job": {
            service_name(1): {
                **base,
                "batch_jobs": [{**job, "name": f"job-{i:02d}"} for i in range(1, copies + 1)],
            }
        },
        "async service": {
            service_name(1): base,
            **{
                f"doc-{i:02d}": _renamed(documents, "documents", f"doc-{i:02d}")
                for i in range(1, copies + 1)
            },
        },
        "5-component service": {
            service_name(1): base,
            **{f"ic-{i:02d}": components_service(f"ic-{i:02d}") for i in range(1, copies + 1)},
        },
        "loop service": {
            service_name(1): base,
            **{
                f"loop-{i:02d}": _renamed(
                    _without_batch_jobs(churn), TEMPLATE_SERVICE, f"loop-{i:02d}"
                )
                for i in range(1, copies + 1)
            },
        },
    }
    written: dict[str, Path] = {}
    for label, chosen in variants.items():
        folder = directory / label.replace(" ", "-")
        written[label] = folder
        write_scale_config(folder, 1, source=source, pipeline=pipeline)
        (folder / "stage.yaml").write_text(
            yaml.safe_dump({**data, "services": chosen}, sort_keys=False), encoding="utf-8"
        )
    return written
