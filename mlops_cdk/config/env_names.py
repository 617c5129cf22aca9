"""Whether a value names an environment: the check behind "a name copied from another
environment's file" (schema.EnvConfig.copied_names, cross_file)."""

from __future__ import annotations

import re


def _word(name: str) -> str:
    """``name`` as a word: not part of a longer run of letters and digits."""
    return rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])"


def names_environment(value: str, own: str, other: str) -> bool:
    """Whether ``value`` names environment ``other`` as a word (``stage`` in
    ``ml-stage-alerts``, not in ``backstage``), once where it names ``own`` is left out
    (``prod-eu-churn`` in ``prod-eu.yaml`` names ``prod-eu``, not ``prod``)."""
    cleaned = re.sub(_word(own), " ", value.lower())
    return re.search(_word(other), cleaned) is not None


__all__ = ["names_environment"]
