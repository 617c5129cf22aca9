"""Typed, validated per-environment configuration (``config/<env>.yaml``)."""

from mlops_cdk.config.errors import ConfigError
from mlops_cdk.config.loader import (
    known_environments,
    load_environment,
    load_environments,
    load_pipeline,
)
from mlops_cdk.config.pipeline import PipelineConfig
from mlops_cdk.config.schema import EnvConfig

__all__ = [
    "ConfigError",
    "EnvConfig",
    "PipelineConfig",
    "known_environments",
    "load_environment",
    "load_environments",
    "load_pipeline",
]
