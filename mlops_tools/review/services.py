"""Which part of an environment a stack belongs to, from its name alone.

Each environment synthesizes ``<env>-Foundation`` (shared key, network, bucket, overview
dashboard) and per service ``<env>-<service>-Registry`` (its image repository) and
``<env>-<service>`` (its endpoint and everything around it). A report groups a service's stacks
together; a stack that fits neither name (another layout, e.g. a base ref from before services)
is a group of its own. No service name is known in advance: any name that is a valid service
name is one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# The stack id of the shared stack and the suffix of a service's registry stack
# (mlops_cdk.app.stage and mlops_cdk.config.schema.REGISTRY_STACK_SUFFIX; not imported: reading an
# assembly must not need the app's configuration code).
FOUNDATION = "Foundation"
REGISTRY_SUFFIX = "-Registry"
# mlops_cdk.config.service.SERVICE_NAME_PATTERN: lowercase letters, digits, single '-' inside.
SERVICE_NAME = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")

Kind = Literal["foundation", "service", "stack"]
_ORDER: dict[Kind, int] = {"foundation": 0, "service": 1, "stack": 2}


@dataclass(frozen=True, order=True)
class Group:
    """The stacks of the Foundation, of one service, or one stack of no known part."""

    order: int
    name: str
    """The service name; the stack name for the Foundation and for a stack of no known part."""
    kind: Kind
    stacks: tuple[str, ...]
    """Its stacks, in deploy order (a service's registry before its serving stack)."""

    @property
    def label(self) -> str:
        """``Foundation``, ``service `churn` ``, ``stack `dev-Serving` ``."""
        if self.kind == "foundation":
            return "Foundation"
        return f"{self.kind} `{self.name}`"

    @property
    def title(self) -> str:
        return self.label[0].upper() + self.label[1:]


def part_of(environment: str, stack: str) -> tuple[Kind, str]:
    """(kind, name) of the group ``stack`` belongs to in ``environment``."""
    rest = stack.removeprefix(f"{environment}-") if stack.startswith(f"{environment}-") else ""
    if rest == FOUNDATION:
        return "foundation", stack
    service = rest.removesuffix(REGISTRY_SUFFIX)
    if SERVICE_NAME.match(service):
        return "service", service
    return "stack", stack


def group_stacks(environment: str, stacks: Iterable[str]) -> list[Group]:
    """Every stack in its group: the Foundation first, then services by name, then others."""
    members: dict[tuple[Kind, str], list[str]] = {}
    for stack in set(stacks):
        members.setdefault(part_of(environment, stack), []).append(stack)
    return sorted(
        Group(_ORDER[kind], name, kind, tuple(sorted(found, key=_deploy_order)))
        for (kind, name), found in members.items()
    )


def _deploy_order(stack: str) -> tuple[bool, str]:
    return not stack.endswith(REGISTRY_SUFFIX), stack


def stack_of_path(environment: str, path: str, stacks: Iterable[str]) -> str | None:
    """The stack a construct path (``dev/churn/Endpoint``) is in, for stacks named
    ``<env>-<id>`` with construct path ``<env>/<id>``; None when no stack fits."""
    found = [
        stack
        for stack in stacks
        if stack.startswith(f"{environment}-")
        and _within(path, f"{environment}/{stack.removeprefix(f'{environment}-')}")
    ]
    return max(found, key=len) if found else None


def _within(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(f"{prefix}/")
