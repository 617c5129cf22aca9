"""ComponentWakeFromZero: a component whose copies may reach zero has AWS's wake-up policy (a
step policy on an alarm on NoCapacityInvocationFailures); the construct's case is in
test_rule_component_fit.py (test_the_construct_is_compliant)."""

from __future__ import annotations

import pytest

from tests.unit.compliance.sagemaker.pack_helpers import stack
from tests.unit.compliance.sagemaker.rules.test_rule_component_fit import _manual, _ours


@pytest.mark.parametrize(
    ("wake", "expected"),
    [
        (True, set()),
        (False, {("ComponentWakeFromZero", "S/Target/Resource")}),
    ],
)
def test_wake_from_zero(wake: bool, expected: set[tuple[str, str]]) -> None:
    s = stack()
    _manual(s, max_instances=2, max_copies=4, wake=wake)
    assert _ours(s) == expected
