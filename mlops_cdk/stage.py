"""One ``cdk.Stage`` per environment: the unit app.py synthesizes and the pipeline deploys."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from mlops_cdk.config import EnvConfig
from mlops_cdk.stacks.foundation import FoundationStack
from mlops_cdk.stacks.serving import ServingStack


class MlopsStage(cdk.Stage):
    """All stacks of one environment, in that environment's account and region.

    ``smoke_test_account`` (the pipeline's tooling account) may assume a role that can only
    describe and invoke this environment's endpoint, for the post-deployment smoke test."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvConfig,
        smoke_test_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=config.account, region=config.region),
            **kwargs,
        )
        self.config = config
        self.production = config.production  # read by the SageMaker compliance pack
        self.foundation = FoundationStack(
            self, "Foundation", config=config, pipeline_account=smoke_test_account
        )
        self.serving: ServingStack | None = None
        if config.serving is not None:
            foundation = self.foundation
            self.serving = ServingStack(
                self,
                "Serving",
                config=config,
                serving=config.serving,
                key=foundation.encryption.key,
                vpc=foundation.network.vpc,
                subnets=foundation.network.subnets,
                repository=foundation.registry.repository,
                storage=foundation.storage,
                execution_role=foundation.execution_role.role,
                monitoring=config.monitoring,
                retraining_role=foundation.retraining_role.role
                if foundation.retraining_role
                else None,
                smoke_test_account=smoke_test_account,
            )
        tags = {"Environment": config.name, "ManagedBy": "mlops-cdk", **config.tags}
        for key, value in sorted(tags.items()):
            cdk.Tags.of(self).add(key, value)
