"""Reusable constructs, one concern per module.

They live in ``mlops_cdk/constructs/`` because a top-level package named ``constructs`` would
shadow the ``constructs`` library that aws-cdk-lib imports.
"""

from mlops_cdk.constructs.encryption import EncryptionKey
from mlops_cdk.constructs.network import PrivateNetwork
from mlops_cdk.constructs.registry import ModelImageRepository
from mlops_cdk.constructs.roles import FunctionRole, SageMakerExecutionRole
from mlops_cdk.constructs.storage import ArtifactStorage

__all__ = [
    "ArtifactStorage",
    "EncryptionKey",
    "FunctionRole",
    "ModelImageRepository",
    "PrivateNetwork",
    "SageMakerExecutionRole",
]
