"""Checks across environment files: what a file copied from another one still holds.

A new environment starts as a copy of another's file (docs/runbooks/add-environment.md). What the
copy keeps of the original by mistake is reported, one line per pair of files, on the file that
comes later in promotion order (a copy usually does), naming the other file and the field:

- ``account``: environments may share an account (dev and stage in one non-production account:
  every name this app gives, stacks, endpoints, the key alias, the trail, starts with the
  environment's name, so nothing collides), but a production environment (``production:
  true``) has an account of its own. AWS strongly recommends account-level separation of
  production from development and test ("SEC01-BP01 Separate workloads using accounts",
  https://docs.aws.amazon.com/wellarchitected/2022-03-31/framework/sec_securely_operate_multi_accounts.html).
- ``network.new_vpc.cidr``: a VPC this app creates must not overlap any other environment's VPC,
  in any account: VPCs whose IPv4 ranges overlap can never be peered ("If they overlap, the
  status of the VPC peering connection immediately goes to failed", "Create a VPC peering
  connection", https://docs.aws.amazon.com/vpc/latest/peering/create-vpc-peering-connection.html)
  nor routed to each other. Two imported VPCs (``existing_vpc``) are not compared: their ranges
  are not this app's choice, and environments may share one VPC.
- ``monitoring.alarm_emails``: an address that names another environment
  (``ml-stage-alerts@...`` in ``qa.yaml``) is a copy: refused. The same addresses in several
  environments (a platform team's list) are allowed.

And one limit that environments sharing an account and region reach together:

- ``change_detection.trail``: each environment with ``trail: create`` makes a trail in its
  account and region, and CloudTrail allows "Trails per Region: 5 ... This quota cannot be
  increased" ("Quotas in AWS CloudTrail", CloudTrail User Guide,
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html): the
  sixth environment's Foundation would fail to create its trail and roll back. Trails the
  account already has count too, which only the account knows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from ipaddress import IPv4Network

from mlops_cdk.config.env_names import names_environment
from mlops_cdk.config.schema import EnvConfig


def _cidr(env: EnvConfig) -> tuple[str, IPv4Network] | None:
    """The VPC range of an environment and the field that sets it."""
    if env.network.new_vpc is not None:
        return "network.new_vpc.cidr", env.network.new_vpc.cidr
    if env.network.existing_vpc is not None:
        return "network.existing_vpc.cidr", env.network.existing_vpc.cidr
    return None


def _shared_with(first: EnvConfig, later: EnvConfig, first_file: str) -> Iterator[str]:
    """``<field>: <problem>`` of ``later`` for what it shares with ``first`` (an earlier file)."""
    if later.account == first.account and (later.production or first.production):
        which = first.name if first.production else later.name
        yield (
            f"account: {later.account} is also the account of {first_file}, and {which} is a "
            "production environment: give production an account of its own (AWS "
            "Well-Architected SEC01-BP01) or set this file's account"
        )
    mine, theirs = _cidr(later), _cidr(first)
    if mine and theirs and "new_vpc" in mine[0] + theirs[0] and mine[1].overlaps(theirs[1]):
        yield (
            f"{mine[0]}: {mine[1]} overlaps {first_file}'s {theirs[0]} {theirs[1]}: give each "
            "environment a range of its own (overlapping VPCs can never be peered or routed)"
        )


def _copied_emails(env: EnvConfig, other: EnvConfig, other_file: str) -> Iterator[str]:
    """``<field>: <problem>`` of ``env`` for each alarm address that names ``other``."""
    for index, address in enumerate(env.monitoring.alarm_emails if env.monitoring else []):
        if names_environment(address, env.name, other.name):
            yield (
                f"monitoring.alarm_emails[{index}]: {address!r} names environment "
                f"{other.name!r} ({other_file}), not {env.name!r}: a copied address? set this "
                "environment's recipients"
            )


MAX_TRAILS_PER_REGION = 5


def _trail_problems(configs: Sequence[EnvConfig], shown: Callable[[str], str]) -> Iterator[str]:
    """``<file>: <field>: <problem>`` for each environment past the fifth that creates a trail
    in an account and region, in promotion order."""
    creating: dict[tuple[str, str], list[str]] = {}
    for env in configs:
        if env.change_detection is None or not env.change_detection.creates_trail:
            continue
        files = creating.setdefault((env.account, env.region), [])
        files.append(shown(env.name))
        if len(files) > MAX_TRAILS_PER_REGION:
            yield (
                f"{files[-1]}: change_detection.trail: create makes trail {len(files)} in "
                f"account {env.account}, {env.region} ({', '.join(files[:-1])} create the "
                f"others); CloudTrail allows {MAX_TRAILS_PER_REGION} trails per Region and the "
                "quota cannot be raised: use trail: existing with a trail that already logs "
                "this account's management events"
            )


def cross_file_problems(configs: Sequence[EnvConfig], shown: Callable[[str], str]) -> list[str]:
    """``<file>: <field>: <problem>`` for what a file holds of another environment's;
    ``configs`` in promotion order, ``shown(name)`` how an environment's file is shown."""
    problems: list[str] = []
    for position, env in enumerate(configs):
        for other_position, other in enumerate(configs):
            if other_position == position:
                continue
            found = list(_copied_emails(env, other, shown(other.name)))
            if other_position < position:  # each pair once, on the later file
                found[:0] = _shared_with(other, env, shown(other.name))
            problems.extend(f"{shown(env.name)}: {problem}" for problem in found)
    problems.extend(_trail_problems(configs, shown))
    return problems


__all__ = ["cross_file_problems"]
