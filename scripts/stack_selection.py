#!/usr/bin/env python3
"""Whether what ``make deploy``, ``make diff`` and ``make destroy`` select exists (and, for
``make destroy``, is not a production environment), checked against ``config/`` before the CDK
starts.

Without it, a typo in ``SERVICE=`` or ``STACK=`` surfaced after a whole synth of the environment
(about 8 s) as the CDK CLI's ``No stacks match the name(s) dev/churn-registry``, in the stack
names the app derives rather than the names the user typed. Here it is one line naming the
variable, the file and what it does hold. The CLI errs only when no pattern matches: given
several, it silently skips one that matches nothing (aws/aws-cdk#16150, "'deploy' and 'diff'
silently does nothing when given unknown stack name"), so the check does not rest on it.

An environment's stacks (``mlops_cdk.app.stage``): ``Foundation``, then per service
``<service>-Registry`` and ``<service>``.

``--not-production`` refuses an environment whose file says ``production: true`` whatever its
name (``make destroy`` refused only the name ``prod``).

A configuration that does not validate is left to the app, which reports every problem of it
(this exits 0): the services of an invalid file are not known, and the CLI synthesizes, so
deploys and destroys nothing, before it acts.

Exit 0 when the selection exists; else one line on stderr and exit 2.

``python scripts/stack_selection.py --env ENV [--service SERVICE | --stack STACK]
[--not-production]``
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the checkout's package, not an installed one
    sys.path.insert(0, str(ROOT))

# After the path above (E402): the checkout's configuration.
from mlops_cdk.config import ConfigError, known_environments, load_environments  # noqa: E402
from mlops_cdk.config.loader import environment_file, unknown_environment  # noqa: E402
from mlops_cdk.config.schema import REGISTRY_STACK_SUFFIX  # noqa: E402

FOUNDATION = "Foundation"


def stack_names(services: list[str]) -> list[str]:
    """An environment's stacks, as ``cdk deploy <env>/<stack>`` names them."""
    per_service = (f"{s}{suffix}" for s in services for suffix in (REGISTRY_STACK_SUFFIX, ""))
    return [FOUNDATION, *per_service]


def problem(
    config_dir: Path,
    env: str,
    *,
    service: str | None = None,
    stack: str | None = None,
    not_production: bool = False,
) -> str | None:
    """Why ``env`` (and ``service`` or ``stack`` of it) selects nothing, or is a production
    environment where ``not_production`` (None: it selects, and may)."""
    if unknown := unknown_environment(env, known_environments(config_dir)):
        return f"ENV={env}: {unknown}"
    if service is None and stack is None and not not_production:
        return None
    try:
        (config,) = load_environments(config_dir, only=env)
    except ConfigError:
        return None  # the app reports every problem of the file
    where = environment_file(config_dir, env)
    if not_production and config.production:
        return f"ENV={env}: {where} says production: true (refused: a production environment)"
    return _not_held(where, env, list(config.services), service=service, stack=stack)


def _not_held(
    where: str, env: str, services: list[str], *, service: str | None, stack: str | None
) -> str | None:
    if service is not None and service not in services:
        known = ", ".join(services) or "none"
        return f"SERVICE={service}: {where} has no service {service!r} (its services: {known})"
    if stack is not None and stack not in (stacks := stack_names(services)):
        return f"STACK={stack}: {env} has no stack {stack!r} (its stacks: {', '.join(stacks)})"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True)
    one = parser.add_mutually_exclusive_group()
    one.add_argument("--service")
    one.add_argument("--stack")
    parser.add_argument("--not-production", action="store_true")
    # The folder the app reads (app.py: MLOPS_CONFIG_DIR, else config/).
    default_dir = Path(os.environ.get("MLOPS_CONFIG_DIR") or ROOT / "config")
    parser.add_argument("--config-dir", type=Path, default=default_dir, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    reason = problem(
        args.config_dir,
        args.env,
        service=args.service,
        stack=args.stack,
        not_production=args.not_production,
    )
    if reason is None:
        return 0
    print(reason, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
