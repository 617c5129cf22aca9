"""Offline lookups: what ``cdk.context.json`` must answer for the environments to synthesize.

A stack with an explicit account and region that creates a VPC asks for the availability
zones of that account and region (context key ``availability-zones:account=<id>:region=<r>``).
Without the key, and without credentials, the CLI fails with "Need to perform AWS calls"; with
fewer zones than ``network.new_vpc.max_azs``, CDK silently spreads over fewer zones. Both are
configuration problems, reported here before any construct is built, naming the file and key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlops_cdk.config.schema import EnvConfig

CONTEXT_FILE = "cdk.context.json"


def availability_zones_key(account: str, region: str) -> str:
    """The context key CDK reads a stack's availability zones from."""
    return f"availability-zones:account={account}:region={region}"


def context_problems(
    configs: Sequence[EnvConfig], lookup: Callable[[str], Any], files: Callable[[str], str]
) -> list[str]:
    """One line per environment whose lookups ``cdk.context.json`` cannot answer.

    ``lookup`` reads a context key (``app.node.try_get_context``); ``files`` gives the file an
    environment was read from, for the message."""
    problems = []
    for config in configs:
        vpc = config.network.new_vpc
        if vpc is None:  # an existing VPC is imported by ids: no lookup
            continue
        key = availability_zones_key(config.account, config.region)
        zones = lookup(key)
        where = files(config.name)
        if not isinstance(zones, list) or not zones:
            example = ", ".join(f'"{config.region}{z}"' for z in "abc"[: vpc.max_azs])
            problems.append(
                f"{where}: network.new_vpc: {CONTEXT_FILE} has no availability zones for "
                f"account {config.account} in {config.region}: add "
                f'"{key}": [{example}] with the zone names your account has there '
                "(synthesis is offline: it cannot look them up)"
            )
        elif len(zones) < vpc.max_azs:
            problems.append(
                f"{where}: network.new_vpc.max_azs: {vpc.max_azs} zones requested but "
                f'{CONTEXT_FILE} lists {len(zones)} under "{key}" ({", ".join(map(str, zones))})'
                ": lower max_azs or add the account's other zones there"
            )
    return problems
