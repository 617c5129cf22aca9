"""Typed, validated per-environment configuration (``config/<env>.yaml``)."""

from mlops_cdk.config.errors import ConfigError
from mlops_cdk.config.loader import known_environments, load_environment, load_environments
from mlops_cdk.config.schema import EnvConfig

__all__ = [
    "ConfigError",
    "EnvConfig",
    "known_environments",
    "load_environment",
    "load_environments",
]
